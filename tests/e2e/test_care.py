"""A care agent works a callback in the browser: claims it from the worklist, records a try with
no answer (the callback goes back to the list, due later), claims it again, reaches the customer
and completes it with the outcome and the customer's satisfaction. A care team lead finds a
callback an absent agent claimed on the "team" tab, gives it back to the worklist, and cancels
another with a reason (the empty reason first: the error at its field). In English and in Chinese.

Controls are found by ids and data attributes, so the test holds once the Chinese catalogue
translates the labels.
"""

import tempfile
from pathlib import Path

import pytest
from django.utils import timezone

from bankservice.branches.models import Role
from care import deadlines
from care.models import Callback, CallbackStatus
from care.services import callback_claim, callback_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SCREENSHOTS = Path(tempfile.gettempdir())


@pytest.fixture(autouse=True)
def _care_registered():
    # care/apps.py ready() does this in the running service; registering twice is harmless.
    deadlines.register()


def submit(page, form: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").click()
    expect(page.locator(".messages li.error")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_care_agent_works_a_callback(page, sign_in, always_open_branch, make_staff, language):
    branch = always_open_branch
    agent = make_staff(Role.CARE_AGENT, branch=branch, username="agent-h24")
    customer = CustomerFactory(full_name="王小明", home_branch=branch, consent_phone=True)
    callback = callback_create(
        actor=None,
        customer=customer,
        branch=branch,
        reason_code="complaint-satisfaction",
        due_at=timezone.now(),
        script="Ask whether the resolution worked for the customer.",
    )
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    sign_in(agent)
    page.goto("/care/?list=overdue")
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    row = page.locator(f'tr[data-callback="{callback.pk}"]')
    expect(row).to_contain_text("王小明")
    page.screenshot(path=SCREENSHOTS / f"care-worklist-{language}.png", full_page=True)

    # Claim it from the worklist: the callback page, with the script and the masked phone.
    with page.expect_navigation():
        row.locator("[data-claim]").click()
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "claimed")
    expect(page.locator("[data-script]")).to_contain_text("Ask whether the resolution worked")
    expect(page.locator("[data-field=phone]")).to_have_text(customer.phone_masked)

    # No answer: back to the worklist for anyone, due later.
    page.check("form[data-attempt-form] input[name=result][value=no_answer]")
    submit(page, "form[data-attempt-form]")
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "open")
    expect(page.locator('[data-attempts] tr[data-result="no_answer"]')).to_have_count(1)
    expect(page.locator("form[data-attempt-form]")).to_have_count(0)

    # Claim again, reach the customer, complete with the outcome and satisfaction.
    submit(page, ".page-head form:has([data-claim])")
    page.select_option("form[data-attempt-form] #id_channel", "phone")
    page.check("form[data-attempt-form] input[name=result][value=reached]")
    page.fill("form[data-attempt-form] #id_note", "Spoke to the customer.")
    submit(page, "form[data-attempt-form]")
    page.fill("form[data-complete-form] #id_outcome", "Satisfied with the refund.")
    page.check("form[data-complete-form] input[name=satisfaction][value='4']")
    page.screenshot(path=SCREENSHOTS / f"care-callback-{language}.png", full_page=True)
    submit(page, "form[data-complete-form]")
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "done")
    expect(page.locator("[data-field=satisfaction]")).to_contain_text("4 / 5")
    expect(page.locator("[data-attempts] tr")).to_have_count(3)  # the header and two tries

    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE
    assert (callback.attempts, callback.satisfaction) == (2, 4)
    assert callback.outcome == "Satisfied with the refund."
    assert Callback.objects.filter(customer=customer).count() == 1
    assert problems == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_care_team_lead_gives_back_and_cancels(
    page, sign_in, always_open_branch, make_staff, language
):
    branch = always_open_branch
    absent = make_staff(Role.CARE_AGENT, branch=branch, username="agent-away")
    lead = make_staff(Role.CARE_LEAD, branch=branch, username="lead-h4")

    def schedule(name, reason):
        return callback_create(
            actor=None,
            customer=CustomerFactory(full_name=name, home_branch=branch, consent_phone=True),
            branch=branch,
            reason_code=reason,
            due_at=timezone.now(),
        )

    stuck = callback_claim(actor=absent, callback=schedule("李雷", "card-delivery"))
    unneeded = schedule("韩梅梅", "fee-refund")
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    sign_in(lead)
    page.goto("/care/")
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)

    # The team tab: what others claimed; give the absent agent's callback back.
    with page.expect_navigation():
        page.locator('[data-list="team"]').click()
    row = page.locator(f'tr[data-callback="{stuck.pk}"]')
    expect(row).to_contain_text("李雷")
    expect(page.locator(f'tr[data-callback="{unneeded.pk}"]')).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / f"care-team-{language}.png", full_page=True)
    with page.expect_navigation():
        row.locator("[data-release]").click()
    expect(page.locator(".messages li.error")).to_have_count(0)
    expect(page.locator(f'tr[data-callback="{stuck.pk}"]')).to_have_count(0)

    # Cancel the unneeded one from its page: a reason is required.
    page.goto(f"/care/callbacks/{unneeded.pk}/")
    with page.expect_navigation():
        page.locator("form[data-cancel-form] button[type=submit]").click()
    expect(page.locator("form[data-cancel-form] .error")).to_have_count(1)
    page.fill("form[data-cancel-form] #id_reason", "The customer already came to the branch.")
    submit(page, "form[data-cancel-form]")
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "cancelled")
    expect(page.locator("[data-field=outcome]")).to_contain_text("already came to the branch")
    expect(page.locator("form[data-cancel-form]")).to_have_count(0)

    stuck.refresh_from_db()
    unneeded.refresh_from_db()
    assert (stuck.status, stuck.claimed_by_id) == (CallbackStatus.OPEN, None)
    assert unneeded.status == CallbackStatus.CANCELLED
    assert problems == []
