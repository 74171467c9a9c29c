"""The care generator: follows the event log, schedules a callback for every event an active
follow-up rule reacts to and sends a survey for every event an active survey rule samples (run
by Celery beat every minute, care/tasks.py).

Which events: a completed ticket (`reception.ticket_completed`, matched on the service type's
code), an executed service request (`transactions.request_executed`, on the request type's
code), a decided complaint (`complaints.complaint_decided`, on its category's code, read through
complaints.selectors); for callbacks also a survey answered with a low score
(`care.survey_answered`, trigger survey_low_score, on the survey's service code: the
service-recovery callback); for surveys also a closed consultation (`consultation.closed`, on
its topics' codes). Only events with a customer and a branch: callbacks and surveys need both.
The consultation's "follow-up needed" comes through its hand-off instead (care/handoffs.py).

A survey rule surveys the event's customer when `sampled()` (a hash of the rule and the event,
so a rerun decides the same) and survey_send's guards allow (care/surveys.py). The survey is
about the member of staff who acted (the event's user), the service's code, the event's subject
("reception.ticket:12") and the visit when known (a consultation's payload, a ticket's through
reception.selectors, read in bulk per batch).

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
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction

from bankservice.branches.models import Branch
from bankservice.core.errors import BadInput, Conflict, DomainError
from bankservice.customers.models import Customer
from bankservice.events.models import Event
from bankservice.events.stream import events_after, stream_position
from bankservice.notify.quiet import quiet_until, window_for_branch
from bankservice.sla.clock import BusinessClock, NoWorkingTime
from complaints.selectors import complaint_category_codes
from reception.selectors import ticket_visit_ids

from .models import CareCursor, DelayUnit, FollowUpRule, SurveyRule, Trigger
from .services import callable_from, callback_create
from .surveys import sampled, survey_send

logger = logging.getLogger(__name__)

CURSOR = "callbacks"
# Event type -> the trigger it fires, and the payload key holding the code rules match on.
TRIGGERS = {
    "reception.ticket_completed": (Trigger.SERVICE_COMPLETED, "service"),
    "transactions.request_executed": (Trigger.REQUEST_EXECUTED, "request_type"),
    "complaints.complaint_decided": (Trigger.COMPLAINT_DECIDED, None),
    # Only when the answer's payload says low_score (the contract with survey_answer).
    "care.survey_answered": (Trigger.SURVEY_LOW_SCORE, "service"),
}
# The same for survey rules; a consultation's codes are its topics (a list).
SURVEY_TRIGGERS = {
    "reception.ticket_completed": (Trigger.SERVICE_COMPLETED, "service"),
    "transactions.request_executed": (Trigger.REQUEST_EXECUTED, "request_type"),
    "complaints.complaint_decided": (Trigger.COMPLAINT_DECIDED, None),
    "consultation.closed": (Trigger.CONSULTATION_CLOSED, "topics"),
}
COMPLAINT_DECIDED = "complaints.complaint_decided"
TICKET_COMPLETED = "reception.ticket_completed"
LOW_SCORE = "care.survey_answered"
CONSULTATION_CLOSED = "consultation.closed"
# One run stops starting batches after this long (or this many), well inside the task's soft
# time limit (care/tasks.py); beat's next run goes on from the cursor.
BUDGET_SECONDS = 30
MAX_BATCHES = 50
# A callback the generator may not schedule (another app's data turned out unusable) is logged
# and skipped: one bad event must not hold the stream up for every customer after it.
SKIPPED_ERRORS = (BadInput, Conflict, PermissionDenied, NoWorkingTime)
# survey_send may also meet the notification layer's refusals (all DomainErrors).
SURVEY_SKIPPED_ERRORS = (DomainError, PermissionDenied)
REPORT_COUNTS = (
    "events",
    "matched",
    "created",
    "refused",
    "failed",
    "surveys_sent",
    "surveys_refused",
)
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
    failed: int = 0  # callbacks and surveys the generator could not make (logged)
    surveys_sent: int = 0
    surveys_refused: int = 0  # sampled, but a guard said no (opt-out, recent survey, no channel)
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


def rules_for(rules: list, code) -> list:
    """Those of the rules (follow-up or survey) that act on an event with this code, or with one
    of these codes (a consultation's topics); a rule without a match code acts on every one."""
    codes = code if isinstance(code, list | tuple) else (code,)
    return [rule for rule in rules if not rule.match_code or rule.match_code in codes]


def _by_trigger(rules) -> dict[str, list]:
    by_trigger: dict[str, list] = {}
    for rule in sorted(rules, key=lambda rule: (rule.match_code == "", rule.code)):
        by_trigger.setdefault(rule.trigger, []).append(rule)
    return by_trigger


def callbacks_generate(
    *, max_batches: int = MAX_BATCHES, budget_seconds: float = BUDGET_SECONDS
) -> GenerationReport:
    """Schedule callbacks and send surveys for the events after the cursor, batch by batch,
    until caught up, at a gap, or after max_batches or budget_seconds (one batch at least).
    Safe to run twice at once and to rerun."""
    report = GenerationReport()
    deadline = time.monotonic() + budget_seconds
    if not CareCursor.objects.filter(name=CURSOR).exists():
        # Made by migration 0003; should the row go, a new one follows from now on (as a new
        # installation does) rather than calling back every customer in the log.
        CareCursor.objects.get_or_create(name=CURSOR, defaults={"last_event_id": stream_position()})
    # Read once per run: a rule changed meanwhile applies from the next run (within a minute).
    rules = _by_trigger(active_rules([trigger for trigger, _key in TRIGGERS.values()]))
    survey_rules = _by_trigger(SurveyRule.objects.filter(is_active=True))
    for _batch in range(max_batches):
        counts = GenerationReport()  # counted once the batch commits
        try:
            with transaction.atomic():
                step = _generate_batch(rules, survey_rules, counts)
        except CursorMoved:
            step = None
        if step is None:
            report.busy = True
            break
        for field in REPORT_COUNTS:
            setattr(report, field, getattr(report, field) + getattr(counts, field))
        if step.waiting_on_gap:
            report.waiting_on_gap = True
        if step.waiting_on_gap or step.caught_up or time.monotonic() >= deadline:
            break
    return report


def _generate_batch(rules: dict, survey_rules: dict, report: GenerationReport):
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
        if (row[1] in TRIGGERS or row[1] in SURVEY_TRIGGERS)
        and row[2] is not None
        and row[3] is not None
    ]
    if wanted and (rules or survey_rules):
        codes = _codes(wanted)
        pairs = _match(wanted, rules, codes)
        survey_pairs = _match_surveys(wanted, survey_rules, codes)
        if pairs or survey_pairs:
            events = (
                Event.objects.select_related("actor_user")
                .filter(pk__in={event_id for _rule, event_id in [*pairs, *survey_pairs]})
                .in_bulk()
            )
            customers = Customer.objects.in_bulk({e.customer_id for e in events.values()})
            branches = Branch.objects.select_related("calendar").in_bulk(
                {e.branch_id for e in events.values()}
            )
            if pairs:
                _create(pairs, events, customers, branches, report)
            if survey_pairs:
                _survey(survey_pairs, codes, events, customers, branches, report)
    # The guard on every database (SQLite ignores row locks): only one worker's UPDATE matches.
    moved = CareCursor.objects.filter(pk=cursor.pk, last_event_id=start).update(
        last_event_id=step.position
    )
    if not moved:
        raise CursorMoved(start)
    report.events += step.position - start
    return step


def _codes(rows: list[tuple]) -> dict[int, object]:
    """The code each event's rules match on, by event id: a payload's code (a consultation's
    list of topics), or a decided complaint's category (read in bulk through its selectors)."""
    complaint_ids = [
        int(subject_id)
        for _id, type_, _c, _b, subject_id, _p in rows
        if type_ == COMPLAINT_DECIDED and subject_id.isdigit()
    ]
    categories = complaint_category_codes(complaint_ids) if complaint_ids else {}
    codes = {}
    for event_id, type_, _customer, _branch, subject_id, payload in rows:
        _trigger, key = TRIGGERS.get(type_) or SURVEY_TRIGGERS[type_]
        if type_ == COMPLAINT_DECIDED:
            codes[event_id] = categories.get(int(subject_id)) if subject_id.isdigit() else None
        else:
            codes[event_id] = (payload or {}).get(key)
    return codes


def _match(rows: list[tuple], rules: dict, codes: dict) -> list[tuple[FollowUpRule, int]]:
    """(rule, event id) for every active follow-up rule each event fires."""
    pairs = []
    for event_id, type_, _customer, _branch, _subject_id, payload in rows:
        if type_ not in TRIGGERS:
            continue
        if type_ == LOW_SCORE and (payload or {}).get("low_score") is not True:
            continue
        trigger, _key = TRIGGERS[type_]
        pairs.extend(
            (rule, event_id) for rule in rules_for(rules.get(trigger, []), codes[event_id])
        )
    return pairs


def _match_surveys(rows: list[tuple], rules: dict, codes: dict) -> list[tuple[SurveyRule, int]]:
    """(survey rule, event id) for every active survey rule that matches and samples an event."""
    pairs = []
    for event_id, type_, _customer, _branch, _subject_id, _payload in rows:
        if type_ not in SURVEY_TRIGGERS:
            continue
        trigger, _key = SURVEY_TRIGGERS[type_]
        pairs.extend(
            (rule, event_id)
            for rule in rules_for(rules.get(trigger, []), codes[event_id])
            if sampled(rule, event_id)
        )
    return pairs


def _create(pairs, events: dict, customers: dict, branches: dict, report: GenerationReport):
    """callback_create for each (rule, event), with the events, customers and branches read in
    bulk by the caller."""
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


def _ticket_visits(events: list[Event]) -> dict[int, int]:
    """The visit of each completed ticket among the events, by ticket id, in one query."""
    ticket_ids = [
        int(e.subject_id) for e in events if e.type == TICKET_COMPLETED and e.subject_id.isdigit()
    ]
    return ticket_visit_ids(ticket_ids) if ticket_ids else {}


def _subject_ref(event: Event) -> str:
    """The event's subject as "<app_label>.<model>:<id>" (content types are cached)."""
    if event.subject_type_id is None or not event.subject_id:
        return ""
    kind = ContentType.objects.get_for_id(event.subject_type_id)
    return f"{kind.app_label}.{kind.model}:{event.subject_id}"


def _survey(
    pairs, codes: dict, events: dict, customers: dict, branches: dict, report: GenerationReport
):
    """survey_send for each sampled (survey rule, event), in event order; what the survey is
    about comes from the event (its user, code, subject, visit)."""
    visits = _ticket_visits([events[event_id] for _rule, event_id in pairs])
    for rule, event_id in sorted(pairs, key=lambda pair: (pair[1], pair[0].code)):
        event = events[event_id]
        code = codes[event_id]
        if isinstance(code, list):  # a consultation's topics: the one the rule is for, or the first
            code = rule.match_code or (code[0] if code else "")
        visit = (event.payload or {}).get("visit") if event.type == CONSULTATION_CLOSED else None
        if event.type == TICKET_COMPLETED and event.subject_id.isdigit():
            visit = visits.get(int(event.subject_id))
        try:
            survey = survey_send(
                rule=rule,
                customer=customers[event.customer_id],
                branch=branches[event.branch_id],
                trigger=rule.trigger,
                source_event=event,
                service_code=code if isinstance(code, str) else "",
                staff=event.actor_user,
                subject_ref=_subject_ref(event),
                visit_id=visit if isinstance(visit, int) else None,
            )
        except SURVEY_SKIPPED_ERRORS:
            logger.exception("care generator: survey %s on event %s failed", rule.code, event_id)
            report.failed += 1
            continue
        if survey is None:
            report.surveys_refused += 1
        else:
            report.surveys_sent += 1
