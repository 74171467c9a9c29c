"""Deadlines of callbacks (kind care.callback, started and moved in care/services.py).

A callback's deadline runs to its due time. Before it falls due the agent who claimed it is
warned, or, while nobody has it, the branch's staff of the callback's role (its care agents);
when it falls due the branch's care team leads are e-mailed (its branch managers when the branch
has no care team lead). Both run inside the SLA
sweep's transaction, which calls them exactly once per deadline (docs/deadlines.md); the e-mails
are queued there and go out after it commits, with a dedupe key per deadline, step and recipient.

`register()` is called from care/apps.py ready().
"""

from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Role
from bankservice.branches.selectors import staff_to_notify
from bankservice.events.services import record
from bankservice.notify.services import email_staff

from .models import Callback, CallbackStatus
from .services import DEADLINE_KIND, DEADLINE_POLICY, WARN_BEFORE

DUE_SOON_MESSAGE = "care.callback_due_soon"
OVERDUE_MESSAGE = "care.callback_overdue"

EVENT_LABELS = {
    "care.callback_created": _("Callback scheduled"),
    "care.callback_claimed": _("Callback claimed"),
    "care.callback_attempted": _("Callback attempt recorded"),
    "care.callback_completed": _("Callback completed"),
    "care.callback_cancelled": _("Callback cancelled"),
    "care.callback_released": _("Callback given back to the worklist by the care team lead"),
    "care.callback_due_soon": _("Callback nearly due"),
    "care.callback_escalated": _("Callback overdue: escalated to the care team lead"),
}

_SAMPLE = {
    "callback_id": 42,
    "reason_code": "complaint-satisfaction",
    "due_at": "2026-11-30 17:00",
}


def _callback(deadline) -> Callback:
    return Callback.objects.select_related("branch", "customer", "claimed_by").get(
        pk=int(deadline.subject_id)
    )


def _email(users, *, template: str, callback: Callback, deadline, step: str) -> int:
    context = {
        "callback_id": callback.pk,
        "reason_code": callback.reason_code,
        # Staff read it in the branch's time zone.
        "due_at": f"{deadline.due_at.astimezone(callback.branch.zone):%Y-%m-%d %H:%M}",
    }
    return len(
        email_staff(
            users,
            template=template,
            branch=callback.branch,
            context=context,
            dedupe_key=f"care:deadline:{deadline.pk}:{step}",
        )
    )


def warn(deadline) -> None:
    """Nearly due: the agent who has it, or while nobody does, the branch's staff of the role the
    callback is for (its care agents, usually)."""
    callback = _callback(deadline)
    if callback.status not in (CallbackStatus.OPEN, CallbackStatus.CLAIMED):
        return
    claimant = callback.claimed_by
    if callback.status == CallbackStatus.CLAIMED and claimant.is_active and claimant.email:
        users = [claimant]
    else:
        users = staff_to_notify(callback.role, callback.branch)
    told = _email(
        users, template=DUE_SOON_MESSAGE, callback=callback, deadline=deadline, step="warning"
    )
    _record("callback_due_soon", callback, deadline, told=told)


def escalation_recipients(branch) -> tuple[str, list]:
    """Who hears of an overdue callback at the branch: its care team leads, or, when it has
    none (none with an e-mail address), its branch managers. Returns the role and the users."""
    leads = staff_to_notify(Role.CARE_LEAD, branch)
    if leads:
        return Role.CARE_LEAD, leads
    return Role.BRANCH_MANAGER, staff_to_notify(Role.BRANCH_MANAGER, branch)


def escalate(deadline) -> None:
    """Overdue: e-mail the branch's care team leads (else its branch managers); the breached
    deadline marks the callback overdue on the worklist."""
    callback = _callback(deadline)
    if callback.status not in (CallbackStatus.OPEN, CallbackStatus.CLAIMED):
        return
    role, users = escalation_recipients(callback.branch)
    told = _email(
        users, template=OVERDUE_MESSAGE, callback=callback, deadline=deadline, step="breach"
    )
    _record("callback_escalated", callback, deadline, role=role, told=told)


def _record(type_: str, callback: Callback, deadline, **payload) -> None:
    record(
        type=f"care.{type_}",
        actor=None,
        branch=callback.branch,
        customer=callback.customer,
        subject=callback,
        payload={
            "callback_id": callback.pk,
            "status": callback.status,
            "deadline": deadline.pk,
            "due_at": deadline.due_at.isoformat(),
            **payload,
        },
    )


def register() -> None:
    """The deadline policy and handlers, event labels and staff messages (from apps.ready)."""
    from bankservice.events.catalogue import register_event_labels
    from bankservice.notify.registry import MessageType
    from bankservice.notify.registry import register as register_message
    from bankservice.sla.policies import DeadlinePolicy, register_handler, register_policy

    # Callbacks pass their own due time; the policy gives the clock (wall time: a retry comes
    # back CARE_RETRY_HOURS later) and documents the warning lead.
    register_policy(DeadlinePolicy(name=DEADLINE_POLICY, calendar_days=1, warn_before=WARN_BEFORE))
    register_handler(DEADLINE_KIND, on_breach=escalate, on_warning=warn)
    register_event_labels(EVENT_LABELS)
    register_message(
        MessageType(
            DUE_SOON_MESSAGE,
            _("To care agents: a callback is nearly due"),
            required=("callback_id", "reason_code", "due_at"),
            channels=("email",),
            sample=_SAMPLE,
        )
    )
    register_message(
        MessageType(
            OVERDUE_MESSAGE,
            _("To the care team lead (or the branch manager): a callback is overdue"),
            required=("callback_id", "reason_code", "due_at"),
            channels=("email",),
            sample=_SAMPLE,
        )
    )
