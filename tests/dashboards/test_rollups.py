"""Rollups equal the raw computation, whatever the grouping; rebuilding a day is idempotent;
two workers rolling up the same day leave one set of rows."""

import datetime as dt

import pytest
from django.core.management import call_command

from bankservice.branches.models import Role
from dashboards import kpis
from dashboards.models import DayRollup, HourRollup, RollupDay, StaffDayRollup
from dashboards.rollups import rollup, rollup_day
from dashboards.selectors import kpi_table
from reception.services import (
    counter_sign_out,
    ticket_call_next,
    ticket_complete,
    ticket_no_show,
    ticket_start,
)
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.reception.fixtures import OPEN_AT

DAY = OPEN_AT.date()


@pytest.fixture
def served_day(reception_clock, teller, open_counter, issue_tickets, accounts_service):
    """A morning at branch A: five cash tickets and two accounts tickets; three served (waits
    of a few minutes), one no-show, the rest still waiting; then the counter closes at 11:30."""
    issue_tickets(5, gap=dt.timedelta(minutes=2))
    issue_tickets(2, service_type=accounts_service, gap=dt.timedelta(minutes=3))
    for minutes in (4, 7, 9):
        reception_clock.shift(dt.timedelta(minutes=minutes))
        ticket = ticket_call_next(actor=teller, counter=open_counter)
        ticket_start(actor=teller, ticket=ticket)
        reception_clock.shift(dt.timedelta(minutes=6))
        ticket_complete(actor=teller, ticket=ticket)
    reception_clock.shift(dt.timedelta(minutes=1))
    ticket_no_show(actor=teller, ticket=ticket_call_next(actor=teller, counter=open_counter))
    reception_clock.move_to(OPEN_AT.replace(hour=11, minute=30))
    counter_sign_out(actor=teller, counter=open_counter)


GROUPINGS = [(), ("branch",), ("service",), ("day", "service"), ("hour",), ("staff",)]


@pytest.mark.django_db
@pytest.mark.parametrize("by", GROUPINGS)
def test_rollups_equal_the_raw_computation(served_day, make_staff, branch_a, by):
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)
    rollup(DAY, DAY)
    raw = kpi_table(manager, start=DAY, end=DAY, by=by, source="raw")
    rolled = kpi_table(manager, start=DAY, end=DAY, by=by)
    assert raw, "the morning has figures"
    assert [row.key for row in rolled] == [row.key for row in raw]
    for rolled_row, raw_row in zip(rolled, raw, strict=True):
        for name in kpis.MEASURES:
            assert rolled_row.measures[name] == pytest.approx(raw_row.measures[name]), name
        for code, value in raw_row.values.items():
            expected = None if value is None else pytest.approx(value)
            assert rolled_row.values[code] == expected, code


@pytest.mark.django_db
def test_the_morning_by_hand(served_day, make_staff, branch_a):
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)
    rollup(DAY, DAY)
    (day,) = kpi_table(manager, start=DAY, end=DAY)
    measures = day.measures
    assert measures["tickets_issued"] == 7
    assert measures["tickets_called"] == 4
    assert measures["served"] == 3
    assert measures["no_show"] == 1
    assert measures["service_seconds"] == pytest.approx(3 * 360)  # three 6-minute services
    assert day.values["no_show_rate"] == pytest.approx(0.25)
    assert day.values["service_mean"] == pytest.approx(360.0)
    # The counter was open from 10:00 to 11:30.
    assert measures["counter_open_seconds"] == pytest.approx(90 * 60)


def _rows():
    fields = ("service", "staff_id", "served", "wait_seconds", "histograms")
    return sorted(StaffDayRollup.objects.values_list(*fields), key=repr)


def _count():
    return sum(model.objects.count() for model in (DayRollup, StaffDayRollup, HourRollup))


@pytest.mark.django_db
def test_rebuilding_a_day_is_idempotent(served_day, make_staff, branch_a):
    first = rollup_day(DAY)
    snapshot = _rows()
    assert first == _count() > 0
    assert rollup_day(DAY) == first
    assert _rows() == snapshot
    assert RollupDay.objects.get(day=DAY).rows == first


@pytest.mark.django_db
def test_the_command_rolls_up_a_range(served_day, capsys):
    call_command("rollup_kpis", "--from", str(DAY - dt.timedelta(days=1)), "--to", str(DAY))
    assert "2 days rolled up" in capsys.readouterr().out
    assert RollupDay.objects.filter(day__in=[DAY, DAY - dt.timedelta(days=1)]).count() == 2
    assert DayRollup.objects.filter(day=DAY).exists()


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_rolling_up_the_same_day_leave_one_set_of_rows(served_day):
    alone = rollup_day(DAY)
    results = run_together(lambda: rollup_day(DAY), lambda: rollup_day(DAY))
    assert results == [alone, alone]
    assert _count() == alone
