"""Advisor calendars on the staff pages: the week (availability, time off, appointments with who
has checked in), editing availability (branch managers) and time off (the advisor or a manager),
time off that clashes with bookings, permissions and branch scope, query budget; booking with an
advisor on the staff page and on the public page.

Time is frozen on Wednesday 4 March 2026, 10:00 in Shanghai; Thursday the 5th is bookable.
"""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.events.models import Event
from reception.appointments import appointment_book, appointment_check_in
from reception.models import AdvisorAvailability, AdvisorTimeOff, Appointment

from .factories import AdvisorAvailabilityFactory, ServiceTypeFactory
from .fixtures import SHANGHAI

pytestmark = pytest.mark.django_db

THURSDAY = dt.date(2026, 3, 5)


def at(hour: int, minute: int = 0, day: dt.date = THURSDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def text(response) -> str:
    page = re.sub(r"<(script|template)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def calendar_url(advisor, **params) -> str:
    url = reverse("reception:advisor-calendar", args=[advisor.pk])
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}?{query}" if query else url


@pytest.fixture(autouse=True)
def _private_file_cache(settings, tmp_path):
    # The public page's rate limit counts in the cache: one directory per test.
    default = settings.CACHES["default"]
    if default["BACKEND"].endswith(".FileBasedCache"):
        settings.CACHES = {**settings.CACHES, "default": {**default, "LOCATION": str(tmp_path)}}


@pytest.fixture
def wealth(wealth):
    wealth.with_advisor = True
    wealth.save(update_fields=["with_advisor"])
    return wealth


@pytest.fixture
def li(make_staff, branch_a):
    user = make_staff(Role.ADVISOR, branch=branch_a, username="adv-li")
    user.first_name, user.last_name = "Wei", "Li"
    user.save(update_fields=["first_name", "last_name"])
    return user


@pytest.fixture
def li_calendar(li, wealth, branch_a):
    return AdvisorAvailabilityFactory(advisor=li, branch=branch_a, service_types=[wealth])


@pytest.fixture
def manager(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-a")


@pytest.fixture
def signed_in(client, reception_clock):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def book(wealth, hour, minute=0, advisor=None, phone="13800138000", **extra):
    return appointment_book(
        actor=None,
        service_type=wealth,
        starts_at=at(hour, minute),
        contact_name="Chen Yi",
        contact_phone=phone,
        advisor=advisor,
        **extra,
    )


# --- The week -------------------------------------------------------------------------------


def test_the_manager_sees_the_advisors_week_with_bookings(
    signed_in, manager, li, li_calendar, wealth, branch_a
):
    book(wealth, 10, advisor=li)
    AdvisorTimeOff.objects.create(advisor=li, starts_at=at(15), ends_at=at(16), reason="Training")
    response = signed_in(manager).get(calendar_url(li, week="2026-03-05"))
    assert response.status_code == 200
    page = text(response)
    assert "Calendar of Wei L." in page
    assert "Week from 2026-03-02" in page  # the Monday
    assert "09:00–17:00 · Branch A · Wealth management" in page
    assert "10:00 Wealth management · Chen Yi" in page
    assert "Training" in page
    # Branch managers may plan availability and see the contact's phone.
    assert "data-availability-form" in response.content.decode()
    assert "+8613800138000" in page


def test_the_greeter_sees_the_calendar_read_only_with_the_phone_masked(
    signed_in, greeter, li, li_calendar, wealth
):
    book(wealth, 10, advisor=li)
    response = signed_in(greeter).get(calendar_url(li, week="2026-03-05"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "10:00" in text(response) and "13800138000" not in body
    assert not Event.objects.filter(type="customer.pii_revealed").exists()
    assert "data-availability-form" not in body and "data-time-off-form" not in body


def test_the_calendar_page_has_a_fixed_query_budget(
    signed_in, manager, li, li_calendar, wealth, django_assert_max_num_queries
):
    client = signed_in(manager)
    client.get(calendar_url(li))  # warm the session and the scope
    for hour in (9, 10, 11, 13, 14, 15):
        book(wealth, hour, advisor=li, phone=f"139000000{hour:02d}")
    for weekday in (1, 2, 3):
        AdvisorAvailabilityFactory(
            advisor=li, branch=li_calendar.branch, service_types=[wealth], weekday=weekday
        )
    AdvisorTimeOff.objects.create(advisor=li, starts_at=at(16), ends_at=at(17))
    # 11, plus the audit of each phone number the manager sees in full (one insert each).
    with django_assert_max_num_queries(11 + 6):
        response = client.get(calendar_url(li, week="2026-03-05"))
    assert response.content.decode().count("data-appointment=") == 6
    assert Event.objects.filter(type="customer.pii_revealed").count() == 6


def test_the_advisor_sees_who_has_checked_in_with_the_ticket(
    signed_in, li, li_calendar, wealth, greeter
):
    appointment = book(wealth, 10, 30, advisor=li)
    ticket = appointment_check_in(actor=greeter, appointment=appointment, now=at(10, 20))
    client = signed_in(li)
    response = client.get(reverse("reception:my-calendar"), follow=True)
    assert response.status_code == 200
    page = text(response)
    assert f"Checked in · {ticket.number}" in page


def test_an_advisor_of_another_branch_is_not_found(signed_in, make_staff, branch_b, li):
    other_manager = make_staff(Role.BRANCH_MANAGER, branch=branch_b)
    assert signed_in(other_manager).get(calendar_url(li)).status_code == 404


def test_a_role_without_calendar_permission_is_forbidden(signed_in, make_staff, branch_a, li):
    processor = make_staff(Role.PROCESSOR, branch=branch_a)
    assert signed_in(processor).get(calendar_url(li)).status_code == 403


# --- Availability ---------------------------------------------------------------------------


def test_the_manager_adds_availability_with_an_event(signed_in, manager, li, wealth, branch_a):
    response = signed_in(manager).post(
        reverse("reception:availability-add", args=[li.pk]) + f"?branch={branch_a.pk}",
        {"service_types": [wealth.pk], "weekday": 5, "starts": "09:00", "ends": "12:00"},
    )
    assert response.status_code == 302, text(response)
    row = AdvisorAvailability.objects.get(advisor=li)
    assert (row.weekday, row.starts, list(row.service_types.all())) == (5, dt.time(9), [wealth])
    event = Event.objects.get(type="reception.advisor_availability_added")
    assert event.actor_user == manager
    assert event.payload["services"] == ["wealth"]


def test_bad_availability_is_a_form_error(signed_in, manager, li, li_calendar, wealth, branch_a):
    url = reverse("reception:availability-add", args=[li.pk]) + f"?branch={branch_a.pk}"
    client = signed_in(manager)
    response = client.post(
        url, {"service_types": [wealth.pk], "weekday": 4, "starts": "12:00", "ends": "11:00"}
    )
    assert response.status_code == 400
    assert "The end must be after the start." in text(response)
    response = client.post(
        url, {"service_types": [wealth.pk], "weekday": 4, "starts": "10:00", "ends": "11:00"}
    )
    assert response.status_code == 400
    assert "overlaps another period" in text(response)
    assert AdvisorAvailability.objects.count() == 1


def test_an_advisor_cannot_edit_availability(signed_in, li, wealth, branch_a, li_calendar):
    client = signed_in(li)
    response = client.post(
        reverse("reception:availability-add", args=[li.pk]),
        {"service_types": [wealth.pk], "weekday": 5, "starts": "09:00", "ends": "12:00"},
    )
    assert response.status_code == 403
    delete = reverse("reception:availability-delete", args=[li_calendar.pk])
    assert client.post(delete).status_code == 403
    assert AdvisorAvailability.objects.count() == 1


def test_the_manager_removes_availability_of_their_branch_only(
    signed_in, manager, make_staff, branch_b, li_calendar
):
    other_manager = make_staff(Role.BRANCH_MANAGER, branch=branch_b)
    delete = reverse("reception:availability-delete", args=[li_calendar.pk])
    assert signed_in(other_manager).post(delete).status_code == 404
    assert signed_in(manager).post(delete).status_code == 302
    assert not AdvisorAvailability.objects.exists()
    assert Event.objects.filter(type="reception.advisor_availability_removed").count() == 1


# --- Time off -------------------------------------------------------------------------------


def test_the_advisor_adds_time_off_and_clashing_bookings_are_listed(
    signed_in, li, li_calendar, wealth, branch_a
):
    clash = book(wealth, 14, advisor=li)
    client = signed_in(li)
    response = client.post(
        reverse("reception:time-off-add", args=[li.pk]) + f"?branch={branch_a.pk}",
        {"starts_at": "2026-03-05T13:00", "ends_at": "2026-03-05T17:00", "reason": "Doctor"},
        follow=True,
    )
    assert response.status_code == 200
    page = text(response)
    assert "1 booked appointment falls in it" in page
    assert "Booked during time off" in page
    reschedule = reverse("reception:appointment-reschedule", args=[clash.pk])
    assert f'data-clash="{clash.pk}"' in response.content.decode()
    assert reschedule in response.content.decode()
    time_off = AdvisorTimeOff.objects.get()
    assert time_off.starts_at == at(13)  # the branch's local time
    event = Event.objects.get(type="reception.advisor_time_off_added")
    assert event.payload["clashing_appointments"] == [clash.pk]
    # The booking stays booked; new bookings avoid the time off.
    assert Appointment.objects.get(pk=clash.pk).status == "booked"


def test_an_advisor_cannot_add_time_off_for_a_colleague(signed_in, li, make_staff, branch_a):
    colleague = make_staff(Role.ADVISOR, branch=branch_a, username="adv-zhang")
    response = signed_in(li).post(
        reverse("reception:time-off-add", args=[colleague.pk]),
        {"starts_at": "2026-03-05T13:00", "ends_at": "2026-03-05T17:00"},
    )
    assert response.status_code == 403
    assert not AdvisorTimeOff.objects.exists()


def test_a_manager_adds_and_removes_time_off_for_an_advisor_of_the_branch(
    signed_in, manager, li, branch_a
):
    client = signed_in(manager)
    response = client.post(
        reverse("reception:time-off-add", args=[li.pk]) + f"?branch={branch_a.pk}",
        {"starts_at": "2026-03-06T09:00", "ends_at": "2026-03-06T12:00"},
    )
    assert response.status_code == 302
    time_off = AdvisorTimeOff.objects.get(advisor=li)
    response = client.post(reverse("reception:time-off-delete", args=[time_off.pk]))
    assert response.status_code == 302
    assert not AdvisorTimeOff.objects.exists()
    assert Event.objects.filter(type="reception.advisor_time_off_removed").count() == 1


def test_time_off_ending_before_it_starts_is_a_form_error(signed_in, li):
    response = signed_in(li).post(
        reverse("reception:time-off-add", args=[li.pk]),
        {"starts_at": "2026-03-06T12:00", "ends_at": "2026-03-06T09:00"},
    )
    assert response.status_code == 400
    assert "The end must be after the start." in text(response)


# --- Booking pages --------------------------------------------------------------------------


def test_staff_book_a_named_advisor(signed_in, greeter, li, li_calendar, wealth, branch_a):
    client = signed_in(greeter)
    new = reverse("reception:appointment-new")
    query = {"branch": branch_a.pk, "service_type": wealth.pk, "day": "2026-03-05"}
    page = client.get(new, {**query, "advisor": li.pk})
    assert "Any advisor" in text(page)
    assert "Wei L." in text(page)
    response = client.post(
        new,
        {
            **query,
            "advisor": li.pk,
            "starts_at": at(11).isoformat(),
            "contact_name": "Chen Yi",
            "contact_phone": "13800138000",
        },
    )
    assert response.status_code == 302, text(response)
    appointment = Appointment.objects.get()
    assert (appointment.advisor, appointment.advisor_chosen) == (li, True)
    listing = client.get(response["Location"])
    assert "Wei L." in text(listing)


def test_the_public_page_offers_any_or_a_named_advisor_without_personal_data(
    client, reception_clock, li, li_calendar, wealth, branch_a
):
    li.email = "wei.li@bank.example"
    li.save(update_fields=["email"])
    book_url = reverse("reception_public:book", args=[branch_a.code])
    page = client.get(book_url, {"service": wealth.pk})
    body = page.content.decode()
    assert 'data-advisor="any"' in body and f'data-advisor="{li.pk}"' in body
    assert "Wei L." in body
    assert "wei.li@" not in body and "adv-li" not in body
    assert "data-day=" not in body  # the advisor step comes first
    page = client.get(book_url, {"service": wealth.pk, "advisor": li.pk, "day": "2026-03-05"})
    assert 'data-slot="11:00"' in page.content.decode()
    response = client.post(
        book_url,
        {
            "service": wealth.pk,
            "advisor": li.pk,
            "day": "2026-03-05",
            "slot": at(11).isoformat(),
            "name": "Chen Yi",
            "phone": "13800138000",
        },
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.advisor, appointment.advisor_chosen) == (li, True)
    manage = client.get(response["Location"])
    assert "With Wei L." in text(manage)


def test_the_public_page_books_any_advisor(
    client, reception_clock, li, li_calendar, wealth, branch_a
):
    book_url = reverse("reception_public:book", args=[branch_a.code])
    response = client.post(
        book_url,
        {
            "service": wealth.pk,
            "advisor": "any",
            "day": "2026-03-05",
            "slot": at(11).isoformat(),
            "name": "Chen Yi",
            "phone": "13800138000",
        },
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.advisor, appointment.advisor_chosen) == (li, False)


def test_a_service_without_advisor_books_as_before(client, reception_clock, branch_a):
    service = ServiceTypeFactory(branch=branch_a, code="acc", bookable=True, slot_capacity=2)
    page = client.get(
        reverse("reception_public:book", args=[branch_a.code]), {"service": service.pk}
    )
    body = page.content.decode()
    assert "data-advisor" not in body and "data-day=" in body


def test_the_calendar_renders_in_chinese(signed_in, manager, li, li_calendar, wealth, settings):
    book(wealth, 10, advisor=li)
    client = signed_in(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(calendar_url(li, week="2026-03-05"))
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()
    assert "理财咨询" in text(response)  # the service's Chinese name
