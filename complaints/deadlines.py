"""A complaint's clocks as kernel deadlines: kinds, policies, warnings and the two-level escalation.

Each pack clock runs as a ``Deadline`` of kind ``complaint.<clock code>``. Its due and warning
times are computed by complaints/clocks.py on the pack's calendar and given to
``deadline_start``; the policy only names the kernel clock the deadline counts on (so a pause or
``extend(by=...)`` counts business time on a business clock). Its duration is never used.

What the sweep does with them (inside its transaction, so each effect commits exactly once with
the state change; e-mails are queued there and go out after commit, once per dedupe key):

- warning of an obligation clock: e-mail the assigned officer (or the branch's officers if the
  complaint is unassigned) and the branch managers;
- breach of an obligation clock of an open complaint: escalation level 1 (escalated_at), e-mail
  the branch managers, and start a ``complaints.escalation`` deadline of
  COMPLAINTS_REGION_ESCALATION_HOURS business hours on the branch's calendar; a clock breaching
  when the complaint is already escalated is recorded, not escalated again;
- breach of ``complaints.escalation`` with the complaint still open: level 2, e-mail the
  regional managers of the branch's region (the decision, a withdrawal or a merge ends it first);
- a window (UK summary resolution, CN review request) passing is recorded only: nobody is
  warned, nothing is escalated or counted late;
- ``complaints.corrective_action``: warning and breach e-mail the action's owner and the branch
  managers.

Nobody is told about a complaint about themselves: the staff member complained about is left out
of every list.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from bankservice.branches.models import Role
from bankservice.events.services import record
from bankservice.notify.services import email_staff
from bankservice.sla.policies import DeadlinePolicy
from bankservice.sla.services import deadline_start

from .clocks import KERNEL_CLOCK
from .models import (
    OPEN_STATUSES,
    ClockUnit,
    Complaint,
    CorrectiveAction,
    EscalationLevel,
    PackClock,
)
from .packs import PACKS

KIND_PREFIX = "complaint."
ESCALATION_KIND = "complaints.escalation"
ACTION_KIND = "complaints.corrective_action"

DUE_SOON_MESSAGE = "complaints.due_soon"
ESCALATED_MESSAGE = "complaints.escalated"
ACTION_DUE_MESSAGE = "complaints.action_due"

# One policy per kernel clock; the duration (1) is a placeholder, due times are always given.
POLICIES = {
    unit: DeadlinePolicy(name=f"complaint.{KERNEL_CLOCK[unit]}", **{KERNEL_CLOCK[unit]: 1})
    for unit in ClockUnit
}
# A corrective action is due at the end of its due date (given); the policy names the clock.
ACTION_POLICY = DeadlinePolicy(name=ACTION_KIND, calendar_days=1)


def escalation_policy() -> DeadlinePolicy:
    """Level 1 to level 2: business hours on the branch's calendar (read at start-up)."""
    return DeadlinePolicy(
        name=ESCALATION_KIND, business_hours=settings.COMPLAINTS_REGION_ESCALATION_HOURS
    )


# Kinds with handlers: the shipped packs' clocks. A clock an administrator adds under a new code
# still runs and is breached by the sweep, which logs that its kind has no handler.
SHIPPED_KINDS = sorted({KIND_PREFIX + clock["code"] for pack in PACKS for clock in pack["clocks"]})


def kind_for(clock) -> str:
    return KIND_PREFIX + clock.code


def policy_for(clock) -> DeadlinePolicy:
    return POLICIES[clock.unit]


# --- Who is told.


def _users(condition: Q, complaint_or_action):
    """Active staff with an e-mail address matching ``condition``, never the staff member the
    complaint is about."""
    users = get_user_model().objects.filter(condition, is_active=True).exclude(email="")
    complaint = _complaint_of(complaint_or_action)
    if complaint.staff_complained_about_id is not None:
        users = users.exclude(pk=complaint.staff_complained_about_id)
    return list(users.distinct().order_by("pk"))


def _role_at_branch(role: str, branch) -> Q:
    return Q(memberships__role__name=role, memberships__branch=branch)


def officers_to_warn(complaint: Complaint) -> list:
    """The assigned officer, or (unassigned) the branch's complaint officers."""
    if complaint.assigned_to_id is not None:
        return _users(Q(pk=complaint.assigned_to_id), complaint)
    return _users(_role_at_branch(Role.COMPLAINT_OFFICER, complaint.branch), complaint)


def branch_managers(complaint_or_action) -> list:
    return _users(
        _role_at_branch(Role.BRANCH_MANAGER, complaint_or_action.branch), complaint_or_action
    )


def regional_managers(complaint: Complaint) -> list:
    condition = Q(
        memberships__role__name=Role.REGIONAL_MANAGER,
        memberships__region_id=complaint.branch.region_id,
    )
    return _users(condition, complaint)


def _complaint_of(complaint_or_action) -> Complaint:
    if isinstance(complaint_or_action, CorrectiveAction):
        return complaint_or_action.complaint
    return complaint_or_action


def _email(users, *, template: str, deadline, step: str, branch, context: dict) -> list[int]:
    return email_staff(
        users,
        template=template,
        branch=branch,
        context=context,
        dedupe_key=f"complaints:deadline:{deadline.pk}:{step}",
    )


def _complaint_context(complaint: Complaint, deadline, clock: PackClock | None, **extra) -> dict:
    return {
        "complaint_reference": complaint.reference,
        "complaint_id": complaint.pk,
        "clock_zh": clock.name_zh if clock else "",
        "clock_en": clock.name_en if clock else "",
        "due_at": deadline.due_at.astimezone(complaint.branch.zone).strftime("%Y-%m-%d %H:%M"),
        **extra,
    }


# --- The complaint clocks' handlers.


def _locked_complaint(deadline) -> Complaint:
    """The complaint, locked without waiting.

    The lifecycle locks the complaint, then its deadlines; the sweep holds the deadline and
    would lock the complaint second. Waiting here could deadlock with a decision in progress,
    so a complaint that is busy raises instead (NOWAIT): the kernel leaves the breach open and
    retries it after a back-off, by when the decision has met the deadline or it is still due.
    """
    return (
        Complaint.objects.select_for_update(nowait=True, of=("self",))
        .select_related("branch", "pack", "customer")
        .get(pk=int(deadline.subject_id))
    )


def _complaint(deadline) -> Complaint:
    return Complaint.objects.select_related("branch", "pack", "customer").get(
        pk=int(deadline.subject_id)
    )


def _clock(complaint: Complaint, deadline) -> PackClock | None:
    code = deadline.kind.removeprefix(KIND_PREFIX)
    return PackClock.objects.filter(pack_id=complaint.pack_id, code=code).first()


def on_warning(deadline) -> None:
    """Nearly due: tell the officer (or the branch's officers) and the branch managers. Read
    without a lock: a warning changes nothing on the complaint."""
    complaint = _complaint(deadline)
    clock = _clock(complaint, deadline)
    if (clock is not None and clock.is_window) or complaint.status not in OPEN_STATUSES:
        return
    users = {u.pk: u for u in officers_to_warn(complaint) + branch_managers(complaint)}
    told = _email(
        list(users.values()),
        template=DUE_SOON_MESSAGE,
        deadline=deadline,
        step="warning",
        branch=complaint.branch,
        context=_complaint_context(complaint, deadline, clock),
    )
    _record("complaints.clock_warned", complaint, deadline, told=told)


def on_breach(deadline) -> None:
    """A clock fell due: a window is recorded; an obligation of an open complaint escalates to
    the branch managers (level 1) unless the complaint is escalated already."""
    complaint = _locked_complaint(deadline)
    clock = _clock(complaint, deadline)
    if clock is not None and clock.is_window:
        _record("complaints.window_passed", complaint, deadline)
        return
    if complaint.status not in OPEN_STATUSES or complaint.escalation_level:
        # Decided or ended (a late clock of a decided case), or already with the managers.
        _record("complaints.clock_breached", complaint, deadline, level=complaint.escalation_level)
        return
    complaint.escalation_level = EscalationLevel.BRANCH
    complaint.escalated_at = deadline.breached_at
    complaint.save(update_fields=["escalation_level", "escalated_at", "updated_at"])
    escalation = deadline_start(
        subject=complaint,
        kind=ESCALATION_KIND,
        policy=ESCALATION_KIND,
        branch=complaint.branch,
        started_at=deadline.breached_at,
    )
    told = _email(
        branch_managers(complaint),
        template=ESCALATED_MESSAGE,
        deadline=deadline,
        step="breach",
        branch=complaint.branch,
        context=_complaint_context(complaint, deadline, clock, level=EscalationLevel.BRANCH),
    )
    _record(
        "complaints.complaint_escalated",
        complaint,
        deadline,
        level=EscalationLevel.BRANCH,
        escalation_deadline_id=escalation.pk,
        told=told,
    )


def on_escalation_breach(deadline) -> None:
    """Still not decided COMPLAINTS_REGION_ESCALATION_HOURS after level 1: the region (level 2)."""
    complaint = _locked_complaint(deadline)
    if (
        complaint.status not in OPEN_STATUSES
        or complaint.escalation_level != EscalationLevel.BRANCH
    ):
        _record("complaints.clock_breached", complaint, deadline, level=complaint.escalation_level)
        return
    complaint.escalation_level = EscalationLevel.REGION
    complaint.save(update_fields=["escalation_level", "updated_at"])
    told = _email(
        regional_managers(complaint),
        template=ESCALATED_MESSAGE,
        deadline=deadline,
        step="breach",
        branch=complaint.branch,
        context=_complaint_context(complaint, deadline, None, level=EscalationLevel.REGION),
    )
    _record(
        "complaints.complaint_escalated",
        complaint,
        deadline,
        level=EscalationLevel.REGION,
        told=told,
    )


def _record(type: str, complaint: Complaint, deadline, **extra) -> None:
    record(
        type=type,
        actor=None,
        branch=complaint.branch,
        customer=complaint.customer,
        subject=complaint,
        payload={
            "complaint_id": complaint.pk,
            "deadline_id": deadline.pk,
            "kind": deadline.kind,
            "due_at": deadline.due_at.isoformat(),
            **extra,
        },
    )


# --- Corrective actions.


def _action(deadline) -> CorrectiveAction:
    return CorrectiveAction.objects.select_related("branch", "complaint", "owner").get(
        pk=int(deadline.subject_id)
    )


def _action_mail(deadline, step: str) -> None:
    action = _action(deadline)
    users = {u.pk: u for u in _users(Q(pk=action.owner_id), action) + branch_managers(action)}
    told = _email(
        list(users.values()),
        template=ACTION_DUE_MESSAGE,
        deadline=deadline,
        step=step,
        branch=action.branch,
        context={
            "complaint_reference": action.complaint.reference,
            "action_id": action.pk,
            "due_date": action.due_date.isoformat(),
            "overdue": step == "breach",
        },
    )
    record(
        type="complaints.action_overdue" if step == "breach" else "complaints.action_due_soon",
        actor=None,
        branch=action.branch,
        subject=action,
        payload={
            "action_id": action.pk,
            "complaint_id": action.complaint_id,
            "deadline_id": deadline.pk,
            "told": told,
        },
    )


def on_action_warning(deadline) -> None:
    """A corrective action is nearly due: its owner and the branch managers are told."""
    _action_mail(deadline, "warning")


def on_action_breach(deadline) -> None:
    """A corrective action is overdue: its owner and the branch managers are told."""
    _action_mail(deadline, "breach")
