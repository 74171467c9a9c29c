"""Fixtures for the assistant: the shipped bilingual examples split into training and held-out
rows, a model trained on the training rows, and the demo's services at branch A.

    def test_x(trained, teller, branch_services):
        suggestion = assistant_suggest(principal=teller, text="我的银行卡丢了")
"""

import datetime as dt

import pytest

from bankservice.branches.models import Role
from consultation.assistant import services
from consultation.assistant.hooks import EXAMPLES_CSV
from consultation.assistant.services import (
    assistant_train,
    examples_from_csv,
    training_examples_import,
)
from consultation.kb.services import article_create, version_approve, version_submit
from tests.reception.factories import ServiceTypeFactory

# Every fourth row is held out: the file lists each label's rows together, so each label keeps
# three quarters of its rows for training and a quarter for measuring.
HOLD_OUT_EVERY = 4


@pytest.fixture(autouse=True)
def _fresh_process():
    """Each test starts like a new process: no model in memory. (A rolled-back test's model id
    is given again to the next test's model on SQLite; a real database never reuses one.)"""
    services._loaded.state = (None, None)


@pytest.fixture(scope="session")
def shipped_examples():
    return examples_from_csv(EXAMPLES_CSV.read_bytes())


@pytest.fixture(scope="session")
def training_rows(shipped_examples):
    return [e for i, e in enumerate(shipped_examples) if i % HOLD_OUT_EVERY]


@pytest.fixture(scope="session")
def held_out_rows(shipped_examples):
    return [e for i, e in enumerate(shipped_examples) if not i % HOLD_OUT_EVERY]


@pytest.fixture
def trained(db, training_rows, django_capture_on_commit_callbacks):
    """The training rows imported and a model trained on them."""
    training_examples_import(actor=None, examples=training_rows, source="test")
    with django_capture_on_commit_callbacks(execute=True):  # the new model's version is cached
        return assistant_train(actor=None)


@pytest.fixture
def branch_services(branch_a, branch_b):
    """The five demo services at branch A, and an accounts service at branch B."""
    services = {
        code: ServiceTypeFactory(branch=branch_a, code=code, prefix=prefix, name_en=code.title())
        for code, prefix in [
            ("cash", "A"),
            ("accounts", "B"),
            ("loans", "C"),
            ("wealth", "V"),
            ("enquiry", "E"),
        ]
    }
    services["accounts-b"] = ServiceTypeFactory(branch=branch_b, code="accounts", prefix="B")
    return services


@pytest.fixture
def publish(make_staff, branch_a):
    """publish(category, **text) -> an article published through review (author ≠ approver)."""
    author = make_staff(Role.ADVISOR, branch=branch_a, username="kb-author")
    approver = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="kb-approver")

    def make(category, **text):
        version = article_create(
            actor=author, kind="qa", category=category, review_due=dt.date(2030, 1, 1), **text
        )
        version_submit(actor=author, version=version)
        version_approve(actor=approver, version=version)
        return version.article

    return make
