"""A branch manager opens the complaints report: picks the period and the dimension, reads the
counts and the within-deadline rate, the Pareto of root causes with its bars, and downloads the
regulatory return as CSV and as Excel. In English and in Chinese; a teller is refused.

Controls are found by ids and data attributes, so the test holds once the Chinese catalogue
translates the labels.
"""

import csv
import datetime as dt
import io
import tempfile
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from openpyxl import load_workbook

from bankservice.branches.models import Role
from complaints import services
from complaints.models import Category, RootCause
from tests.factories import CustomerFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PAGE = "/complaints/reports/"
SCREENSHOTS = Path(tempfile.gettempdir())


@pytest.fixture
def complaints_at_branch(branch_a, make_staff):
    """Three complaints at branch_a: card (decided on time, cause recorded), card (open, past its
    15 days), charges (open, in time)."""
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-e2e")
    customer = CustomerFactory(full_name="李娜", home_branch=branch_a)
    card = Category.objects.get(code="card")
    charges = Category.objects.get(code="charges")
    cause = RootCause.objects.filter(is_active=True).order_by("code").first()

    def make(category, days_ago, channel="counter"):
        return services.complaint_create(
            actor=manager,
            branch=branch_a,
            channel=channel,
            category=category,
            description="e2e",
            customer=customer,
            received_at=timezone.now() - dt.timedelta(days=days_ago),
        )

    on_time = make(card, 3)
    services.complaint_decide(
        actor=manager, complaint=on_time, outcome="rejected", reasons="Correct.", send_letter=False
    )
    services.complaint_set_root_cause(actor=manager, complaint=on_time, root_cause=cause, note="x")
    late = make(card, 40, channel="phone")
    pending = make(charges, 1)
    return {
        "manager": manager,
        "cause": cause,
        "late": late,
        "pending": pending,
        "customer": customer,
    }


def today() -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_manager_reads_the_report_and_downloads_the_return(
    page, sign_in, live_server, complaints_at_branch, language
):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(complaints_at_branch["manager"])
    page.goto(PAGE)
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)

    # The period: the last 60 days; by category first (the default).
    page.fill("#id_start", (today() - dt.timedelta(days=60)).isoformat())
    page.fill("#id_end", today().isoformat())
    with page.expect_navigation():
        page.locator("form[data-report-form] button[type=submit]").click()
    card = page.locator("[data-breakdown=category] tr[data-row=card]")
    expect(card.locator("[data-total]")).to_have_text("2")
    expect(card.locator("[data-within]")).to_have_text("1")
    expect(card.locator("[data-late]")).to_have_text("1")
    expect(card.locator("[data-rate]")).to_have_text("50.0%")
    charges = page.locator("[data-breakdown=category] tr[data-row=charges]")
    expect(charges.locator("[data-pending]")).to_have_text("1")
    expect(charges.locator("[data-rate]")).to_have_text("—")
    category_name = "银行卡" if language == "zh-hans" else "Bank cards"
    expect(card.locator("td").first).to_contain_text(category_name[:2])
    total = page.locator("[data-breakdown=category] tr[data-row=total]")
    expect(total.locator("[data-total]")).to_have_text("3")

    # The Pareto: one cause, all of the share, drawn as a bar.
    cause_row = page.locator(f"[data-pareto] tr[data-cause='{complaints_at_branch['cause'].code}']")
    expect(cause_row.locator("[data-share]")).to_have_text("100.0%")
    expect(cause_row.locator("svg.bar rect").last).to_have_attribute("width", "100.0%")
    expect(page.locator("[data-without-cause]")).to_have_attribute("data-without-cause", "2")

    page.screenshot(path=SCREENSHOTS / f"complaint-reports-{language}.png", full_page=True)

    # By channel.
    page.select_option("#id_dimension", "channel")
    with page.expect_navigation():
        page.locator("form[data-report-form] button[type=submit]").click()
    phone = page.locator("[data-breakdown=channel] tr[data-row=phone]")
    expect(phone.locator("[data-late]")).to_have_text("1")

    # The return, both formats: one row per complaint, no personal data.
    with page.expect_download() as download:
        page.locator("[data-export=csv]").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["reference"]: row["within_deadline"] for row in rows} == {
        complaints_at_branch["late"].reference: "no",
        complaints_at_branch["pending"].reference: "pending",
        next(r["reference"] for r in rows if r["status"] == "rejected"): "yes",
    }
    assert complaints_at_branch["customer"].full_name not in text
    with page.expect_download() as download:
        page.locator("[data-export=xlsx]").click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert len(list(sheet.iter_rows(values_only=True))) == 4  # header and three complaints
    assert problems == []


def test_a_teller_is_refused_the_report(page, sign_in, teller):
    sign_in(teller)
    response = page.goto(PAGE)
    assert response.status == 403
