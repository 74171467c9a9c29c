"""Fixtures for the campaign tests (services, runner, pages, API).

The clock stands at Tuesday 1 December 2026, 10:00 in Shanghai. Branch A has a branch manager
(`manager`) and a care team lead (`lead`); branch B its own manager. `make_customer(**fields)`
makes a customer of branch A who consents to everything and has a phone and an e-mail address,
born in June unless told otherwise.
"""

import datetime as dt
import zoneinfo

import pytest

from bankservice.branches.models import Role
from care import deadlines
from care.campaigns import campaign_create
from tests.factories import CustomerFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _care_registered():
    deadlines.register()


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def manager(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-a")


@pytest.fixture
def lead(make_staff, branch_a):
    return make_staff(Role.CARE_LEAD, branch=branch_a, username="lead-a")


@pytest.fixture
def manager_b(make_staff, branch_b):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_b, username="manager-b")


@pytest.fixture
def make_customer(branch_a):
    def make(**fields):
        values = {
            "home_branch": branch_a,
            "consent_sms": True,
            "consent_email": True,
            "consent_phone": True,
            "email": "someone@example.com",
            "date_of_birth": dt.date(1980, 6, 15),
        }
        values.update(fields)
        return CustomerFactory(**values)

    return make


@pytest.fixture
def make_campaign(manager, branch_a):
    """make_campaign(**fields): a draft message campaign of branch A by its manager."""

    def make(actor=None, branches=None, **fields):
        values = {
            "name": "Birthday greetings",
            "kind": "message",
            "channel": "preferred",
            "message_text": "Happy birthday! A small gift waits for you at the branch.",
        }
        values.update(fields)
        return campaign_create(actor=actor or manager, branches=branches or [branch_a], **values)

    return make
