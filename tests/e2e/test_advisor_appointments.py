"""A customer books a wealth advisor on the public page in Chinese; the branch manager sees the
appointment on the advisor's calendar; the advisor checks the customer in from their own
calendar and sees the ticket number.

The live server runs at the real time of day: the branch is open every hour of every day, the
advisor works every day all day, bookings need no notice and check-in opens two days ahead, so
the test books the first free time offered, whenever that is.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from bankservice.branches.models import Role
from reception.models import Appointment, AppointmentStatus, Ticket
from tests.reception.factories import AdvisorAvailabilityFactory, ServiceTypeFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


@pytest.fixture
def wealth(always_open_branch, settings):
    settings.RECEPTION_BOOKING_NOTICE_MINUTES = 0
    settings.RECEPTION_CHECKIN_EARLY_MINUTES = 2 * 24 * 60
    return ServiceTypeFactory(
        branch=always_open_branch,
        code="wealth",
        name_en="Wealth management",
        name_zh="理财咨询",
        prefix="V",
        bookable=True,
        with_advisor=True,
        slot_minutes=15,
    )


@pytest.fixture
def advisors(wealth, make_staff):
    """Two advisors working every day, all day: Wang Fang is the one the customer picks."""
    people = []
    for username, first, last in (("adv-wang", "Fang", "Wang"), ("adv-zhao", "Lei", "Zhao")):
        user = make_staff(Role.ADVISOR, branch=wealth.branch, username=username)
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
        for weekday in range(1, 8):
            AdvisorAvailabilityFactory(
                advisor=user,
                branch=wealth.branch,
                service_types=[wealth],
                weekday=weekday,
                starts=dt.time(0, 0),
                ends=dt.time(23, 59, 59),
            )
        people.append(user)
    return people


def test_customer_books_an_advisor_in_chinese_and_the_advisor_checks_them_in(
    page, sign_in, wealth, advisors, make_staff
):
    wang, _zhao = advisors
    branch = wealth.branch
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch, username="manager-h24")

    # The customer, on their phone, in Chinese.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/book/{branch.code}/?lang=zh-hans")
    page.locator("[data-service=wealth]").click()
    expect(page.locator("[data-advisor=any]")).to_be_visible()
    page.locator(f"[data-advisor='{wang.pk}']").click()
    expect(page.locator(f"[data-advisor='{wang.pk}']")).to_have_text("Fang W.")
    page.locator("[data-day]").first.click()
    page.locator("[data-slot]").first.click()
    expect(page.locator("[data-chosen]")).to_contain_text("理财咨询 · Fang W.")
    page.fill("#id_name", "李雷")
    page.fill("#id_phone", "138 0013 8000")
    page.locator("form.booking-form button[type=submit]").click()
    expect(page.locator("[data-booked]")).to_be_visible()
    expect(page.locator("[data-advisor]")).to_contain_text("Fang W.")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    reference = re.search(r"/a/([^/?]+)/", page.url).group(1)
    appointment = Appointment.objects.get(reference=reference)
    assert (appointment.advisor, appointment.advisor_chosen) == (wang, True)
    assert appointment.language == "zh-hans"
    week = timezone.localdate(appointment.starts_at, branch.zone).isoformat()

    # The branch manager finds it on the advisor's calendar.
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(manager)
    page.goto(f"/reception/advisors/?branch={branch.pk}")
    page.locator(f"[data-advisor='{wang.pk}']").click()
    expect(page.locator("h1")).to_contain_text("Fang W.")
    page.goto(f"/reception/advisors/{wang.pk}/?week={week}&branch={branch.pk}")
    row = page.locator(f"[data-appointment='{appointment.pk}']")
    expect(row).to_contain_text("李雷")
    expect(row).to_contain_text("Booked")

    # The advisor checks the customer in from "my calendar" and sees the ticket.
    page.context.clear_cookies()
    sign_in(wang)
    page.goto(f"/reception/advisors/me/?week={week}")
    row = page.locator(f"[data-appointment='{appointment.pk}']")
    row.locator("[data-check-in]").click()
    row = page.locator(f"[data-appointment='{appointment.pk}']")
    expect(row.locator("[data-ticket]")).to_have_text("V001")
    expect(row).to_have_attribute("data-status", "checked_in")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    assert appointment.ticket == Ticket.objects.get()
    assert appointment.ticket.is_appointment
