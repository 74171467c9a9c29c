"""The dashboards' query layer on hand-built rollup rows: sums by any dimension, KPIs from the
sums, percentiles from the summed histograms, and the branch scope."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.branches.models import Role
from bankservice.core.measures import bucket
from dashboards.models import HourRollup
from dashboards.selectors import kpi_table, measure_table, scope_branch_ids
from tests.dashboards.rollup_rows import day_rollup

MON = dt.date(2026, 3, 2)  # a Monday
pytestmark = pytest.mark.django_db


def _day(branch, day=MON, service="cash", staff=None, waits=(), **measures):
    """A DayRollup row whose wait measures come from the listed waits (seconds)."""
    histogram = {}
    for wait in waits:
        histogram[str(bucket(wait))] = histogram.get(str(bucket(wait)), 0) + 1
    return day_rollup(
        day=day,
        branch=branch,
        service=service,
        staff=staff,
        tickets_called=len(waits),
        wait_seconds=sum(waits),
        histograms={"wait_histogram": histogram} if waits else {},
        **measures,
    )


@pytest.fixture
def rows(branch_a, branch_b, branch_other_region, teller):
    # Branch A: waits 60 and 120 s on Monday (cash, by the teller), 300 s on Thursday (loans).
    _day(branch_a, staff=teller, waits=(60, 120), served=2, complaints_received=1)
    _day(branch_a, day=MON + dt.timedelta(days=3), service="loans", waits=(300,), served=1)
    # Branch B: 600 s on Monday. West: 30 s (another region).
    _day(branch_b, waits=(600,), served=1)
    _day(branch_other_region, waits=(30,), served=1)


def test_totals_and_kpis_for_everything_in_scope(rows, make_staff):
    hq = make_staff(Role.HQ_MANAGER)
    (total,) = kpi_table(hq, start=MON, end=MON + dt.timedelta(days=6))
    assert total.key == {}
    assert total.measures["tickets_called"] == 5
    # (60 + 120 + 300 + 600 + 30) / 5 = 222 s
    assert total.values["wait_mean"] == pytest.approx(222.0)
    # Sorted waits 30, 60, 120, 300, 600: the median is 120 s, in bucket 120-150 s -> 150.
    assert total.values["wait_median"] == 150.0
    # 1 complaint per 5 served -> 200 per 1,000.
    assert total.values["complaint_rate"] == pytest.approx(200.0)
    assert total.values["csat_mean"] is None  # no survey answers: no value, not zero


def test_grouping_by_region_branch_service_and_week(rows, make_staff, branch_a, branch_b):
    hq = make_staff(Role.HQ_MANAGER)
    week = MON, MON + dt.timedelta(days=6)
    by_branch = kpi_table(hq, start=week[0], end=week[1], by=("branch",), codes=["wait_mean"])
    means = {row.labels["branch"]: row.values["wait_mean"] for row in by_branch}
    assert means == {"Branch A": 160.0, "Branch B": 600.0, "Branch West": 30.0}

    by_region = kpi_table(hq, start=week[0], end=week[1], by=("region",), codes=["wait_mean"])
    # East: (60 + 120 + 300 + 600) / 4 = 270.
    east = by_region[0]
    assert (east.labels["region"], east.values["wait_mean"]) == ("East", 270.0)

    by_service = measure_table(hq, start=week[0], end=week[1], branch=branch_a.id, by=("service",))
    assert [(r.key["service"], r.measures["tickets_called"]) for r in by_service] == [
        ("cash", 2),
        ("loans", 1),
    ]
    (weekly,) = measure_table(
        hq, start=week[0], end=week[1], by=("week",), region=branch_b.region_id
    )
    assert weekly.key == {"week": MON}
    assert weekly.measures["tickets_called"] == 4


def test_period_bounds_are_inclusive(rows, make_staff):
    hq = make_staff(Role.HQ_MANAGER)
    monday_only = measure_table(hq, start=MON, end=MON)
    assert monday_only[0].measures["tickets_called"] == 4  # Thursday's loans row left out
    assert measure_table(hq, start=MON + dt.timedelta(days=4), end=MON + dt.timedelta(days=9)) == []


def test_a_branch_manager_sees_only_their_branch(rows, make_staff, branch_a, branch_b):
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)
    assert scope_branch_ids(manager) == [branch_a.id]
    (total,) = measure_table(manager, start=MON, end=MON + dt.timedelta(days=6))
    assert total.measures["tickets_called"] == 3
    # Asking for another branch gives nothing, not that branch's figures.
    assert measure_table(manager, start=MON, end=MON, branch=branch_b.id) == []


def test_staff_figures_need_the_staff_performance_permission(rows, make_staff, branch_a, teller):
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)
    auditor = make_staff(Role.AUDITOR, branch=branch_a)
    rows_by_staff = measure_table(manager, start=MON, end=MON, by=("staff",))
    assert [(r.key["staff"], r.measures["served"]) for r in rows_by_staff] == [(teller.id, 2)]
    with pytest.raises(PermissionDenied):
        measure_table(auditor, start=MON, end=MON, by=("staff",))
    with pytest.raises(PermissionDenied):
        measure_table(auditor, start=MON, end=MON, staff=teller.id)
    # The auditor still sees the branch's totals.
    assert measure_table(auditor, start=MON, end=MON)[0].measures["served"] == 2


def test_no_permission_no_rows(rows, teller):
    assert scope_branch_ids(teller) == []
    assert measure_table(teller, start=MON, end=MON) == []


def test_by_hour_reads_the_hourly_rollups(branch_a, make_staff):
    hq = make_staff(Role.HQ_MANAGER)
    HourRollup.objects.create(day=MON, hour=9, branch=branch_a, service="cash", tickets_issued=4)
    HourRollup.objects.create(day=MON, hour=14, branch=branch_a, service="cash", tickets_issued=7)
    HourRollup.objects.create(
        day=MON + dt.timedelta(days=1), hour=9, branch=branch_a, service="fx", tickets_issued=1
    )
    rows = measure_table(hq, start=MON, end=MON + dt.timedelta(days=1), by=("hour",))
    assert [(r.key["hour"], r.labels["hour"], r.measures["tickets_issued"]) for r in rows] == [
        (9, "09:00", 5),
        (14, "14:00", 7),
    ]
    with pytest.raises(ValueError):
        measure_table(hq, start=MON, end=MON, by=("hour", "staff"))
    with pytest.raises(ValueError):
        measure_table(hq, start=MON, end=MON, by=("shoe_size",))
