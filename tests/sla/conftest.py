"""Fixtures for deadlines: calendars with real 2026 holidays, branches in two zones, a registry
that each test fills for itself."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import translation

from bankservice.branches.models import CalendarDay
from bankservice.sla import policies
from tests.factories import BranchFactory, CalendarFactory, CustomerFactory, RegionFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LONDON = zoneinfo.ZoneInfo("Europe/London")

# Spring Festival 2026 (State Council notice): off 15–23 February, worked Saturdays 14 and 28.
SPRING_FESTIVAL_2026 = {
    dt.date(2026, 2, 14): CalendarDay.Kind.WORKDAY,
    **{dt.date(2026, 2, day): CalendarDay.Kind.HOLIDAY for day in range(15, 24)},
    dt.date(2026, 2, 28): CalendarDay.Kind.WORKDAY,
}
# England and Wales 2026 Easter bank holidays.
EASTER_2026_EAW = {
    dt.date(2026, 4, 3): CalendarDay.Kind.HOLIDAY,  # Good Friday
    dt.date(2026, 4, 6): CalendarDay.Kind.HOLIDAY,  # Easter Monday
}


def at(zone, year, month, day, hour=0, minute=0) -> dt.datetime:
    """An aware datetime on a zone's wall clock."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


def load_days(calendar, days: dict) -> None:
    CalendarDay.objects.bulk_create(
        CalendarDay(calendar=calendar, date=date, kind=kind) for date, kind in days.items()
    )


@pytest.fixture(autouse=True)
def _english():
    # Messages are matched in English; the default language of the site is Chinese.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """Each test registers its own policies and handlers; nothing leaks between tests."""
    monkeypatch.setattr(policies, "_policies", {})
    monkeypatch.setattr(policies, "_handlers", {})
    return policies


@pytest.fixture
def cn_branch(db):
    """A Shanghai branch, Mon–Fri 09:00–17:00, on the `cn` calendar with Spring Festival 2026."""
    branch = BranchFactory(code="sh01", time_zone="Asia/Shanghai", region=RegionFactory())
    load_days(branch.calendar, SPRING_FESTIVAL_2026)
    return branch


@pytest.fixture
def london_branch(db):
    """A London branch, Mon–Fri 09:00–17:00, on the England and Wales calendar (Easter 2026)."""
    calendar = CalendarFactory(code="gb-eaw", name="England and Wales", weekend_days=[6, 7])
    load_days(calendar, EASTER_2026_EAW)
    return BranchFactory(code="ldn01", time_zone="Europe/London", calendar=calendar)


@pytest.fixture
def subject(cn_branch):
    """Any model can own a deadline; a customer record stands in for a complaint here."""
    return CustomerFactory(home_branch=cn_branch)


@pytest.fixture
def calls():
    """Handlers that remember what they were called with (deadline ids, in order)."""

    class Calls:
        def __init__(self):
            self.breached: list[int] = []
            self.warned: list[int] = []

        def on_breach(self, deadline):
            self.breached.append(deadline.pk)

        def on_warning(self, deadline):
            self.warned.append(deadline.pk)

    return Calls()
