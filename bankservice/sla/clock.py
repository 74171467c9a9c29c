"""Time arithmetic for deadlines: the one module that knows what a working day and a business hour
are.

Three clocks, all computed on the branch's wall clock (its IANA zone) and returned as aware UTC:

- calendar days: every instant counts; N days is the same wall time N dates later;
- business days: only working days count, each a whole day from 00:00 to 24:00;
- business hours: only the branch's opening hours on working days count.

A working day follows the BusinessCalendar: its weekly ``weekend_days`` are off, a ``holiday``
CalendarDay is off even on a weekday, a ``workday`` CalendarDay (a make-up day) is worked even at
a weekend. The calendar's exception days are read in one query per range of dates a call needs,
never one query per day.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import BusinessCalendar, CalendarDay

Hours = Sequence[tuple[dt.time, dt.time]]

# Opening hours assumed on every working day for a branch that has no OpeningHours rows at all.
DEFAULT_OPENING_HOURS: Hours = ((dt.time(9), dt.time(17)),)
# Weekend assumed when a deadline has no branch and no default calendar exists.
DEFAULT_WEEKEND = (6, 7)
# Exception days are loaded this many days at a time when a walk leaves the loaded range.
_CHUNK_DAYS = 60
# A walk that finds no working time for this long gives up instead of looping for ever.
_MAX_DAYS = 3 * 366
_DAY = dt.timedelta(days=1)
_MIDNIGHT = dt.time(0)


class Clock(models.TextChoices):
    """Which time counts towards a deadline."""

    CALENDAR_DAYS = "calendar_days", _("Calendar days")
    BUSINESS_DAYS = "business_days", _("Business days")
    BUSINESS_HOURS = "business_hours", _("Business hours")


class NoWorkingTime(ValueError):
    """The calendar and opening hours leave no working time to count within three years."""


class BusinessClock:
    """Working days and hours of one branch, or of a calendar in a zone, for one computation.

    Build one per service call (``for_branch``); it caches the exception days and opening hours it
    has read, so every method after the first costs no query within the loaded range.
    """

    def __init__(
        self,
        *,
        zone: zoneinfo.ZoneInfo | str,
        calendar=None,
        opening_hours: dict[int, Hours] | None = None,
        default_hours: Hours = DEFAULT_OPENING_HOURS,
        branch=None,
    ):
        self.zone = zoneinfo.ZoneInfo(zone) if isinstance(zone, str) else zone
        self.calendar = calendar
        self.weekend = frozenset(
            (calendar.weekend_days or ()) if calendar is not None else DEFAULT_WEEKEND
        )
        self.default_hours = tuple(default_hours)
        self._branch = branch
        self._weekly_hours = opening_hours
        self._exceptions: dict[dt.date, str] = {}
        self._loaded: tuple[dt.date, dt.date] | None = None  # inclusive range already read

    @classmethod
    def for_branch(cls, branch, *, default_hours: Hours = DEFAULT_OPENING_HOURS) -> BusinessClock:
        """The clock of a branch; without a branch, the bank's default calendar and zone."""
        if branch is None:
            return cls.bank_default(default_hours=default_hours)
        return cls(
            zone=branch.time_zone,
            calendar=branch.calendar,
            default_hours=default_hours,
            branch=branch,
        )

    @classmethod
    def bank_default(cls, *, default_hours: Hours = DEFAULT_OPENING_HOURS) -> BusinessClock:
        """settings.TIME_ZONE and the calendar coded settings.SLA_DEFAULT_CALENDAR (else Mon–Fri)."""
        code = getattr(settings, "SLA_DEFAULT_CALENDAR", "")
        calendar = BusinessCalendar.objects.filter(code=code).first() if code else None
        return cls(zone=settings.TIME_ZONE, calendar=calendar, default_hours=default_hours)

    # --- Working days -------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """A make-up day is worked even at a weekend; a holiday is off even on a weekday."""
        kind = self._exception(day)
        if kind is not None:
            return kind == CalendarDay.Kind.WORKDAY
        return day.isoweekday() not in self.weekend

    def next_working_day(self, day: dt.date, *, include_today: bool = True) -> dt.date:
        """The first working day on or after ``day`` (strictly after without include_today)."""
        self._prefetch(day, day + dt.timedelta(days=_CHUNK_DAYS))
        current = day if include_today else day + _DAY
        for _i in range(_MAX_DAYS):
            if self.is_working_day(current):
                return current
            current += _DAY
        raise NoWorkingTime(day)

    def roll_forward(self, moment: dt.datetime) -> dt.datetime:
        """Move a moment on a non-working day to the same wall time on the next working day."""
        local = self._local(moment)
        day = self.next_working_day(local.date())
        if day == local.date():
            return moment.astimezone(dt.UTC)
        return self._aware(dt.datetime.combine(day, local.time()))

    # --- Arithmetic ---------------------------------------------------------------------------

    def add_calendar_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The same wall time ``days`` dates later (23 or 25 real hours across a DST change)."""
        return self._aware(self._local(start) + dt.timedelta(days=days))

    def add_business_days(self, start: dt.datetime, days: float) -> dt.datetime:
        """``days`` whole working days of time after ``start``; see ``add``."""
        return self.add(start, dt.timedelta(days=days), clock=Clock.BUSINESS_DAYS)

    def add_business_hours(self, start: dt.datetime, hours: float | dt.timedelta) -> dt.datetime:
        """``hours`` of opening hours on working days after ``start``; see ``add``."""
        amount = hours if isinstance(hours, dt.timedelta) else dt.timedelta(hours=hours)
        return self.add(start, amount, clock=Clock.BUSINESS_HOURS)

    def add(self, start: dt.datetime, amount: dt.timedelta, *, clock: str) -> dt.datetime:
        """The earliest moment at or after ``start`` when ``amount`` of the clock's time has passed.

        Calendar days count real time. Business clocks count wall time inside working intervals:
        started outside them the count begins at the next opening, and an amount that ends exactly
        at a closing time ends there (Friday 16:00 + 1 business hour is Friday 17:00, not Monday).
        """
        self._check_aware(start)
        if amount < dt.timedelta(0):
            raise ValueError("amount must not be negative")
        if clock == Clock.CALENDAR_DAYS:
            return start + amount
        if not amount:
            return start
        local = self._local(start)
        day = local.date()
        self._prefetch(day, day + self._estimate_days(amount, clock))
        remaining = amount
        for _i in range(_MAX_DAYS):
            for opens, closes in self._intervals(day, clock):
                if closes <= local:
                    continue
                opens = max(opens, local)
                span = closes - opens
                if remaining <= span:
                    return self._aware(opens + remaining)
                remaining -= span
            day += _DAY
        raise NoWorkingTime(start)

    def elapsed(self, start: dt.datetime, end: dt.datetime, *, clock: str) -> dt.timedelta:
        """The clock's time between two instants (negative when ``end`` is before ``start``)."""
        self._check_aware(start)
        self._check_aware(end)
        if end < start:
            return -self.elapsed(end, start, clock=clock)
        if clock == Clock.CALENDAR_DAYS:
            return end - start
        first, last = self._local(start), self._local(end)
        self._prefetch(first.date(), last.date())
        total = dt.timedelta(0)
        day = first.date()
        while day <= last.date():
            for opens, closes in self._intervals(day, clock):
                overlap = min(closes, last) - max(opens, first)
                if overlap > dt.timedelta(0):
                    total += overlap
            day += _DAY
        return total

    def business_hours_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Opening hours on working days between two instants."""
        return self.elapsed(start, end, clock=Clock.BUSINESS_HOURS)

    # --- Working intervals --------------------------------------------------------------------

    def opening_hours(self, day: dt.date) -> list[tuple[dt.time, dt.time]]:
        """The branch's opening intervals on ``day`` (none on a non-working day).

        A make-up working day is worked as a normal weekday: it gets the hours of the branch's
        first non-weekend weekday that has any (usually Monday), whatever its own weekday says.
        A branch with no opening hours at all is open ``default_hours`` on every working day.
        """
        if not self.is_working_day(day):
            return []
        weekly = self._weekly()
        if not weekly:
            return list(self.default_hours)
        if self._exception(day) == CalendarDay.Kind.WORKDAY:
            return list(self._standard_day_hours())
        return list(weekly.get(day.isoweekday(), ()))

    def _intervals(self, day: dt.date, clock: str) -> Iterable[tuple[dt.datetime, dt.datetime]]:
        # Naive wall-clock intervals: a business hour is an hour on the branch's clock face.
        if clock == Clock.BUSINESS_DAYS:
            if self.is_working_day(day):
                start = dt.datetime.combine(day, _MIDNIGHT)
                return ((start, start + _DAY),)
            return ()
        return tuple(
            (dt.datetime.combine(day, opens), dt.datetime.combine(day, closes))
            for opens, closes in self.opening_hours(day)
        )

    def _weekly(self) -> dict[int, Hours]:
        if self._weekly_hours is None:
            weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
            if self._branch is not None:
                for row in self._branch.opening_hours.all():
                    weekly.setdefault(row.weekday, []).append((row.opens_at, row.closes_at))
            self._weekly_hours = {day: sorted(hours) for day, hours in weekly.items()}
        return self._weekly_hours

    def _standard_day_hours(self) -> Hours:
        weekly = self._weekly()
        for weekday in range(1, 8):
            if weekday not in self.weekend and weekly.get(weekday):
                return weekly[weekday]
        return self.default_hours

    # --- Exception days, loaded by range --------------------------------------------------------

    def _exception(self, day: dt.date) -> str | None:
        if self.calendar is None:
            return None
        if self._loaded is None or not (self._loaded[0] <= day <= self._loaded[1]):
            self._prefetch(day, day + dt.timedelta(days=_CHUNK_DAYS))
        return self._exceptions.get(day)

    def _prefetch(self, first: dt.date, last: dt.date) -> None:
        """Make sure exception days from ``first`` to ``last`` are loaded, in at most one query."""
        if self.calendar is None:
            return
        if self._loaded is not None:
            low, high = self._loaded
            if low <= first and last <= high:
                return
            # Keep one contiguous loaded range: read only the missing end (or, when both ends
            # are missing, the whole span).
            if first >= low:
                first = high + _DAY
            elif last <= high:
                last = low - _DAY
        rows = CalendarDay.objects.filter(
            calendar_id=self.calendar.pk, date__gte=first, date__lte=last
        ).values_list("date", "kind")
        self._exceptions.update(rows)
        if self._loaded is None:
            self._loaded = (first, last)
        else:
            self._loaded = (min(first, self._loaded[0]), max(last, self._loaded[1]))

    @staticmethod
    def _estimate_days(amount: dt.timedelta, clock: str) -> dt.timedelta:
        # Enough calendar days to cover the amount through weekends and a long holiday; a walk
        # that needs more reads the next chunk.
        if clock == Clock.BUSINESS_DAYS:
            working_days = math.ceil(amount / _DAY)
        else:
            working_days = math.ceil(amount / dt.timedelta(hours=4))
        return dt.timedelta(days=working_days * 2 + 30)

    # --- Zones ----------------------------------------------------------------------------------

    def _local(self, moment: dt.datetime) -> dt.datetime:
        self._check_aware(moment)
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def _aware(self, wall: dt.datetime) -> dt.datetime:
        # A wall time skipped by a DST change (01:30 on the spring-forward night in London) is
        # read with the offset before the change, i.e. it lands an hour later on the new clock;
        # a repeated wall time is its first occurrence.
        return wall.replace(tzinfo=self.zone).astimezone(dt.UTC)

    @staticmethod
    def _check_aware(moment: dt.datetime) -> None:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("aware datetimes only")
