"""Reception's measures for the dashboards (issue 9): tickets, waits, service and counter time.

`measure_rows` gives, per local day and hour, branch, service code and member of staff, what
reception counts (see dashboards/kpis.py MEASURES for what each one means). Ticket measures come
from one SQL query per time zone (`bankservice.core.measures`), counted at the ticket's
`issued_at`, with the service's code and the member of staff who called it (`served_by`).

How a ticket counts:

- tickets_issued: every ticket except a transfer's continuation (a ticket with
  `transferred_from`): a visit moving on to another service is one customer, counted once.
- tickets_called: tickets called at least once (`called_at` set), continuations included:
  each queue the customer waited in is one wait, so a transferred visit has two waits.
- wait_seconds / wait_histogram: from the *anchor* to the *first* call, over the tickets called.
  The anchor is `issued_at`, or the appointment's start when the ticket is an on-time appointment
  check-in and the appointment starts later (a customer who checks in early is not kept
  waiting before their time). `priority_at` is not a time anybody waited from: it is the queue
  order, arrival moved ahead by the priority weights. `arrived_at` is not used either: for a
  transfer's continuation it is the start of the visit, and the first queue's wait already
  counts on the first ticket; the continuation waits from its own issue (the transfer). A
  recall overwrites `called_at`, so for a recalled ticket the first call is read from its first
  `reception.ticket_called` event. A call before the appointment's start waited 0 s.
- within_target: called with a wait no longer than the service type's `target_wait_minutes`.
- abandoned: closed unserved (`unserved`) without ever being called; this includes a transfer's
  continuation that nobody called (the customer left after the transfer). A visit counts at
  most once: only its last ticket can end that way.
- no_show: status `no_show`. served: status `completed` (a transferred ticket is not: the visit
  is served when its continuation completes, so a visit is served at most once).
- service_seconds / service_histogram: the completed tickets' `serving_started_at` to
  `finished_at`. A completed ticket without `serving_started_at` (only imported or hand-made
  records: the services always set it) counts from its call instead, so `served` and
  `service_seconds` stay over the same tickets. A transferred ticket's own time at the first
  counter is not service time (it was not completed); it is counter busy time.

Counter time (computed in Python from the counter events and merged into the same rows; service
"" and staff the member of staff who opened the counter):

- counter_open_seconds: time a counter was open, from `reception.counter_opened` or
  `counter_resumed` to `counter_paused` or `counter_closed` (a paused counter is not open: its
  staff are away). A counter still open at the end of the range counts up to the end of the range
  or now, whichever is first. The state at the start of the range is the counter's last event in
  the OPEN_LOOKBACK before it (a counter with no event for longer counts as closed).
- counter_busy_seconds: the tickets' first call to `finished_at` at their counter (up to now, or
  the end of the range, for the ticket at the counter now), clipped to the counter's open time,
  so utilisation (busy / open) never exceeds 1: serving on during a pause is not counted.

Both are split by the branch's local hour: an hour's row holds the seconds within that hour, so
the hourly utilisation is exact (not the whole service counted at the hour of its call).
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone

from bankservice.branches.models import Branch
from bankservice.core.measures import DIMENSIONS, Fact, Seconds
from bankservice.core.measures import measure_rows as fact_rows
from bankservice.events.models import Event

from .models import AT_COUNTER_STATES, Counter, Ticket, TicketStatus

COUNTER_STATES = {
    "reception.counter_opened": "open",
    "reception.counter_resumed": "open",
    "reception.counter_paused": "paused",
    "reception.counter_closed": "closed",
}
# How far before the range a counter's last event is looked for (its state at the start).
OPEN_LOOKBACK = dt.timedelta(days=7)


def _first_call(using: str):
    """The first call of a ticket: `called_at`, or for a recalled ticket its first call event."""
    ticket_type = ContentType.objects.db_manager(using).get_for_model(Ticket)
    first_event = (
        Event.objects.filter(
            type="reception.ticket_called",
            subject_type_id=ticket_type.pk,
            subject_id=Cast(OuterRef("pk"), CharField()),
        )
        .order_by("occurred_at", "id")
        .values("occurred_at")[:1]
    )
    return Case(
        When(recall_count=0, then=F("called_at")),
        default=Coalesce(Subquery(first_event), F("called_at")),
    )


def _tickets(using: str):
    """Tickets with `first_call`, `anchor` (when the wait starts) and `wait` (seconds)."""
    return Ticket.objects.alias(
        first_call=_first_call(using),
        anchor=Case(
            When(
                is_appointment=True,
                appointment__starts_at__gt=F("issued_at"),
                then=F("appointment__starts_at"),
            ),
            default=F("issued_at"),
        ),
        wait=Greatest(Seconds("first_call", "anchor"), Value(0.0)),
        service_time=Seconds("finished_at", Coalesce("serving_started_at", "called_at")),
    )


def _fact(using: str, start: dt.date, end: dt.date) -> Fact:
    called = Q(called_at__isnull=False)
    completed = Q(status=TicketStatus.COMPLETED)
    timed = Q(finished_at__isnull=False) & (
        Q(serving_started_at__isnull=False) | Q(called_at__isnull=False)
    )
    return Fact(
        # The business date is the local day: the same rows as the kernel's issued_at
        # range, found through the (branch, business date) index.
        queryset=_tickets(using).filter(business_date__range=(start, end)),
        at="issued_at",
        service="service_type__code",
        staff="served_by_id",
        sums={
            "tickets_issued": Count("pk", filter=Q(transferred_from__isnull=True)),
            "tickets_called": Count("pk", filter=called),
            "wait_seconds": Sum("wait", filter=called),
            "within_target": Count(
                "pk",
                filter=called & Q(wait__lte=F("service_type__target_wait_minutes") * 60),
            ),
            "abandoned": Count(
                "pk", filter=Q(status=TicketStatus.UNSERVED, called_at__isnull=True)
            ),
            "no_show": Count("pk", filter=Q(status=TicketStatus.NO_SHOW)),
            "served": Count("pk", filter=completed),
            "service_seconds": Sum("service_time", filter=completed),
        },
        histograms={
            "wait_histogram": (F("wait"), called),
            "service_histogram": (F("service_time"), completed & timed),
        },
    )


def measure_rows(
    *,
    start: dt.date,
    end: dt.date,
    branch_ids: Iterable[int] | None = None,
    by: Iterable[str] = DIMENSIONS,
    using: str = "default",
) -> list[dict]:
    """Reception's measures from `start` to `end` (local days, both included), grouped by `by`."""
    by = tuple(name for name in DIMENSIONS if name in set(by))
    if branch_ids is not None:
        branch_ids = list(branch_ids)
    rows = fact_rows(
        [_fact(using, start, end)], start=start, end=end, branch_ids=branch_ids, by=by, using=using
    )
    merged = {tuple(row[name] for name in by): row for row in rows}
    for key, measures in _counter_time(start, end, branch_ids, by, using).items():
        row = merged.setdefault(key, dict(zip(by, key, strict=True)))
        for name, seconds in measures.items():
            if seconds:
                row[name] = row.get(name, 0) + seconds
    return list(merged.values())


# --- Counter time ------------------------------------------------------------------------------


def _hours(since: dt.datetime, until: dt.datetime, zone: zoneinfo.ZoneInfo):
    """(local day, local hour, seconds) of the stretch since → until, split at local hours."""
    cursor = since
    while cursor < until:
        local = cursor.astimezone(zone)
        hour_start = local.replace(minute=0, second=0, microsecond=0)
        boundary = hour_start.astimezone(dt.UTC) + dt.timedelta(hours=1)
        stop = min(boundary, until)
        yield local.date(), local.hour, (stop - cursor).total_seconds()
        cursor = stop


def _open_stretches(events, since, stop) -> dict[int, list[tuple]]:
    """counter id -> [(from, to, staff id)] while open, from the counter events in time order
    (each counter's last one before `since` first)."""
    stretches: dict[int, list[tuple]] = {}
    state: dict[int, tuple] = {}  # counter -> (state, staff, since when)
    for counter_id, type_, actor_id, at in events:
        counter_id = int(counter_id)
        new_state = COUNTER_STATES[type_]
        old_state, staff, opened = state.get(counter_id, ("closed", None, since))
        at = max(at, since)
        if old_state == "open" and at > opened:
            stretches.setdefault(counter_id, []).append((opened, at, staff))
        if type_ == "reception.counter_opened" or staff is None:
            staff = actor_id
        if new_state == "closed":
            staff = None
        state[counter_id] = (new_state, staff, at)
    for counter_id, (current, staff, opened) in state.items():
        if current == "open" and stop > opened:
            stretches.setdefault(counter_id, []).append((opened, stop, staff))
    return stretches


def _counter_time(start, end, branch_ids, by, using) -> dict[tuple, dict]:
    table: dict[tuple, dict] = {}
    now = timezone.now()
    branches = Branch.objects.using(using).all()
    if branch_ids is not None:
        branches = branches.filter(id__in=branch_ids)
    counter_type = ContentType.objects.db_manager(using).get_for_model(Counter)
    zones: dict[str, list[int]] = {}
    for branch_id, zone in branches.values_list("id", "time_zone"):
        zones.setdefault(zone, []).append(branch_id)
    for zone_name, ids in zones.items():
        zone = zoneinfo.ZoneInfo(zone_name)
        since = dt.datetime.combine(start, dt.time(), tzinfo=zone)
        stop = min(dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone), now)
        if stop <= since:
            continue
        events = Event.objects.using(using).filter(
            type__in=list(COUNTER_STATES), subject_type_id=counter_type.pk, branch_id__in=ids
        )
        last_before = (
            events.filter(occurred_at__lt=since, occurred_at__gte=since - OPEN_LOOKBACK)
            .values("subject_id")
            .annotate(last=Max("id"))
            .values("last")
        )
        timeline = (
            events.filter(Q(id__in=last_before) | Q(occurred_at__gte=since, occurred_at__lt=stop))
            .order_by("occurred_at", "id")
            .values_list("subject_id", "type", "actor_user_id", "occurred_at")
        )
        stretches = _open_stretches(timeline, since, stop)
        if not stretches:
            continue
        branch_of = dict(
            Counter.objects.using(using).filter(id__in=stretches).values_list("id", "branch_id")
        )
        busy = _busy(stretches, since, stop, using, ids, start - OPEN_LOOKBACK, end)
        for counter_id, open_stretches in stretches.items():
            for name, pieces in (
                ("counter_open_seconds", open_stretches),
                ("counter_busy_seconds", busy.get(counter_id, [])),
            ):
                for begin, finish, staff in pieces:
                    for day, hour, seconds in _hours(begin, finish, zone):
                        values = {
                            "day": day,
                            "hour": hour,
                            "branch": branch_of[counter_id],
                            "service": "",
                            "staff": staff,
                        }
                        key = tuple(values[dimension] for dimension in by)
                        measures = table.setdefault(key, {})
                        measures[name] = measures.get(name, 0) + seconds
    return table


def _busy(stretches, since, stop, using, branch_ids, first_day, last_day) -> dict[int, list]:
    """counter id -> [(from, to, staff)]: its tickets' first call to finish, within its open
    stretches (and their staff). Tickets of the range's business days (and the lookback's: the
    night close leaves a ticket being served open), read by the (branch, business date) index."""
    tickets = (
        Ticket.objects.using(using)
        .alias(first_call=_first_call(using))
        .filter(branch_id__in=branch_ids, business_date__range=(first_day, last_day))
        .filter(counter_id__in=list(stretches), called_at__isnull=False, called_at__lt=stop)
        .filter(
            Q(finished_at__gt=since) | Q(finished_at__isnull=True, status__in=AT_COUNTER_STATES)
        )
        .annotate(first=F("first_call"))
        .values_list("counter_id", "first", "finished_at")
    )
    # A counter's stretches are in time order and do not overlap: a ticket's start from the
    # last stretch opened before its call (a bisection, not a scan of the counter's year).
    opened_at = {
        counter: [opened for opened, _c, _s in pieces] for counter, pieces in stretches.items()
    }
    busy: dict[int, list[tuple]] = {}
    for counter_id, called, finished in tickets:
        finished = finished or stop
        pieces = stretches[counter_id]
        first = max(bisect.bisect_right(opened_at[counter_id], called) - 1, 0)
        for opened, closed, staff in pieces[first:]:
            if opened >= finished:
                break
            begin, finish = max(called, opened), min(finished, closed)
            if finish > begin:
                busy.setdefault(counter_id, []).append((begin, finish, staff))
    return busy
