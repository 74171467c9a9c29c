"""The kernel's measure counting (bankservice/core/measures.py) on real tickets: grouped by the
branch's local day and hour, with durations in seconds and histograms by 30-second bucket, the
same on SQLite and PostgreSQL."""

import datetime as dt

from django.db.models import Count, Q, Sum

from bankservice.core.measures import BUCKETS, Fact, Seconds, bucket, measure_rows
from reception.models import Ticket
from reception.services import ticket_call_next
from tests.reception.fixtures import OPEN_AT


def _fact():
    called = Q(called_at__isnull=False)
    return Fact(
        queryset=Ticket.objects.all(),
        at="issued_at",
        service="service_type__code",
        staff="served_by_id",
        sums={
            "tickets_issued": Count("pk"),
            "tickets_called": Count("pk", filter=called),
            "wait_seconds": Sum(Seconds("called_at", "issued_at"), filter=called),
        },
        histograms={"wait_histogram": (Seconds("called_at", "issued_at"), called)},
    )


def test_bucket_edges():
    assert bucket(-5) == 0
    assert bucket(29.9) == 0
    assert bucket(30) == 1
    assert bucket(10**7) == BUCKETS - 1


def test_tickets_grouped_by_local_day_hour_service_and_staff(
    teller, open_counter, issue_tickets, reception_clock, branch_a
):
    issue_tickets(3, gap=dt.timedelta(seconds=50))  # at 10:00:00, 10:00:50, 10:01:40
    reception_clock.shift(dt.timedelta(minutes=2))  # now 10:04:30
    ticket_call_next(actor=teller, counter=open_counter)  # first: waited 270 s

    day = OPEN_AT.date()
    rows = sorted(measure_rows([_fact()], start=day, end=day), key=lambda r: r["staff"] or 0)
    waiting, called = rows
    # Shanghai's day and hour (10:00 there is 02:00 UTC); the called ticket has its teller.
    assert {k: waiting[k] for k in ("day", "hour", "branch", "service", "staff")} == {
        "day": day,
        "hour": 10,
        "branch": branch_a.id,
        "service": "cash",
        "staff": None,
    }
    assert waiting["tickets_issued"] == 2
    assert "tickets_called" not in waiting and "wait_histogram" not in waiting
    assert called["staff"] == teller.id
    assert (called["tickets_issued"], called["tickets_called"]) == (1, 1)
    assert round(called["wait_seconds"]) == 270
    assert called["wait_histogram"] == {bucket(270): 1}

    (total,) = measure_rows([_fact()], start=day, end=day, by=("day", "branch"))
    assert total == {
        "day": day,
        "branch": branch_a.id,
        "tickets_issued": 3,
        "tickets_called": 1,
        "wait_seconds": total["wait_seconds"],
        "wait_histogram": {bucket(270): 1},
    }
    assert round(total["wait_seconds"]) == 270


def test_days_outside_the_range_and_other_branches_are_left_out(issue_tickets, branch_a, branch_b):
    issue_tickets(2)
    day = OPEN_AT.date()
    assert (
        measure_rows([_fact()], start=day + dt.timedelta(days=1), end=day + dt.timedelta(days=2))
        == []
    )
    assert measure_rows([_fact()], start=day, end=day, branch_ids=[branch_b.id]) == []
    (row,) = measure_rows([_fact()], start=day, end=day, by=("branch",))
    assert row == {"branch": branch_a.id, "tickets_issued": 2}
