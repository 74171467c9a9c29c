"""Sweepers and services at the same moment on PostgreSQL: every handler runs exactly once."""

import datetime as dt
import threading
import time

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from bankservice.customers.models import Customer
from bankservice.events.models import Event
from bankservice.sla.models import Deadline
from bankservice.sla.policies import register_handler
from bankservice.sla.services import deadline_meet, deadline_sweep
from tests.concurrency import run_together
from tests.conftest import requires_postgres

from .conftest import SHANGHAI, at

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NOW = at(SHANGHAI, 2026, 3, 9, 17)


def due_deadlines(branch, n: int) -> list[int]:
    """n open deadlines of kind test.race, all overdue at NOW (made directly: setup, not a test)."""
    subject_type = ContentType.objects.get_for_model(Customer)
    started = NOW - dt.timedelta(days=3)
    rows = Deadline.objects.bulk_create(
        Deadline(
            subject_type=subject_type,
            subject_id=str(i),
            kind="test.race",
            policy="test.race",
            clock="business_hours",
            branch=branch,
            started_at=started,
            due_at=started + dt.timedelta(hours=1, seconds=i),
        )
        for i in range(n)
    )
    return [row.pk for row in rows]


class Recorder:
    """A handler that notes each call, thread-safely, slowly enough for sweepers to overlap."""

    def __init__(self):
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, deadline):
        time.sleep(0.002)
        with self.lock:
            self.calls.append(deadline.pk)


def test_two_sweepers_at_once_call_each_handler_exactly_once(cn_branch):
    ids = due_deadlines(cn_branch, 200)
    handler = Recorder()
    register_handler("test.race", on_breach=handler)

    results = run_together(
        *(lambda: deadline_sweep(now=NOW, batch_size=10, max_batches=100) for _ in range(2))
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(handler.calls) == sorted(ids)  # each once: no repeats, none missing
    assert sum(r.breached for r in results) == 200
    assert all(r.breached > 0 for r in results), results  # both really worked at once
    assert Deadline.objects.filter(state="breached").count() == 200
    events = Event.objects.filter(type="deadline.breached")
    assert events.count() == 200
    assert len({e.payload["deadline_id"] for e in events}) == 200


def test_four_sweepers_and_a_late_one_still_add_up(cn_branch):
    ids = due_deadlines(cn_branch, 200)
    handler = Recorder()
    register_handler("test.race", on_breach=handler)
    results = run_together(
        *(lambda: deadline_sweep(now=NOW, batch_size=7, max_batches=100) for _ in range(4))
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert deadline_sweep(now=NOW).breached == 0  # nothing left for a sweeper that comes late
    assert sorted(handler.calls) == sorted(ids)


def test_a_row_a_service_holds_is_skipped_not_waited_for_then_taken_next_time(cn_branch):
    ids = due_deadlines(cn_branch, 5)
    handler = Recorder()
    register_handler("test.race", on_breach=handler)
    held, release = threading.Event(), threading.Event()

    def hold_one():
        try:
            with transaction.atomic():
                Deadline.objects.select_for_update().get(pk=ids[0])
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_one)
    holder.start()
    try:
        assert held.wait(timeout=10)
        started = time.monotonic()
        first = deadline_sweep(now=NOW)
        assert time.monotonic() - started < 5  # SKIP LOCKED: no waiting on the held row
        assert first.breached == 4
        assert ids[0] not in handler.calls
    finally:
        release.set()
        holder.join(timeout=30)
    assert deadline_sweep(now=NOW).breached == 1
    assert sorted(handler.calls) == sorted(ids)


def test_meeting_while_the_sweep_runs_gives_one_outcome_per_deadline(cn_branch):
    ids = due_deadlines(cn_branch, 60)
    handler = Recorder()
    register_handler("test.race", on_breach=handler)

    def meet_all():
        # Newest first, so the sweep (oldest first) and the meets cross in the middle.
        for pk in reversed(ids):
            deadline_meet(deadline=Deadline(pk=pk))
        return True

    results = run_together(lambda: deadline_sweep(now=NOW, batch_size=5, max_batches=100), meet_all)
    assert not [r for r in results if isinstance(r, Exception)], results
    breached_events = {
        e.payload["deadline_id"] for e in Event.objects.filter(type="deadline.breached")
    }
    for deadline in Deadline.objects.filter(pk__in=ids):
        # Met before the sweep took it, or breached (and perhaps met late) — never both.
        assert deadline.state in ("met", "breached")
        assert (deadline.pk in breached_events) is (deadline.state == "breached")
        assert handler.calls.count(deadline.pk) == (1 if deadline.state == "breached" else 0)
        assert deadline.met_at is not None  # every deadline was met, on time or late
