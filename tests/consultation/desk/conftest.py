"""Fixtures for consultation tests: reception's queue at branch A (tests/reception/fixtures.py),
advisors and a manager there, a customer, a topic, a product, a published article, and an empty
hand-off registry (a test registers the handlers it needs, with the real register_handoff).

    def test_x(serving_ticket, teller):           # a ticket the teller serves at counter 1
        consultation = consultation_start(actor=teller, ticket=serving_ticket)
"""

import datetime as dt

import pytest

from bankservice.branches.models import Role
from bankservice.customers.models import Product
from consultation import handoffs
from consultation.kb.search import index_article
from consultation.models import Article, ArticleVersion, Category, VersionStatus
from consultation.services import consultation_start
from reception.services import ticket_call_next, ticket_start
from tests.factories import CustomerFactory

PHONE = "+8613912345678"


@pytest.fixture(autouse=True)
def handoff_registry(monkeypatch):
    """An empty registry for the test (later stages register theirs at start-up)."""
    monkeypatch.setattr(handoffs, "_HANDLERS", {})
    return handoffs


@pytest.fixture
def advisor(make_staff, branch_a):
    return make_staff(Role.ADVISOR, branch=branch_a, username="advisor-a")


@pytest.fixture
def other_advisor(make_staff, branch_a):
    return make_staff(Role.ADVISOR, branch=branch_a, username="advisor-a2")


@pytest.fixture
def manager(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-a")


@pytest.fixture
def customer(branch_a):
    return CustomerFactory(
        full_name="王小明", phone=PHONE, email="wang.xm@example.cn", home_branch=branch_a
    )


@pytest.fixture
def topic(db):
    return Category.objects.create(code="cards", name_zh="银行卡", name_en="Cards")


@pytest.fixture
def product(db):
    return Product.objects.create(
        code="credit-card", family="card", name_zh="信用卡", name_en="Credit card"
    )


def publish_article(*, topic, owner, title_en, body_en, title_zh="", body_zh="") -> Article:
    """A published, indexed article (as the knowledge base's approval leaves it)."""
    article = Article.objects.create(category=topic, owner=owner, review_due=dt.date(2030, 1, 1))
    version = ArticleVersion.objects.create(
        article=article,
        number=1,
        title_en=title_en,
        body_en=body_en,
        title_zh=title_zh,
        body_zh=body_zh,
        author=owner,
        status=VersionStatus.PUBLISHED,
    )
    article.published = version
    article.save(update_fields=["published"])
    index_article(article)
    return article


@pytest.fixture
def article(topic, advisor):
    return publish_article(
        topic=topic,
        owner=advisor,
        title_en="Annual fee of the credit card",
        body_en="The annual fee is waived after six purchases a year.",
        title_zh="信用卡年费",
        body_zh="每年刷卡六次即可免年费。",
    )


@pytest.fixture
def serving_ticket(issue_tickets, open_counter, teller, customer, reception_clock):
    """A ticket of `customer`, called after a 5-minute wait and being served by the teller."""
    (ticket,) = issue_tickets(1, customer=customer)
    reception_clock.shift(dt.timedelta(minutes=4))  # 5 minutes after arrival (issue adds 1)
    called = ticket_call_next(actor=teller, counter=open_counter)
    assert called.pk == ticket.pk
    return ticket_start(actor=teller, ticket=ticket)


@pytest.fixture
def phone_consultation(advisor, branch_a, customer):
    """An open phone consultation of `customer`, held by `advisor`."""
    return consultation_start(
        actor=advisor,
        channel="phone",
        branch=branch_a,
        customer=customer,
        question="How do I avoid the card's annual fee?",
    )
