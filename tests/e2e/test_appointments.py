"""A customer books on the public page; the greeter sees the appointment and checks them in.

The live server runs at the real time of day, so the branch is open every hour of every day,
bookings need no notice and check-in opens two days ahead: the test never depends on the clock
(it books the first free time offered, whenever that is).
"""

import re

import pytest

from bankservice.branches.models import Role
from reception.models import Appointment, AppointmentStatus, Ticket
from tests.reception.factories import ServiceTypeFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


@pytest.fixture
def branch(always_open_branch, settings):
    settings.RECEPTION_BOOKING_NOTICE_MINUTES = 0
    settings.RECEPTION_CHECKIN_EARLY_MINUTES = 2 * 24 * 60
    branch = always_open_branch
    ServiceTypeFactory(
        branch=branch,
        code="wealth",
        name_en="Wealth management",
        name_zh="理财咨询",
        prefix="V",
        bookable=True,
        slot_minutes=15,
        slot_capacity=1,
    )
    return branch


def test_customer_books_online_and_the_greeter_checks_them_in(page, sign_in, branch, make_staff):
    greeter = make_staff(Role.GREETER, branch=branch, username="greeter-h24")

    # The customer, on their phone.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/book/{branch.code}/")
    page.locator("[data-service=wealth]").click()
    page.locator("[data-day]").first.click()
    page.locator("[data-slot]").first.click()
    page.fill("#id_name", "Li Lei")
    page.fill("#id_phone", "138 0013 8000")
    page.locator("#id_consent_sms").check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator("[data-booked]")).to_contain_text("Your appointment is booked")
    reference = re.search(r"/a/([^/]+)/", page.url).group(1)
    appointment = Appointment.objects.get(reference=reference)
    assert appointment.channel == "public"
    assert appointment.contact_phone == "+8613800138000"

    # The greeter, at the branch.
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(greeter)
    page.goto("/reception/floor/")
    page.locator("[data-nav=appointments]").click()
    row = page.locator(f"[data-appointment='{appointment.pk}']")
    expect(row).to_contain_text("Li Lei")
    expect(row).to_contain_text("+86138****8000")  # a greeter sees the phone masked
    row.locator("[data-check-in]").click()
    expect(page.locator("[data-field=checked-in-number]")).to_have_text("V001")
    expect(row).to_contain_text("Checked in")

    ticket = Ticket.objects.get()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    assert appointment.ticket == ticket
    assert ticket.is_appointment
    assert ticket.visit.contact_phone == "+8613800138000"
