"""A teller serving a customer at the counter completes the new-customer bundle (open account,
activate card, mobile banking): the shared fields come from the customer record, each form is
filled (a conditional field appears when its condition holds), a document is attached, the
customer confirms once and every request is submitted. A second member of staff, an approver,
approves the request that needs it. In English and in Chinese.

Controls are found by ids and data attributes, so the test holds once the Chinese catalogue
translates the labels.
"""

import re
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone

from bankservice.branches.models import Role
from reception.models import VisitSource
from reception.services import counter_sign_in, ticket_call_next, ticket_issue, ticket_start
from tests.factories import CustomerFactory
from transactions import demo
from transactions.models import BundleRun, RequestStatus

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SCREENSHOTS = Path(tempfile.gettempdir())
CARD = "6222020200112233446"  # a valid Luhn check digit
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def save_draft(page) -> None:
    with page.expect_navigation():
        page.locator("[data-save]").click()
    expect(page.locator(".messages li.error")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_teller_completes_a_bundle_and_a_second_user_approves(
    page, sign_in, reception, make_staff, live_server, language
):
    branch, teller = reception["branch"], reception["teller"]
    approver = make_staff(Role.APPROVER, branch=branch, username="approver-h24")
    for definition in (demo.OPEN_ACCOUNT, demo.ACTIVATE_CARD, demo.MOBILE_BANKING):
        demo.request_type_install(definition)
    demo.bundle_install(demo.NEW_CUSTOMER_BUNDLE)
    customer = CustomerFactory(full_name="王小明", email="wang.xm@example.cn", home_branch=branch)
    counter_sign_in(actor=teller, counter=reception["counter"])
    ticket = ticket_issue(
        actor=None,
        service_type=reception["cash"],
        source=VisitSource.KIOSK,
        customer=customer,
        now=timezone.now(),
    )
    ticket_call_next(actor=teller, counter=reception["counter"])
    ticket_start(actor=teller, ticket=ticket)
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    # The teller, at the counter: "New request" for the customer being served.
    sign_in(teller)
    page.goto("/reception/counter/")
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    with page.expect_navigation():
        page.locator("a[data-new-request]").click()
    expect(page.locator("[data-served] [data-field=customer]")).to_contain_text("王小明")
    page.select_option("#id_what", "bundle:new_customer")
    with page.expect_navigation():
        page.locator("form[data-new-request] button[type=submit]").click()

    # The shared fields, once: the bank already holds them (read-only, from the record).
    shared = page.locator("form[data-bundle-shared]")
    expect(shared.locator("#ef-national_id")).to_have_value(customer.national_id)
    expect(shared.locator("#ef-national_id")).to_have_attribute("readonly", "")
    page.screenshot(path=SCREENSHOTS / f"transactions-shared-{language}.png", full_page=True)
    with page.expect_navigation():
        shared.locator("button[name=shared]").click()
    run = BundleRun.objects.get()
    expect(page).to_have_url(re.compile(rf"/transactions/bundles/{run.pk}/$"))
    expect(page.locator("[data-bundle-requests] [data-request]")).to_have_count(3)

    # 1. Open an account: a conditional field, and the ID copy.
    with page.expect_navigation():
        page.locator("[data-step='1']").click()
    page.fill("#ef-address", "1 Nanjing Road, Shanghai")
    page.select_option("#ef-occupation", "employed")
    page.check("#ef-account_currency-1")
    expect(page.locator("#ef-purpose_other")).to_be_hidden()
    page.select_option("#ef-purpose", "other")  # eform.js shows the field it asks for
    expect(page.locator("#ef-purpose_other")).to_be_visible()
    page.fill("#ef-purpose_other", "Rent")
    page.check("#ef-agree_terms")
    save_draft(page)
    page.select_option("#id_doc_type", "id_copy")
    page.set_input_files(
        "#id_file", {"name": "id-card.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    with page.expect_navigation():
        page.locator("form[data-upload] button[type=submit]").click()
    expect(page.locator("[data-documents] li")).to_have_count(1)
    expect(page.locator("[data-submit]")).to_have_count(0)  # the bundle submits, once
    with page.expect_navigation():
        page.locator("[data-bundle-link]").click()

    # 2. Activate the card.
    with page.expect_navigation():
        page.locator("[data-step='2']").click()
    page.fill("#ef-card_number", CARD)
    page.check("#ef-card_kind-1")  # debit: no credit limit asked
    expect(page.locator("#ef-credit_limit")).to_be_hidden()
    save_draft(page)
    with page.expect_navigation():
        page.locator("[data-bundle-link]").click()

    # 3. Mobile banking.
    with page.expect_navigation():
        page.locator("[data-step='3']").click()
    page.fill("#ef-daily_limit", "20000")
    page.check("#ef-sms_alerts")
    page.check("#ef-agree_terms")
    save_draft(page)
    with page.expect_navigation():
        page.locator("[data-bundle-link]").click()

    # The customer checks the forms and confirms once: all three are submitted.
    page.check("#tx-confirmed")
    page.screenshot(path=SCREENSHOTS / f"transactions-bundle-{language}.png", full_page=True)
    with page.expect_navigation():
        page.locator("form[data-bundle-confirm] button[type=submit]").click()
    expect(page.locator("[data-confirmed]")).to_have_count(1)
    account, card, _mobile = run.requests.order_by("id")
    statuses = {r.pk: r.status for r in run.requests.all()}
    assert statuses[account.pk] == RequestStatus.SUBMITTED  # one approval level
    assert statuses[card.pk] != RequestStatus.SUBMITTED  # no approval needed
    assert account.ticket_id == ticket.pk and account.maker == teller

    # A second member of staff approves.
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    sign_in(approver)
    page.goto("/transactions/?list=approve")
    expect(page.locator("html")).to_have_attribute("lang", language)
    row = page.locator(f"[data-worklist=approve] [data-request='{account.pk}']")
    expect(row).to_have_count(1)
    page.screenshot(path=SCREENSHOTS / f"transactions-worklist-{language}.png", full_page=True)
    with page.expect_navigation():
        row.locator("a").click()
    page.check("form[data-decide] input[value=approved]")
    with page.expect_navigation():
        page.locator("form[data-decide] button[type=submit]").click()
    expect(page.locator("[data-approvals] [data-decision=approved]")).to_have_count(1)
    expect(page.locator("form[data-decide]")).to_have_count(0)
    account.refresh_from_db()
    assert account.status in (RequestStatus.APPROVED, RequestStatus.SENT)
    page.screenshot(path=SCREENSHOTS / f"transactions-approved-{language}.png", full_page=True)
    assert problems == []
