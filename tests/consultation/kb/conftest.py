"""Fixtures for knowledge-base tests: an author (advisor), an approver (branch manager), a
teller who only reads, a category and a product, and `publish()` that takes an article through
review in one call.

    def test_x(publish, teller):
        article = publish(title_zh="挂失", body_zh="……", title_en="Lost card")
"""

import datetime as dt

import pytest

from bankservice.branches.models import Role
from bankservice.customers.models import Product
from consultation.kb.services import article_create, version_approve, version_submit
from consultation.models import Category


@pytest.fixture
def author(make_staff, branch_a):
    return make_staff(Role.ADVISOR, branch=branch_a, username="author")


@pytest.fixture
def approver(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="approver")


@pytest.fixture
def cards(db):
    return Category.objects.create(code="cards", name_zh="银行卡", name_en="Cards")


@pytest.fixture
def accounts(db):
    return Category.objects.create(code="accounts", name_zh="账户", name_en="Accounts")


@pytest.fixture
def debit_card(db):
    return Product.objects.create(
        code="debit-card", family="card", name_zh="借记卡", name_en="Debit card"
    )


@pytest.fixture
def draft(author, cards):
    """draft(**text) -> version 1 of a new article, a draft by `author`."""

    def make(*, category=None, products=(), review_due=None, **text):
        text.setdefault("title_en", "Untitled")
        text.setdefault("body_en", "Some text.")
        return article_create(
            actor=author,
            kind="qa",
            category=category or cards,
            products=products,
            review_due=review_due or dt.date(2030, 1, 1),
            **text,
        )

    return make


@pytest.fixture
def publish(draft, author, approver):
    """publish(**text) -> an article whose first version is published."""

    def make(**kwargs):
        version = draft(**kwargs)
        version_submit(actor=author, version=version)
        version_approve(actor=approver, version=version)
        version.article.refresh_from_db()
        return version.article

    return make
