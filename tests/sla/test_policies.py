"""Policies and handlers: declared once, registered by name, checked when declared."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from bankservice.sla.clock import BusinessClock, Clock
from bankservice.sla.policies import (
    DeadlinePolicy,
    UnknownPolicy,
    get_policy,
    handlers_for,
    register_handler,
    register_policy,
)

from .conftest import SHANGHAI, at


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"business_days": 5, "business_hours": 8}, "exactly one"),
        ({"business_days": 0}, "positive"),
        ({"business_days": 5, "roll_forward_to_working_day": True}, "calendar_days"),
        ({"business_hours": 4, "warn_before": dt.timedelta(hours=4)}, "shorter"),
        ({"business_hours": 4, "warn_before": 1.5}, "fraction"),
        ({"calendar_days": 7, "warn_before": 0}, "fraction"),
    ],
)
def test_a_policy_is_checked_when_declared(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DeadlinePolicy(name="test.bad", **kwargs)


def test_a_policy_knows_its_clock_and_amount():
    policy = DeadlinePolicy(name="test.hours", business_hours=4.5)
    assert (policy.clock, policy.amount) == (
        Clock.BUSINESS_HOURS,
        dt.timedelta(hours=4, minutes=30),
    )
    assert DeadlinePolicy(name="test.days", calendar_days=7).clock == Clock.CALENDAR_DAYS


def test_policies_register_once_by_name():
    policy = register_policy(DeadlinePolicy(name="complaint.decision", business_days=15))
    assert get_policy("complaint.decision") is policy
    register_policy(DeadlinePolicy(name="complaint.decision", business_days=15))  # same: fine
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        register_policy(DeadlinePolicy(name="complaint.decision", business_days=10))
    with pytest.raises(UnknownPolicy):
        get_policy("complaint.unknown")


def test_handlers_register_once_per_kind():
    def escalate(deadline):
        return None

    def remind(deadline):
        return None

    register_handler("complaint.decision", on_breach=escalate, on_warning=remind)
    register_handler("complaint.decision", on_breach=escalate, on_warning=remind)
    assert handlers_for("complaint.decision").on_breach is escalate
    assert handlers_for("complaint.decision").on_warning is remind
    assert handlers_for("care.callback") is None
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        register_handler("complaint.decision", on_breach=remind)


@pytest.mark.django_db
def test_warn_before_as_a_fraction_counts_on_the_policy_clock(cn_branch):
    policy = DeadlinePolicy(name="test.decision", business_days=5, warn_before=0.2)
    clock = BusinessClock.for_branch(cn_branch)
    start = at(SHANGHAI, 2026, 2, 12, 10)
    due = policy.due_at(clock, start)
    assert due == at(SHANGHAI, 2026, 2, 26, 10)
    # 80 % of five business days is four: Wednesday 25 February, not 80 % of the 14 wall days.
    assert policy.warn_at(clock, start, due) == at(SHANGHAI, 2026, 2, 25, 10)


@pytest.mark.django_db
def test_warn_before_as_a_duration_counts_on_the_policy_clock(cn_branch):
    policy = DeadlinePolicy(
        name="test.ack", business_hours=4, warn_before=dt.timedelta(hours=1, minutes=30)
    )
    clock = BusinessClock.for_branch(cn_branch)
    start = at(SHANGHAI, 2026, 3, 6, 14)  # Friday
    due = policy.due_at(clock, start)
    assert due == at(SHANGHAI, 2026, 3, 9, 10)
    # 1.5 business hours before Monday 10:00 is Friday 16:30, not Monday 08:30.
    assert policy.warn_at(clock, start, due) == at(SHANGHAI, 2026, 3, 6, 16, 30)


@pytest.mark.django_db
def test_calendar_days_roll_forward_only_when_the_policy_says_so(cn_branch):
    clock = BusinessClock.for_branch(cn_branch)
    start = at(SHANGHAI, 2026, 2, 8, 15)
    rolling = DeadlinePolicy(name="test.roll", calendar_days=7, roll_forward_to_working_day=True)
    plain = DeadlinePolicy(name="test.plain", calendar_days=7)
    assert rolling.due_at(clock, start) == at(SHANGHAI, 2026, 2, 24, 15)
    assert plain.due_at(clock, start) == at(SHANGHAI, 2026, 2, 15, 15)
