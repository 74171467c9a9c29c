"""Deadline policies and breach/warning handlers, registered by the stage apps at start-up.

The kernel never imports a stage app: each stage registers what it needs in its
``AppConfig.ready()``::

    register_policy(DeadlinePolicy(name="complaint.decision", business_days=15, warn_before=0.2))
    register_handler("complaint.decision", on_breach=escalate, on_warning=remind_officer)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured

from .clock import BusinessClock, Clock

Handler = Callable[..., object]


class UnknownPolicy(LookupError):
    """No policy of that name is registered (a stage forgot to register it in ready())."""


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long a kind of deadline runs, on which clock, and when to warn before it falls due.

    Give exactly one of ``calendar_days``, ``business_days``, ``business_hours``.
    ``warn_before`` is a fraction of the whole duration (0.2: warn when 80 % of it has passed) or a
    timedelta measured on the policy's clock (``timedelta(hours=2)`` on a business-hours policy is
    two business hours before due). ``roll_forward_to_working_day`` moves a calendar-day due date
    that falls on a non-working day to the same time on the next working day (business clocks
    always end on a working day, so it is only accepted with ``calendar_days``).
    """

    name: str
    calendar_days: int | None = None
    business_days: int | None = None
    business_hours: float | None = None
    warn_before: float | dt.timedelta | None = None
    roll_forward_to_working_day: bool = False
    clock: str = field(init=False)
    amount: dt.timedelta = field(init=False)

    def __post_init__(self) -> None:
        given = {
            Clock.CALENDAR_DAYS: self.calendar_days,
            Clock.BUSINESS_DAYS: self.business_days,
            Clock.BUSINESS_HOURS: self.business_hours,
        }
        chosen = [(clock, value) for clock, value in given.items() if value is not None]
        if len(chosen) != 1:
            raise ValueError(
                f"{self.name}: give exactly one of calendar_days, business_days, business_hours"
            )
        clock, value = chosen[0]
        if value <= 0:
            raise ValueError(f"{self.name}: the duration must be positive")
        amount = (
            dt.timedelta(hours=value) if clock == Clock.BUSINESS_HOURS else dt.timedelta(days=value)
        )
        object.__setattr__(self, "clock", clock)
        object.__setattr__(self, "amount", amount)
        if self.roll_forward_to_working_day and clock != Clock.CALENDAR_DAYS:
            raise ValueError(f"{self.name}: roll_forward_to_working_day needs calendar_days")
        warn = self.warn_before
        if isinstance(warn, dt.timedelta):
            if not dt.timedelta(0) < warn < amount:
                raise ValueError(f"{self.name}: warn_before must be shorter than the duration")
        elif warn is not None and not (isinstance(warn, int | float) and 0 < warn < 1):
            raise ValueError(f"{self.name}: warn_before is a fraction in (0, 1) or a timedelta")

    def due_at(self, clock: BusinessClock, started_at: dt.datetime) -> dt.datetime:
        """When a deadline started at ``started_at`` falls due."""
        if self.clock == Clock.CALENDAR_DAYS:
            due = clock.add_calendar_days(started_at, self.calendar_days)
            return self.roll(clock, due)
        return clock.add(started_at, self.amount, clock=self.clock)

    def warn_at(
        self, clock: BusinessClock, started_at: dt.datetime, due_at: dt.datetime
    ) -> dt.datetime | None:
        """When to warn that a deadline from ``started_at`` to ``due_at`` is close (or None)."""
        if self.warn_before is None:
            return None
        total = clock.elapsed(started_at, due_at, clock=self.clock)
        if isinstance(self.warn_before, dt.timedelta):
            lead = self.warn_before
        else:
            lead = total * self.warn_before
        # A DST change can shorten a calendar-day deadline by an hour: never warn before start.
        return clock.add(started_at, max(total - lead, dt.timedelta(0)), clock=self.clock)

    def roll(self, clock: BusinessClock, due: dt.datetime) -> dt.datetime:
        """Apply the roll-forward rule, if the policy has it."""
        return clock.roll_forward(due) if self.roll_forward_to_working_day else due


@dataclass(frozen=True)
class Handlers:
    """What the sweep calls for one kind of deadline, inside its transaction."""

    on_breach: Handler
    on_warning: Handler | None = None


_policies: dict[str, DeadlinePolicy] = {}
_handlers: dict[str, Handlers] = {}


def register_policy(policy: DeadlinePolicy) -> DeadlinePolicy:
    """Make a policy available by name; registering the same definition twice is harmless."""
    existing = _policies.get(policy.name)
    if existing is not None and existing != policy:
        raise ImproperlyConfigured(f"Deadline policy {policy.name!r} is already registered.")
    _policies[policy.name] = policy
    return policy


def get_policy(name: str) -> DeadlinePolicy:
    """The registered policy of that name."""
    try:
        return _policies[name]
    except KeyError:
        raise UnknownPolicy(name) from None


def register_handler(kind: str, *, on_breach: Handler, on_warning: Handler | None = None) -> None:
    """Say what to call when a deadline of ``kind`` is breached (and, optionally, warned).

    Handlers receive the Deadline and run inside the sweep's transaction, so their database
    writes commit or roll back with the state change: keep them short and put slow or external
    work (messages, HTTP) behind ``transaction.on_commit``. One owner per kind.
    """
    handlers = Handlers(on_breach=on_breach, on_warning=on_warning)
    existing = _handlers.get(kind)
    if existing is not None and existing != handlers:
        raise ImproperlyConfigured(f"Deadline handlers for {kind!r} are already registered.")
    _handlers[kind] = handlers


def handlers_for(kind: str) -> Handlers | None:
    """The handlers registered for a kind, or None."""
    return _handlers.get(kind)
