"""Fixtures for rule packs: the shipped packs (installed by the migration) on calendars loaded with
the shipped 2026 holiday files, and branches in Shanghai, London and New York."""

import datetime as dt
import zoneinfo
from importlib import resources

import pytest

from bankservice.branches.models import BusinessCalendar
from bankservice.branches.services import calendar_import
from complaints.models import RulePack
from tests.factories import BranchFactory, RegionFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


def at(zone, year, month, day, hour=0, minute=0) -> dt.datetime:
    """An aware datetime on a zone's wall clock."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


def load_shipped(code: str, filename: str, fmt: str) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.get(code=code)  # created by the packs' migration
    content = resources.files("bankservice.branches").joinpath("data", filename).read_text("utf-8")
    calendar_import(calendar=calendar, content=content, fmt=fmt)
    return calendar


@pytest.fixture
def cn_pack(db) -> RulePack:
    load_shipped("cn", "cn-2026.csv", "csv")
    return RulePack.objects.get(code="cn")


@pytest.fixture
def uk_pack(db) -> RulePack:
    load_shipped("gb-eaw", "gb-eaw-2026.ics", "ical")
    return RulePack.objects.get(code="uk")


@pytest.fixture
def us_pack(db) -> RulePack:
    return RulePack.objects.get(code="us")


@pytest.fixture
def cn_branch(db):
    return BranchFactory(code="sh", region=RegionFactory(code="east"))


@pytest.fixture
def london_branch(db):
    # Its own queue calendar is the Chinese one on purpose: the pack's calendar must win.
    return BranchFactory(code="ldn", region=RegionFactory(code="uk"), time_zone="Europe/London")


@pytest.fixture
def new_york_branch(db):
    return BranchFactory(code="nyc", region=RegionFactory(code="us"), time_zone="America/New_York")


# --- People and complaints at branch_a (region "east"), on the bank's default CN pack. ----------


@pytest.fixture
def officer(make_staff, branch_a):
    return make_staff("complaint_officer", branch=branch_a, username="officer")


@pytest.fixture
def officer_2(make_staff, branch_a):
    return make_staff("complaint_officer", branch=branch_a, username="officer-2")


@pytest.fixture
def branch_manager(make_staff, branch_a):
    return make_staff("branch_manager", branch=branch_a, username="manager")


@pytest.fixture
def regional_manager(make_staff, region):
    return make_staff("regional_manager", region=region, username="regional")


@pytest.fixture
def complainant(db, branch_a):
    from tests.factories import CustomerFactory

    return CustomerFactory(home_branch=branch_a, email="li.na@example.cn", phone="+8613800138000")


@pytest.fixture
def category(db):
    from complaints.models import Category

    return Category.objects.get(code="card")  # installed by the taxonomy's migration


@pytest.fixture
def make_complaint(cn_pack, branch_a, teller, complainant, category):
    """make_complaint(**overrides) -> a complaint at branch_a received now, through the service."""
    from complaints.services import complaint_create

    def make(**overrides):
        values = {
            "actor": teller,
            "branch": branch_a,
            "channel": "counter",
            "category": category,
            "description": "The ATM kept my card and the branch did not call back.",
            "customer": complainant,
        }
        values.update(overrides)
        return complaint_create(**values)

    return make
