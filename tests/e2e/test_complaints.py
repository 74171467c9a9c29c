"""Complaints in a real browser, in English and in Chinese: a teller takes a complaint at the
counter; a complaint officer takes it, acknowledges it, investigates, asks for an extension and
decides with reasons; the complainant opens the progress page on a phone and reads the letter.
And a customer sends a complaint with the public form and follows the link it gives.

Controls are found by ids and data attributes, so the tests hold once the Chinese catalogue
translates the labels.
"""

import re
import tempfile
from pathlib import Path

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from complaints.models import Category, Complaint, ComplaintExtension, ComplaintStatus, PackClock
from tests.factories import CustomerFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SCREENSHOTS = Path(tempfile.gettempdir())
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def switch_language(page, language: str) -> None:
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
    expect(page.locator("html")).to_have_attribute("lang", language)


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).click()
    expect(page.locator(".messages li.error")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_complaint_from_the_counter_to_the_decision_letter(
    page, sign_in, make_staff, branch_a, live_server, language, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    teller = make_staff(Role.TELLER, branch=branch_a, username="teller-a")
    officer = make_staff(Role.COMPLAINT_OFFICER, branch=branch_a, username="officer-a")
    customer = CustomerFactory(
        home_branch=branch_a,
        full_name="李娜",
        email="li.na@example.cn",
        consent_email=True,
        preferred_language=language,
    )
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    # The teller takes the complaint at the counter.
    sign_in(teller)
    page.goto("/complaints/new/")
    switch_language(page, language)
    page.fill("#id_customer_query", customer.core_banking_id)
    page.select_option("#id_channel", "counter")
    page.select_option("#id_category", str(Category.objects.get(code="card").pk))
    page.select_option("#id_subcategory", str(Category.objects.get(code="card-debit").pk))
    page.fill("#id_description", "The ATM kept my card and nobody called back.")
    page.fill("#id_desired_outcome", "My card back and an apology.")
    page.set_input_files(
        "#id_attachments", {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.screenshot(path=SCREENSHOTS / f"complaints-new-{language}.png", full_page=True)
    submit(page, "button[data-save-complaint]")
    complaint = Complaint.objects.get()
    expect(page).to_have_url(re.compile(rf"/complaints/{complaint.pk}/$"))
    expect(page.locator("[data-reference]")).to_have_text(complaint.reference)
    expect(page.locator("[data-clocks] [data-clock=decision]")).to_have_attribute(
        "data-state", "running"
    )
    expect(page.locator("[data-attachments] li")).to_have_count(1)
    assert complaint.customer == customer and complaint.created_by == teller
    page.screenshot(path=SCREENSHOTS / f"complaints-received-{language}.png", full_page=True)

    # The officer takes it, acknowledges it and investigates.
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    sign_in(officer)
    page.goto("/complaints/?assigned=none")
    expect(page.locator("html")).to_have_attribute("lang", language)
    row = page.locator(f"[data-complaints] [data-complaint='{complaint.pk}']")
    expect(row).to_have_count(1)
    # The filters update the list in place (htmx) and keep the address.
    page.screenshot(path=SCREENSHOTS / f"complaints-list-{language}.png", full_page=True)
    page.select_option("#cp-timing", "overdue")
    expect(page.locator("[data-complaints-empty]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"timing=overdue"))
    page.select_option("#cp-timing", "")
    expect(row).to_have_count(1)
    with page.expect_navigation():
        row.locator("a").first.click()
    page.select_option("#id_assign-officer", str(officer.pk))
    submit(page, "button[data-do=assign]")
    submit(page, "button[data-do=acknowledge]")
    expect(page.locator("[data-letter=acknowledgement]")).to_have_count(1)
    submit(page, "button[data-do=investigate]")
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "investigating")

    # A complex case: the first extension needs no approval and tells the complainant.
    page.locator("[data-action-panel=extend] summary").click()
    extension = PackClock.objects.get(pack=complaint.pack, code="extension")
    page.select_option("#id_extend-clock", str(extension.pk))
    page.fill("#id_extend-reason", "The card network's records take two weeks.")
    submit(page, "button[data-do=extend]")
    expect(page.locator("[data-extensions] [data-extension-status=approved]")).to_have_count(1)
    expect(page.locator("[data-clocks] [data-clock=decision] [data-extended]")).to_have_count(1)
    expect(page.locator("[data-letter=extension_notice]")).to_have_count(1)
    assert ComplaintExtension.objects.get().requested_by == officer

    # The decision, with reasons and redress.
    page.check("#id_decide-outcome_0")  # upheld
    page.fill("#id_decide-reasons", "The ATM failed; the card is returned and the fee refunded.")
    page.fill("#id_decide-redress_amount", "20.00")
    submit(page, "button[data-do=decide]")
    expect(page.locator("[data-field=status]")).to_have_attribute("data-status", "upheld")
    expect(page.locator("[data-clocks] [data-clock=decision]")).to_have_attribute(
        "data-state", "met"
    )
    expect(page.locator("[data-letter=final_response]")).to_have_count(1)
    page.screenshot(path=SCREENSHOTS / f"complaints-decided-{language}.png", full_page=True)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.UPHELD and complaint.assigned_to == officer

    # The complainant, on a phone, with the link from the letter.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 390, "height": 844})
    url = reverse("complaints_public:progress", args=[complaint.public_token])
    page.goto(f"{url}?lang={language}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("[data-reference]")).to_have_text(complaint.reference)
    expect(page.locator("[data-letters] [data-letter=final_response]")).to_have_count(1)
    expect(page.locator("[data-letters] [data-letter=final_response]")).to_contain_text(
        "the fee refunded"
    )
    expect(page.locator("[data-ask-review]")).to_have_count(1)  # the CN review window is open
    page.screenshot(path=SCREENSHOTS / f"complaints-progress-{language}.png", full_page=True)
    assert problems == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_customer_sends_a_complaint_with_the_public_form(
    page, branch_a, live_server, language, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"/complaint/?lang={language}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    form = page.locator("form[data-public-complaint]")
    # Nothing filled in: the errors come back at their fields, nothing is kept.
    with page.expect_navigation():
        form.locator("button[data-send-complaint]").click()
    expect(page.locator("#name-error")).to_have_count(1)
    expect(page.locator("#description-error")).to_have_count(1)
    assert not Complaint.objects.exists()

    page.select_option("#id_branch", str(branch_a.pk))
    page.fill("#id_name", "周敏")
    page.fill("#id_phone", "139 0000 1111")
    page.select_option("#id_category", str(Category.objects.get(code="service").pk))
    page.fill("#id_description", "I waited an hour at the counter and nobody helped.")
    page.set_input_files(
        "#id_files", {"name": "ticket.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.screenshot(path=SCREENSHOTS / f"complaints-form-{language}.png", full_page=True)
    with page.expect_navigation():
        form.locator("button[data-send-complaint]").click()

    complaint = Complaint.objects.get()
    assert complaint.language == language and complaint.attachments.count() == 1
    expect(page.locator("[data-received] [data-reference]")).to_have_text(complaint.reference)
    expect(page.locator("[data-progress-link]")).to_contain_text(complaint.public_token)
    with page.expect_navigation():
        page.locator("a[data-progress]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "received")
    expect(page.locator("[data-decision-due]")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("139")  # the phone is not shown back
    assert problems == []
