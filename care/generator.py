"""The callback generator: follows the event log and schedules a callback for every event an
active follow-up rule reacts to (run by Celery beat every minute, care/tasks.py).

Which events: a completed ticket (`reception.ticket_completed`, matched on the service type's
code), an executed service request (`transactions.request_executed`, on the request type's
code), a decided complaint (`complaints.complaint_decided`, on its category's code, read through
complaints.selectors). Only events with a customer and a branch: a callback needs both. The
consultation's "follow-up needed" comes through its hand-off instead (care/handoffs.py).

When: `delay` business days on the branch's calendar, or `delay` hours, after the event; moved
out of the branch's quiet hours. The guards (opt-out, one open callback per reason, the contact
cap) are callback_create's.

Exactly once. The cursor (`CareCursor`) moves over consecutive event ids only, waiting on a gap
(bankservice/events/stream.py). Each batch is one transaction holding the cursor's row lock: the
callbacks it creates and the cursor's new position commit together, so a worker killed
mid-batch leaves neither, and the next run redoes the batch. A second worker skips the locked
cursor (PostgreSQL) or loses the conditional UPDATE (SQLite, which has no row locks) and rolls
back; the unique constraint (rule, source event) is the last word.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from bankservice.branches.models import Branch
from bankservice.core.errors import BadInput, Conflict
from bankservice.customers.models import Customer
from bankservice.events.models import Event
from bankservice.events.stream import events_after, stream_position
from bankservice.notify.quiet import quiet_until, window_for_branch
from bankservice.sla.clock import BusinessClock, NoWorkingTime
from complaints.selectors import complaint_category_codes

from .models import CareCursor, DelayUnit, FollowUpRule, Trigger
from .services import callable_from, callback_create

logger = logging.getLogger(__name__)

CURSOR = "callbacks"
# Event type -> the trigger it fires, and the payload key holding the code rules match on.
TRIGGERS = {
    "reception.ticket_completed": (Trigger.SERVICE_COMPLETED, "service"),
    "transactions.request_executed": (Trigger.REQUEST_EXECUTED, "request_type"),
    "complaints.complaint_decided": (Trigger.COMPLAINT_DECIDED, None),
}
# One run stops starting batches after this long (or this many), well inside the task's soft
# time limit (care/tasks.py); beat's next run goes on from the cursor.
BUDGET_SECONDS = 30
MAX_BATCHES = 50
# A callback the generator may not schedule (another app's data turned out unusable) is logged
# and skipped: one bad event must not hold the stream up for every customer after it.
SKIPPED_ERRORS = (BadInput, Conflict, PermissionDenied, NoWorkingTime)
UNKNOWN = object()


class CursorMoved(RuntimeError):
    """Another worker moved the cursor during our batch (SQLite): our batch is rolled back."""


@dataclasses.dataclass
class GenerationReport:
    """What one run did, for the task's log line, the benchmark and tests."""

    events: int = 0  # events considered (cursor moved over them)
    matched: int = 0  # (rule, event) pairs that asked for a callback
    created: int = 0
    refused: int = 0  # a guard said no (opt-out, open one for the reason, cap, done already)
    failed: int = 0
    busy: bool = False  # another worker held the cursor
    waiting_on_gap: bool = False


def due_at_for(
    rule: FollowUpRule, branch, start: dt.datetime, *, clock=None, quiet=UNKNOWN
) -> dt.datetime:
    """When a rule's callback for an event at `start` falls due: `delay` business days on the
    branch's calendar (or hours), moved out of the branch's quiet hours. A batch passes the
    branch's clock and quiet-hours window it has read already."""
    if rule.delay_unit == DelayUnit.BUSINESS_DAYS:
        clock = clock or BusinessClock.for_branch(branch)
        due = clock.add_business_days(start, rule.delay)
    else:
        due = start + dt.timedelta(hours=rule.delay)
    if quiet is UNKNOWN:
        return callable_from(branch, due)
    return quiet_until(due, quiet, branch.zone) or due


def active_rules(triggers: list[str]) -> list[FollowUpRule]:
    """The active rules of these triggers, the most specific (with a match code) first."""
    rules = FollowUpRule.objects.filter(trigger__in=triggers, is_active=True)
    return sorted(rules, key=lambda rule: (rule.match_code == "", rule.code))


def rules_for(rules: list[FollowUpRule], code: str | None) -> list[FollowUpRule]:
    """Those of the rules that act on an event with this code (no match code: on every one)."""
    return [rule for rule in rules if not rule.match_code or rule.match_code == code]


def callbacks_generate(
    *, max_batches: int = MAX_BATCHES, budget_seconds: float = BUDGET_SECONDS
) -> GenerationReport:
    """Schedule callbacks for the events after the cursor, batch by batch, until caught up, at
    a gap, or after max_batches or budget_seconds (one batch at least). Safe to run twice at
    once and to rerun."""
    report = GenerationReport()
    deadline = time.monotonic() + budget_seconds
    if not CareCursor.objects.filter(name=CURSOR).exists():
        # Made by migration 0003; should the row go, a new one follows from now on (as a new
        # installation does) rather than calling back every customer in the log.
        CareCursor.objects.get_or_create(name=CURSOR, defaults={"last_event_id": stream_position()})
    # Read once per run: a rule changed meanwhile applies from the next run (within a minute).
    rules: dict[str, list[FollowUpRule]] = {}
    for rule in active_rules([trigger for trigger, _key in TRIGGERS.values()]):
        rules.setdefault(rule.trigger, []).append(rule)
    for _batch in range(max_batches):
        counts = GenerationReport()  # counted once the batch commits
        try:
            with transaction.atomic():
                step = _generate_batch(rules, counts)
        except CursorMoved:
            step = None
        if step is None:
            report.busy = True
            break
        for field in ("events", "matched", "created", "refused", "failed"):
            setattr(report, field, getattr(report, field) + getattr(counts, field))
        if step.waiting_on_gap:
            report.waiting_on_gap = True
        if step.waiting_on_gap or step.caught_up or time.monotonic() >= deadline:
            break
    return report


def _generate_batch(rules: dict, report: GenerationReport):
    """One batch in the caller's transaction: None when another worker holds the cursor."""
    cursor = CareCursor.objects.select_for_update(skip_locked=True).filter(name=CURSOR).first()
    if cursor is None:
        return None
    start = cursor.last_event_id
    step = events_after(
        start,
        fields=("type", "customer_id", "branch_id", "subject_id", "payload"),
        batch=settings.CARE_EVENT_BATCH,
        grace=dt.timedelta(seconds=settings.CARE_EVENT_GAP_GRACE_SECONDS),
        reader="care generator",
    )
    if step.position == start:
        return step
    # Nothing reacts when no rule is active: the cursor still moves, so a rule enabled later
    # acts on events from then on, not on a backlog.
    wanted = [
        row
        for row in step.rows
        if rules and row[1] in TRIGGERS and row[2] is not None and row[3] is not None
    ]
    pairs = _match(wanted, rules)
    if pairs:
        _create(pairs, report)
    # The guard on every database (SQLite ignores row locks): only one worker's UPDATE matches.
    moved = CareCursor.objects.filter(pk=cursor.pk, last_event_id=start).update(
        last_event_id=step.position
    )
    if not moved:
        raise CursorMoved(start)
    report.events += step.position - start
    return step


def _match(rows: list[tuple], rules: dict) -> list[tuple[FollowUpRule, int]]:
    """(rule, event id) for every active rule each event fires."""
    complaint_ids = [
        int(subject_id)
        for _id, type_, _c, _b, subject_id, _p in rows
        if type_ == "complaints.complaint_decided" and subject_id.isdigit()
    ]
    categories = complaint_category_codes(complaint_ids) if complaint_ids else {}
    pairs = []
    for event_id, type_, _customer, _branch, subject_id, payload in rows:
        trigger, key = TRIGGERS[type_]
        if key is not None:
            code = (payload or {}).get(key)
        else:
            code = categories.get(int(subject_id)) if subject_id.isdigit() else None
        pairs.extend((rule, event_id) for rule in rules_for(rules.get(trigger, []), code))
    return pairs


def _create(pairs: list[tuple[FollowUpRule, int]], report: GenerationReport) -> None:
    """callback_create for each (rule, event), reading events, customers and branches in bulk."""
    events = Event.objects.in_bulk({event_id for _rule, event_id in pairs})
    customers = Customer.objects.in_bulk({e.customer_id for e in events.values()})
    branches = Branch.objects.select_related("calendar").in_bulk(
        {e.branch_id for e in events.values()}
    )
    clocks: dict[int, BusinessClock] = {}
    windows: dict[int, object] = {}
    for rule, event_id in pairs:
        report.matched += 1
        event = events[event_id]
        branch = branches[event.branch_id]
        if branch.pk not in clocks:
            clocks[branch.pk] = BusinessClock.for_branch(branch)
            windows[branch.pk] = window_for_branch(branch)
        try:
            callback = callback_create(
                actor=None,
                customer=customers[event.customer_id],
                branch=branch,
                reason_code=rule.reason_code,
                due_at=due_at_for(
                    rule,
                    branch,
                    event.occurred_at,
                    clock=clocks[branch.pk],
                    quiet=windows[branch.pk],
                ),
                role=rule.role,
                priority=rule.priority,
                script=rule.script,
                rule=rule,
                source_event=event,
            )
        except SKIPPED_ERRORS:
            logger.exception("care generator: rule %s on event %s failed", rule.code, event_id)
            report.failed += 1
            continue
        if callback is None:
            report.refused += 1
        else:
            report.created += 1
