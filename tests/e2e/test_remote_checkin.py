"""A customer takes a number from their own phone, asks for the "you're next" SMS, and watches
their place on the status page while a teller calls the people ahead.

The branch is open around the clock (tests/e2e/test_reception_flow.py), so the live server's
real time of day does not matter. The SMS goes through the file channel (one JSON line each).
"""

import json

import pytest
from django.urls import reverse

from bankservice.notify.models import Notification, NotificationStatus
from bankservice.notify.tasks import send_notification
from reception.models import Ticket, VisitSource
from reception.services import (
    counter_sign_in,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_start,
)
from reception.tasks import send_next_notices

from .test_reception_flow import SHOTS, STATUS_MS

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def test_phone_check_in_with_sms_then_you_are_next(page, reception, settings, tmp_path):
    settings.RECEPTION_NEXT_SMS_AHEAD = 2
    settings.RECEPTION_PUBLIC_BASE_URL = "https://queue.bank.example"
    settings.NOTIFY_SMS_CHANNEL = "file"
    settings.NOTIFY_FILE_PATH = str(tmp_path / "sms.jsonl")
    branch, cash = reception["branch"], reception["cash"]
    teller, counter = reception["teller"], reception["counter"]
    for _i in range(3):  # three people are already waiting for cash
        ticket_issue(actor=None, service_type=cash, source=VisitSource.KIOSK)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("reception_public:checkin", args=[branch.code]))
    expect(page.locator("main h1")).to_have_text("Take a number from your phone")
    expect(page.locator("label.choice")).to_have_count(4)
    page.locator("label.choice[data-service=cash]").click()
    page.get_by_label("Text me when I'm nearly next").check()
    page.get_by_label("Mobile number").fill("139 1234 5678")
    page.screenshot(path=SHOTS / "e2e-remote-checkin.png", full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Take a number").click()

    ticket = Ticket.objects.get(visit__source=VisitSource.REMOTE)
    assert ticket.number == "A004"
    assert (ticket.visit.contact_phone, ticket.visit.sms_when_next) == ("+8613912345678", True)
    expect(page.locator("[data-ticket-number]")).to_have_text("A004")
    expect(page.locator("[data-ahead]")).to_have_text("3")
    expect(page.locator("[data-nearly-next]")).to_have_count(0)

    # The check-in page now points this phone to its ticket instead of issuing another.
    other = page.context.new_page()
    other.goto(reverse("reception_public:checkin", args=[branch.code]))
    expect(other.locator("[data-existing] [data-ticket-number]")).to_have_text("A004")
    other.close()

    # The teller calls the first one: two ahead now.
    counter_sign_in(actor=teller, counter=counter)
    first = ticket_call_next(actor=teller, counter=counter)
    send_next_notices(cash.pk)  # what the worker does after the call
    for notification in Notification.objects.filter(status=NotificationStatus.PENDING):
        send_notification(notification.pk)
    expect(page.locator("[data-ahead]")).to_have_text("2", timeout=STATUS_MS)
    expect(page.locator("[data-nearly-next]")).to_contain_text("You're next")
    page.screenshot(path=SHOTS / "e2e-remote-you-are-next.png", full_page=True)

    (sms,) = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert sms["to"] == "+8613912345678"
    assert "A004" in sms["body"] and "2 people ahead" in sms["body"]
    assert f"https://queue.bank.example/t/{ticket.public_token}/" in sms["body"]

    # The next call sends nothing more.
    ticket_start(actor=teller, ticket=first)
    ticket_complete(actor=teller, ticket=first)
    ticket_call_next(actor=teller, counter=counter)
    assert send_next_notices(cash.pk) == 0
    expect(page.locator("[data-ahead]")).to_have_text("1", timeout=STATUS_MS)
