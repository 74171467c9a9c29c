"""Shared by the lifecycle tests: "now" pinned at the receipt of the CN example (Thursday 17
September 2026, 10:00 in Shanghai), people around branch_a, and small helpers."""

import datetime as dt

import pytest

from bankservice.events.models import Event
from bankservice.sla.selectors import deadlines_for
from complaints.models import ClockMetBy, ClockNature, ClockUnit, PackClock
from complaints.services import (
    complaint_assign,
    complaint_investigate,
    pack_assign,
    pack_copy,
)

from .conftest import SHANGHAI, at

RECEIVED = at(SHANGHAI, 2026, 9, 17, 10)
UTC = dt.UTC


@pytest.fixture
def now(time_machine):
    """now.move(moment): the clock stands still at ``moment`` (it starts at RECEIVED)."""

    class Now:
        def move(self, moment):
            time_machine.move_to(moment, tick=False)

    clock = Now()
    clock.move(RECEIVED)
    return clock


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


@pytest.fixture
def other_branch_officer(make_staff, branch_b):
    return make_staff("complaint_officer", branch=branch_b, username="officer-b")


@pytest.fixture
def hq_manager(make_staff):
    return make_staff("hq_manager", username="hq")


@pytest.fixture
def complaint(now, make_complaint):
    return make_complaint()


@pytest.fixture
def investigating(complaint, officer, branch_manager):
    complaint_assign(actor=branch_manager, complaint=complaint, officer=officer)
    return complaint_investigate(actor=officer, complaint=complaint)


@pytest.fixture
def internal_pack(cn_pack, branch_a):
    """A copy of the CN pack with an internal, pausable 24-hour target, used at branch_a."""
    copy = pack_copy(pack=cn_pack, actor=None, code="cn-internal")
    PackClock.objects.create(
        pack=copy,
        code="internal_target",
        name_zh="内部处理目标",
        name_en="Internal target",
        nature=ClockNature.INTERNAL,
        duration=24,
        unit=ClockUnit.HOURS,
        pausable=True,
        met_by=ClockMetBy.DECISION,
    )
    pack_assign(pack=copy, branch=branch_a, actor=None)
    return copy


def clock(complaint, code):
    """The complaint's latest deadline of the pack clock ``code``."""
    return deadlines_for(complaint, kind=f"complaint.{code}").last()


def events(type_):
    return list(Event.objects.filter(type=type_).order_by("id"))


def utc(year, month, day, hour=0, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)
