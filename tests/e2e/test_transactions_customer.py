"""The customer's side of a service request in a real browser: the progress page on a phone in
Chinese and English as the request moves on, and the receipt a teller prints at the counter.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bankservice.branches.models import Role
from tests.factories import CustomerFactory
from transactions import demo
from transactions.services import document_attach, request_approve, request_create, request_submit

from .test_reception_flow import SHOTS

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

ACCOUNT = "6222020200112233446"  # a valid Luhn check digit


@pytest.fixture
def withdrawal(always_open_branch, make_staff, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    branch = always_open_branch
    teller = make_staff(Role.TELLER, branch=branch, username="teller")
    approver = make_staff(Role.APPROVER, branch=branch, username="approver")
    customer = CustomerFactory(home_branch=branch, full_name="王芳", preferred_language="zh-hans")
    request_type = demo.request_type_install(demo.LARGE_WITHDRAWAL)
    request = request_create(
        actor=teller,
        customer=customer,
        request_type=request_type,
        branch=branch,
        data={
            "account_number": ACCOUNT,
            "amount": {"amount": "20000.00", "currency": "CNY"},
            "withdrawal_date": "2026-12-01",
        },
    )
    document_attach(
        actor=teller,
        request=request,
        doc_type="id_copy",
        uploaded_file=SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
    )
    request = request_submit(actor=teller, request=request)
    return {"request": request, "teller": teller, "approver": approver, "customer": customer}


def test_the_customer_follows_the_request_and_the_teller_prints_the_receipt(
    page, sign_in, withdrawal
):
    request, customer = withdrawal["request"], withdrawal["customer"]
    progress = reverse("transactions_public:progress", args=[request.public_token])

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(progress + "?lang=zh-hans")
    expect(page.locator("[data-reference]")).to_have_text(request.reference)
    expect(page.locator(".service-name")).to_have_text("大额取现")
    expect(page.locator("[data-step=submitted][data-done]")).to_have_count(1)
    expect(page.locator("[data-step=approved][data-done]")).to_have_count(0)
    assert customer.full_name not in page.content()
    page.screenshot(path=SHOTS / "e2e-transactions-progress-zh.png", full_page=True)

    request_approve(actor=withdrawal["approver"], request=request)
    page.locator(".langs a[hreflang=en]").click()
    expect(page.locator("[data-status-label]")).to_have_text("Sent to core banking")
    expect(page.locator("[data-step=approved][data-done]")).to_have_count(1)
    expect(page.locator("[data-step=sent][data-done]")).to_have_count(1)

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(withdrawal["teller"])
    page.goto(reverse("transactions:receipt", args=[request.pk]))
    # The customer reads Chinese: the receipt is in Chinese unless asked otherwise.
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-reference]")).to_have_text(request.reference)
    expect(page.get_by_text(ACCOUNT)).to_have_count(0)  # masked on paper
    page.locator("a[hreflang=en]").click()
    expect(page.locator("h1")).to_have_text("Receipt")
    expect(page.locator("[data-progress-link]")).to_contain_text(request.public_token)
    page.screenshot(path=SHOTS / "e2e-transactions-receipt.png", full_page=True)
    pdf = page.request.get(reverse("transactions:receipt-pdf", args=[request.pk]))
    assert pdf.ok and pdf.body().startswith(b"%PDF-")
