"""Reception under contention on PostgreSQL: 32 kiosks issuing at once, 32 counters calling at once.

Every thread takes its own database connection *before* the race starts and the race begins only
when all of them hold one, so the 32 transactions really overlap (a connection pool smaller than
the thread count would quietly run them ten at a time; `wide_pool` widens it for these tests).
"""

import datetime as dt
import threading
import zoneinfo
from collections import Counter as Tally

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from bankservice.branches.models import Role
from bankservice.events.models import Event
from reception.models import (
    AT_COUNTER_STATES,
    Counter,
    DailySequence,
    ServiceType,
    Ticket,
    TicketStatus,
    VisitSource,
)
from reception.services import (
    InvalidTransition,
    counter_sign_in,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_start,
)
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.reception.factories import CounterFactory, ServiceTypeFactory

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Wednesday, 10:00 in Shanghai: branch A (Mon–Fri 09:00–17:00) is open.
OPEN_AT = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
THREADS = 32
QUEUE = 200

User = get_user_model()


@pytest.fixture
def wide_pool():
    """Room for THREADS simultaneous connections plus the test's own.

    With DATABASE_URL set, settings turn Django's pool on with max_size DATABASE_POOL_MAX (10 by
    default, timeout 10 s): 32 threads would then run at most 10 transactions at a time and the
    rest would queue for a connection, so the test would not test 32-way contention. Rebuild the
    pool for the test with max_size THREADS + 4 and restore it afterwards. Without a pool (or
    with CONN_MAX_AGE) every thread opens its own connection anyway. PostgreSQL itself must have
    that many connection slots free (max_connections is 100 here).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int - count(*) FROM pg_stat_activity"
        )
        free_slots = cursor.fetchone()[0]
    needed = THREADS + 4
    if free_slots < needed:
        pytest.skip(f"PostgreSQL has {free_slots} free connection slots; the test needs {needed}")
    options = connection.settings_dict["OPTIONS"]
    original = options.get("pool")
    if not original:
        yield
        return
    current = {} if original is True else dict(original)
    if current.get("max_size", 10) >= needed:
        yield
        return
    # Return this thread's connection before closing the pool it came from.
    connection.close()
    connection.close_pool()
    options["pool"] = {**current, "max_size": needed}
    try:
        yield
    finally:
        connection.close()
        connection.close_pool()
        options["pool"] = original


def all_at_once(calls):
    """run_together, but each thread first takes a connection (and notes its server process id)
    and no call starts before every thread holds one. Returns (backend pid, result) per call, or
    the exception a thread raised."""
    holding = threading.Barrier(len(calls), timeout=30)

    def wrap(call):
        def run():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            holding.wait()
            return pid, call()

        return run

    return run_together(*(wrap(call) for call in calls), timeout=120)


def failures(results):
    return [r for r in results if isinstance(r, BaseException)]


def test_32_concurrent_issuers_get_consecutive_numbers(branch_a, make_staff, wide_pool):
    # Two services sharing prefix A share one number series.
    cash = ServiceTypeFactory(branch=branch_a, code="cash", prefix="A")
    deposits = ServiceTypeFactory(branch=branch_a, code="deposits", prefix="A")
    greeter = make_staff(Role.GREETER, branch=branch_a, username="greeter-a")

    def issuer(service_pk):
        def issue():
            # Each thread its own objects: the user caches its branch scope on itself.
            return ticket_issue(
                actor=User.objects.get(pk=greeter.pk),
                service_type=ServiceType.objects.select_related("branch").get(pk=service_pk),
                source=VisitSource.KIOSK,
                now=OPEN_AT,
            )

        return issue

    issued = []
    # Round 1 races on today's first number (nobody has created the sequence row yet); round 2
    # on the row that now exists.
    for round_ in range(2):
        calls = [issuer(cash.pk if i % 2 else deposits.pk) for i in range(THREADS)]
        results = all_at_once(calls)
        assert not failures(results), failures(results)
        assert len({pid for pid, _ticket in results}) == THREADS  # 32 sessions at once
        numbers = sorted(ticket.number for _pid, ticket in results)
        first = round_ * THREADS + 1
        assert numbers == [f"A{n:03d}" for n in range(first, first + THREADS)]
        issued += [ticket.pk for _pid, ticket in results]

    total = 2 * THREADS
    tickets = Ticket.objects.filter(branch=branch_a)
    assert tickets.count() == total
    assert sorted(tickets.values_list("sequence", flat=True)) == list(range(1, total + 1))
    assert DailySequence.objects.get(branch=branch_a, prefix="A").last_number == total
    issued_events = Event.objects.filter(type="reception.ticket_issued")
    assert sorted(int(pk) for pk in issued_events.values_list("subject_id", flat=True)) == sorted(
        issued
    )


@pytest.fixture
def make_counters(branch_a, make_staff, settings):
    """make_counters(n) -> (cash service, [(counter pk, teller pk)]): n counters serving cash,
    each with its own teller signed in."""
    # The tellers never log in: skip PBKDF2 (about 0.3 s per user here).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cash = ServiceTypeFactory(branch=branch_a, code="cash", prefix="A")

    def make(n):
        pairs = []
        for number in range(1, n + 1):
            counter = CounterFactory(branch=branch_a, number=number, services=[cash])
            teller = make_staff(Role.TELLER, branch=branch_a, username=f"teller-{number}")
            counter_sign_in(actor=teller, counter=counter)
            pairs.append((counter.pk, teller.pk))
        return cash, pairs

    return make


def fill_queue(service, n):
    """n tickets, one second apart from OPEN_AT: queue order is issue order."""
    return [
        ticket_issue(
            actor=None,
            service_type=service,
            source=VisitSource.GREETER,
            now=OPEN_AT + dt.timedelta(seconds=i),
        ).pk
        for i in range(n)
    ]


def test_32_counters_call_every_ticket_exactly_once(make_counters, wide_pool):
    cash, pairs = make_counters(THREADS)
    queue = fill_queue(cash, QUEUE)
    call_at = OPEN_AT + dt.timedelta(minutes=5)

    def teller_at_counter(counter_pk, teller_pk):
        def work():
            actor = User.objects.get(pk=teller_pk)
            counter = Counter.objects.get(pk=counter_pk)
            served, held_more, empty_handed = [], [], 0
            # Bounded: a counter that finds every remaining ticket locked by other counters (SKIP
            # LOCKED) comes back; it stops when nothing is waiting any more.
            for _attempt in range(4 * QUEUE):
                ticket = ticket_call_next(actor=actor, counter=counter, now=call_at)
                if ticket is None:
                    if not Ticket.objects.filter(status=TicketStatus.WAITING).exists():
                        break
                    empty_handed += 1
                    continue
                at_counter = list(
                    Ticket.objects.filter(
                        counter_id=counter_pk, status__in=AT_COUNTER_STATES
                    ).values_list("pk", flat=True)
                )
                if at_counter != [ticket.pk]:
                    held_more.append(at_counter)
                ticket_start(actor=actor, ticket=ticket, now=call_at)
                ticket_complete(actor=actor, ticket=ticket, outcome="done", now=call_at)
                served.append(ticket.pk)
            return served, held_more, empty_handed

        return work

    results = all_at_once([teller_at_counter(c, t) for c, t in pairs])
    assert not failures(results), failures(results)
    assert len({pid for pid, _r in results}) == THREADS

    served = [pk for _pid, (mine, _held, _empty) in results for pk in mine]
    assert len(served) == QUEUE and set(served) == set(queue)  # each ticket exactly once
    assert all(not held for _pid, (_mine, held, _empty) in results)  # one ticket per counter
    assert not Ticket.objects.filter(status=TicketStatus.WAITING).exists()  # nobody left behind
    assert Ticket.objects.filter(status=TicketStatus.COMPLETED).count() == QUEUE

    called = Event.objects.filter(type="reception.ticket_called").order_by("id")
    per_ticket = Tally(int(pk) for pk in called.values_list("subject_id", flat=True))
    assert set(per_ticket) == set(queue) and set(per_ticket.values()) == {1}

    # The event log shows every counter busy with one ticket at a time: called, serving,
    # completed, called … never two calls without a completion in between.
    steps = {}
    for type_, payload in (
        Event.objects.filter(
            type__in=[
                "reception.ticket_called",
                "reception.ticket_serving",
                "reception.ticket_completed",
            ]
        )
        .order_by("id")
        .values_list("type", "payload")
    ):
        steps.setdefault(payload["counter"], []).append(type_.removeprefix("reception.ticket_"))
    for counter_number, sequence in steps.items():
        expected = ["called", "serving", "completed"] * (len(sequence) // 3)
        assert sequence == expected, counter_number

    # No ticket is skipped: tickets are claimed in queue order, except that a counter passes over
    # the (at most THREADS - 1) candidates other counters hold locked at that moment. So no ticket
    # is called after more than THREADS - 1 tickets that queued behind it.
    position = {pk: i for i, pk in enumerate(queue)}
    claim_order = [position[int(pk)] for pk in called.values_list("subject_id", flat=True)]
    for rank, queued_at in enumerate(claim_order):
        overtaken_by = sum(1 for later in claim_order[:rank] if later > queued_at)
        assert overtaken_by < THREADS, (queued_at, overtaken_by)


def test_32_counters_race_for_one_ticket(make_counters, wide_pool):
    cash, pairs = make_counters(THREADS)
    (only,) = fill_queue(cash, 1)

    def call(counter_pk, teller_pk):
        return lambda: ticket_call_next(
            actor=User.objects.get(pk=teller_pk),
            counter=Counter.objects.get(pk=counter_pk),
            now=OPEN_AT + dt.timedelta(minutes=1),
        )

    results = all_at_once([call(c, t) for c, t in pairs])
    assert not failures(results), failures(results)
    winners = [ticket for _pid, ticket in results if ticket is not None]
    assert [t.pk for t in winners] == [only]
    assert Event.objects.filter(type="reception.ticket_called").count() == 1


def test_one_counter_calling_twice_at_once_holds_one_ticket(make_counters):
    cash, pairs = make_counters(1)
    fill_queue(cash, 5)
    counter_pk, teller_pk = pairs[0]

    def call():
        return ticket_call_next(
            actor=User.objects.get(pk=teller_pk),
            counter=Counter.objects.get(pk=counter_pk),
            now=OPEN_AT + dt.timedelta(minutes=1),
        )

    # A double click, or the console open in two tabs: the counter's row lock serialises the
    # calls, and the second finds the first one's ticket still at the counter.
    results = run_together(call, call)
    tickets = [r for r in results if isinstance(r, Ticket)]
    refused = [r for r in results if isinstance(r, InvalidTransition)]
    assert len(tickets) == 1 and len(refused) == 1, results
    assert refused[0].current == TicketStatus.CALLED
    assert list(
        Ticket.objects.filter(counter_id=counter_pk, status__in=AT_COUNTER_STATES).values_list(
            "pk", flat=True
        )
    ) == [tickets[0].pk]
