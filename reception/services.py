"""Writes for reception: issuing, calling, serving and closing tickets; signing in to counters.

Every transition locks what it changes, checks the source state under the lock and records an
event (`reception.*`) in the same transaction, so wait and service times can be computed exactly
from the event log later.
"""

import datetime as dt
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Case, Exists, F, IntegerField, Q, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bankservice.branches.scope import can_act_at
from bankservice.core.errors import BadInput, Conflict, DomainError
from bankservice.events.services import record
from bankservice.sla.clock import BusinessClock

from . import config
from .models import (
    AT_COUNTER_STATES,
    Counter,
    CounterState,
    DailySequence,
    PriorityRule,
    ServiceType,
    Ticket,
    TicketStatus,
    Visit,
    VisitSource,
)
from .next_notice import next_notices_enqueue

SERVE_PERM = "reception.change_ticket"
ISSUE_PERM = "reception.add_ticket"
CONFIGURE_PERM = "reception.change_servicetype"


class BranchClosed(DomainError):
    """Tickets are issued only while the branch is open (from a little before opening)."""


class InvalidTransition(Conflict):
    """The ticket or counter is not in a state that allows this step."""

    def __init__(self, message: str, *, current: str):
        super().__init__(message)
        self.current = current

    def as_dict(self) -> dict:
        return {"detail": self.message, "status": self.current}


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _check(actor, perm: str, branch_id: int) -> None:
    # actor None: a public channel (kiosk, the customer's phone) already checked by its view.
    if actor is not None and not can_act_at(actor, perm, branch_id):
        raise PermissionDenied(_("Your role does not allow this at this branch."))


def _event(type_: str, actor, ticket: Ticket, **payload) -> None:
    record(
        type=f"reception.{type_}",
        actor=actor,
        branch=ticket.branch,
        customer=ticket.visit.customer,
        subject=ticket,
        payload={"number": ticket.number, "service": ticket.service_type.code, **payload},
    )


def branch_is_open(branch, at: dt.datetime) -> bool:
    """Open on a working day within opening hours; the kiosk starts a little before opening."""
    early = dt.timedelta(minutes=settings.RECEPTION_ISSUE_EARLY_MINUTES)
    local = at.astimezone(branch.zone)
    for opens, closes in config.opening_hours(branch, local.date()):
        start = dt.datetime.combine(local.date(), opens, tzinfo=branch.zone) - early
        end = dt.datetime.combine(local.date(), closes, tzinfo=branch.zone)
        if start <= local < end:
            return True
    return False


def priority_rule_for(branch) -> PriorityRule:
    """The branch's rule, or the defaults when it has none (cached: see reception/config.py)."""
    return config.priority_rule(branch.pk)


def _priority(rule: PriorityRule, customer, *, is_appointment: bool, transferred: bool):
    """Minutes a ticket moves ahead in the queue, and why."""
    weights = []
    if is_appointment:
        weights.append(("appointment", rule.appointment_minutes))
    if transferred:
        weights.append(("transferred", rule.transferred_minutes))
    if customer is not None:
        if customer.segment == "priority":
            weights.append(("priority", rule.priority_segment_minutes))
        elif customer.segment == "private":
            weights.append(("private", rule.private_segment_minutes))
        for flag, reason, minutes in (
            (customer.is_elderly, "elderly", rule.elderly_minutes),
            (customer.has_disability, "disability", rule.disability_minutes),
            (customer.is_pregnant, "pregnant", rule.pregnant_minutes),
        ):
            if flag:
                weights.append((reason, minutes))
    weights = [(reason, minutes) for reason, minutes in weights if minutes]
    return sum(m for _r, m in weights), [r for r, _m in weights]


def _next_sequence(branch, business_date: dt.date, prefix: str) -> int:
    """The next number of a prefix today, in one statement (PostgreSQL, and SQLite since 3.35):
    the first issue of the day inserts the row, later ones bump it; concurrent issuers wait on
    the row's lock, and two first issues at once meet on the unique constraint."""
    table = connection.ops.quote_name(DailySequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (branch_id, business_date, prefix, last_number) "  # noqa: S608 - our table name
            "VALUES (%s, %s, %s, 1) ON CONFLICT (branch_id, business_date, prefix) "
            f"DO UPDATE SET last_number = {table}.last_number + 1 RETURNING last_number",
            [branch.pk, business_date, prefix],
        )
        return cursor.fetchone()[0]


def _new_ticket(
    *, visit: Visit, service_type: ServiceType, now, is_appointment=False, transferred_from=None
) -> Ticket:
    branch = service_type.branch
    business_date = timezone.localdate(now, branch.zone)
    sequence = _next_sequence(branch, business_date, service_type.prefix)
    minutes, reasons = _priority(
        priority_rule_for(branch),
        visit.customer,
        is_appointment=is_appointment,
        transferred=transferred_from is not None,
    )
    return Ticket.objects.create(
        visit=visit,
        branch=branch,
        service_type=service_type,
        business_date=business_date,
        prefix=service_type.prefix,
        sequence=sequence,
        number=f"{service_type.prefix}{sequence:03d}",
        arrived_at=visit.arrived_at,
        issued_at=now,
        priority_at=visit.arrived_at - dt.timedelta(minutes=minutes),
        priority_reasons=reasons,
        is_appointment=is_appointment,
        transferred_from=transferred_from,
    )


def ticket_issue(
    *,
    actor,
    service_type: ServiceType,
    source: str,
    customer=None,
    is_appointment: bool = False,
    contact_phone: str = "",
    sms_when_next: bool = False,
    language: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    """Put a customer (or an anonymous walk-in) in the queue for a service.

    sms_when_next: text the customer (else contact_phone, E.164) when nearly next; see
    reception/next_notice.py. language: the page's language, for that SMS to a walk-in.
    """
    now = _now(now)
    branch = service_type.branch
    _check(actor, ISSUE_PERM, branch.pk)
    if source not in VisitSource.values:
        raise BadInput(_("Unknown ticket source."), field="source")
    if sms_when_next and customer is None and not contact_phone:
        raise BadInput(_("Give a phone number for the SMS."), field="contact_phone")
    if not service_type.is_active:
        raise BadInput(_("This service is not offered now."), field="service_type")
    if not branch_is_open(branch, now):
        raise BranchClosed(_("The branch is closed now; tickets are issued during opening hours."))
    if customer is not None and customer.merged_into_id is not None:
        customer = customer.merged_into
    with transaction.atomic():
        visit = Visit.objects.create(
            branch=branch,
            customer=customer,
            source=source,
            arrived_at=now,
            contact_phone=contact_phone,
            sms_when_next=sms_when_next,
            language=language,
        )
        ticket = _new_ticket(
            visit=visit, service_type=service_type, now=now, is_appointment=is_appointment
        )
        _event("ticket_issued", actor, ticket, source=source, priority=ticket.priority_reasons)
        _board_changed(branch.pk)
    return ticket


def _lock_ticket(ticket: Ticket | int, actor=None) -> Ticket:
    # Locked by every transition (and by call-next's SKIP LOCKED claim): one change at a time.
    # By id (the API), the lock is the one read of the ticket, scoped to the actor's branches.
    tickets = Ticket.objects
    if isinstance(ticket, int):
        tickets = Ticket.objects.visible_to(actor, SERVE_PERM)
    try:
        return (
            tickets.select_for_update(of=("self",))
            .select_related("branch", "service_type", "visit__customer", "counter")
            .get(pk=ticket if isinstance(ticket, int) else ticket.pk)
        )
    except Ticket.DoesNotExist:
        raise Http404(_("No such ticket at your branches.")) from None


def _require(ticket: Ticket, *states, action: str) -> None:
    if ticket.status not in states:
        raise InvalidTransition(
            _("Ticket %(number)s is %(status)s: it cannot be %(action)s.")
            % {"number": ticket.number, "status": ticket.get_status_display(), "action": action},
            current=ticket.status,
        )


def _lock_for_step(actor, ticket: Ticket | int, *states, action: str) -> Ticket:
    """Lock the ticket (or the ticket with this id) for a step at its counter: the actor's role,
    the source state, and the actor's own counter, all checked under the lock."""
    locked = _lock_ticket(ticket, actor)
    _check(actor, SERVE_PERM, locked.branch_id)
    _require(locked, *states, action=action)
    _require_counter_of(actor, locked)
    return locked


def _require_counter_of(actor, ticket: Ticket) -> None:
    if actor is not None and ticket.counter is not None and ticket.counter.staff_id != actor.pk:
        raise Conflict(_("This ticket is at another member of staff's counter."))


def _board_changed(branch_id: int) -> None:
    from .selectors import board_bump_version

    transaction.on_commit(lambda: board_bump_version(branch_id))


# --- Counters -------------------------------------------------------------------------------


def _lock_counter(counter: Counter) -> Counter:
    # Locked by sign-in/out, pause and call-next: a counter calls one ticket at a time.
    return Counter.objects.select_for_update().select_related("branch").get(pk=counter.pk)


def counter_sign_in(*, actor, counter: Counter) -> Counter:
    """Sign in to a counter and open it; leaves any other counter the actor was signed in to."""
    _check(actor, SERVE_PERM, counter.branch_id)
    if getattr(actor, "is_api_client", False):
        raise PermissionDenied(_("Serving tickets needs a member of staff signed in to a counter."))
    with transaction.atomic():
        for other in Counter.objects.select_for_update().filter(staff=actor).exclude(pk=counter.pk):
            _close_counter(actor, other)
        locked = _lock_counter(counter)
        if locked.staff_id not in (None, actor.pk):
            raise Conflict(_("Another member of staff is signed in to this counter."))
        locked.staff = actor
        locked.state = CounterState.OPEN
        locked.save(update_fields=["staff", "state"])
        _counter_event("counter_opened", actor, locked)
    return locked


def _close_counter(actor, counter: Counter) -> None:
    if Ticket.objects.filter(counter=counter, status__in=AT_COUNTER_STATES).exists():
        raise Conflict(
            _("Finish or transfer the ticket at %(counter)s first.") % {"counter": counter}
        )
    counter.staff = None
    counter.state = CounterState.CLOSED
    counter.save(update_fields=["staff", "state"])
    _counter_event("counter_closed", actor, counter)


def counter_sign_out(*, actor, counter: Counter) -> Counter:
    """Close the counter; it must not be busy with a ticket."""
    with transaction.atomic():
        locked = _lock_counter(counter)
        _require_staff(actor, locked)
        _close_counter(actor, locked)
    return locked


def counter_pause(*, actor, counter: Counter, paused: bool = True) -> Counter:
    """Pause (no calls) or resume a counter the actor is signed in to."""
    with transaction.atomic():
        locked = _lock_counter(counter)
        _require_staff(actor, locked)
        source = CounterState.OPEN if paused else CounterState.PAUSED
        if locked.state != source:
            raise InvalidTransition(
                _("The counter is %(state)s.") % {"state": locked.get_state_display()},
                current=locked.state,
            )
        locked.state = CounterState.PAUSED if paused else CounterState.OPEN
        locked.save(update_fields=["state"])
        _counter_event("counter_paused" if paused else "counter_resumed", actor, locked)
    return locked


def _require_staff(actor, counter: Counter) -> None:
    if getattr(actor, "is_api_client", False):
        raise PermissionDenied(_("Serving tickets needs a member of staff signed in to a counter."))
    if counter.staff_id != actor.pk:
        raise Conflict(_("You are not signed in to this counter."))


def _counter_event(type_: str, actor, counter: Counter) -> None:
    record(
        type=f"reception.{type_}",
        actor=actor,
        branch=counter.branch,
        subject=counter,
        payload={"counter": counter.number},
    )
    _board_changed(counter.branch_id)


# --- Calling and serving ----------------------------------------------------------------------


def _waiting_for(counter: Counter, now: dt.datetime, rule: PriorityRule):
    """The tickets this counter may call, best first: past the maximum wait, then those set
    aside for this counter, then (with a ratio) the kind the counter's cycle asks for, then the
    counter's preferred services, then queue order (arrival moved ahead by priority weights)."""
    links = config.counter_services(counter.pk)
    if not links:
        return Ticket.objects.none()
    starved_before = now - dt.timedelta(minutes=rule.max_wait_minutes)
    order = ["starved", "reserved", "preference", "priority_at", "id"]
    kind = {}
    wants_priority = _ratio_wants_priority(rule, counter.ratio_step)
    if wants_priority is not None:
        # Any priority weight makes a priority ticket; the other kind is taken when none of
        # this kind waits (a counter never idles while someone waits).
        kind["kind"] = Case(
            When(priority_at__lt=F("arrived_at"), then=0 if wants_priority else 1),
            default=1 if wants_priority else 0,
            output_field=IntegerField(),
        )
        order.insert(2, "kind")
    return (
        Ticket.objects.filter(
            status=TicketStatus.WAITING,
            service_type_id__in=[service for service, _p in links],
        )
        .filter(Q(reserved_counter__isnull=True) | Q(reserved_counter=counter))
        .annotate(
            starved=Case(
                When(arrived_at__lte=starved_before, then=0),
                default=1,
                output_field=IntegerField(),
            ),
            reserved=Case(
                When(reserved_counter=counter, then=0), default=1, output_field=IntegerField()
            ),
            **kind,
            preference=Case(
                *[When(service_type_id=service, then=pref) for service, pref in links],
                output_field=IntegerField(),
            ),
        )
        .order_by(*order)
    )


# --- Ratios between priority and standard tickets ----------------------------------------------
# With a rule of p priority : s standard calls, each counter walks a cycle of p priority slots
# then s standard slots; Counter.ratio_step is its place in it.


def _ratio_wants_priority(rule: PriorityRule, step: int) -> bool | None:
    """Whether the counter's next call should be a priority ticket; None without a ratio."""
    cycle = rule.ratio_priority + rule.ratio_standard
    if not cycle:
        return None
    return step % cycle < rule.ratio_priority


def _ratio_step_after(rule: PriorityRule, step: int, *, called_priority: bool) -> int:
    """The place after a call: just past the next slot of the kind actually called, i.e. the
    slot the step asked for, or, when it took the other kind because none of its kind waited,
    that kind's first slot (its run starts afresh)."""
    cycle = rule.ratio_priority + rule.ratio_standard
    step %= cycle
    if called_priority != (step < rule.ratio_priority):
        step = 0 if called_priority else rule.ratio_priority
    return (step + 1) % cycle


def _lock_counter_to_call(actor, counter: Counter | int) -> Counter:
    """Lock the counter: one of the actor's branches, else 404."""
    try:
        return (
            Counter.objects.visible_to(actor, SERVE_PERM)
            .select_for_update()
            .get(pk=counter if isinstance(counter, int) else counter.pk)
        )
    except Counter.DoesNotExist:
        raise Http404(_("No such counter at your branches.")) from None


def _require_idle(counter: Counter) -> None:
    busy = Ticket.objects.filter(counter=counter, status__in=AT_COUNTER_STATES).first()
    if busy is not None:
        raise InvalidTransition(
            _("Ticket %(number)s is still at this counter: finish it first.")
            % {"number": busy.number},
            current=busy.status,
        )


def ticket_call_next(
    *, actor, counter: Counter | int, now: dt.datetime | None = None
) -> Ticket | None:
    """Call the best waiting ticket to the counter (or the counter with this id); None when
    nobody is waiting.

    Two counters never get the same ticket: the candidate is taken with SKIP LOCKED (PostgreSQL)
    and claimed with a conditional UPDATE on its status (which also guards SQLite).
    """
    now = _now(now)
    with transaction.atomic():
        locked = _lock_counter_to_call(actor, counter)
        _require_staff(actor, locked)
        if locked.state != CounterState.OPEN:
            raise InvalidTransition(
                _("The counter is %(state)s: open it to call tickets.")
                % {"state": locked.get_state_display()},
                current=locked.state,
            )
        rule = config.priority_rule(locked.branch_id)
        # "Is the counter still busy?" rides on the candidate query, a statement that starts
        # after the counter lock is held, so it sees what an earlier call there committed.
        busy = Ticket.objects.filter(counter=locked, status__in=AT_COUNTER_STATES)
        # Only the ticket table: the sort covers every waiting ticket of the counter's services,
        # and joins (visits, customers) there would grow with the history.
        candidates = (
            _waiting_for(locked, now, rule)
            .filter(~Exists(busy))
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        for _attempt in range(settings.RECEPTION_CALL_ATTEMPTS):
            candidate = candidates.first()
            if candidate is None:
                _require_idle(locked)  # busy, or nobody waiting
                return None
            claimed = Ticket.objects.filter(pk=candidate, status=TicketStatus.WAITING).update(
                status=TicketStatus.CALLED,
                counter=locked,
                served_by=actor,
                called_at=now,
                reserved_counter=None,
            )
            if claimed:
                break
        else:
            return None
        ticket = Ticket.objects.select_related("branch", "service_type", "visit__customer").get(
            pk=candidate
        )
        ticket.counter = locked
        if _ratio_wants_priority(rule, locked.ratio_step) is not None:
            locked.ratio_step = _ratio_step_after(
                rule, locked.ratio_step, called_priority=ticket.priority_at < ticket.arrived_at
            )
            locked.save(update_fields=["ratio_step"])
        _event(
            "ticket_called",
            actor,
            ticket,
            counter=locked.number,
            waited_seconds=int((now - ticket.arrived_at).total_seconds()),
        )
        _board_changed(locked.branch_id)
        transaction.on_commit(partial(next_notices_enqueue, ticket.service_type_id), robust=True)
    return ticket


def ticket_recall(*, actor, ticket: Ticket | int, now: dt.datetime | None = None) -> Ticket:
    """Call the ticket again (the customer did not come yet)."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_for_step(actor, ticket, TicketStatus.CALLED, action=_("recalled"))
        if locked.recall_count >= settings.RECEPTION_MAX_RECALLS:
            raise InvalidTransition(
                ngettext(
                    "Ticket %(number)s was recalled %(count)d time: mark it as a no-show.",
                    "Ticket %(number)s was recalled %(count)d times: mark it as a no-show.",
                    locked.recall_count,
                )
                % {"number": locked.number, "count": locked.recall_count},
                current=locked.status,
            )
        locked.recall_count += 1
        locked.called_at = now
        locked.save(update_fields=["recall_count", "called_at"])
        _event("ticket_recalled", actor, locked, recall=locked.recall_count)
        _board_changed(locked.branch_id)
    return locked


def ticket_start(*, actor, ticket: Ticket | int, now: dt.datetime | None = None) -> Ticket:
    """The customer has arrived at the counter: service begins."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_for_step(actor, ticket, TicketStatus.CALLED, action=_("started"))
        locked.status = TicketStatus.SERVING
        locked.serving_started_at = now
        locked.save(update_fields=["status", "serving_started_at"])
        _event("ticket_serving", actor, locked, counter=locked.counter.number)
    return locked


def ticket_complete(
    *, actor, ticket: Ticket | int, outcome: str = "", now: dt.datetime | None = None
) -> Ticket:
    """Service is done; the outcome notes what was done (service marks, references)."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_for_step(actor, ticket, TicketStatus.SERVING, action=_("completed"))
        locked.status = TicketStatus.COMPLETED
        locked.finished_at = now
        locked.outcome = outcome.strip()[:200]
        locked.save(update_fields=["status", "finished_at", "outcome"])
        _event(
            "ticket_completed",
            actor,
            locked,
            counter=locked.counter.number,
            served_seconds=int((now - locked.serving_started_at).total_seconds()),
            outcome=locked.outcome,
        )
        _board_changed(locked.branch_id)
    return locked


def ticket_no_show(*, actor, ticket: Ticket | int, now: dt.datetime | None = None) -> Ticket:
    """The called customer did not come."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_for_step(actor, ticket, TicketStatus.CALLED, action=_("marked as a no-show"))
        locked.status = TicketStatus.NO_SHOW
        locked.finished_at = now
        locked.save(update_fields=["status", "finished_at"])
        _event("ticket_no_show", actor, locked, recalls=locked.recall_count)
        _board_changed(locked.branch_id)
    return locked


def ticket_transfer(
    *,
    actor,
    ticket: Ticket,
    service_type: ServiceType,
    counter: Counter | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Send the visit on to another service (or one counter) without losing its place: the new
    ticket keeps the original arrival time and gets the transferred weight."""
    now = _now(now)
    with transaction.atomic():
        locked = _lock_for_step(
            actor, ticket, TicketStatus.CALLED, TicketStatus.SERVING, action=_("transferred")
        )
        if service_type.branch_id != locked.branch_id or not service_type.is_active:
            raise BadInput(
                _("Transfer to an active service of the same branch."), field="service_type"
            )
        if counter is not None and (
            counter.branch_id != locked.branch_id
            or not counter.service_links.filter(service_type=service_type).exists()
        ):
            raise BadInput(_("That counter does not serve this service."), field="counter")
        locked.status = TicketStatus.TRANSFERRED
        locked.finished_at = now
        locked.save(update_fields=["status", "finished_at"])
        new = _new_ticket(
            visit=locked.visit,
            service_type=service_type,
            now=now,
            is_appointment=locked.is_appointment,
            transferred_from=locked,
        )
        if counter is not None:
            new.reserved_counter = counter
            new.save(update_fields=["reserved_counter"])
        _event(
            "ticket_transferred",
            actor,
            locked,
            to_number=new.number,
            to_service=service_type.code,
            to_counter=counter.number if counter else None,
        )
        _board_changed(locked.branch_id)
    return new


def ticket_park(*, actor, ticket: Ticket | int, now: dt.datetime | None = None) -> Ticket:
    """Set the visit aside (the customer fills in a form); the counter can call the next one."""
    with transaction.atomic():
        locked = _lock_for_step(
            actor, ticket, TicketStatus.CALLED, TicketStatus.SERVING, action=_("parked")
        )
        locked.reserved_counter = locked.counter
        locked.status = TicketStatus.PARKED
        locked.counter = None
        locked.save(update_fields=["status", "counter", "reserved_counter"])
        _event("ticket_parked", actor, locked, counter=locked.reserved_counter.number)
        _board_changed(locked.branch_id)
    return locked


def ticket_unpark(*, actor, ticket: Ticket) -> Ticket:
    """The customer is ready again: back in the queue, ahead, for the counter that parked it."""
    with transaction.atomic():
        locked = _lock_ticket(ticket)
        _check(actor, SERVE_PERM, locked.branch_id)
        _require(locked, TicketStatus.PARKED, action=_("returned to the queue"))
        if actor is not None and locked.reserved_counter.staff_id != actor.pk:
            raise Conflict(_("Only the counter that set this ticket aside can return it."))
        locked.status = TicketStatus.WAITING
        locked.save(update_fields=["status"])
        _event("ticket_unparked", actor, locked)
        _board_changed(locked.branch_id)
    return locked


# --- End of day -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayClose:
    branch_id: int
    closed: int


def tickets_close_unserved(*, now: dt.datetime | None = None) -> list[DayClose]:
    """Close tickets still open after their branch's business day ended (beat, every night)."""
    now = _now(now)
    results = []
    open_statuses = [TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.PARKED]
    branch_ids = (
        Ticket.objects.filter(status__in=open_statuses)
        .values_list("branch_id", flat=True)
        .distinct()
    )
    from bankservice.branches.models import Branch

    for branch in Branch.objects.filter(pk__in=list(branch_ids)):
        local = now.astimezone(branch.zone)
        hours = BusinessClock.for_branch(branch).opening_hours(local.date())
        day_over = not hours or local.time() >= max(closes for _o, closes in hours)
        last_open_day = local.date() if day_over else local.date() - dt.timedelta(days=1)
        closed = 0
        with transaction.atomic():
            stale = (
                Ticket.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(branch=branch, status__in=open_statuses, business_date__lte=last_open_day)
                .select_related("branch", "service_type", "visit__customer")
            )
            for ticket in stale:
                updated = Ticket.objects.filter(pk=ticket.pk, status=ticket.status).update(
                    status=TicketStatus.UNSERVED, finished_at=now, counter=None
                )
                if updated:
                    _event("ticket_unserved", None, ticket, was=ticket.status)
                    closed += 1
            if closed:
                _board_changed(branch.pk)
        results.append(DayClose(branch_id=branch.pk, closed=closed))
    return results


# --- Service catalogue (configuration) ---------------------------------------------------------

SERVICE_TYPE_FIELDS = [
    "code",
    "name_zh",
    "name_en",
    "prefix",
    "category",
    "target_wait_minutes",
    "expected_service_minutes",
    "is_active",
    "sort_order",
    "remote_checkin",
    "bookable",
    "slot_minutes",
    "slot_capacity",
    "with_advisor",
]


def _check_code_free(branch_id: int, code: str, exclude_pk: int | None = None) -> None:
    taken = ServiceType.objects.filter(branch_id=branch_id, code=code)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise BadInput(_("This branch already has a service with this code."), field="code")


def service_type_create(*, actor, branch, data: dict) -> ServiceType:
    """Add a service to a branch's catalogue (configuration)."""
    if not can_act_at(actor, "reception.add_servicetype", branch.pk):
        raise BadInput(_("You cannot configure services at this branch."), field="branch")
    _check_code_free(branch.pk, data["code"])
    with transaction.atomic():
        service_type = ServiceType.objects.create(branch=branch, **data)
        record(
            type="reception.service_type_created",
            actor=actor,
            branch=branch,
            subject=service_type,
            payload={"code": service_type.code, "prefix": service_type.prefix},
        )
    return service_type


def service_type_update(*, actor, service_type: ServiceType, data: dict) -> ServiceType:
    """Change a service's configuration; tickets already issued keep their numbers."""
    if not can_act_at(actor, CONFIGURE_PERM, service_type.branch_id):
        raise BadInput(_("You cannot configure services at this branch."), field="branch")
    if "code" in data:
        _check_code_free(service_type.branch_id, data["code"], exclude_pk=service_type.pk)
    with transaction.atomic():
        changed = [name for name, value in data.items() if getattr(service_type, name) != value]
        for name in changed:
            setattr(service_type, name, data[name])
        if changed:
            service_type.save(update_fields=changed)
            record(
                type="reception.service_type_updated",
                actor=actor,
                branch=service_type.branch,
                subject=service_type,
                payload={"code": service_type.code, "changed": sorted(changed)},
            )
    return service_type


# --- Priority rules (configuration) -----------------------------------------------------------

PRIORITY_RULE_FIELDS = [
    "appointment_minutes",
    "priority_segment_minutes",
    "private_segment_minutes",
    "elderly_minutes",
    "disability_minutes",
    "pregnant_minutes",
    "transferred_minutes",
    "max_wait_minutes",
    "ratio_priority",
    "ratio_standard",
]


def priority_rule_update(*, actor, branch, data: dict) -> PriorityRule:
    """Set a branch's priority rule (created on first change; until then the defaults apply).
    Every process sees the change at once (reception/config.py)."""
    if not can_act_at(actor, "reception.change_priorityrule", branch.pk):
        raise PermissionDenied(_("You cannot configure reception at this branch."))
    with transaction.atomic():
        rule = PriorityRule.objects.select_for_update().filter(branch=branch).first()
        rule = rule or PriorityRule(branch=branch)
        changed = [name for name, value in data.items() if getattr(rule, name) != value]
        for name in changed:
            setattr(rule, name, data[name])
        if (rule.ratio_priority == 0) != (rule.ratio_standard == 0):
            raise BadInput(_("Set both ratio numbers, or leave both at 0."), field="ratio_standard")
        if changed or rule.pk is None:
            rule.save()
            record(
                type="reception.priority_rule_updated",
                actor=actor,
                branch=branch,
                subject=rule,
                payload={name: data[name] for name in sorted(changed)},
            )
    return rule
