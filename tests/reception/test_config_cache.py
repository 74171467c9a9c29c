"""The per-process reception configuration cache (reception/config.py): a change to opening
hours, calendar days, the priority rule or a counter's services is seen by the very next issue
or call, in this process and in every other; an unchanged configuration costs no query.

"Another process" is a second _ProcessCache swapped in: what a gunicorn worker keeps of its own.
"""

import datetime as dt
from unittest import mock

import pytest
from django.core.cache import cache

from bankservice.branches.models import CalendarDay, OpeningHours
from reception import config
from reception.models import CounterService, PriorityRule
from reception.services import BranchClosed, ticket_call_next, ticket_issue
from tests.factories import CustomerFactory

from .fixtures import OPEN_AT

pytestmark = pytest.mark.django_db


def issue(service_type, **kwargs):
    return ticket_issue(actor=None, service_type=service_type, source="greeter", **kwargs)


def test_changed_opening_hours_apply_to_the_next_issue(cash_service, branch_a, reception_clock):
    issue(cash_service)  # Wednesday 10:00: open, and the day's hours are now cached

    OpeningHours.objects.filter(branch=branch_a, weekday=3).get().delete()
    with pytest.raises(BranchClosed):
        issue(cash_service)

    OpeningHours.objects.create(branch=branch_a, weekday=3, opens_at="09:30", closes_at="12:00")
    assert issue(cash_service).number == "A002"


def test_a_holiday_added_today_closes_the_branch(cash_service, branch_a, reception_clock):
    issue(cash_service)

    CalendarDay.objects.create(
        calendar=branch_a.calendar, date=OPEN_AT.date(), kind=CalendarDay.Kind.HOLIDAY
    )

    with pytest.raises(BranchClosed):
        issue(cash_service)


def test_a_changed_weight_applies_to_the_next_ticket(cash_service, branch_a, reception_clock):
    elderly = CustomerFactory(home_branch=branch_a, is_elderly=True)
    rule = PriorityRule.objects.create(branch=branch_a, elderly_minutes=10)
    first = issue(cash_service, customer=elderly)

    rule.elderly_minutes = 25
    rule.save()
    second = issue(cash_service, customer=elderly)

    assert first.arrived_at - first.priority_at == dt.timedelta(minutes=10)
    assert second.arrived_at - second.priority_at == dt.timedelta(minutes=25)


def test_a_service_added_to_a_counter_is_called_at_once(
    teller, open_counter, issue_tickets, branch_a
):
    from .factories import ServiceTypeFactory

    loans = ServiceTypeFactory(branch=branch_a, code="loans", prefix="L")
    assert ticket_call_next(actor=teller, counter=open_counter) is None  # services now cached
    issue_tickets(1, service_type=loans)
    assert ticket_call_next(actor=teller, counter=open_counter) is None  # not served here

    open_counter.services.add(loans, through_defaults={"preference": 3})  # bulk: m2m signal

    assert ticket_call_next(actor=teller, counter=open_counter).number == "L001"


def test_another_process_sees_a_change_at_once(branch_a):
    other = config._ProcessCache()
    with mock.patch.object(config, "_process", other):
        assert config.priority_rule(branch_a.pk).max_wait_minutes == 45  # the default
    PriorityRule.objects.create(branch=branch_a, max_wait_minutes=20)  # in this process

    with mock.patch.object(config, "_process", other):
        assert config.priority_rule(branch_a.pk).max_wait_minutes == 20


def test_the_version_changes_at_once_and_again_after_commit(
    branch_a, counter, cash_service, django_capture_on_commit_callbacks
):
    before = config._current_version()
    with django_capture_on_commit_callbacks() as callbacks:
        CounterService.objects.filter(counter=counter, service_type=cash_service).delete()
        during = cache.get(config.VERSION_KEY)
    assert during != before
    # Another process may read the old rows before this commits and keep them under `during`:
    # committing moves the version on once more.
    for callback in callbacks:
        callback()
    assert cache.get(config.VERSION_KEY) not in (before, during)


def test_an_unchanged_configuration_costs_no_query(
    cash_service, teller, open_counter, reception_clock, django_assert_num_queries
):
    issue(cash_service)
    ticket_call_next(actor=teller, counter=open_counter)
    links = tuple(open_counter.service_links.values_list("service_type_id", "preference"))

    # The version is read from the cache; the rule and hours from this process.
    with django_assert_num_queries(0):
        assert config.priority_rule(cash_service.branch_id).max_wait_minutes == 45
        assert config.opening_hours(cash_service.branch, OPEN_AT.date()) == (
            (dt.time(9), dt.time(17)),
        )
        assert config.counter_services(open_counter.pk) == links


def test_a_cold_configuration_costs_a_fixed_number_of_queries(
    cash_service, reception_clock, django_assert_num_queries
):
    # savepoint, visit, number, ticket, event, release; cold: calendar days, opening hours, rule
    with django_assert_num_queries(9):
        issue(cash_service)
    with django_assert_num_queries(6):
        issue(cash_service)
