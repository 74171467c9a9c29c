"""When a pack's clock falls due: the regulators' counting on the kernel's business calendar.

The arithmetic is the deadline kernel's (bankservice.sla.clock.BusinessClock); this module adds
only what the regulations say on top of it:

- ``whole_days`` counting: the day a clock starts is not counted and the period ends at the end
  (24:00, returned as 00:00 of the next day) of its last day — day N after the start day on
  calendar-day clocks, the Nth working day after it on business-day clocks;
- a calendar-day period whose last day is not a working day stays there or moves to the next
  working day, as the clock says;
- ``hours`` are real elapsed hours, day and night.

See docs/complaint-clocks.md for worked examples.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from bankservice.sla.clock import BusinessClock, Clock

from .models import (
    Applicability,
    ClockUnit,
    DayCounting,
    NonWorkingEnd,
    PackAssignment,
    PackClock,
    RulePack,
)

_DAY = dt.timedelta(days=1)

# The kernel clock each unit is counted on; real hours count like calendar days (every instant).
KERNEL_CLOCK = {
    ClockUnit.CALENDAR_DAYS: Clock.CALENDAR_DAYS,
    ClockUnit.BUSINESS_DAYS: Clock.BUSINESS_DAYS,
    ClockUnit.BUSINESS_HOURS: Clock.BUSINESS_HOURS,
    ClockUnit.HOURS: Clock.CALENDAR_DAYS,
}


def pack_calendar(pack: RulePack, *, branch=None) -> BusinessClock:
    """The pack's working days, on the branch's wall clock and opening hours.

    The calendar is the pack's (the regulator's holidays), whatever calendar the branch's own
    queue uses; without a branch the bank's time zone and the default opening hours.
    """
    if branch is None:
        return BusinessClock(zone=settings.TIME_ZONE, calendar=pack.calendar)
    return BusinessClock(zone=branch.time_zone, calendar=pack.calendar, branch=branch)


def due_at(clock: PackClock, start: dt.datetime, *, calendar: BusinessClock) -> dt.datetime:
    """When ``clock``, started at the aware ``start``, falls due (aware, UTC)."""
    if timezone.is_naive(start):
        raise ValueError("aware datetimes only")
    unit = clock.unit
    if unit == ClockUnit.HOURS:
        return calendar.add(start, dt.timedelta(hours=clock.duration), clock=Clock.CALENDAR_DAYS)
    if unit == ClockUnit.BUSINESS_HOURS:
        return calendar.add_business_hours(start, clock.duration)
    rolls = clock.non_working_end == NonWorkingEnd.NEXT_WORKING_DAY
    if clock.counting == DayCounting.EXACT:
        if unit == ClockUnit.BUSINESS_DAYS:
            return calendar.add_business_days(start, clock.duration)
        due = calendar.add_calendar_days(start, clock.duration)
        return calendar.roll_forward(due) if rolls else due
    # Whole days after the start day, to the end of the last one.
    start_day = start.astimezone(calendar.zone).date()
    if unit == ClockUnit.BUSINESS_DAYS:
        # Counted from 00:00 after the start day, N business days end at 24:00 of the Nth
        # working day (the kernel stops exactly at the end of a working interval).
        return calendar.add_business_days(_midnight(start_day + _DAY, calendar), clock.duration)
    last_day = start_day + clock.duration * _DAY
    if rolls:
        last_day = calendar.next_working_day(last_day)
    return _midnight(last_day + _DAY, calendar)


def warn_at(
    clock: PackClock,
    start: dt.datetime,
    *,
    calendar: BusinessClock,
    due: dt.datetime | None = None,
) -> dt.datetime | None:
    """When ``warn_fraction`` of the clock's time from ``start`` to its due time has passed.

    Measured on the clock's own time (business hours on a business-hours clock), so an 80 %
    warning of a business-day clock never lands on a holiday. None when the clock has no warning.
    """
    if clock.warn_fraction is None:
        return None
    due = due or due_at(clock, start, calendar=calendar)
    kernel_clock = KERNEL_CLOCK[clock.unit]
    total = calendar.elapsed(start, due, clock=kernel_clock)
    return calendar.add(start, total * float(clock.warn_fraction), clock=kernel_clock)


def clocks_for(pack: RulePack, *, payment_services: bool) -> list[PackClock]:
    """The pack's clocks that apply to a complaint, payment-services or not."""
    excluded = (
        Applicability.NOT_PAYMENT_SERVICES if payment_services else Applicability.PAYMENT_SERVICES
    )
    return list(pack.clocks.exclude(applies_to=excluded))


def pack_for_branch(branch) -> RulePack | None:
    """The active pack of the branch, else of its region, else the bank's default (one query).

    An assignment to a deactivated pack is passed over, so retiring a pack falls back to the
    next level instead of leaving complaints without clocks. None only if nothing applies.
    """
    assignments = PackAssignment.objects.filter(
        Q(branch=branch) | Q(region_id=branch.region_id) | Q(branch=None, region=None),
        pack__is_active=True,
    ).select_related("pack__calendar")
    by_level = {(a.branch_id is None, a.region_id is None): a.pack for a in assignments}
    # (False, True): the branch's own; (True, False): its region's; (True, True): the bank's.
    for level in ((False, True), (True, False), (True, True)):
        if level in by_level:
            return by_level[level]
    return None


def _midnight(day: dt.date, calendar: BusinessClock) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=calendar.zone).astimezone(dt.UTC)
