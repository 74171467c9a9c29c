"""Writes to deadlines: start, pause, resume, meet, cancel, extend, and the sweep that breaches.

Every function runs in ``transaction.atomic``, locks the deadline row, checks the transition under
the lock and records a domain event (``deadline.*``) in the same transaction. Event payloads carry
ids, kinds and times only, never free text or personal data.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.events.services import record

from .clock import BusinessClock, Clock
from .errors import DeadlineAlreadyOpen, DeadlineStateError, InvalidExtension
from .models import Deadline, DeadlineExtension, DeadlineState
from .policies import DeadlinePolicy, UnknownPolicy, get_policy, handlers_for

logger = logging.getLogger(__name__)

OPEN = DeadlineState.OPEN


# --- Start and the owner's transitions ------------------------------------------------------------


def deadline_start(
    *,
    subject: models.Model,
    kind: str,
    policy: str | DeadlinePolicy,
    branch,
    actor=None,
    started_at: dt.datetime | None = None,
    due_at: dt.datetime | None = None,
    warn_at: dt.datetime | None = None,
) -> Deadline:
    """Start a timer of ``kind`` on ``subject`` under a registered policy, on the branch's clock.

    A stage that computes its own times (a complaint's clocks count on the regulator's calendar,
    not the branch's) passes ``due_at`` and, if it wants a warning, ``warn_at``: then the policy
    computes nothing and only gives the clock (how pause, resume and extend count). Without
    ``due_at`` both come from the policy.
    """
    policy = _registered(policy)
    started_at = started_at or timezone.now()
    if due_at is None:
        if warn_at is not None:
            raise ValueError("warn_at needs due_at")
        clock = BusinessClock.for_branch(branch)
        due_at = policy.due_at(clock, started_at)
        warn_at = policy.warn_at(clock, started_at, due_at)
    else:
        _check_given_times(started_at, due_at, warn_at)
    deadline = Deadline(
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=str(subject.pk),
        kind=kind,
        policy=policy.name,
        clock=policy.clock,
        branch=branch,
        started_at=started_at,
        due_at=due_at,
        warn_at=warn_at,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                deadline.save(force_insert=True)
        except IntegrityError:
            already = Deadline.objects.filter(
                subject_type=deadline.subject_type,
                subject_id=deadline.subject_id,
                kind=kind,
                state=OPEN,
            )
            if already.exists():
                raise DeadlineAlreadyOpen(
                    _("This item already has an open %(kind)s deadline.") % {"kind": kind}
                ) from None
            raise
        _record("deadline.started", deadline, actor, warn_at=_iso(deadline.warn_at))
    return deadline


def _check_given_times(
    started_at: dt.datetime, due_at: dt.datetime, warn_at: dt.datetime | None
) -> None:
    # The caller's arithmetic, not user input: a mistake is a programming error.
    if any(timezone.is_naive(m) for m in (started_at, due_at, warn_at) if m is not None):
        raise ValueError("aware datetimes only")
    if due_at < started_at:
        raise ValueError("due_at is before started_at")
    if warn_at is not None and not started_at <= warn_at <= due_at:
        raise ValueError("warn_at is not between started_at and due_at")


def deadline_pause(*, deadline: Deadline, actor=None) -> Deadline:
    """Stop the deadline's clock (waiting for the customer, say) until deadline_resume."""
    with transaction.atomic():
        deadline = _lock(deadline)
        now = timezone.now()
        _require_open(deadline, "pause")
        if deadline.is_paused:
            raise DeadlineStateError(_("Deadline %(id)s is already paused.") % {"id": deadline.pk})
        if deadline.due_at <= now:
            raise DeadlineStateError(
                _("Deadline %(id)s is already overdue and cannot be paused.") % {"id": deadline.pk}
            )
        deadline.paused_at = now
        deadline.save(update_fields=["paused_at"])
        _record("deadline.paused", deadline, actor)
    return deadline


def deadline_resume(*, deadline: Deadline, actor=None) -> Deadline:
    """Restart a paused deadline; due_at and warn_at move later by the time the pause covered.

    "The time the pause covered" is measured on the deadline's own clock: wall time for calendar
    days, working-day time for business days, opening hours for business hours. A pause from
    Friday after closing to Monday before opening moves a business-hours deadline by nothing, so
    the business time that was left when it paused is exactly what is left when it resumes.
    """
    with transaction.atomic():
        deadline = _lock(deadline)
        _require_open(deadline, "resume")
        if not deadline.is_paused:
            raise DeadlineStateError(_("Deadline %(id)s is not paused.") % {"id": deadline.pk})
        paused_at = deadline.paused_at
        fields = _unpause(deadline, timezone.now())
        deadline.save(update_fields=fields)
        _record("deadline.resumed", deadline, actor, paused_at=_iso(paused_at))
    return deadline


def deadline_meet(*, deadline: Deadline, actor=None) -> Deadline:
    """The owner did what the deadline asked: an open deadline becomes met.

    A deadline the sweep already breached keeps its state and only records met_at (a late
    meet), so an owner may call this whenever its work is done without checking first. On time
    means ``met_at <= due_at``.
    """
    with transaction.atomic():
        deadline = _lock(deadline)
        now = timezone.now()
        if deadline.state == OPEN:
            fields = _unpause(deadline, now) if deadline.is_paused else []
            deadline.state = DeadlineState.MET
            deadline.met_at = now
            deadline.retry_at = None
            deadline.save(update_fields=[*fields, "state", "met_at", "retry_at"])
        elif deadline.state == DeadlineState.BREACHED and deadline.met_at is None:
            deadline.met_at = now
            deadline.save(update_fields=["met_at"])
        else:
            raise _state_error(deadline, "meet")
        _record("deadline.met", deadline, actor, late=deadline.met_at > deadline.due_at)
    return deadline


def deadline_cancel(*, deadline: Deadline, actor=None) -> Deadline:
    """The timer no longer applies (the complaint was withdrawn): an open deadline is cancelled."""
    with transaction.atomic():
        deadline = _lock(deadline)
        now = timezone.now()
        _require_open(deadline, "cancel")
        fields = []
        if deadline.is_paused:
            deadline.paused_total += now - deadline.paused_at
            deadline.paused_at = None
            fields = ["paused_total", "paused_at"]
        deadline.state = DeadlineState.CANCELLED
        deadline.cancelled_at = now
        deadline.retry_at = None
        deadline.save(update_fields=[*fields, "state", "cancelled_at", "retry_at"])
        _record("deadline.cancelled", deadline, actor)
    return deadline


def deadline_extend(
    *,
    deadline: Deadline,
    reason: str,
    actor,
    new_due_at: dt.datetime | None = None,
    by: dt.timedelta | None = None,
) -> Deadline:
    """Move an open deadline's due time later, to ``new_due_at`` or ``by`` the deadline's clock.

    ``by`` counts on the deadline's clock (``timedelta(hours=4)`` on a business-hours deadline is
    four business hours). A warning not yet sent moves by the same clock time; one already sent
    is not sent again. The extension is kept as a DeadlineExtension row with its reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidExtension(_("Say why the deadline is extended."), field="reason")
    if (new_due_at is None) == (by is None):
        raise InvalidExtension(_("Give either a new due time or a duration to extend by."))
    if new_due_at is not None and timezone.is_naive(new_due_at):
        raise InvalidExtension(_("The new due time needs a time zone."), field="new_due_at")
    if by is not None and by <= dt.timedelta(0):
        raise InvalidExtension(_("Extend by a positive duration."), field="by")
    with transaction.atomic():
        deadline = _lock(deadline)
        _require_open(deadline, "extend")
        clock = BusinessClock.for_branch(deadline.branch)
        old_due_at = deadline.due_at
        if by is not None:
            new_due_at = _roll(deadline, clock, clock.add(old_due_at, by, clock=deadline.clock))
        if new_due_at <= old_due_at:
            raise InvalidExtension(
                _("The new due time must be later than the current one."), field="new_due_at"
            )
        if deadline.warn_at is not None and deadline.warned_at is None:
            moved = clock.elapsed(old_due_at, new_due_at, clock=deadline.clock)
            deadline.warn_at = clock.add(deadline.warn_at, moved, clock=deadline.clock)
        extension = DeadlineExtension.objects.create(
            deadline=deadline,
            old_due_at=old_due_at,
            new_due_at=new_due_at,
            reason=reason,
            at=timezone.now(),
            **DeadlineExtension.actor_columns(actor),
        )
        deadline.due_at = new_due_at
        deadline.extended_count += 1
        deadline.retry_at = None  # a failing breach handler waits for the new due time instead
        deadline.save(update_fields=["due_at", "warn_at", "extended_count", "retry_at"])
        _record(
            "deadline.extended",
            deadline,
            actor,
            old_due_at=_iso(old_due_at),
            extension_id=extension.pk,
        )
    return deadline


# --- The sweep ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What one sweep did."""

    breached: int = 0
    warned: int = 0
    # Breach handlers that raised: those deadlines stay open and are retried after a back-off.
    breach_failed: int = 0
    # Warning handlers that raised: the warning is given up (warned_at set), not retried.
    warning_failed: int = 0
    batches: int = 0


def deadline_sweep(
    *,
    now: dt.datetime | None = None,
    batch_size: int | None = None,
    max_batches: int | None = None,
) -> SweepResult:
    """Breach every open deadline due by ``now``, then warn those whose warn_at has passed.

    Batches of ``batch_size`` rows, one transaction each, taken oldest first with
    ``SELECT … FOR UPDATE SKIP LOCKED``, so two sweepers take disjoint rows. The batch is claimed
    with one conditional ``UPDATE … WHERE id IN (…) AND state = 'open' AND …`` whose row count
    must match: under PostgreSQL's row locks or SQLite's write lock (which ignores SKIP LOCKED) it
    always does, and if it ever did not, the claim is undone and each row claimed on its own, so
    only rows this sweep changed are handled. Then each row's event is recorded and the kind's
    handler called inside the batch transaction: the handler's writes commit exactly when the
    breach does. A handler that raises is isolated (``_run_each``) and its deadline left open for
    a retry (``_breach_failed``) or its warning given up (``_warn_batch``); the others go on.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    max_batches = max_batches or settings.SLA_SWEEP_MAX_BATCHES
    result = SweepResult()
    unhandled: set[str] = set()
    _in_batches(
        _due_for_breach(now), _breach_batch, now, batch_size, max_batches, result, unhandled
    )
    _in_batches(_due_for_warning(now), _warn_batch, now, batch_size, max_batches, result, unhandled)
    if unhandled:
        logger.warning("No deadline handler registered for kinds: %s", ", ".join(sorted(unhandled)))
    if result.breached or result.warned or result.breach_failed or result.warning_failed:
        logger.info("Deadline sweep: %s", result)
    return result


def _due_for_breach(now: dt.datetime) -> models.QuerySet[Deadline]:
    # Served by the partial index deadline_due_open_idx (state = 'open' AND paused_at IS NULL).
    return (
        Deadline.objects.filter(_still_due(now))
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .order_by("due_at")
        .select_related("branch")
        .select_for_update(skip_locked=True, of=("self",))
    )


def _due_for_warning(now: dt.datetime) -> models.QuerySet[Deadline]:
    # Served by the partial index deadline_warn_open_idx. An overdue deadline gets no warning:
    # the breach is already upon it.
    return (
        Deadline.objects.filter(_still_to_warn(now), warn_at__lte=now)
        .order_by("warn_at")
        .select_related("branch")
        .select_for_update(skip_locked=True, of=("self",))
    )


def _still_due(now: dt.datetime) -> Q:
    return Q(state=OPEN, paused_at__isnull=True, due_at__lte=now)


def _still_to_warn(now: dt.datetime) -> Q:
    return Q(state=OPEN, paused_at__isnull=True, warned_at__isnull=True, due_at__gt=now)


def _in_batches(queryset, handle_batch, now, batch_size, max_batches, result, unhandled) -> None:
    for _batch in range(max_batches):
        with transaction.atomic():
            batch = list(queryset[:batch_size])
            if batch:
                handle_batch(batch, now, result, unhandled)
        result.batches += 1
        # Every row taken left the selection (breached, warned, or retried later), so a short
        # batch means nothing more is due now, or the rest is locked by another sweeper.
        if len(batch) < batch_size:
            return


def _claim(batch: list[Deadline], still: Q, changes: dict) -> list[Deadline]:
    """Apply ``changes`` to the rows of ``batch`` that still match ``still``; return those."""
    ids = [deadline.pk for deadline in batch]
    with transaction.atomic():
        if Deadline.objects.filter(still, pk__in=ids).update(**changes) == len(ids):
            return batch
        transaction.set_rollback(True)  # undo this claim only (a savepoint), then go row by row
    logger.warning("Deadline sweep: a batch changed under its lock; claiming row by row")
    return [d for d in batch if Deadline.objects.filter(still, pk=d.pk).update(**changes) == 1]


def _breach_batch(batch: list[Deadline], now: dt.datetime, result: SweepResult, unhandled) -> None:
    changes = {
        "state": DeadlineState.BREACHED,
        "breached_at": now,
        "retry_at": None,
        "last_error": "",
    }
    claimed = _claim(batch, _still_due(now), changes)
    for deadline in claimed:
        for field, value in changes.items():
            setattr(deadline, field, value)

    def breach(deadline: Deadline) -> None:
        _record("deadline.breached", deadline, None, attempt=deadline.handler_failures + 1)
        handlers = handlers_for(deadline.kind)
        if handlers is None:
            unhandled.add(deadline.kind)
        else:
            handlers.on_breach(deadline)

    def failed(deadline: Deadline, exc: Exception) -> None:
        _breach_failed(deadline, now, exc)
        result.breach_failed += 1

    result.breached += len(_run_each(claimed, breach, failed))


def _breach_failed(deadline: Deadline, now: dt.datetime, exc: Exception) -> None:
    """A breach handler raised: leave the deadline open and retry it after a back-off.

    Its savepoint already rolled back the event and the handler's writes. The row goes back to
    open with handler_failures + 1 and retry_at = now + back-off (30 s, doubling, capped by
    SLA_HANDLER_RETRY_MAX_SECONDS), and a ``deadline.handler_failed`` event is recorded. Until
    retry_at the sweep passes over it, so a broken handler never holds up the others; it is
    retried for as long as it fails (logged each time), because a breach must not be lost.
    """
    deadline.state, deadline.breached_at = OPEN, None
    deadline.handler_failures += 1
    deadline.retry_at = now + _backoff(deadline.handler_failures)
    deadline.last_error = type(exc).__name__[:200]
    logger.error(
        "Breach handler for deadline %s (%s) failed, attempt %s; retry at %s",
        deadline.pk,
        deadline.kind,
        deadline.handler_failures,
        deadline.retry_at.isoformat(),
        exc_info=exc,
    )
    Deadline.objects.filter(pk=deadline.pk).update(
        state=OPEN,
        breached_at=None,
        handler_failures=deadline.handler_failures,
        retry_at=deadline.retry_at,
        last_error=deadline.last_error,
    )
    _record(
        "deadline.handler_failed",
        deadline,
        None,
        step="breach",
        attempt=deadline.handler_failures,
        error=deadline.last_error,
        retry_at=_iso(deadline.retry_at),
    )


def _warn_batch(batch: list[Deadline], now: dt.datetime, result: SweepResult, unhandled) -> None:
    """Warn once. A warning handler that raises is logged and recorded and the warning given up.

    A warning is advisory and only useful before the due time; retrying it would delay nothing
    that matters, while the breach is still handled (and retried) on its own.
    """
    claimed = _claim(batch, _still_to_warn(now), {"warned_at": now})
    for deadline in claimed:
        deadline.warned_at = now

    def warn(deadline: Deadline) -> None:
        _record("deadline.warned", deadline, None)
        handlers = handlers_for(deadline.kind)
        if handlers is not None and handlers.on_warning is not None:
            handlers.on_warning(deadline)

    def failed(deadline: Deadline, exc: Exception) -> None:
        logger.error(
            "Warning handler for deadline %s (%s) failed; warning given up",
            deadline.pk,
            deadline.kind,
            exc_info=exc,
        )
        _record(
            "deadline.handler_failed",
            deadline,
            None,
            step="warning",
            attempt=1,
            error=type(exc).__name__[:200],
        )
        result.warning_failed += 1

    result.warned += len(_run_each(claimed, warn, failed))


def _run_each(deadlines: list[Deadline], run, failed) -> list[Deadline]:
    """Call ``run`` for each deadline inside the batch transaction; return those that succeeded.

    Optimistic: the whole batch runs in one savepoint, so a batch costs one subtransaction, not
    one per row (a PostgreSQL transaction holding more than 64 subtransactions slows snapshots
    down for every session). If a call raises, that savepoint rolls back everything the batch
    did so far (events, handlers' writes and their on_commit callbacks), the deadline that
    raised goes to ``failed``, and the others run again, each in a savepoint of its own. So a
    handler's committed effects happen exactly once, but a handler that ran before a batch-mate
    failed is called a second time (the first call left no trace): handlers keep their effects
    in the database or behind transaction.on_commit, as they must anyway.
    """
    current = None
    try:
        with transaction.atomic():
            for current in deadlines:
                run(current)
        return deadlines
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        if current is None:
            raise
        failed(current, exc)
        culprit = current
    done = []
    for deadline in deadlines:
        if deadline is culprit:
            continue
        try:
            with transaction.atomic():
                run(deadline)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            failed(deadline, exc)
        else:
            done.append(deadline)
    return done


def _backoff(failures: int) -> dt.timedelta:
    cap = settings.SLA_HANDLER_RETRY_MAX_SECONDS
    return dt.timedelta(seconds=min(30 * 2 ** min(failures - 1, 20), cap))


# --- Helpers --------------------------------------------------------------------------------------


def _registered(policy: str | DeadlinePolicy) -> DeadlinePolicy:
    name = policy.name if isinstance(policy, DeadlinePolicy) else policy
    found = get_policy(name)
    if isinstance(policy, DeadlinePolicy) and policy != found:
        raise ImproperlyConfigured(f"Deadline policy {name!r} differs from the registered one.")
    return found


def _lock(deadline: Deadline) -> Deadline:
    # Who else locks this row: every deadline_* service (FOR UPDATE, waits its turn) and the
    # sweep (SKIP LOCKED: it passes over a row a service holds and takes it next time). Only the
    # deadline row is locked, not its branch.
    return (
        Deadline.objects.select_for_update(of=("self",))
        .select_related("branch")
        .get(pk=deadline.pk)
    )


def _require_open(deadline: Deadline, action: str) -> None:
    if deadline.state != OPEN:
        raise _state_error(deadline, action)


# Whole sentences, so that each translates with its own word order.
_REFUSED = {
    "pause": gettext_lazy("Deadline %(id)s is %(state)s and cannot be paused."),
    "resume": gettext_lazy("Deadline %(id)s is %(state)s and cannot be resumed."),
    "meet": gettext_lazy("Deadline %(id)s is %(state)s and cannot be met."),
    "cancel": gettext_lazy("Deadline %(id)s is %(state)s and cannot be cancelled."),
    "extend": gettext_lazy("Deadline %(id)s is %(state)s and cannot be extended."),
}


def _state_error(deadline: Deadline, action: str) -> DeadlineStateError:
    return DeadlineStateError(
        str(_REFUSED[action]) % {"id": deadline.pk, "state": deadline.get_state_display()}
    )


def _unpause(deadline: Deadline, now: dt.datetime) -> list[str]:
    """End a pause: push due_at (and an unsent warn_at) by the clock time the pause covered."""
    clock = BusinessClock.for_branch(deadline.branch)
    stood_still = clock.elapsed(deadline.paused_at, now, clock=deadline.clock)
    if stood_still:
        deadline.due_at = _roll(
            deadline, clock, clock.add(deadline.due_at, stood_still, clock=deadline.clock)
        )
        if deadline.warn_at is not None and deadline.warned_at is None:
            deadline.warn_at = clock.add(deadline.warn_at, stood_still, clock=deadline.clock)
    deadline.paused_total += now - deadline.paused_at
    deadline.paused_at = None
    return ["due_at", "warn_at", "paused_total", "paused_at"]


def _roll(deadline: Deadline, clock: BusinessClock, due: dt.datetime) -> dt.datetime:
    if deadline.clock != Clock.CALENDAR_DAYS:
        return due
    try:
        policy = get_policy(deadline.policy)
    except UnknownPolicy:
        logger.warning("Deadline %s: policy %s is not registered", deadline.pk, deadline.policy)
        return due
    return policy.roll(clock, due)


def _record(type: str, deadline: Deadline, actor, **extra) -> None:
    subject_type = ContentType.objects.get_for_id(deadline.subject_type_id)
    record(
        type=type,
        actor=actor,
        branch=deadline.branch,
        subject=deadline,
        payload={
            "deadline_id": deadline.pk,
            "kind": deadline.kind,
            "policy": deadline.policy,
            "subject_type": f"{subject_type.app_label}.{subject_type.model}",
            "subject_id": deadline.subject_id,
            "due_at": _iso(deadline.due_at),
            **extra,
        },
    )


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
