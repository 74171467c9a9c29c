"""A branch manager plans a birthday campaign in the browser: creates a message campaign for
customers with a birthday this month, imports a CSV list, looks at the dry run, schedules it;
after the runner, sees the counts; a customer opts out from the link in the message. In English
and in Chinese.

Controls are found by ids and data attributes, so the test holds once the Chinese catalogue
translates the labels.
"""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone

from bankservice.branches.models import Role
from care import deadlines
from care.campaigns import campaigns_run
from care.models import Campaign, CampaignStatus, CampaignTarget, CareOptOut
from tests.factories import CustomerFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SCREENSHOTS = Path(tempfile.gettempdir())


@pytest.fixture(autouse=True)
def _care_registered():
    deadlines.register()


def submit(page, form: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").click()
    expect(page.locator(".messages li.error")).to_have_count(0)


def customer(branch, name, month, **fields):
    values = {"consent_sms": True, **fields}
    return CustomerFactory(
        full_name=name, home_branch=branch, date_of_birth=dt.date(1985, month, 1), **values
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_branch_manager_runs_a_birthday_campaign(
    page, sign_in, always_open_branch, make_staff, language
):
    branch = always_open_branch
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch, username="manager-h24")
    month = timezone.localtime(timezone.now(), branch.zone).month
    other_month = month % 12 + 1
    birthday = customer(branch, "王小明", month, preferred_language=language)
    silent = customer(branch, "李四", month, consent_sms=False)
    listed = customer(branch, "张三", other_month, core_banking_id="CB-E2E-1")
    customer(branch, "赵六", other_month)  # neither born this month nor on the list
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    sign_in(manager)
    page.goto("/care/campaigns/")
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)

    # A new message campaign for birthdays this month.
    with page.expect_navigation():
        page.locator("[data-new-campaign]").click()
    form = "form[data-campaign-form]"
    page.fill(f"{form} #id_name", "Birthday greetings")
    page.check(f"{form} input[name=kind][value=message]")
    page.check(f"{form} input[name=branches][value='{branch.pk}']")
    page.check(f"{form} #id_birthday_this_month")
    page.select_option(f"{form} #id_channel", "sms")
    page.fill(f"{form} #id_message_text", "Happy birthday! A small gift waits for you.")
    submit(page, form)
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "draft")
    campaign = Campaign.objects.get()

    # Import a list from core banking: a bad line first, then the corrected file.
    with page.expect_navigation():
        page.locator("[data-import]").click()
    page.set_input_files(
        "#id_file",
        files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": b"customer_id\nabc\n"}],
    )
    with page.expect_navigation():
        page.locator("form[data-import-form] button[type=submit]").click()
    expect(page.locator('[data-line-errors] [data-line="2"]')).to_have_count(1)
    page.set_input_files(
        "#id_file",
        files=[
            {
                "name": "list.csv",
                "mimeType": "text/csv",
                "buffer": b"core_banking_id,note\nCB-E2E-1,deposit matures next month\n",
            }
        ],
    )
    submit(page, "form[data-import-form]")
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "draft")

    # The dry run: who would be contacted and why, who is left out and why.
    with page.expect_navigation():
        page.locator("[data-dry-run]").click()
    expect(page.locator("[data-dry-contacted] tr[data-customer]")).to_have_count(2)
    expect(page.locator(f'[data-dry-contacted] tr[data-customer="{listed.pk}"]')).to_contain_text(
        "deposit matures next month"
    )
    expect(page.locator(f'[data-dry-left-out] tr[data-customer="{silent.pk}"]')).to_have_attribute(
        "data-reason", "no_consent"
    )
    page.screenshot(path=SCREENSHOTS / f"care-campaign-dry-run-{language}.png", full_page=True)
    assert not CampaignTarget.objects.filter(source="filters").exists()

    # Schedule it a little later today.
    page.goto(f"/care/campaigns/{campaign.pk}/")
    start = timezone.localtime(timezone.now() + dt.timedelta(minutes=30))
    page.fill("#id_scheduled_for", start.strftime("%Y-%m-%dT%H:%M"))
    submit(page, "form[data-schedule-form]")
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "scheduled")

    # The runner, once it is time: the counts on the page.
    report = campaigns_run(now=timezone.now() + dt.timedelta(hours=1))
    assert (report.started, report.contacted, report.excluded) == (1, 2, 1)
    page.reload()
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "done")
    expect(page.locator('[data-count="contacted"]')).to_have_text("2")
    expect(page.locator('[data-count="excluded"]')).to_have_text("1")
    expect(page.locator("tr[data-target]")).to_have_count(3)
    page.screenshot(path=SCREENSHOTS / f"care-campaign-{language}.png", full_page=True)

    # The customer follows the link in the message, on a phone, in their language.
    target = CampaignTarget.objects.get(campaign=campaign, customer=birthday)
    phone = page.context.browser.new_context(
        base_url=page.url.split("/care/")[0], viewport={"width": 390, "height": 844}
    )
    try:
        mobile = phone.new_page()
        mobile.goto(f"/o/{target.public_token}/")
        expect(mobile.locator("html")).to_have_attribute("lang", language)
        with mobile.expect_navigation():
            mobile.locator("[data-confirm]").click()
        expect(mobile.locator("[data-opted-out]")).to_have_count(1)
    finally:
        phone.close()
    assert CareOptOut.objects.filter(customer=birthday, scope="campaigns").exists()
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DONE
    assert problems == []
