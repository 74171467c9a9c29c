"""GET /api/v1/kpis and /api/v1/kpi-definitions: values by dimension from the rollups, the
scope of staff and API clients, and 400s with field messages for bad queries."""

import datetime as dt

import pytest

from bankservice.branches.models import Role
from tests.dashboards.rollup_rows import day_rollup

MON = dt.date(2026, 3, 2)
URL = "/api/v1/kpis"
pytestmark = pytest.mark.django_db


@pytest.fixture
def rollups(branch_a, branch_b, teller):
    day_rollup(
        day=MON,
        branch=branch_a,
        service="cash",
        staff=teller,
        tickets_issued=10,
        tickets_called=8,
        wait_seconds=8 * 90,
        abandoned=2,
        within_target=6,
        served=8,
    )
    day_rollup(
        day=MON + dt.timedelta(days=1),
        branch=branch_b,
        service="cash",
        tickets_issued=5,
        tickets_called=5,
        wait_seconds=5 * 300,
        within_target=1,
        served=5,
    )


def test_values_by_branch_and_day(api, make_staff, rollups, branch_a, branch_b):
    api.force_authenticate(make_staff(Role.REGIONAL_MANAGER, region=branch_a.region))
    response = api.get(
        URL,
        {
            "start": "2026-03-02",
            "end": "2026-03-08",
            "by": "branch,day",
            "kpi": "wait_mean,service_level",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["by"] == ["branch", "day"]
    assert [(row["key"], row["values"]) for row in body["rows"]] == [
        # 6 called in time of 8 called + 2 abandoned = 0.6
        ({"branch": branch_a.id, "day": "2026-03-02"}, {"wait_mean": 90.0, "service_level": 0.6}),
        ({"branch": branch_b.id, "day": "2026-03-03"}, {"wait_mean": 300.0, "service_level": 0.2}),
    ]
    assert body["rows"][0]["labels"] == {"branch": "Branch A", "day": "2026-03-02"}
    assert body["rows"][0]["volumes"]["tickets_issued"] == 10


def test_total_row_and_every_kpi(api, make_staff, rollups, branch_a):
    api.force_authenticate(make_staff(Role.HQ_MANAGER))
    with_every_kpi = api.get(URL, {"start": "2026-03-02", "end": "2026-03-02"})
    (row,) = with_every_kpi.json()["rows"]
    assert row["key"] == {}
    assert row["values"]["abandonment_rate"] == pytest.approx(0.2)  # 2 of 10 issued
    assert row["values"]["nps"] is None
    assert len(row["values"]) == 18


def test_a_branch_manager_gets_only_their_branch(api, make_staff, rollups, branch_a, branch_b):
    api.force_authenticate(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    body = api.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "by": "branch"}).json()
    assert [row["key"]["branch"] for row in body["rows"]] == [branch_a.id]
    other = api.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "branch": branch_b.id})
    assert other.json()["rows"] == []


def test_by_staff_needs_the_staff_performance_permission(api, make_staff, rollups, branch_a):
    api.force_authenticate(make_staff(Role.AUDITOR, branch=branch_a))
    query = {"start": "2026-03-01", "end": "2026-03-31"}
    assert api.get(URL, query).status_code == 200
    assert api.get(URL, {**query, "by": "staff"}).status_code == 403


def test_tellers_and_clients_without_the_scope_are_refused(api, teller, make_api_client, rollups):
    api.force_authenticate(teller)
    query = {"start": "2026-03-01", "end": "2026-03-31"}
    assert api.get(URL, query).status_code == 403
    assert make_api_client(["reception:read"], all_branches=True).get(URL, query).status_code == 403
    reader = make_api_client(["dashboards:read"], all_branches=True)
    assert reader.get(URL, query).status_code == 200
    assert reader.get("/api/v1/kpi-definitions").status_code == 200


def test_client_limited_to_a_branch(make_api_client, rollups, branch_a, branch_b):
    client = make_api_client(["dashboards:read"], branches=[branch_b])
    body = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "by": "branch"}).json()
    assert [row["key"]["branch"] for row in body["rows"]] == [branch_b.id]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"end": "2026-03-31"}, "start"),
        ({"start": "yesterday", "end": "2026-03-31"}, "start"),
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end"),
        ({"start": "2024-01-01", "end": "2026-12-31"}, "end"),
        ({"start": "2026-03-01", "end": "2026-03-31", "by": "branch,colour"}, "by"),
        ({"start": "2026-03-01", "end": "2026-03-31", "by": "hour,staff"}, "by"),
        ({"start": "2026-03-01", "end": "2026-03-31", "kpi": "happiness"}, "kpi"),
        ({"start": "2026-03-01", "end": "2026-03-31", "branch": "A"}, "branch"),
    ],
)
def test_bad_queries_get_field_messages(api, make_staff, query, field):
    api.force_authenticate(make_staff(Role.HQ_MANAGER))
    response = api.get(URL, query)
    assert response.status_code == 400
    assert field in response.json()


def test_definitions_in_the_callers_language(api, make_staff):
    api.force_authenticate(make_staff(Role.HQ_MANAGER))
    english = api.get("/api/v1/kpi-definitions").json()
    wait = next(item for item in english if item["code"] == "wait_mean")
    assert wait == {
        "code": "wait_mean",
        "name": "Waiting time, mean",
        "formula": wait["formula"],
        "unit": "seconds",
        "better": "lower",
    }
    chinese = api.get("/api/v1/kpi-definitions", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert next(item for item in chinese if item["code"] == "wait_mean")["name"] != wait["name"]


def test_query_count_does_not_grow_with_rows(
    api, make_staff, rollups, branch_a, django_assert_num_queries
):
    manager = make_staff(Role.HQ_MANAGER)
    query = {"start": "2026-03-01", "end": "2026-03-31", "by": "branch"}
    # The scope (memberships), the branches in it, the sums, the branches' names.
    api.force_authenticate(type(manager).objects.get(pk=manager.pk))
    with django_assert_num_queries(4):
        api.get(URL, {**query, "kpi": "wait_mean"})
    # A percentile also reads the histograms.
    api.force_authenticate(type(manager).objects.get(pk=manager.pk))
    with django_assert_num_queries(5):
        api.get(URL, {**query, "kpi": "wait_p90"})
