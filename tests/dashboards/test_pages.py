"""The overview, definitions and trends pages (dashboards/views.py) on hand-built rollup rows.

Rollups are written directly (DayRollup rows are the dashboards' own), with values whose KPIs
are worked out by hand in the comments. Scope, drill-down links, bad input, the chart's JSON
and the pages' query counts (which must not grow with the number of rows).
"""

import datetime as dt
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from bankservice.branches.models import Role
from dashboards import kpis
from dashboards.models import RollupDay
from tests.dashboards.rollup_rows import day_rollup
from tests.factories import BranchFactory, UserFactory

OVERVIEW = reverse("dashboards:overview")
TRENDS = reverse("dashboards:trends")
DEFINITIONS = reverse("dashboards:definitions")
D1 = dt.date(2026, 11, 2)  # a Monday
D2 = dt.date(2026, 11, 3)
PERIOD = {"start": "2026-11-01", "end": "2026-11-30"}


def day_row(branch, day=D1, service="cash", staff=None, histograms=None, **measures):
    return day_rollup(
        day=day,
        branch=branch,
        service=service,
        staff=staff,
        histograms=histograms or {},
        **measures,
    )


@pytest.fixture
def clerk(db):
    return UserFactory(username="clerk", first_name="Wei", last_name="Zhang")


@pytest.fixture
def figures(branch_a, branch_b, branch_other_region, clerk):
    """Branch A: 8 tickets called waiting 800 s (mean 100 s), 6 of 10 waiting in time (60%);
    branch B: 4 called waiting 1,600 s (mean 400 s), 1 of 5 in time (20%); their region East:
    2,400 s / 12 = 200 s, 7 of 15 = 46.7%. West (another region): 10 called, 100 s in all."""
    day_row(
        branch_a,
        staff=clerk,
        tickets_issued=10,
        tickets_called=8,
        wait_seconds=800,
        within_target=6,
        abandoned=2,
        served=8,
        service_seconds=2400,
        csat_answers=4,
        csat_sum=18,
        complaints_received=1,
        histograms={"wait_histogram": {"3": 8}},  # all 8 within 90-120 s: p90 = 120 s
    )
    day_row(
        branch_b,
        tickets_issued=5,
        tickets_called=4,
        wait_seconds=1600,
        within_target=1,
        abandoned=1,
        served=4,
        service_seconds=1600,
        histograms={"wait_histogram": {"13": 4}},  # 390-420 s: p90 = 420 s
    )
    day_row(branch_other_region, tickets_issued=10, tickets_called=10, wait_seconds=100)


def table_rows(html: str, marker: str) -> dict:
    """{data-row: {kpi code or volume index: text}} of the overview table."""
    rows = {}
    for key, body in re.findall(r'<tr data-row="([^"]*)">(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'data-kpi="([a-z0-9_]+)">([^<]*)</td>', body))
        cells.update(
            {f"volume{k}": v for k, v in re.findall(r'data-volume="(\d)">([^<]*)</td>', body)}
        )
        drill = re.search(r'<a href="([^"]+)" data-drill>', body)
        cells["drill"] = unescape(drill.group(1)) if drill else None
        rows[key] = cells
    return rows


def query_of(url: str) -> dict:
    return {key: values[-1] for key, values in parse_qs(urlparse(url).query).items()}


# --- Overview


def test_overview_by_branch_gives_each_branch_and_the_region_total(
    client, make_staff, region, branch_a, branch_b, figures
):
    client.force_login(make_staff(Role.REGIONAL_MANAGER, region=region))
    response = client.get(OVERVIEW, {**PERIOD, "by": "branch"})
    assert response.status_code == 200
    rows = table_rows(response.content.decode(), "branch")
    assert set(rows) == {str(branch_a.id), str(branch_b.id), "total"}  # West is not theirs
    a, b, total = rows[str(branch_a.id)], rows[str(branch_b.id)], rows["total"]
    assert (a["wait_mean"], b["wait_mean"], total["wait_mean"]) == ("1:40", "6:40", "3:20")
    assert (a["service_level"], b["service_level"], total["service_level"]) == (
        "60.0%",
        "20.0%",
        "46.7%",
    )
    # p90 from the histograms: A 120 s, B 420 s; together 12 waits, the 10.8th in B's bucket.
    assert (a["wait_p90"], b["wait_p90"], total["wait_p90"]) == ("2:00", "7:00", "7:00")
    # CSAT 18/4 = 4.50 at A, no survey at B: "—"; complaints 1 per 8 served = 125.0 per 1,000.
    assert (a["csat_mean"], b["csat_mean"], total["csat_mean"]) == ("4.50", "—", "4.50")
    assert (a["complaint_rate"], total["complaint_rate"]) == ("125.0", "83.3")  # 1/12 * 1000
    # Volumes: tickets issued 10 + 5 = 15; surveys 4.
    assert (total["volume0"], total["volume1"]) == ("15", "4")
    # Each branch drills into its services.
    assert query_of(a["drill"]) == {**PERIOD, "branch": str(branch_a.id), "by": "service"}


def test_overview_by_region_pools_the_measures_not_the_means(
    client, make_staff, region, branch_other_region, figures
):
    hq = make_staff(Role.HQ_MANAGER)
    client.force_login(hq)
    response = client.get(OVERVIEW, PERIOD)  # two regions in scope: by region first
    rows = table_rows(response.content.decode(), "region")
    east, west = rows[str(region.id)], rows[str(branch_other_region.region_id)]
    assert east["wait_mean"] == "3:20"  # (800 + 1600) / (8 + 4), not (100 + 400) / 2
    assert west["wait_mean"] == "0:10"  # 100 / 10
    assert rows["total"]["wait_mean"] == "1:54"  # 2500 / 22 = 113.6 s
    assert query_of(east["drill"]) == {**PERIOD, "region": str(region.id), "by": "branch"}


def test_drilling_down_region_branch_service_staff(client, make_staff, region, branch_a, figures):
    client.force_login(make_staff(Role.REGIONAL_MANAGER, region=region))
    html = client.get(OVERVIEW, {**PERIOD, "region": region.id, "by": "branch"}).content.decode()
    branch_link = table_rows(html, "branch")[str(branch_a.id)]["drill"]
    html = client.get(branch_link).content.decode()
    service = table_rows(html, "service")["cash"]
    assert service["wait_mean"] == "1:40"
    html = client.get(service["drill"]).content.decode()
    staff_rows = table_rows(html, "staff")
    (clerk_id,) = [key for key in staff_rows if key != "total"]
    assert "Wei Zhang" in html
    # A staff member's row opens their trends.
    assert urlparse(staff_rows[clerk_id]["drill"]).path == TRENDS
    assert query_of(staff_rows[clerk_id]["drill"])["staff"] == clerk_id


def test_without_staff_permission_services_do_not_drill_to_staff(
    client, make_staff, branch_a, figures
):
    auditor = make_staff(Role.AUDITOR, branch=branch_a)
    client.force_login(auditor)
    html = client.get(OVERVIEW, {**PERIOD, "branch": branch_a.id}).content.decode()
    assert table_rows(html, "service")["cash"]["drill"] is None
    response = client.get(OVERVIEW, {**PERIOD, "branch": branch_a.id, "by": "staff"})
    assert response.status_code == 400
    response = client.get(TRENDS, {**PERIOD, "staff": 1})
    assert response.status_code == 400


def test_a_branch_manager_sees_only_their_branch(client, make_staff, branch_a, branch_b, figures):
    client.force_login(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    response = client.get(OVERVIEW, {**PERIOD, "by": "branch"})
    rows = table_rows(response.content.decode(), "branch")
    assert set(rows) == {str(branch_a.id), "total"}
    assert rows["total"]["wait_mean"] == "1:40"  # A alone
    response = client.get(OVERVIEW, {**PERIOD, "branch": branch_b.id})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert "6:40" not in response.content.decode()
    response = client.get(TRENDS, {**PERIOD, "branch": branch_b.id})
    assert response.status_code == 400


@pytest.mark.parametrize("page", [OVERVIEW, TRENDS, DEFINITIONS])
def test_a_teller_is_refused(client, teller, page):
    client.force_login(teller)
    assert client.get(page).status_code == 403


@pytest.mark.parametrize(
    "query, field",
    [
        ({"start": "garbage", "end": "2026-11-30"}, "start"),
        ({"start": "2026-11-30", "end": "2026-11-01"}, "end"),
        ({**PERIOD, "by": "hour"}, "by"),
        ({**PERIOD, "staff": "x"}, "staff"),
    ],
)
def test_bad_filters_are_form_errors(client, make_staff, branch_a, query, field):
    client.force_login(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    for page in (OVERVIEW, TRENDS):
        response = client.get(page, query)
        if field == "by" and page == TRENDS:
            assert response.status_code == 200  # the trends have no grouping
            continue
        assert response.status_code == 400
        assert field in response.context["form"].errors


def test_trends_refuse_an_unknown_kpi_and_grain(client, make_staff, branch_a):
    client.force_login(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    response = client.get(TRENDS, {**PERIOD, "kpi": "profit", "grain": "year"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"kpi", "grain"}


def test_figures_as_of_the_last_rollup(client, make_staff, branch_a):
    client.force_login(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    assert "not been rolled up yet" in client.get(OVERVIEW).content.decode()
    when = timezone.now().replace(second=0, microsecond=0)
    RollupDay.objects.create(day=timezone.localdate(), rolled_up_at=when)
    html = client.get(OVERVIEW).content.decode()
    assert f"Figures as of {timezone.localtime(when):%Y-%m-%d %H:%M}" in html


def test_a_month_row_drills_into_its_days(client, make_staff, branch_a, figures):
    client.force_login(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    query = {"start": "2026-10-15", "end": "2026-11-20", "by": "month"}
    rows = table_rows(client.get(OVERVIEW, query).content.decode(), "month")
    assert set(rows) == {"2026-11-01", "total"}
    # November, cut to the period: 1st to 20th, by day.
    assert query_of(rows["2026-11-01"]["drill"]) == {
        "start": "2026-11-01",
        "end": "2026-11-20",
        "by": "day",
    }


# Per page: the user and their memberships; the filter's scope, branches and regions; the
# scope again for the table, its sums (histograms only for the overview's percentiles), and the
# names of what it groups by. By staff: one more for the staff scope. An export: the event
# written in a savepoint (three).
@pytest.mark.parametrize(
    "url, query, expected",
    [
        (OVERVIEW, {**PERIOD, "by": "branch"}, 11),
        (OVERVIEW, {**PERIOD, "by": "staff"}, 12),
        (OVERVIEW, {**PERIOD, "by": "branch", "export": "xlsx"}, 14),
        (TRENDS, {**PERIOD, "split": "on"}, 11),
        (TRENDS, {**PERIOD, "split": "on", "export": "csv"}, 14),
    ],
)
def test_query_counts_do_not_grow_with_the_rows(
    client, make_staff, region, django_assert_num_queries, url, query, expected
):
    manager = make_staff(Role.REGIONAL_MANAGER, region=region)
    day_row(BranchFactory(region=region), tickets_called=1, wait_seconds=60, staff=manager)
    client.force_login(manager)
    client.get(url, query)  # warm the content types
    with django_assert_num_queries(expected):
        assert client.get(url, query).status_code == 200
    for n in range(4):
        branch = BranchFactory(region=region)
        day_row(branch, tickets_called=n + 1, wait_seconds=60, staff=UserFactory())
        day_row(branch, day=D2, service="loans", tickets_called=1, wait_seconds=30)
    with django_assert_num_queries(expected):
        response = client.get(url, query)
    assert response.status_code == 200
    if "export" in query:
        return
    if url == OVERVIEW:
        # Five branches; by staff: the manager, four others and the rows without a staff member.
        assert len(response.context["table"]) == {"branch": 5, "staff": 6}[query["by"]]
    else:
        assert len(response.context["series"]) == 6  # the region and its five branches


# --- Definitions


def test_definitions_list_every_kpi(client, make_staff, branch_a):
    client.force_login(make_staff(Role.AUDITOR, branch=branch_a))
    html = client.get(DEFINITIONS).content.decode()
    for kpi in kpis.KPIS:
        row = re.search(rf'<tr id="kpi-{kpi.code}" data-kpi="{kpi.code}">(.*?)</tr>', html, re.S)
        assert row, kpi.code
        body = row.group(1)
        assert str(kpi.name) in unescape(body)
        assert f'data-unit="{kpi.unit}"' in body
        assert f'data-better="{kpi.better}"' in body
        for name in kpi.needs:
            assert f"<code>{name}</code>" in body
    assert "lower is better" in html and "higher is better" in html


# --- Trends


def chart_of(response) -> dict:
    match = re.search(
        r'<script id="trend-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(match.group(1))


def test_trend_chart_data_per_day_with_gaps(client, make_staff, region, branch_a, figures):
    day_row(branch_a, day=D2, tickets_called=2, wait_seconds=60)  # 30 s on the 3rd
    client.force_login(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    response = client.get(TRENDS, {"start": "2026-11-01", "end": "2026-11-04"})
    assert response.status_code == 200
    chart = chart_of(response)
    assert chart["unit"] == "seconds"
    assert chart["x"] == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    (total,) = chart["series"]
    # Nothing on the 1st and 4th (gaps), 800/8 = 100 s on the 2nd, 60/2 = 30 s on the 3rd.
    assert total["values"] == [None, 100.0, 30.0, None]
    assert total["label"] == "All in my scope"
    html = response.content.decode()
    assert 'src="/static/js/charts.js"' in html
    assert "<script>" not in html  # no inline script (CSP)


def test_trend_by_week_and_share_kpi(client, make_staff, region, branch_a, branch_b, figures):
    day_row(branch_a, day=dt.date(2026, 11, 10), within_target=1, tickets_called=4)
    client.force_login(make_staff(Role.REGIONAL_MANAGER, region=region))
    query = {**PERIOD, "kpi": "service_level", "grain": "week"}
    chart = chart_of(client.get(TRENDS, query))
    # Weeks from Monday 26 October (the 1st's week) to Monday 30 November.
    assert chart["x"] == [
        "2026-10-26",
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
        "2026-11-23",
        "2026-11-30",
    ]
    values = chart["series"][0]["values"]
    # Week of the 2nd: (6 + 1) / (12 + 3) = 0.4667; week of the 9th: 1 / 4 = 0.25.
    assert values == [None, pytest.approx(0.4667, abs=1e-4), 0.25, None, None, None]


def test_trend_split_draws_one_line_per_branch_and_drills(
    client, make_staff, region, branch_a, branch_b, figures
):
    client.force_login(make_staff(Role.REGIONAL_MANAGER, region=region))
    response = client.get(TRENDS, {**PERIOD, "split": "on"})
    chart = chart_of(response)
    labels = [line["label"] for line in chart["series"]]
    assert labels == ["All in my scope", "Branch A", "Branch B"]
    day = chart["x"].index("2026-11-02")
    assert [line["values"][day] for line in chart["series"]] == [200.0, 100.0, 400.0]
    branch_line = chart["series"][1]
    assert query_of(branch_line["href"]) == {
        **PERIOD,
        "branch": str(branch_a.id),
        "kpi": "wait_mean",
        "grain": "day",
        "split": "on",
    }
    # The next level: the branch's services, then the service's staff.
    chart = chart_of(client.get(branch_line["href"]))
    assert [line["label"] for line in chart["series"]] == ["Branch A", "cash"]
    chart = chart_of(client.get(chart["series"][1]["href"]))
    assert [line["label"] for line in chart["series"]] == ["cash", "Wei Zhang"]
    # The table rows carry the same links.
    assert f'data-href="{branch_line["href"]}"'.replace("&", "&amp;") in response.content.decode()


def test_trend_split_keeps_the_eight_busiest(client, make_staff, region):
    for n in range(10):
        branch = BranchFactory(region=region, name=f"Branch {n:02d}")
        day_row(branch, tickets_issued=n + 1, tickets_called=1, wait_seconds=10 * (n + 1))
    client.force_login(make_staff(Role.REGIONAL_MANAGER, region=region))
    response = client.get(TRENDS, {**PERIOD, "split": "on"})
    chart = chart_of(response)
    # The 8 with most tickets: Branch 02 .. Branch 09 (3..10 tickets), in name order.
    assert [line["label"] for line in chart["series"][1:]] == [
        f"Branch {n:02d}" for n in range(2, 10)
    ]
    assert 'data-hidden-lines="2"' in response.content.decode()


def test_trends_of_one_staff_member(client, make_staff, branch_a, figures, clerk):
    client.force_login(make_staff(Role.BRANCH_MANAGER, branch=branch_a))
    response = client.get(TRENDS, {**PERIOD, "staff": clerk.id, "kpi": "csat_mean"})
    chart = chart_of(response)
    assert chart["series"][0]["label"] == "Wei Zhang"
    assert chart["series"][0]["values"][chart["x"].index("2026-11-02")] == 4.5
