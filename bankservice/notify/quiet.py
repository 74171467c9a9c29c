"""Quiet hours: local times of day when a branch's customers get no messages."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Window = tuple[dt.time, dt.time]


def parse_window(value: str) -> Window | None:
    """ "21:00-08:00" -> (21:00, 08:00); "off" or "" -> None (no quiet hours)."""
    value = value.strip()
    if value.lower() in {"", "off", "none"}:
        return None
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Quiet hours must look like 21:00-08:00, not {value!r}"
        ) from exc
    if start == end:
        raise ImproperlyConfigured(f"Quiet hours {value!r} start and end at the same time.")
    return start, end


def window_for_branch(branch) -> Window | None:
    """The branch's own quiet hours if it has a row, else NOTIFY_QUIET_HOURS."""
    from .models import BranchQuietHours

    row = BranchQuietHours.objects.filter(branch=branch).first() if branch else None
    if row is not None:
        return (row.starts_at, row.ends_at) if row.enabled else None
    return parse_window(settings.NOTIFY_QUIET_HOURS)


def quiet_until(
    at: dt.datetime, window: Window | None, zone: zoneinfo.ZoneInfo
) -> dt.datetime | None:
    """If `at` falls inside the window (local time in `zone`), the moment the window ends (UTC);
    otherwise None. Windows may cross midnight (21:00-08:00)."""
    if window is None:
        return None
    start, end = window
    local = at.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    if start < end:  # within one day, e.g. 12:00-13:30
        if not start <= now < end:
            return None
        end_day = local.date()
    else:  # across midnight
        if end <= now < start:
            return None
        end_day = local.date() + dt.timedelta(days=1) if now >= start else local.date()
    # A local time skipped by a DST change resolves forwards (zoneinfo's fold=0 semantics).
    return dt.datetime.combine(end_day, end, tzinfo=zone).astimezone(dt.UTC)
