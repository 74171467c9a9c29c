"""The sweep: breaches what is due and only that, calls each handler once, warns once, survives
failing handlers, catches up after downtime; the task and its schedule."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection, transaction

from bankservice.branches.models import Region
from bankservice.celery import app as celery_app
from bankservice.events.models import Event
from bankservice.sla.models import Deadline
from bankservice.sla.policies import DeadlinePolicy, register_handler, register_policy
from bankservice.sla.services import (
    SweepResult,
    _breach_batch,
    _due_for_breach,
    _due_for_warning,
    deadline_pause,
    deadline_start,
    deadline_sweep,
)
from bankservice.sla.tasks import sweep
from tests.factories import CustomerFactory

from .conftest import SHANGHAI, at

pytestmark = pytest.mark.django_db
State = Deadline.State
MONDAY_9 = at(SHANGHAI, 2026, 3, 9, 9)


@pytest.fixture
def policy():
    # Due 8 business hours after start, warned 2 business hours before.
    return register_policy(
        DeadlinePolicy(name="test.reply", business_hours=8, warn_before=dt.timedelta(hours=2))
    )


@pytest.fixture
def make(cn_branch, policy):
    """make(started_at) -> a fresh open deadline of kind test.reply on a new customer."""

    def make_one(started_at=MONDAY_9, kind="test.reply"):
        return deadline_start(
            subject=CustomerFactory(home_branch=cn_branch),
            kind=kind,
            policy=policy,
            branch=cn_branch,
            started_at=started_at,
        )

    return make_one


def states(*deadlines):
    return [Deadline.objects.get(pk=d.pk).state for d in deadlines]


def count(type_):
    return Event.objects.filter(type=type_).count()


def test_the_sweep_breaches_only_what_is_due(make, calls):
    register_handler("test.reply", on_breach=calls.on_breach)
    overdue = make(at(SHANGHAI, 2026, 3, 6, 9))  # due Friday 17:00
    due_now = make(MONDAY_9)  # due Monday 17:00
    not_yet = make(at(SHANGHAI, 2026, 3, 9, 10))  # due Tuesday 10:00
    paused = make(at(SHANGHAI, 2026, 3, 5, 9))
    Deadline.objects.filter(pk=paused.pk).update(paused_at=at(SHANGHAI, 2026, 3, 5, 10))
    met = make(at(SHANGHAI, 2026, 3, 4, 9))
    Deadline.objects.filter(pk=met.pk).update(state=State.MET, met_at=at(SHANGHAI, 2026, 3, 4, 10))
    assert not_yet.due_at == at(SHANGHAI, 2026, 3, 10, 10)

    now = at(SHANGHAI, 2026, 3, 9, 17)
    result = deadline_sweep(now=now)

    assert (result.breached, result.breach_failed) == (2, 0)
    assert calls.breached == [overdue.pk, due_now.pk]  # oldest first
    assert states(overdue, due_now, not_yet, paused, met) == [
        State.BREACHED,
        State.BREACHED,
        State.OPEN,
        State.OPEN,
        State.MET,
    ]
    assert Deadline.objects.get(pk=overdue.pk).breached_at == now
    breached_events = Event.objects.filter(type="deadline.breached").order_by("id")
    assert [e.payload["deadline_id"] for e in breached_events] == [overdue.pk, due_now.pk]
    assert all(e.actor_user is None and e.branch_id == overdue.branch_id for e in breached_events)

    # Running again (or twice in a row, as beat may) changes nothing and calls nobody.
    again = deadline_sweep(now=now)
    assert (again.breached, again.warned) == (0, 0)
    assert calls.breached == [overdue.pk, due_now.pk]
    assert count("deadline.breached") == 2


def test_the_handler_sees_the_breached_deadline_inside_the_transaction(make):
    seen = []

    def on_breach(deadline):
        assert connection.in_atomic_block
        seen.append((deadline.state, deadline.breached_at, deadline.branch.code))

    register_handler("test.reply", on_breach=on_breach)
    make()
    deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 17))
    assert seen == [(State.BREACHED, at(SHANGHAI, 2026, 3, 9, 17), "sh01")]


def test_a_warning_is_sent_once_at_warn_at(make, calls):
    register_handler("test.reply", on_breach=calls.on_breach, on_warning=calls.on_warning)
    deadline = make()  # warn at 15:00, due at 17:00
    assert deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 14, 59)).warned == 0
    assert deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 15)).warned == 1
    assert deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 16)).warned == 0
    assert calls.warned == [deadline.pk]
    deadline.refresh_from_db()
    assert (deadline.state, deadline.warned_at) == (State.OPEN, at(SHANGHAI, 2026, 3, 9, 15))
    assert count("deadline.warned") == 1
    result = deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 17))
    assert (result.breached, result.warned) == (1, 0)
    assert calls.breached == [deadline.pk]


def test_a_deadline_that_fell_due_while_no_worker_ran_is_handled_at_the_next_sweep(
    make, calls, time_machine
):
    register_handler("test.reply", on_breach=calls.on_breach, on_warning=calls.on_warning)
    time_machine.move_to(MONDAY_9, tick=False)
    deadline = make(MONDAY_9)
    # Workers were down from Monday morning until Wednesday: warn_at and due_at both passed.
    time_machine.move_to(at(SHANGHAI, 2026, 3, 11, 8, 15), tick=False)
    result = sweep()  # the Celery task, called as beat's worker would
    assert result["breached"] == 1
    assert result["warned"] == 0  # an overdue deadline gets its breach, not a late warning
    deadline.refresh_from_db()
    assert (deadline.state, deadline.breached_at) == (
        State.BREACHED,
        at(SHANGHAI, 2026, 3, 11, 8, 15),
    )
    assert deadline.warned_at is None
    assert calls.breached == [deadline.pk] and calls.warned == []


def test_a_failing_breach_handler_leaves_its_deadline_open_and_the_rest_goes_on(make, time_machine):
    first = make(at(SHANGHAI, 2026, 3, 6, 9))  # due Friday 17:00
    broken = make(at(SHANGHAI, 2026, 3, 6, 10))  # due Monday 10:00
    last = make()  # due Monday 17:00
    fixed = False
    calls = []

    def on_breach(deadline):
        # The handler writes, then (for one deadline) fails: its write must not survive.
        calls.append(deadline.pk)
        Region.objects.create(code=f"h{deadline.pk}-{len(calls)}", name="written by a handler")
        if deadline.pk == broken.pk and not fixed:
            raise RuntimeError("escalation service unavailable")

    def written_by_handler(deadline):
        return Region.objects.filter(code__startswith=f"h{deadline.pk}-").count()

    register_handler("test.reply", on_breach=on_breach)
    now = at(SHANGHAI, 2026, 3, 9, 18)
    result = deadline_sweep(now=now)

    assert (result.breached, result.breach_failed) == (2, 1)
    assert states(first, broken, last) == [State.BREACHED, State.OPEN, State.BREACHED]
    # The batch ran optimistically in one savepoint; when `broken` raised, the batch's work so
    # far was rolled back and the others ran again one by one. Committed: exactly once each.
    assert calls == [first.pk, broken.pk, first.pk, last.pk]
    assert [written_by_handler(d) for d in (first, broken, last)] == [1, 0, 1]
    for deadline in (first, last):
        assert (
            Event.objects.filter(type="deadline.breached", payload__deadline_id=deadline.pk).count()
            == 1
        )
    broken.refresh_from_db()
    assert (broken.handler_failures, broken.retry_at, broken.last_error) == (
        1,
        now + dt.timedelta(seconds=30),
        "RuntimeError",
    )
    assert not Event.objects.filter(
        type="deadline.breached", payload__deadline_id=broken.pk
    ).exists()
    failed = Event.objects.get(type="deadline.handler_failed")
    assert (failed.payload["step"], failed.payload["attempt"], failed.payload["error"]) == (
        "breach",
        1,
        "RuntimeError",
    )

    # Before retry_at the sweep passes over it; after, it tries again and backs off further.
    calls.clear()
    assert deadline_sweep(now=now + dt.timedelta(seconds=29)).breach_failed == 0
    assert deadline_sweep(now=now + dt.timedelta(seconds=30)).breach_failed == 1
    assert calls == [broken.pk]
    broken.refresh_from_db()
    assert (broken.handler_failures, broken.retry_at) == (2, now + dt.timedelta(seconds=90))

    # Once the handler works again, the breach goes through exactly once.
    fixed = True
    later = now + dt.timedelta(minutes=5)
    assert deadline_sweep(now=later).breached == 1
    broken.refresh_from_db()
    assert (broken.state, broken.breached_at, broken.retry_at) == (State.BREACHED, later, None)
    assert written_by_handler(broken) == 1
    assert (
        Event.objects.filter(type="deadline.breached", payload__deadline_id=broken.pk).count() == 1
    )
    assert count("deadline.handler_failed") == 2
    assert deadline_sweep(now=later + dt.timedelta(hours=1)).breached == 0


def test_failures_in_a_big_batch_cost_one_replay_each_not_more(make):
    deadlines = [make(at(SHANGHAI, 2026, 3, 2, 9) + dt.timedelta(minutes=i)) for i in range(6)]
    bad = {deadlines[1].pk, deadlines[4].pk}
    calls = []

    def on_breach(deadline):
        calls.append(deadline.pk)
        if deadline.pk in bad:
            raise ValueError("bad")

    register_handler("test.reply", on_breach=on_breach)
    result = deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 17))
    assert (result.breached, result.breach_failed) == (4, 2)
    # One optimistic pass up to the first failure, then each other row once on its own.
    ids = [d.pk for d in deadlines]
    assert calls == [*ids[:2], ids[0], *ids[2:]]
    assert sorted(Deadline.objects.filter(state="open").values_list("pk", flat=True)) == sorted(bad)


def test_the_retry_back_off_is_capped(make, settings):
    settings.SLA_HANDLER_RETRY_MAX_SECONDS = 100

    def on_breach(deadline):
        raise ValueError("always")

    register_handler("test.reply", on_breach=on_breach)
    deadline = make()
    now = at(SHANGHAI, 2026, 3, 9, 18)
    waits = []
    for _attempt in range(5):
        deadline_sweep(now=now)
        deadline.refresh_from_db()
        waits.append((deadline.retry_at - now).total_seconds())
        now = deadline.retry_at
    assert waits == [30, 60, 100, 100, 100]
    assert deadline.state == State.OPEN and deadline.handler_failures == 5


def test_a_failing_warning_handler_gives_the_warning_up_and_the_breach_still_comes(make, calls):
    def on_warning(deadline):
        raise RuntimeError("SMS gateway down")

    register_handler("test.reply", on_breach=calls.on_breach, on_warning=on_warning)
    deadline = make()
    result = deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 15, 30))
    assert (result.warned, result.warning_failed) == (0, 1)
    deadline.refresh_from_db()
    assert deadline.warned_at == at(SHANGHAI, 2026, 3, 9, 15, 30)
    assert count("deadline.warned") == 0
    assert Event.objects.get(type="deadline.handler_failed").payload["step"] == "warning"
    assert deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 16)).warning_failed == 0  # not retried
    assert deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 17)).breached == 1
    assert calls.breached == [deadline.pk]


def test_a_kind_without_handlers_is_still_breached(make, caplog):
    deadline = make()
    result = deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 17))
    assert result.breached == 1 and states(deadline) == [State.BREACHED]
    assert "No deadline handler registered for kinds: test.reply" in caplog.text


def test_batches_take_the_oldest_first_and_stop_when_nothing_is_left(make, calls):
    register_handler("test.reply", on_breach=calls.on_breach)
    deadlines = [make(at(SHANGHAI, 2026, 3, 2 + day, 9)) for day in (4, 0, 3, 1, 2, 0, 1)]
    expected = [d.pk for d in sorted(deadlines, key=lambda d: (d.due_at, d.pk))]
    result = deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 17), batch_size=3)
    assert (result.breached, result.batches) == (7, 3 + 1)  # 3 + 3 + 1, then the warning pass
    assert sorted(calls.breached) == sorted(expected)
    due_order = [Deadline.objects.get(pk=pk).due_at for pk in calls.breached]
    assert due_order == sorted(due_order)


def test_max_batches_bounds_one_run_and_the_next_run_goes_on(make, calls):
    register_handler("test.reply", on_breach=calls.on_breach)
    for day in range(5):
        make(at(SHANGHAI, 2026, 3, 2 + day, 9))
    now = at(SHANGHAI, 2026, 3, 9, 17)
    assert deadline_sweep(now=now, batch_size=2, max_batches=1).breached == 2
    assert deadline_sweep(now=now, batch_size=2, max_batches=1).breached == 2
    assert deadline_sweep(now=now, batch_size=2, max_batches=1).breached == 1
    assert len(set(calls.breached)) == 5


def test_a_paused_deadline_is_neither_warned_nor_breached(make, calls, time_machine):
    register_handler("test.reply", on_breach=calls.on_breach, on_warning=calls.on_warning)
    deadline = make()
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 10), tick=False)
    deadline_pause(deadline=deadline)
    result = deadline_sweep(now=at(SHANGHAI, 2026, 3, 12, 17))
    assert (result.breached, result.warned) == (0, 0)
    assert calls.breached == calls.warned == []


def test_the_sweep_costs_a_fixed_number_of_queries_per_deadline(
    make, calls, django_assert_num_queries
):
    register_handler("test.reply", on_breach=calls.on_breach)
    for day in range(10):
        make(at(SHANGHAI, 2026, 3, 2, 9) + dt.timedelta(hours=day))
    # Per batch: its savepoint (here, inside the test's transaction), SELECT … FOR UPDATE, the
    # claiming UPDATE in a savepoint, one savepoint around all events and handlers, the
    # release; per deadline one event INSERT. The warning pass finds nothing: savepoint, SELECT,
    # release.
    with django_assert_num_queries(8 + 10 + 3):
        assert deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 17)).breached == 10


def test_an_event_rolls_back_with_the_sweep_transaction(make, calls):
    register_handler("test.reply", on_breach=calls.on_breach)
    deadline = make()
    with pytest.raises(RuntimeError), transaction.atomic():
        deadline_sweep(now=at(SHANGHAI, 2026, 3, 9, 17))
        assert count("deadline.breached") == 1
        raise RuntimeError("rolled back")
    assert states(deadline) == [State.OPEN]
    assert count("deadline.breached") == 0


def test_the_sweep_queries_use_the_partial_indexes(db):
    now = at(SHANGHAI, 2026, 3, 9, 17)
    with transaction.atomic(), connection.cursor() as cursor:
        for queryset, index in (
            (_due_for_breach(now), "deadline_due_open_idx"),
            (_due_for_warning(now), "deadline_warn_open_idx"),
        ):
            sql, params = queryset[:500].query.sql_with_params()
            if connection.vendor == "postgresql":
                # A tiny test table is cheaper to scan; forbid that to see the index match.
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("EXPLAIN " + sql, params)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert index in plan, plan


def test_the_task_is_registered_and_scheduled():
    assert "sla.sweep" in celery_app.tasks
    entry = settings.CELERY_BEAT_SCHEDULE["sla-sweep"]
    assert entry["task"] == "sla.sweep"
    assert entry["schedule"] <= dt.timedelta(seconds=60)
    assert sweep.soft_time_limit < sweep.time_limit


def test_a_batch_that_changed_under_its_lock_is_claimed_row_by_row(make, calls):
    # Cannot happen under PostgreSQL's row locks or SQLite's write lock; if it ever did, only the
    # rows the sweep itself changed may be handled. Simulate it: one row of the batch was already
    # breached (by "someone else") after the SELECT.
    register_handler("test.reply", on_breach=calls.on_breach)
    mine, theirs = make(), make(at(SHANGHAI, 2026, 3, 6, 9))
    now = at(SHANGHAI, 2026, 3, 9, 17)
    earlier = at(SHANGHAI, 2026, 3, 9, 16)
    Deadline.objects.filter(pk=theirs.pk).update(state=State.BREACHED, breached_at=earlier)
    result = SweepResult()
    with transaction.atomic():
        _breach_batch([theirs, mine], now, result, set())
    assert (result.breached, calls.breached) == (1, [mine.pk])
    theirs.refresh_from_db()
    assert theirs.breached_at == earlier  # untouched
    assert count("deadline.breached") == 1
