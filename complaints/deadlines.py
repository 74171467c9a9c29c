"""A complaint's clocks as kernel deadlines: their kinds, policies and (for now) handlers.

Each pack clock runs as a ``Deadline`` of kind ``complaint.<clock code>``. Its due and warning
times are computed by complaints/clocks.py on the pack's calendar and given to
``deadline_start``; the policy only names the kernel clock the deadline counts on (so a pause or
``extend(by=...)`` counts business time on a business clock). Its duration is never used.

The handlers only record that a clock was warned or breached: the escalation to the handler, the
branch manager and the region comes with the complaint lifecycle.
"""

from bankservice.events.services import record
from bankservice.sla.policies import DeadlinePolicy

from .clocks import KERNEL_CLOCK
from .models import ClockUnit
from .packs import PACKS

KIND_PREFIX = "complaint."

# One policy per kernel clock; the duration (1) is a placeholder, due times are always given.
POLICIES = {
    unit: DeadlinePolicy(name=f"complaint.{KERNEL_CLOCK[unit]}", **{KERNEL_CLOCK[unit]: 1})
    for unit in ClockUnit
}

# Kinds with handlers: the shipped packs' clocks. A clock an administrator adds under a new code
# still runs and is breached by the sweep, which logs that its kind has no handler.
SHIPPED_KINDS = sorted({KIND_PREFIX + clock["code"] for pack in PACKS for clock in pack["clocks"]})


def kind_for(clock) -> str:
    return KIND_PREFIX + clock.code


def policy_for(clock) -> DeadlinePolicy:
    return POLICIES[clock.unit]


def on_breach(deadline) -> None:
    """Placeholder until escalation: keep a complaint-level trace of the breach."""
    _record("complaints.clock_breached", deadline)


def on_warning(deadline) -> None:
    """Placeholder until pre-breach warnings reach the officer and the manager."""
    _record("complaints.clock_warned", deadline)


def _record(type: str, deadline) -> None:
    record(
        type=type,
        actor=None,
        branch=deadline.branch,
        subject=deadline,
        payload={
            "deadline_id": deadline.pk,
            "complaint_id": int(deadline.subject_id),
            "kind": deadline.kind,
        },
    )
