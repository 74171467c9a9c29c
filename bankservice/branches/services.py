"""Writes to branches: staff memberships and business-calendar imports."""

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import BusinessCalendar, CalendarDay, Role, StaffMembership


def membership_grant(*, user, role: str, branch=None, region=None) -> StaffMembership:
    """Give `user` a role at a branch, over a region, or bank-wide; idempotent."""
    if branch is not None and region is not None:
        raise ValidationError(_("A membership is for a branch or a region, not both."))
    group = Group.objects.get(name=role)
    with transaction.atomic():
        membership, _created = StaffMembership.objects.get_or_create(
            user=user, role=group, branch=branch, region=region
        )
        _sync_user_groups(user)
    return membership


def membership_revoke(*, membership: StaffMembership) -> None:
    """Remove a membership; the user keeps the role's group only while another grants it."""
    user = membership.user
    with transaction.atomic():
        membership.delete()
        _sync_user_groups(user)


def _sync_user_groups(user) -> None:
    # Django admin reads user.groups; branch scope reads memberships. Keep the two equal.
    role_ids = set(StaffMembership.objects.filter(user=user).values_list("role_id", flat=True))
    user.groups.set(role_ids)
    is_staff = user.is_superuser or Group.objects.filter(id__in=role_ids, name=Role.ADMIN).exists()
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


DEFAULT_WEEKEND = [6, 7]


def calendar_ensure(
    *, code: str, name: str | None = None, weekend_days: list[int] | None = None
) -> tuple[BusinessCalendar, bool]:
    """Get or create a calendar; a name or weekend given changes an existing one."""
    calendar = BusinessCalendar.objects.filter(code=code).first()
    created = calendar is None
    if created:
        calendar = BusinessCalendar(
            code=code,
            name=name or code,
            weekend_days=DEFAULT_WEEKEND if weekend_days is None else weekend_days,
        )
    else:
        if name is not None:
            calendar.name = name
        if weekend_days is not None:
            calendar.weekend_days = weekend_days
    if created or name is not None or weekend_days is not None:
        calendar.full_clean()
        calendar.save()
    return calendar, created


@dataclass(frozen=True)
class CalendarImportResult:
    created: int
    updated: int


def calendar_import(*, calendar: BusinessCalendar, content: str, fmt: str) -> CalendarImportResult:
    """Load holidays and make-up working days from CSV (date,kind,name) or iCalendar.

    In iCalendar, an event whose summary or categories mark it as a working day (补班, 上班,
    "working day", "make-up") is a make-up day; every other event is a holiday, one day per date
    it covers. Re-importing the same file changes nothing.
    """
    rows = _parse_csv(content) if fmt == "csv" else _parse_ical(content)
    created = updated = 0
    with transaction.atomic():
        for day, kind, name in rows:
            _obj, was_created = CalendarDay.objects.update_or_create(
                calendar=calendar, date=day, defaults={"kind": kind, "name": name[:100]}
            )
            created += was_created
            updated += not was_created
    return CalendarImportResult(created=created, updated=updated)


def _parse_csv(content: str) -> list[tuple[dt.date, str, str]]:
    rows = []
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames or not {"date", "kind"} <= {f.strip() for f in reader.fieldnames}:
        raise ValidationError(_("The CSV needs the columns date, kind and (optionally) name."))
    for line_no, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        try:
            day = dt.date.fromisoformat(row["date"])
        except ValueError:
            raise ValidationError(
                _("Line %(line)s: %(value)s is not a date (YYYY-MM-DD)."),
                params={"line": line_no, "value": row["date"]},
            ) from None
        kind = row["kind"].lower()
        if kind not in CalendarDay.Kind.values:
            raise ValidationError(
                _("Line %(line)s: kind must be holiday or workday, not %(value)s."),
                params={"line": line_no, "value": row["kind"]},
            )
        rows.append((day, kind, row.get("name", "")))
    return rows


WORKDAY_MARKERS = ("补班", "上班", "调休上班", "working day", "workday", "make-up")


def _parse_ical(content: str) -> list[tuple[dt.date, str, str]]:
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(content)
    except ValueError as exc:
        raise ValidationError(_("Not an iCalendar file: %(error)s"), params={"error": exc}) from exc
    rows = []
    for event in cal.walk("VEVENT"):
        summary = str(event.get("SUMMARY", ""))
        categories = event.get("CATEGORIES")
        cats = " ".join(str(c) for c in getattr(categories, "cats", []) or [])
        text = f"{summary} {cats}".lower()
        kind = (
            CalendarDay.Kind.WORKDAY
            if any(m in text for m in WORKDAY_MARKERS)
            else CalendarDay.Kind.HOLIDAY
        )
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND") if event.get("DTEND") else None
        start = start.date() if isinstance(start, dt.datetime) else start
        end = end.date() if isinstance(end, dt.datetime) else end
        end = end or start + dt.timedelta(days=1)  # DTEND is exclusive for all-day events
        day = start
        while day < end:
            rows.append((day, kind, summary))
            day += dt.timedelta(days=1)
    return rows
