"""GET /api/v1/evaluation and /api/v1/staffing (issue 9): answers, 400s with field messages,
scope, permissions and query counts."""

import datetime as dt

import pytest

from bankservice.branches.models import Role
from dashboards.models import HourRollup
from tests.dashboards.rollup_rows import day_rollup
from tests.reception.factories import CounterFactory, ServiceTypeFactory

EVALUATION = "/api/v1/evaluation"
STAFFING = "/api/v1/staffing"
WEEK = dt.date(2026, 3, 30)


@pytest.fixture
def rollups(branch_a, branch_b):
    """Service level at A: 10/20 in the week of 2 March, 18/20 in the week of 9 March; B (the
    control in March's second week): 10/20."""
    for branch, day, within in (
        (branch_a, dt.date(2026, 3, 2), 10),
        (branch_a, dt.date(2026, 3, 9), 18),
        (branch_b, dt.date(2026, 3, 9), 10),
    ):
        day_rollup(day=day, branch=branch, service="cash", tickets_called=20, within_target=within)


@pytest.fixture
def manager(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-a")


@pytest.fixture
def regional(make_staff, region):
    return make_staff(Role.REGIONAL_MANAGER, region=region, username="regional-east")


PERIODS = {
    "mode": "periods",
    "before_start": "2026-03-02",
    "before_end": "2026-03-08",
    "after_start": "2026-03-09",
    "after_end": "2026-03-15",
    "kpi": "service_level,wait_mean",
}


def test_evaluation_of_two_periods(api, rollups, manager, django_assert_num_queries):
    api.force_authenticate(manager)
    api.get(EVALUATION, PERIODS)
    # (memberships cached by the first call) the scope of the branches asked for; per period:
    # scope, sums, histograms.
    with django_assert_num_queries(7):
        response = api.get(EVALUATION, PERIODS)
    assert response.status_code == 200, response.data
    body = response.json()
    assert body["first"] == {"start": "2026-03-02", "end": "2026-03-08", "branches": None}
    rows = {row["kpi"]: row for row in body["rows"]}
    assert list(rows) == ["wait_mean", "service_level"]  # KPIS order
    # 10/20 -> 18/20: pooled 28/40 = .7, se = sqrt(.7*.3*(2/20)) = .1449, z = .4/.1449 = 2.76,
    # p = 0.0058.
    level = rows["service_level"]
    assert (level["before"], level["after"]) == (0.5, 0.9)
    assert level["p_value"] == pytest.approx(0.0058, abs=0.0002)
    assert level["significant"] and level["improved"] and level["direction"] == "better"
    assert level["test"] == "two-proportion-z"
    assert rows["wait_mean"]["enough_data"] is False  # no waits recorded


def test_evaluation_of_pilot_against_control(api, rollups, regional, branch_a, branch_b):
    api.force_authenticate(regional)
    response = api.get(
        EVALUATION,
        {
            "mode": "pilot",
            "start": "2026-03-09",
            "end": "2026-03-15",
            "pilot": f"{branch_a.id}",
            "control": f"{branch_b.id}",
            "kpi": "service_level",
        },
    )
    assert response.status_code == 200, response.data
    row = response.json()["rows"][0]
    assert (row["before"], row["after"]) == (0.5, 0.9)  # control B, pilot A
    assert response.json()["second"]["branches"] == [branch_a.id]


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "mode"),
        ({"mode": "periods"}, "before_start"),
        ({**PERIODS, "after_end": "2026-03-01"}, "after_end"),
        ({**PERIODS, "before_end": "2028-12-31"}, "before_end"),
        ({**PERIODS, "kpi": "nonsense"}, "kpi"),
        ({**PERIODS, "branches": "1,x"}, "branches"),
        ({"mode": "pilot", "start": "2026-03-01", "end": "2026-03-08"}, "pilot"),
    ],
)
def test_evaluation_bad_queries_are_400(api, manager, params, field):
    api.force_authenticate(manager)
    response = api.get(EVALUATION, params)
    assert response.status_code == 400
    assert field in response.json()


def test_evaluation_branches_outside_the_scope_are_400(api, manager, branch_a, branch_b):
    api.force_authenticate(manager)
    response = api.get(
        EVALUATION,
        {"mode": "pilot", "start": "2026-03-01", "end": "2026-03-08",
         "pilot": branch_a.id, "control": branch_b.id},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"control": [f"Not in your scope: {branch_b.id}."]}
    response = api.get(EVALUATION, {**PERIODS, "branches": f"{branch_b.id}"})
    assert response.status_code == 400 and "branches" in response.json()


def test_evaluation_needs_the_dashboards_permission(api, teller):
    api.force_authenticate(teller)
    assert api.get(EVALUATION, PERIODS).status_code == 403
    api.force_authenticate(None)
    assert api.get(EVALUATION, PERIODS).status_code in (401, 403)


# --- Staffing


@pytest.fixture
def history(branch_a):
    """4 weeks: Monday 09:00, 200 tickets served in 180 s each (10 erlangs); 2 cash counters."""
    cash = ServiceTypeFactory(branch=branch_a, code="cash")
    CounterFactory(branch=branch_a, number=1, services=[cash])
    CounterFactory(branch=branch_a, number=2, services=[cash])
    for k in range(4):
        HourRollup.objects.create(
            day=dt.date(2026, 3, 2) + dt.timedelta(weeks=k),
            hour=9,
            branch=branch_a,
            service="cash",
            tickets_issued=200,
            served=200,
            service_seconds=36_000,
        )


def test_staffing_forecast_and_recommendation(
    api, history, manager, branch_a, django_assert_num_queries
):
    api.force_authenticate(manager)
    query = {
        "branch": branch_a.id,
        "service": "cash",
        "week": "2026-04-01",
        "weeks": 4,
        "target_level": 0.8,
        "target_seconds": 20,
    }
    api.get(STAFFING, query)
    # (memberships cached by the first call) the plan: scope, services, scope + hourly sums,
    # calendar, holidays, opening hours.
    with django_assert_num_queries(7):
        response = api.get(STAFFING, query)
    assert response.status_code == 200, response.data
    body = response.json()
    assert (body["week"], body["history_start"]) == ("2026-03-30", "2026-03-02")
    assert (body["handle_seconds"], body["handle_source"]) == (180.0, "history")
    assert (body["planned"], body["planned_source"]) == (2, "counters")
    monday = next(h for h in body["hours"] if h["date"] == "2026-03-30" and h["hour"] == 9)
    # The published example: 10 erlangs, 80% within 20 s of a 180 s call -> 14 counters.
    assert monday["arrivals"] == pytest.approx(200.0)
    assert monday["counters_needed"] == 14
    assert monday["service_level_needed"] == pytest.approx(0.888, abs=0.001)
    assert monday["misses"] and monday["mean_wait_seconds_planned"] is None  # 2 < 10 erlangs
    assert body["hours_missing"] == 1 and len(body["hours"]) == 40
    response = api.get(STAFFING, {**query, "planned": 14})
    monday = next(
        h for h in response.json()["hours"] if h["date"] == "2026-03-30" and h["hour"] == 9
    )
    assert not monday["misses"] and monday["mean_wait_seconds_planned"] == pytest.approx(
        7.83, abs=0.05
    )
    assert response.json()["planned_source"] == "request"


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"branch": "x"}, "branch"),
        ({"service": ""}, "service"),
        ({"service": "nonsense"}, "service"),
        ({"target_level": 1.5}, "target_level"),
        ({"target_seconds": 0}, "target_seconds"),
        ({"weeks": 53}, "weeks"),
        ({"planned": -1}, "planned"),
        ({"week": "2026-02-30"}, "week"),
    ],
)
def test_staffing_bad_queries_are_400(api, history, manager, branch_a, extra, field):
    api.force_authenticate(manager)
    response = api.get(STAFFING, {"branch": branch_a.id, "service": "cash", **extra})
    assert response.status_code == 400
    assert field in response.json()


def test_staffing_outside_the_scope_is_400(api, history, manager, branch_b):
    ServiceTypeFactory(branch=branch_b, code="cash")
    api.force_authenticate(manager)
    response = api.get(STAFFING, {"branch": branch_b.id, "service": "cash"})
    assert response.status_code == 400
    assert response.json() == {"branch": ["This branch is not in your scope."]}


def test_an_api_client_with_the_dashboards_scope(make_api_client, history, branch_a, branch_b):
    client = make_api_client(["dashboards:read"], branches=[branch_a])
    response = client.get(STAFFING, {"branch": branch_a.id, "service": "cash", "week": WEEK})
    assert response.status_code == 200
    assert client.get(STAFFING, {"branch": branch_b.id, "service": "cash"}).status_code == 400
    other = make_api_client(["reception:read"], branches=[branch_a])
    assert other.get(STAFFING, {"branch": branch_a.id, "service": "cash"}).status_code == 403
