"""Working-day questions answered from a BusinessCalendar (the SLA module builds on these)."""

import datetime as dt

from .models import BusinessCalendar, CalendarDay


def is_working_day(calendar: BusinessCalendar, day: dt.date) -> bool:
    """A make-up day is worked even at a weekend; a holiday is off even on a weekday."""
    exception = CalendarDay.objects.filter(calendar=calendar, date=day).values_list(
        "kind", flat=True
    )
    kind = next(iter(exception), None)
    if kind is not None:
        return kind == CalendarDay.Kind.WORKDAY
    return day.isoweekday() not in (calendar.weekend_days or [])
