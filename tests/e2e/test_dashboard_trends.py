"""A regional manager reads the dashboards: the overview by region, drills into a branch and
its services, opens the trends of that branch, sees the SVG chart (our own charts.js) with its
line and legend, splits it by service, follows a line's drill-down, and downloads the table as
CSV. In English and in Chinese; controls are found by ids and data attributes.
"""

import csv
import datetime as dt
import io
import re
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone

from bankservice.branches.models import Role
from tests.dashboards.rollup_rows import day_rollup
from tests.factories import BranchFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SCREENSHOTS = Path(tempfile.gettempdir())


@pytest.fixture
def rollups(region):
    """Two branches of the region, two days ago and yesterday. Branch A: 100 s mean wait on day 1
    (cash: 800 s / 8), 30 s on day 2 (loans: 60 s / 2); branch B: 400 s on day 1."""
    today = timezone.localdate()
    first, second = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    branch_a = BranchFactory(code="a01", name="Branch A", region=region)
    branch_b = BranchFactory(code="b01", name="Branch B", region=region)
    day_rollup(
        day=first,
        branch=branch_a,
        service="cash",
        tickets_issued=8,
        tickets_called=8,
        wait_seconds=800,
    )
    day_rollup(
        day=second,
        branch=branch_a,
        service="loans",
        tickets_issued=2,
        tickets_called=2,
        wait_seconds=60,
    )
    day_rollup(
        day=first,
        branch=branch_b,
        service="cash",
        tickets_issued=4,
        tickets_called=4,
        wait_seconds=1600,
    )
    return {"a": branch_a, "b": branch_b, "first": first, "second": second}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_regional_manager_drills_down_and_reads_the_trend(
    page, sign_in, make_staff, region, rollups, language
):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # Content-security-policy refusals (an inline script or style) show as console errors.
    page.on("console", lambda m: problems.append(m.text) if "Refused" in m.text else None)
    page.on(
        "response",
        lambda r: problems.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    sign_in(make_staff(Role.REGIONAL_MANAGER, region=region, username="regional-e2e"))
    page.goto("/dashboards/")
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)

    # By region: one row, East, pooling both branches: (800 + 1600 + 60) / 14 = 175.7 s.
    page.select_option("#id_by", "region")
    with page.expect_navigation():
        page.locator("#filters-submit").click()
    east = page.locator(f"[data-overview=region] tr[data-row='{region.id}']")
    expect(east.locator("[data-kpi=wait_mean]")).to_have_text("2:56")

    # Region -> its branches -> branch A's services.
    with page.expect_navigation():
        east.locator("a[data-drill]").click()
    branch_a = page.locator(f"[data-overview=branch] tr[data-row='{rollups['a'].id}']")
    expect(branch_a.locator("[data-kpi=wait_mean]")).to_have_text("1:26")  # 860 / 10
    expect(
        page.locator(
            f"[data-overview=branch] tr[data-row='{rollups['b'].id}'] [data-kpi=wait_mean]"
        )
    ).to_have_text("6:40")
    with page.expect_navigation():
        branch_a.locator("a[data-drill]").click()
    expect(
        page.locator("[data-overview=service] tr[data-row=cash] [data-kpi=wait_mean]")
    ).to_have_text("1:40")
    expect(page.locator("[data-breadcrumbs] li")).to_have_count(3)  # all, East, Branch A

    # The trends of branch A: one line, with a gap-free segment over the two days.
    with page.expect_navigation():
        page.locator("[data-trends-link]").click()
    chart = page.locator("figure[data-chart] svg[data-trend-chart]")
    expect(chart).to_be_visible()
    total = chart.locator("path[data-line=total]")
    expect(total).to_have_attribute("d", re.compile(r"^M[\d.]+,[\d.]+L[\d.]+,[\d.]+$"))
    expect(chart.locator("[data-series=total] circle")).to_have_count(2)
    expect(chart.locator(".axis-y text").first).to_be_visible()
    expect(page.locator(".dash-legend li[data-legend=total]")).to_have_count(1)
    title = chart.locator("[data-series=total] circle title").first
    expect(title).to_have_text(f"Branch A · {rollups['first'].isoformat()}: 1:40")

    # One line per service, each a drill-down link: cash -> the cash trend of branch A.
    with page.expect_navigation():
        page.locator("[data-split-link]").click()
    expect(chart.locator("path[data-line]")).to_have_count(3)  # the branch, cash, loans
    page.screenshot(path=SCREENSHOTS / f"dashboard-trends-{language}.png", full_page=True)
    with page.expect_navigation():
        page.locator(".dash-legend li[data-legend=cash] a").click()
    assert "service=cash" in page.url
    expect(page.locator("[data-breadcrumbs] li")).to_have_count(4)  # all, East, A, cash

    # The table as CSV: the service's line, 100 s on the first day.
    with page.expect_download() as download:
        page.locator("[data-export=csv]").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    column = rows[0].index(rollups["first"].isoformat())
    assert rows[1][0] == "cash"
    assert float(rows[1][column]) == 100.0
    assert problems == []
