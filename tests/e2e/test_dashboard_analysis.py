"""A branch manager compares two periods (is the shorter wait real?) and plans next week's cash
counters from the staffing forecast, then downloads both tables. In English and in Chinese;
controls are found by ids and data attributes."""

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import pytest

from bankservice.branches.models import Role
from dashboards.models import HourRollup
from tests.dashboards.rollup_rows import day_rollup
from tests.reception.factories import CounterFactory, ServiceTypeFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SCREENSHOTS = Path(tempfile.gettempdir())
BEFORE = ("2026-03-02", "2026-03-08")
AFTER = ("2026-03-09", "2026-03-15")
WEEK = "2026-03-30"  # a Monday; history: the 4 weeks from 2 March


@pytest.fixture
def figures(branch_a, make_staff):
    """Waits: 200 tickets at 300-330 s and 600-630 s before, at 60-90 s and 300-330 s after.
    Staffing: Mondays 09:00, 200 tickets of 180 s (10 erlangs); 2 counters serve cash."""
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-e2e")
    for day, wait, seconds, within in (
        (dt.date(2026, 3, 2), {"10": 100, "20": 100}, 93_000, 100),
        (dt.date(2026, 3, 9), {"2": 100, "10": 100}, 39_000, 180),
    ):
        day_rollup(
            day=day,
            branch=branch_a,
            service="cash",
            tickets_issued=200,
            tickets_called=200,
            wait_seconds=seconds,
            within_target=within,
            histograms={"wait_histogram": wait},
        )
    cash = ServiceTypeFactory(branch=branch_a, code="cash", name_en="Cash", name_zh="现金业务")
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
    return {"manager": manager, "branch": branch_a}


def download_csv(page, selector) -> list[dict]:
    with page.expect_download() as download:
        page.locator(selector).click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_manager_evaluates_a_change_and_plans_counters(page, sign_in, figures, language):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(figures["manager"])
    page.goto("/dashboards/evaluation/")
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)

    # Two periods: the week before and the week after.
    page.select_option("#id_mode", "periods")
    page.fill("#id_before_start", BEFORE[0])
    page.fill("#id_before_end", BEFORE[1])
    page.fill("#id_after_start", AFTER[0])
    page.fill("#id_after_end", AFTER[1])
    with page.expect_navigation():
        page.click("#evaluation-submit")
    wait = page.locator("[data-evaluation-table] tr[data-kpi=wait_mean]")
    expect(wait).to_have_attribute("data-verdict", "better")
    expect(wait.locator("[data-significant]")).to_have_attribute("data-significant", "yes")
    expect(wait.locator("[data-change]")).to_contain_text("-4.5")  # 465 s -> 195 s
    level = page.locator("[data-evaluation-table] tr[data-kpi=service_level]")
    expect(level.locator("[data-before]")).to_have_text("50.0%")
    expect(level.locator("[data-after]")).to_have_text("90.0%")
    expect(page.locator("tr[data-kpi=nps]")).to_have_attribute("data-verdict", "not-enough")
    page.screenshot(path=SCREENSHOTS / f"evaluation-{language}.png", full_page=True)
    rows = download_csv(page, "[data-export=csv]")
    assert len(rows) == 1 + 18 and rows[1][0] == "wait_mean" and rows[1][14] == "better"

    # A bad period: a form error, no table.
    page.fill("#id_after_end", "2026-03-01")
    with page.expect_navigation():
        page.click("#evaluation-submit")
    expect(page.locator("#id_after_end ~ p.error")).to_be_visible()
    expect(page.locator("[data-evaluation-table]")).to_have_count(0)

    # Staffing: next to no choice but the branch's cash service.
    page.goto("/dashboards/staffing/")
    page.select_option("#id_branch", str(figures["branch"].id))
    page.select_option("#id_service", "cash")
    page.fill("#id_week", WEEK)
    page.fill("#id_weeks", "4")
    page.fill("#id_target_percent", "80")
    page.fill("#id_target_minutes", "10")
    with page.expect_navigation():
        page.click("#staffing-submit")
    # 10 erlangs need 11 counters for 80% within 10 minutes; 2 planned: the hour misses.
    monday = page.locator(f"tr[data-hour='9'] td[data-day='{WEEK}']")
    expect(monday).to_have_attribute("data-needed", "11")
    expect(monday).to_have_attribute("data-miss", "")
    expect(monday.locator("[data-arrivals]")).to_have_text("200.0")
    expect(page.locator("[data-hours-missing]")).to_have_attribute("data-hours-missing", "1")
    expect(page.locator("[data-planned]")).to_have_attribute("data-planned", "2")
    page.screenshot(path=SCREENSHOTS / f"staffing-{language}.png", full_page=True)

    # Plan 11 counters: the target is met every hour.
    page.fill("#id_planned", "11")
    with page.expect_navigation():
        page.click("#staffing-submit")
    expect(page.locator("[data-hours-missing]")).to_have_attribute("data-hours-missing", "0")
    expect(page.locator(f"tr[data-hour='9'] td[data-day='{WEEK}'][data-miss]")).to_have_count(0)
    rows = download_csv(page, "[data-export=csv]")
    assert len(rows) == 1 + 40  # 09:00-17:00, Monday to Friday
    assert next(r for r in rows if r[:2] == [WEEK, "9"])[4] == "11"
    assert problems == []


def test_a_teller_is_refused_both_pages(page, sign_in, teller):
    sign_in(teller)
    assert page.goto("/dashboards/evaluation/").status == 403
    assert page.goto("/dashboards/staffing/").status == 403
