"""A customer answers a satisfaction survey on a phone, in Chinese (the survey's language, whatever
the browser asks for): the thanks page, then a second visit says it was already answered. A care
branch manager then finds the answer, with its low score and comment, in the survey results, in
English and in Chinese.

Controls are found by names and data attributes, so the test holds once the Chinese catalogue
translates the labels.
"""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone

from bankservice.branches.models import Role
from care.models import Survey, SurveyRule, SurveyStatus, Trigger
from tests.factories import CustomerFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SCREENSHOTS = Path(tempfile.gettempdir())
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def survey(always_open_branch):
    customer = CustomerFactory(
        full_name="王小明", home_branch=always_open_branch, preferred_language="zh-hans"
    )
    now = timezone.now()
    return Survey.objects.create(
        rule=SurveyRule.objects.get(code="after-service"),
        customer=customer,
        branch=always_open_branch,
        trigger=Trigger.SERVICE_COMPLETED,
        service_code="cash",
        channel="sms",
        language="zh-hans",
        sent_at=now,
        expires_at=now + dt.timedelta(days=7),
    )


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_customer_answers_a_survey_on_a_phone_in_chinese(page, survey):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_viewport_size(PHONE)

    page.goto(f"/s/{survey.public_token}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-survey-form]")).to_be_visible()
    assert fits_the_screen(page)
    # The switch offers English; the survey's language stays the default.
    expect(page.locator('.langs a[data-lang="en"]')).to_have_attribute(
        "href", f"/s/{survey.public_token}/?lang=en"
    )

    page.locator('label:has(input[name=csat][value="2"])').click()
    page.locator('label:has(input[name=nps][value="5"])').click()
    page.fill("#id_comment", "排队太久了")
    page.screenshot(path=SCREENSHOTS / "survey-phone-zh-hans.png", full_page=True)
    with page.expect_navigation():
        page.locator("[data-submit]").click()

    expect(page.locator("[data-thanks]")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    stored = Survey.objects.get(pk=survey.pk)
    assert (stored.status, stored.csat, stored.nps) == (SurveyStatus.ANSWERED, 2, 5)
    assert stored.comment == "排队太久了" and stored.low_score is True

    # A second visit: already answered, no form.
    page.goto(f"/s/{survey.public_token}/")
    expect(page.locator("[data-already-answered]")).to_be_visible()
    expect(page.locator("[data-survey-form]")).to_have_count(0)
    assert fits_the_screen(page)
    assert problems == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_branch_manager_sees_the_answer_in_the_results(
    page, sign_in, survey, make_staff, always_open_branch, language
):
    manager = make_staff(Role.BRANCH_MANAGER, branch=always_open_branch, username="manager-h24")
    page.goto(f"/s/{survey.public_token}/?lang=en")
    page.locator('label:has(input[name=csat][value="1"])').click()
    page.fill("#id_comment", "Nobody called me back")
    with page.expect_navigation():
        page.locator("[data-submit]").click()
    expect(page.locator("[data-thanks]")).to_be_visible()

    sign_in(manager)
    page.goto("/care/surveys/")
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    row = page.locator(f'tr[data-survey="{survey.pk}"]')
    expect(row).to_have_attribute("data-status", "answered")
    expect(row.locator("[data-customer]")).to_contain_text("王小明")
    expect(row.locator("[data-csat]")).to_have_text("1")
    expect(row.locator("[data-comment]")).to_contain_text("Nobody called me back")
    expect(page.locator("[data-summary-answered]")).to_have_text("1")
    page.screenshot(path=SCREENSHOTS / f"survey-results-{language}.png", full_page=True)

    # Only the low scores, then the survey's own page.
    page.check("#id_low_only")
    with page.expect_navigation():
        page.locator("form[data-filters] button[type=submit]").click()
    expect(page.locator(f'tr[data-survey="{survey.pk}"]')).to_have_count(1)
    with page.expect_navigation():
        page.locator(f'tr[data-survey="{survey.pk}"] [data-open]').click()
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "answered")
    expect(page.locator("[data-field=csat]")).to_have_text("1")
    expect(page.locator("[data-field=low]")).to_be_visible()
