"""A branch manager opens staff performance: reads each person's figures with the caveats, sees
"too few to judge" for a person with few customers served, and downloads the monthly branch
report as a PDF from the picker. In English and in Chinese; an auditor is refused the staff page.

Controls are found by ids and data attributes, so the test holds once the Chinese catalogue
translates the labels.
"""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone

from bankservice.branches.models import Role
from tests.dashboards.rollup_rows import day_rollup

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PAGE = "/dashboards/staff/"
SCREENSHOTS = Path(tempfile.gettempdir())


@pytest.fixture
def staff_figures(branch_a, make_staff):
    """Three days ago at branch_a: Alice served 40 (30 cash at 120 s, 10 accounts at 600 s), Bob
    only 5 cash at 180 s (too few to judge)."""
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-e2e")
    alice = make_staff(Role.TELLER, branch=branch_a, username="alice-e2e")
    bob = make_staff(Role.TELLER, branch=branch_a, username="bob-e2e")
    day = timezone.localdate() - dt.timedelta(days=3)
    rows = [
        (alice, "cash", 30, 3600, 12, 50),
        (alice, "accounts", 10, 6000, 0, 0),
        (bob, "cash", 5, 900, 1, 5),
    ]
    for person, service, served, seconds, answers, total in rows:
        day_rollup(
            day=day,
            branch=branch_a,
            service=service,
            staff=person,
            tickets_issued=served,
            tickets_called=served,
            served=served,
            service_seconds=seconds,
            csat_answers=answers,
            csat_sum=total,
        )
    return {"manager": manager, "alice": alice, "bob": bob, "day": day, "branch": branch_a}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_manager_reads_staff_performance_and_downloads_the_report(
    page, sign_in, staff_figures, language
):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(staff_figures["manager"])
    page.goto(PAGE)
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)

    expect(page.locator("#staff-caveats")).to_be_visible()
    alice = page.locator(f"tr[data-staff='{staff_figures['alice'].id}']")
    bob = page.locator(f"tr[data-staff='{staff_figures['bob'].id}']")
    expect(alice.locator("[data-served]")).to_have_text("40")
    # Branch cash mean (3600 + 900) / 35 = 128.57 s; expected 30 x 128.57 + 10 x 600 = 9857.1;
    # actual 9600 -> 0.97.
    expect(alice.locator("[data-ratio]")).to_have_text("0.97")
    expect(alice.locator("[data-too-few]")).to_have_count(0)
    # Bob: 5 served and 1 answer: both flagged, and no ratio to compare.
    expect(bob.locator("[data-served]")).to_have_text("5")
    expect(bob.locator("[data-ratio] [data-too-few]")).to_be_visible()
    expect(bob.locator("[data-csat] [data-too-few]")).to_be_visible()
    # Each name opens the trends page for that person.
    href = alice.locator("[data-trends-link]").get_attribute("href")
    assert href.startswith(f"/dashboards/trends/?staff={staff_figures['alice'].id}&")
    page.screenshot(path=SCREENSHOTS / f"dashboard-staff-{language}.png", full_page=True)

    # The monthly report: the picker preselects the manager's only branch.
    with page.expect_navigation():
        page.locator("#monthly-report-link").click()
    expect(page.locator("#id_branch")).to_have_value(str(staff_figures["branch"].id))
    page.fill("#id_month", f"{staff_figures['day']:%Y-%m}")
    with page.expect_download() as download:
        page.locator("#monthly-report-download").click()
    assert download.value.suggested_filename == (
        f"branch-report-{staff_figures['branch'].code}-{staff_figures['day']:%Y-%m}.pdf"
    )
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    assert problems == []


def test_an_auditor_is_refused_the_staff_page(page, sign_in, make_staff, branch_a):
    sign_in(make_staff(Role.AUDITOR, branch=branch_a, username="auditor-e2e"))
    assert page.goto(PAGE).status == 403
