"""Writing callbacks: scheduling one (from a rule, a hand-off or by hand), claiming it, each try
to reach the customer, the outcome, cancelling, and giving an absent agent's callback back.

Every function is keyword-only and runs in transaction.atomic: it locks the callback row (a new
callback locks its customer instead, so the guards are checked against every other write for
that customer), checks `care.work_callback` at the callback's branch (cancel and release:
`care.cancel_callback`, the care team lead's), checks the transition
under the lock, records a `care.*` event (ids and codes only) and moves the callback's deadline
(kind care.callback, handled in care/deadlines.py) in the same transaction.
Errors: PermissionDenied, BadInput(field=...), Conflict.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.branches.models import Role
from bankservice.branches.scope import can_act_at
from bankservice.core.errors import BadInput, Conflict
from bankservice.customers.models import Customer
from bankservice.events.services import record
from bankservice.notify.quiet import quiet_until, window_for_branch
from bankservice.sla.models import DeadlineState
from bankservice.sla.selectors import deadlines_for
from bankservice.sla.services import deadline_cancel, deadline_meet, deadline_start

from .models import (
    OPEN_CALLBACK_STATES,
    AttemptChannel,
    AttemptResult,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    OptOutScope,
    Priority,
)
from .optouts import opted_out

WORK_PERM = "care.work_callback"
# Cancelling a callback and taking one back from an absent agent: the care team lead's (and the
# branch's managers').
CANCEL_PERM = "care.cancel_callback"
# The deadline of every callback (care/deadlines.py registers its policy and handlers).
DEADLINE_KIND = "care.callback"
DEADLINE_POLICY = "care.callback"
# Warn this long before a callback falls due (or at once, if it is due sooner).
WARN_BEFORE = dt.timedelta(hours=2)
TEXT_MAX = 2000
RETRY_RESULTS = (AttemptResult.NO_ANSWER, AttemptResult.BUSY)


# --- Helpers.


def _check(actor, branch_id: int) -> None:
    if not can_act_at(actor, WORK_PERM, branch_id):
        raise PermissionDenied(_("Your role does not allow working callbacks at this branch."))


def _lock(callback: Callback) -> Callback:
    # Who else locks this row: every service below (FOR UPDATE, waits its turn). The deadline
    # sweep locks the deadline row only and reads the callback, so it never waits on us.
    return (
        Callback.objects.select_for_update(of=("self",))
        .select_related("branch", "customer")
        .get(pk=callback.pk)
    )


def _text(value: str, field: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise BadInput(_("This field is required."), field=field)
    if len(value) > TEXT_MAX:
        raise BadInput(_("Write at most %(max)s characters.") % {"max": TEXT_MAX}, field=field)
    return value


def _require(callback: Callback, *states, action: str) -> None:
    if callback.status not in states:
        raise Conflict(
            _("This callback is %(status)s: it cannot be %(action)s.")
            % {"status": callback.get_status_display(), "action": action}
        )


def _require_claimant(actor, callback: Callback, action: str) -> None:
    _require(callback, CallbackStatus.CLAIMED, action=action)
    if callback.claimed_by_id != actor.pk:
        raise PermissionDenied(_("Only the agent who claimed this callback may work it."))


def _event(type_: str, actor, callback: Callback, **payload) -> None:
    record(
        type=f"care.{type_}",
        actor=actor,
        branch=callback.branch,
        customer=callback.customer,
        subject=callback,
        payload={"callback_id": callback.pk, "status": callback.status, **payload},
    )


def callable_from(branch, moment: dt.datetime) -> dt.datetime:
    """The first moment at or after `moment` outside the branch's quiet hours: nobody is called
    at night, so a callback is never due while calling is not allowed."""
    later = quiet_until(moment, window_for_branch(branch), branch.zone)
    return later or moment


def _start_deadline(callback: Callback, actor) -> None:
    """The callback is due at due_at: warn WARN_BEFORE ahead, breach at due_at (already overdue
    when made late, e.g. by a generator catching up: then it is breached at the next sweep)."""
    started_at = min(timezone.now(), callback.due_at)
    deadline_start(
        subject=callback,
        kind=DEADLINE_KIND,
        policy=DEADLINE_POLICY,
        branch=callback.branch,
        actor=actor,
        started_at=started_at,
        due_at=callback.due_at,
        warn_at=max(started_at, callback.due_at - WARN_BEFORE),
    )


def _close_deadline(callback: Callback, actor, *, met: bool) -> None:
    """End the callback's latest timer: met when the work is done (late, if the sweep already
    breached it), cancelled when the callback is cancelled or rescheduled."""
    deadline = deadlines_for(callback, kind=DEADLINE_KIND).last()
    if deadline is None:
        return
    if deadline.state == DeadlineState.OPEN:
        (deadline_meet if met else deadline_cancel)(deadline=deadline, actor=actor)
    elif met and deadline.state == DeadlineState.BREACHED and deadline.met_at is None:
        deadline_meet(deadline=deadline, actor=actor)


def _close(callback: Callback, status: str) -> list[str]:
    callback.status = status
    callback.closed_at = timezone.now()
    return ["status", "closed_at"]


# --- Scheduling.


def callback_create(
    *,
    actor,
    customer,
    branch,
    reason_code: str,
    due_at,
    role: str = "care_agent",
    priority: int = 2,
    script: str = "",
    rule=None,
    source_event=None,
    source_ref: str = "",
):
    """Schedule a callback, or return None when a guard refuses it: the customer has no phone
    consent or opted out of every care contact (care/optouts.py), already has an open callback
    for this reason, or reached CARE_CONTACT_CAP callbacks within CARE_CONTACT_CAP_DAYS; a rule acting on an event it
    already acted on also returns None (idempotent). Starts the callback's deadline (kind
    care.callback, due at due_at). actor=None when the generator or a hand-off runs it.

    The customer row is locked first, so two writers for one customer (two generator workers,
    a hand-off and the generator) check the guards one after the other; the unique constraints
    stay the last word and a violation is a refusal (None), not an error."""
    if actor is not None:
        _check(actor, branch.pk)
    reason_code = (reason_code or "").strip()
    if not reason_code:
        raise BadInput(_("Give a reason code."), field="reason_code")
    if role not in Role.values:
        raise BadInput(_("Choose a valid role."), field="role")
    if priority not in Priority.values:
        raise BadInput(_("Choose a valid priority."), field="priority")
    if due_at is None or timezone.is_naive(due_at):
        raise BadInput(_("Give the due time with its time zone."), field="due_at")
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if not customer.consent_phone or opted_out(customer, OptOutScope.ALL):
            return None
        if (
            rule is not None
            and source_event is not None
            and Callback.objects.filter(rule=rule, source_event=source_event).exists()
        ):
            return None
        if Callback.objects.filter(
            customer=customer, reason_code=reason_code, status__in=OPEN_CALLBACK_STATES
        ).exists():
            return None
        since = timezone.now() - dt.timedelta(days=settings.CARE_CONTACT_CAP_DAYS)
        recent = (
            Callback.objects.filter(customer=customer, created_at__gte=since)
            .exclude(status=CallbackStatus.CANCELLED)
            .count()
        )
        if recent >= settings.CARE_CONTACT_CAP:
            return None
        callback = Callback(
            customer=customer,
            branch=branch,
            rule=rule,
            reason_code=reason_code,
            role=role,
            priority=priority,
            script=script,
            source_event=source_event,
            source_ref=source_ref,
            due_at=due_at,
        )
        try:
            with transaction.atomic():
                callback.save(force_insert=True)
        except IntegrityError:
            return None
        _start_deadline(callback, actor)
        _event(
            "callback_created",
            actor,
            callback,
            rule_id=rule.pk if rule is not None else None,
            source_event_id=source_event.pk if source_event is not None else None,
            reason_code=reason_code,
            priority=priority,
            due_at=due_at.isoformat(),
        )
    return callback


# --- The agent's work.


def callback_claim(*, actor, callback):
    """open -> claimed by the actor (a care agent of the branch); 409 if someone has it.
    Claiming one's own claimed callback again changes nothing."""
    with transaction.atomic():
        callback = _lock(callback)
        _check(actor, callback.branch_id)
        if callback.status == CallbackStatus.CLAIMED and callback.claimed_by_id == actor.pk:
            return callback
        if callback.status == CallbackStatus.CLAIMED:
            raise Conflict(_("Another agent has already claimed this callback."))
        _require(callback, CallbackStatus.OPEN, action=_("claimed"))
        callback.status = CallbackStatus.CLAIMED
        callback.claimed_by = actor
        callback.claimed_at = timezone.now()
        callback.save(update_fields=["status", "claimed_by", "claimed_at"])
        _event("callback_claimed", actor, callback)
    return callback


def callback_attempt(*, actor, callback, channel: str, result: str, note: str = ""):
    """Record one try by the agent who claimed it. reached: stays claimed for the outcome;
    no_answer/busy: back to open, due CARE_RETRY_HOURS later (the deadline moves), or closed
    as unreachable after CARE_MAX_ATTEMPTS; wrong_number/refused: closed (unreachable / done
    with the refusal noted). Returns the CallbackAttempt."""
    if channel not in AttemptChannel.values:
        raise BadInput(_("Choose a valid channel."), field="channel")
    if result not in AttemptResult.values:
        raise BadInput(_("Choose a valid result."), field="result")
    note = _text(note, "note", required=False)
    with transaction.atomic():
        callback = _lock(callback)
        _check(actor, callback.branch_id)
        _require_claimant(actor, callback, _("tried"))
        attempt = CallbackAttempt.objects.create(
            callback=callback, channel=channel, result=result, note=note, by=actor
        )
        callback.attempts += 1
        fields = ["attempts"]
        if result in RETRY_RESULTS and callback.attempts < settings.CARE_MAX_ATTEMPTS:
            # Anyone may take the next try: it goes back to the worklist, due later.
            callback.status = CallbackStatus.OPEN
            callback.claimed_by = None
            callback.claimed_at = None
            retry_at = timezone.now() + dt.timedelta(hours=settings.CARE_RETRY_HOURS)
            callback.due_at = callable_from(callback.branch, retry_at)
            fields += ["status", "claimed_by", "claimed_at", "due_at"]
            callback.save(update_fields=fields)
            # The deadline moves: the old timer ends, a new one runs to the new due time.
            _close_deadline(callback, actor, met=False)
            _start_deadline(callback, actor)
        elif result == AttemptResult.REACHED:
            callback.save(update_fields=fields)
        else:
            if result == AttemptResult.REFUSED:
                fields += _close(callback, CallbackStatus.DONE)
                callback.outcome = note
                fields.append("outcome")
            else:  # wrong number, or no answer / busy once too often
                fields += _close(callback, CallbackStatus.UNREACHABLE)
            callback.save(update_fields=fields)
            _close_deadline(callback, actor, met=True)
        _event(
            "callback_attempted",
            actor,
            callback,
            attempt_id=attempt.pk,
            channel=channel,
            result=result,
            attempts=callback.attempts,
            due_at=callback.due_at.isoformat(),
        )
    return attempt


def callback_complete(*, actor, callback, outcome: str, satisfaction: int | None = None):
    """claimed (reached) -> done, with the outcome and the customer's satisfaction (1-5)."""
    outcome = _text(outcome, "outcome", required=True)
    if satisfaction is not None and (
        isinstance(satisfaction, bool)
        or not isinstance(satisfaction, int)
        or not 1 <= satisfaction <= 5
    ):
        raise BadInput(_("Satisfaction is a whole number from 1 to 5."), field="satisfaction")
    with transaction.atomic():
        callback = _lock(callback)
        _check(actor, callback.branch_id)
        _require_claimant(actor, callback, _("completed"))
        last = callback.attempt_log.order_by("-at", "-id").values_list("result", flat=True).first()
        if last != AttemptResult.REACHED:
            raise Conflict(_("Record that the customer was reached before completing."))
        callback.outcome = outcome
        callback.satisfaction = satisfaction
        fields = ["outcome", "satisfaction", *_close(callback, CallbackStatus.DONE)]
        callback.save(update_fields=fields)
        _close_deadline(callback, actor, met=True)
        _event("callback_completed", actor, callback, satisfaction=satisfaction)
    return callback


def callback_cancel(*, actor, callback, reason: str):
    """An open or claimed callback no longer needed, cancelled by someone holding
    `care.cancel_callback` at its branch (the care team lead, the branch's managers). The reason
    is kept as its outcome; the deadline is cancelled. Cancelling a cancelled callback again
    changes nothing (a repeated request)."""
    reason = _text(reason, "reason", required=True)
    with transaction.atomic():
        callback = _lock(callback)
        if not can_act_at(actor, CANCEL_PERM, callback.branch_id):
            raise PermissionDenied(
                _("Your role does not allow cancelling callbacks at this branch.")
            )
        if callback.status == CallbackStatus.CANCELLED:
            return callback
        _require(callback, *OPEN_CALLBACK_STATES, action=_("cancelled"))
        callback.outcome = reason
        fields = ["outcome", *_close(callback, CallbackStatus.CANCELLED)]
        callback.save(update_fields=fields)
        _close_deadline(callback, actor, met=False)
        _event("callback_cancelled", actor, callback)
    return callback


def callback_release(*, actor, callback):
    """claimed -> open, nobody's (the agent who claimed it is absent): the team lead
    (`care.cancel_callback` at its branch) gives it back to the worklist. Its due time and
    deadline stay as they are. Releasing an open callback changes nothing."""
    with transaction.atomic():
        callback = _lock(callback)
        if not can_act_at(actor, CANCEL_PERM, callback.branch_id):
            raise PermissionDenied(
                _("Only the care team lead may give a claimed callback back to the worklist.")
            )
        if callback.status == CallbackStatus.OPEN:
            return callback
        _require(callback, CallbackStatus.CLAIMED, action=_("released"))
        released_from = callback.claimed_by_id
        callback.status = CallbackStatus.OPEN
        callback.claimed_by = None
        callback.claimed_at = None
        callback.save(update_fields=["status", "claimed_by", "claimed_at"])
        _event("callback_released", actor, callback, released_from=released_from)
    return callback
