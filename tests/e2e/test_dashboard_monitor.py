"""A branch manager watches the live monitor: the waiting counts per service, a ticket issued
meanwhile shows up without a reload (the page refreshes itself), and an alert rule is added
after a form error. In English and in Chinese; a teller is refused.

Controls are found by ids and data attributes, so the test holds once the Chinese catalogue
translates the labels.
"""

import tempfile
from pathlib import Path

import pytest

from bankservice.branches.models import Role
from dashboards import monitor_views
from dashboards.models import AlertMetric, AlertRule
from reception.services import ticket_issue

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PAGE = "/dashboards/monitor/"
SCREENSHOTS = Path(tempfile.gettempdir())


@pytest.fixture
def fast_refresh(monkeypatch):
    # The live server runs in this process: the page asks for fresh figures every second.
    monkeypatch.setattr(monitor_views, "REFRESH_SECONDS", 1)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_manager_watches_the_queues_and_adds_an_alert_rule(
    page, sign_in, reception, make_staff, fast_refresh, language
):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    branch, cash = reception["branch"], reception["cash"]
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch, username="manager-monitor")
    for _ in range(2):
        ticket_issue(actor=None, service_type=cash, source="kiosk")

    sign_in(manager)
    page.goto(PAGE)
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)

    expect(page.locator("#monitor-branch-name")).to_have_attribute("data-branch", str(branch.pk))
    waiting = page.locator('#monitor-services tr[data-service="cash"] td[data-waiting]')
    expect(waiting).to_have_text("2")
    expect(
        page.locator('#monitor-services tr[data-service="accounts"] td[data-waiting]')
    ).to_have_text("0")
    expect(page.locator('#monitor-headline [data-figure="waiting"] strong')).to_have_text("2")

    # A customer takes a ticket: the figure changes on the same page, without a reload.
    page.evaluate("window.monitorMarker = 'still here'")
    ticket_issue(actor=None, service_type=cash, source="kiosk")
    expect(waiting).to_have_text("3")
    expect(page.locator('#monitor-headline [data-figure="waiting"] strong')).to_have_text("3")
    assert page.evaluate("window.monitorMarker") == "still here"
    page.screenshot(path=SCREENSHOTS / f"dashboard-monitor-{language}.png", full_page=True)

    # An alert rule: a negative threshold first (a form error), then a good one.
    with page.expect_navigation():
        page.click("#monitor-alert-rules")
    page.select_option("#alert-metric", AlertMetric.WAITING.value)
    page.fill("#alert-service", "cash")
    page.fill("#alert-threshold", "-1")
    with page.expect_navigation():
        page.click("#alert-rule-add")
    expect(page.locator("#alert-rule-form .has-error #alert-threshold")).to_be_visible()
    assert not AlertRule.objects.exists()
    page.fill("#alert-threshold", "2")
    with page.expect_navigation():
        page.click("#alert-rule-add")
    rule = AlertRule.objects.get()
    assert (rule.branch_id, rule.metric, rule.service, rule.threshold) == (
        branch.pk,
        "waiting",
        "cash",
        2,
    )
    expect(page.locator(f'#alert-rules tr[data-rule="{rule.pk}"] [data-threshold]')).to_have_text(
        "2"
    )

    # Back on the monitor, cash's 3 waiting are past the rule's 2: highlighted.
    page.goto(PAGE)
    expect(
        page.locator('#monitor-services tr[data-service="cash"] td[data-waiting][data-over]')
    ).to_have_text("3")
    assert problems == []


def test_a_teller_is_refused(page, sign_in, reception):
    sign_in(reception["teller"])
    response = page.goto(PAGE)
    assert response.status == 403
