"""Reception's measures for the dashboards (reception/kpi_selectors.py) on tickets and counters
made through the real services, with a frozen clock: counts, waits, service and counter time,
grouped by the branch's local day and hour, service and staff."""

import datetime as dt
import zoneinfo

import pytest
import time_machine

from bankservice.core.measures import bucket
from reception.appointments import appointment_check_in
from reception.kpi_selectors import measure_rows
from reception.models import Appointment, AppointmentChannel
from reception.services import (
    counter_pause,
    counter_sign_in,
    counter_sign_out,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_no_show,
    ticket_recall,
    ticket_start,
    ticket_transfer,
    tickets_close_unserved,
)
from tests.factories import BranchFactory

from .factories import CounterFactory, ServiceTypeFactory
from .fixtures import CLOSED_AT, OPEN_AT

DAY = OPEN_AT.date()  # Wednesday 2026-03-04 (Shanghai)
TICKET_MEASURES = (
    "tickets_issued",
    "tickets_called",
    "wait_seconds",
    "within_target",
    "abandoned",
    "no_show",
    "served",
    "service_seconds",
)


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def only(rows: list[dict], **key) -> dict:
    (row,) = [row for row in rows if all(row[k] == v for k, v in key.items())]
    return row


@pytest.fixture
def busy_morning(issue_tickets, open_counter, teller, reception_clock):
    """Counter 1 opened by the teller at 10:00 (Shanghai). Cash tickets A001 10:00, A002 10:01,
    A003 10:02. A001 called 10:05 (waited 5 min), started 10:06, completed 10:10 (4 min).
    A002 called 10:20 (waited 19 min: over the 15-minute target), no-show 10:22. The counter
    pauses 10:25-10:35 and closes at 11:30. A003 is never called: closed unserved at 18:00."""
    first, second, third = issue_tickets(3)  # clock now 10:03
    reception_clock.move_to(OPEN_AT + minutes(5))
    assert ticket_call_next(actor=teller, counter=open_counter).pk == first.pk
    reception_clock.move_to(OPEN_AT + minutes(6))
    ticket_start(actor=teller, ticket=first)
    reception_clock.move_to(OPEN_AT + minutes(10))
    ticket_complete(actor=teller, ticket=first)
    reception_clock.move_to(OPEN_AT + minutes(20))
    assert ticket_call_next(actor=teller, counter=open_counter).pk == second.pk
    reception_clock.move_to(OPEN_AT + minutes(22))
    ticket_no_show(actor=teller, ticket=second)
    reception_clock.move_to(OPEN_AT + minutes(25))
    counter_pause(actor=teller, counter=open_counter)
    reception_clock.move_to(OPEN_AT + minutes(35))
    counter_pause(actor=teller, counter=open_counter, paused=False)
    reception_clock.move_to(OPEN_AT + minutes(90))
    counter_sign_out(actor=teller, counter=open_counter)
    reception_clock.move_to(CLOSED_AT)
    tickets_close_unserved()
    return first, second, third


def test_a_day_of_one_branch(busy_morning, branch_a, django_assert_num_queries):
    measure_rows(start=DAY, end=DAY)  # the content types are cached from here on
    # Per time zone: the branches, the ticket sums, the two histograms; then for counter time
    # the branches, the counter events, the counters' branches and the tickets at counters.
    with django_assert_num_queries(8):
        (row,) = measure_rows(start=DAY, end=DAY, by=("day", "branch"))
    assert row == {
        "day": DAY,
        "branch": branch_a.id,
        "tickets_issued": 3,
        "tickets_called": 2,  # A001, A002
        "wait_seconds": row["wait_seconds"],
        "within_target": 1,  # A001 (5 min); A002 waited 19 > 15
        "abandoned": 1,  # A003
        "no_show": 1,  # A002
        "served": 1,  # A001
        "service_seconds": row["service_seconds"],
        "wait_histogram": {bucket(300): 1, bucket(1140): 1},  # buckets 10 and 38
        "service_histogram": {bucket(240): 1},  # bucket 8
        # Open 10:00-10:25 and 10:35-11:30: 25 + 55 = 80 min = 4800 s.
        "counter_open_seconds": row["counter_open_seconds"],
        # A001 called 10:05 to completed 10:10 (300 s), A002 10:20 to no-show 10:22 (120 s).
        "counter_busy_seconds": row["counter_busy_seconds"],
    }
    assert round(row["wait_seconds"]) == 300 + 1140
    assert round(row["service_seconds"]) == 240
    assert round(row["counter_open_seconds"]) == 4800
    assert round(row["counter_busy_seconds"]) == 420


def test_grouped_by_local_hour_service_and_staff(busy_morning, branch_a, teller):
    rows = measure_rows(start=DAY, end=DAY)
    # The tickets the teller called: A001, A002 (cash, 10:00 Shanghai = 02:00 UTC).
    called = only(rows, hour=10, service="cash", staff=teller.id)
    assert called["day"] == DAY and called["branch"] == branch_a.id
    assert {name: round(called.get(name, 0)) for name in TICKET_MEASURES} == {
        "tickets_issued": 2,
        "tickets_called": 2,
        "wait_seconds": 1440,
        "within_target": 1,
        "abandoned": 0,
        "no_show": 1,
        "served": 1,
        "service_seconds": 240,
    }
    assert "counter_open_seconds" not in called
    # A003, never called: nobody's.
    waiting = only(rows, hour=10, service="cash", staff=None)
    assert (waiting["tickets_issued"], waiting["abandoned"]) == (1, 1)
    assert "tickets_called" not in waiting and "wait_histogram" not in waiting
    # Counter time is branch-wide (service "") and the teller's, split by hour:
    # 10:00-10:25 + 10:35-11:00 = 3000 s in hour 10, 11:00-11:30 = 1800 s in hour 11.
    ten = only(rows, hour=10, service="")
    assert ten["staff"] == teller.id
    assert (round(ten["counter_open_seconds"]), round(ten["counter_busy_seconds"])) == (3000, 420)
    eleven = only(rows, hour=11, service="")
    assert round(eleven["counter_open_seconds"]) == 1800
    assert "counter_busy_seconds" not in eleven and "tickets_issued" not in eleven
    assert len(rows) == 4

    # `by` subsets: only the hour.
    by_hour = sorted(measure_rows(start=DAY, end=DAY, by=("hour",)), key=lambda r: r["hour"])
    assert [
        set(row) - set(TICKET_MEASURES) - {"wait_histogram", "service_histogram"} for row in by_hour
    ] == [
        {"hour", "counter_open_seconds", "counter_busy_seconds"},
        {"hour", "counter_open_seconds"},
    ]
    assert by_hour[0]["tickets_issued"] == 3
    # Only the service: the counter time is under "".
    by_service = {row["service"]: row for row in measure_rows(start=DAY, end=DAY, by=("service",))}
    assert set(by_service) == {"cash", ""}
    assert round(by_service[""]["counter_open_seconds"]) == 4800
    assert by_service["cash"]["tickets_issued"] == 3


def test_range_edges_and_branch_filter(busy_morning, branch_a, branch_b):
    next_day = DAY + dt.timedelta(days=1)
    assert measure_rows(start=next_day, end=next_day + dt.timedelta(days=3)) == []
    assert measure_rows(start=DAY - dt.timedelta(days=2), end=DAY - dt.timedelta(days=1)) == []
    assert measure_rows(start=DAY, end=DAY, branch_ids=[branch_b.id]) == []
    (row,) = measure_rows(
        start=DAY - dt.timedelta(days=1), end=DAY, branch_ids=[branch_a.id], by=()
    )
    assert row["tickets_issued"] == 3 and round(row["counter_open_seconds"]) == 4800


def test_days_are_the_branch_local_days(db, reception_clock):
    # Auckland is UTC+13 in March: 09:30 there on Wednesday is 20:30 UTC on Tuesday.
    auckland = zoneinfo.ZoneInfo("Pacific/Auckland")
    branch = BranchFactory(code="akl", time_zone="Pacific/Auckland")
    service = ServiceTypeFactory(branch=branch, code="cash", prefix="A")
    at = dt.datetime(2026, 3, 4, 9, 30, tzinfo=auckland)
    with time_machine.travel(at, tick=False):
        ticket_issue(actor=None, service_type=service, source="greeter")
    assert at.astimezone(dt.UTC).date() == dt.date(2026, 3, 3)
    (row,) = measure_rows(start=dt.date(2026, 3, 4), end=dt.date(2026, 3, 4), by=("day", "hour"))
    assert row == {"day": dt.date(2026, 3, 4), "hour": 9, "tickets_issued": 1}
    assert measure_rows(start=dt.date(2026, 3, 3), end=dt.date(2026, 3, 3)) == []


def test_a_transferred_visit_is_issued_once_and_waits_twice(
    issue_tickets, open_counter, teller, reception_clock, accounts_service
):
    (first,) = issue_tickets(1)  # A001 cash 10:00
    reception_clock.move_to(OPEN_AT + minutes(2))
    ticket_call_next(actor=teller, counter=open_counter)  # waited 120 s
    reception_clock.move_to(OPEN_AT + minutes(3))
    ticket_start(actor=teller, ticket=first)
    reception_clock.move_to(OPEN_AT + minutes(5))
    moved = ticket_transfer(actor=teller, ticket=first, service_type=accounts_service)  # B001
    reception_clock.move_to(OPEN_AT + minutes(8))
    assert ticket_call_next(actor=teller, counter=open_counter).pk == moved.pk  # waited 180 s
    reception_clock.move_to(OPEN_AT + minutes(9))
    ticket_start(actor=teller, ticket=moved)
    reception_clock.move_to(OPEN_AT + minutes(15))
    ticket_complete(actor=teller, ticket=moved)  # served 6 min
    reception_clock.move_to(OPEN_AT + minutes(20))

    rows = {row["service"]: row for row in measure_rows(start=DAY, end=DAY, by=("service",))}
    cash, accounts = rows["cash"], rows["accounts"]
    # The first ticket: the visit's one issue, its first wait; not served (transferred).
    assert (cash["tickets_issued"], cash["tickets_called"], cash["within_target"]) == (1, 1, 1)
    assert round(cash["wait_seconds"]) == 120
    assert "served" not in cash and "service_seconds" not in cash
    # The continuation: no new issue; its wait from the transfer (10:05) to its call (10:08).
    assert "tickets_issued" not in accounts
    assert (accounts["tickets_called"], accounts["served"]) == (1, 1)
    assert round(accounts["wait_seconds"]) == 180
    assert round(accounts["service_seconds"]) == 360
    assert accounts["service_histogram"] == {bucket(360): 1}
    # The counter was busy 10:02-10:05 and 10:08-10:15: 180 + 420 s, open 20 min so far.
    assert round(rows[""]["counter_busy_seconds"]) == 600
    assert round(rows[""]["counter_open_seconds"]) == 1200


def test_appointment_waits_from_its_start_and_recalls_keep_the_first_call(
    wealth, greeter, teller, branch_a, reception_clock
):
    counter = CounterFactory(branch=branch_a, number=2, services=[wealth])
    starts = OPEN_AT + minutes(60)  # 11:00
    appointment = Appointment.objects.create(
        branch=branch_a,
        service_type=wealth,
        contact_name="Li Lei",
        starts_at=starts,
        ends_at=starts + minutes(30),
        channel=AppointmentChannel.STAFF,
    )
    reception_clock.move_to(starts - minutes(10))
    counter_sign_in(actor=teller, counter=counter)
    ticket = appointment_check_in(actor=greeter, appointment=appointment)  # 10:50, on time
    assert ticket.is_appointment
    reception_clock.move_to(starts + minutes(4))
    ticket_call_next(actor=teller, counter=counter)  # first call 11:04
    reception_clock.move_to(starts + minutes(6))
    ticket_recall(actor=teller, ticket=ticket)  # called_at becomes 11:06
    reception_clock.move_to(starts + minutes(7))
    ticket_start(actor=teller, ticket=ticket)
    reception_clock.move_to(starts + minutes(30))
    ticket_complete(actor=teller, ticket=ticket)

    (row,) = [r for r in measure_rows(start=DAY, end=DAY, by=("service",)) if r["service"]]
    # From the appointment's start (11:00), not the check-in (10:50), to the first call (11:04).
    assert round(row["wait_seconds"]) == 240
    assert row["wait_histogram"] == {bucket(240): 1}
    assert round(row["service_seconds"]) == 23 * 60
    # Busy from the first call 11:04 to 11:30 (the counter opened at 10:50).
    (counter_row,) = [
        r for r in measure_rows(start=DAY, end=DAY, by=("service",)) if not r["service"]
    ]
    assert round(counter_row["counter_busy_seconds"]) == 26 * 60


def test_an_open_counter_counts_up_to_now_and_from_the_start_of_the_range(
    reception_clock, open_counter, teller
):
    # Opened Wednesday 10:00; Thursday 10:15 it is still open (no events that day).
    reception_clock.move_to(OPEN_AT + dt.timedelta(days=1, minutes=15))
    thursday = DAY + dt.timedelta(days=1)
    (row,) = measure_rows(start=thursday, end=thursday, by=("day", "staff"))
    # Thursday 00:00 to now 10:15 (Shanghai).
    assert row == {"day": thursday, "staff": teller.id, "counter_open_seconds": 10.25 * 3600}
    (wednesday,) = measure_rows(start=DAY, end=DAY, by=("day",))
    assert wednesday["counter_open_seconds"] == 14 * 3600  # 10:00 to midnight
