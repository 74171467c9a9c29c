"""Fixtures for callback services, selectors and deadlines (helper F's tests; others may import).

Branch A (Shanghai) has a care agent, a second care agent and its branch manager, all with
e-mail addresses; `customer` consents to calls. `make_callback(**overrides)` schedules one the
way the generator does (actor=None), due tomorrow at 10:00 unless told otherwise.
"""

import datetime as dt
import zoneinfo

import pytest

from bankservice.branches.models import Role
from care import deadlines
from care.services import callback_create
from tests.factories import CustomerFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Monday, at 09:00 in Shanghai.
MONDAY_9 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def at(hour, minute=0, day=2):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _care_registered():
    # care/apps.py ready() does this in the running service; registering twice is harmless.
    deadlines.register()


@pytest.fixture
def now(time_machine):
    time_machine.move_to(MONDAY_9, tick=False)
    return MONDAY_9


def _with_email(user):
    user.email = f"{user.username}@bank.example"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def agent(make_staff, branch_a):
    return _with_email(make_staff(Role.CARE_AGENT, branch=branch_a, username="agent"))


@pytest.fixture
def agent_2(make_staff, branch_a):
    return _with_email(make_staff(Role.CARE_AGENT, branch=branch_a, username="agent2"))


@pytest.fixture
def manager(make_staff, branch_a):
    return _with_email(make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager"))


@pytest.fixture
def customer(branch_a):
    return CustomerFactory(home_branch=branch_a, consent_phone=True)


@pytest.fixture
def make_callback(now, branch_a, customer):
    def make(**overrides):
        fields = {
            "actor": None,
            "customer": customer,
            "branch": branch_a,
            "reason_code": "complaint-satisfaction",
            "due_at": at(10, day=3),
        }
        fields.update(overrides)
        return callback_create(**fields)

    return make
