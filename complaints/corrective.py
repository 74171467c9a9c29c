"""Corrective actions: measures to stop a root cause recurring, with an owner and a due date.

Each open action runs a kernel deadline (kind ``complaints.corrective_action``) due at the end of
its due date on the branch's wall clock; the sweep e-mails the owner and the branch managers
when it is nearly due and when it is overdue (complaints/deadlines.py). Who may do what:
a complaint's handler (``handle_complaint``, its officer if assigned, never the staff member
complained about) creates; the owner or a manager (``assign_complaint``) completes; a manager
cancels.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.branches.scope import can_act_at
from bankservice.core.errors import BadInput, Conflict
from bankservice.events.services import record
from bankservice.sla.models import DeadlineState
from bankservice.sla.selectors import deadlines_for, open_deadline_for
from bankservice.sla.services import deadline_cancel, deadline_meet, deadline_start

from . import deadlines
from .models import ActionStatus, ComplaintStatus, CorrectiveAction, RootCause
from .services import ASSIGN_PERM, _lock, _require, _require_handler, _text, _user

VIEW_PERM = "complaints.view_correctiveaction"
# Warn when this share of the time from creation to the due time has passed.
WARN_FRACTION = 0.8


def action_create(*, actor, complaint, root_cause, description: str, owner, due_date):
    """A corrective action for a complaint's root cause, with an owner and a due date; its due
    date runs as a kernel deadline (kind complaints.corrective_action). Returns it."""
    description = _text(description, field="description")
    with transaction.atomic():
        complaint = _lock(complaint)
        _require_handler(actor, complaint)
        user = _user(actor)
        if user is None:
            raise PermissionDenied(_("Only a member of staff can add a corrective action."))
        if complaint.status == ComplaintStatus.MERGED:
            raise Conflict(_("A merged complaint's actions belong to the complaint it joined."))
        if not isinstance(root_cause, RootCause) or not root_cause.is_active:
            raise BadInput(_("Choose an active root cause."), field="root_cause")
        _check_owner(owner, complaint)
        now = timezone.now()
        due_at = _end_of(due_date, complaint.branch)
        if due_at <= now:
            raise BadInput(_("The due date cannot be in the past."), field="due_date")
        action = CorrectiveAction.objects.create(
            complaint=complaint,
            branch=complaint.branch,
            root_cause=root_cause,
            description=description,
            owner=owner,
            due_date=due_date,
            created_by=user,
        )
        deadline = deadline_start(
            subject=action,
            kind=deadlines.ACTION_KIND,
            policy=deadlines.ACTION_POLICY,
            branch=complaint.branch,
            actor=user,
            started_at=now,
            due_at=due_at,
            warn_at=now + (due_at - now) * WARN_FRACTION,
        )
        _event(
            "action_created",
            user,
            action,
            root_cause_id=root_cause.pk,
            owner_id=owner.pk,
            due_date=due_date.isoformat(),
            deadline_id=deadline.pk,
        )
    return action


def action_complete(*, actor, action, note: str):
    """Done (the owner or a manager): what was done; meets its deadline (late if overdue)."""
    note = _text(note, field="note")
    with transaction.atomic():
        action = _lock_action(action)
        user = _user(actor)
        is_owner = user is not None and user.pk == action.owner_id
        if not is_owner:
            _require(actor, ASSIGN_PERM, action.complaint)
        _require_open(action, _("completed"))
        action.status = ActionStatus.DONE
        action.completed_at = timezone.now()
        action.completion_note = note
        action.save(update_fields=["status", "completed_at", "completion_note"])
        # Open, or overdue and not yet met: deadline_meet records a late meet on a breached one.
        deadline = (
            deadlines_for(action, kind=deadlines.ACTION_KIND)
            .filter(state__in=[DeadlineState.OPEN, DeadlineState.BREACHED], met_at__isnull=True)
            .last()
        )
        if deadline is not None:
            deadline = deadline_meet(deadline=deadline, actor=user)
        _event(
            "action_completed",
            user,
            action,
            deadline_id=deadline.pk if deadline else None,
            late=bool(deadline and deadline.met_at > deadline.due_at),
        )
    return action


def action_cancel(*, actor, action, reason: str):
    """No longer needed (a manager): cancels its deadline. The reason is required but, being
    free text, kept out of the event."""
    _text(reason, field="reason")
    with transaction.atomic():
        action = _lock_action(action)
        _require(actor, ASSIGN_PERM, action.complaint)
        _require_open(action, _("cancelled"))
        action.status = ActionStatus.CANCELLED
        action.save(update_fields=["status"])
        deadline = open_deadline_for(action, kind=deadlines.ACTION_KIND)
        if deadline is not None:
            deadline_cancel(deadline=deadline, actor=_user(actor))
        _event(
            "action_cancelled", _user(actor), action, deadline_id=deadline.pk if deadline else None
        )
    return action


def _check_owner(owner, complaint) -> None:
    """An active member of staff who sees the complaint's actions, not the one complained about."""
    if (
        not isinstance(owner, get_user_model())
        or not owner.is_active
        or not can_act_at(owner, VIEW_PERM, complaint.branch_id)
    ):
        raise BadInput(_("Choose an owner who works at the complaint's branch."), field="owner")
    if owner.pk == complaint.staff_complained_about_id:
        raise BadInput(_("The staff member complained about cannot own the action."), field="owner")


def _end_of(day, branch) -> dt.datetime:
    """24:00 of ``day`` on the branch's wall clock (00:00 of the next day), in UTC."""
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise BadInput(_("Enter a valid date."), field="due_date")
    return dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(0), tzinfo=branch.zone
    ).astimezone(dt.UTC)


def _lock_action(action) -> CorrectiveAction:
    return (
        CorrectiveAction.objects.select_for_update(of=("self",))
        .select_related("branch", "complaint__pack", "complaint__branch")
        .get(pk=action.pk)
    )


def _require_open(action, verb: str) -> None:
    if action.status != ActionStatus.OPEN:
        raise Conflict(
            _("This action is %(status)s: it cannot be %(action)s.")
            % {"status": action.get_status_display(), "action": verb}
        )


def _event(type_: str, actor, action, **payload) -> None:
    record(
        type=f"complaints.{type_}",
        actor=actor,
        branch=action.branch,
        subject=action,
        payload={"action_id": action.pk, "complaint_id": action.complaint_id, **payload},
    )
