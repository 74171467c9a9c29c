"""Appointment pages: the staff list, booking, moving, cancelling and checking in; the public
booking page and the customer's manage page (both languages, rate limit, no-store).

Time is frozen on Wednesday 4 March 2026, 10:00 in Shanghai; Thursday the 5th is bookable.
"""

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.events.models import Event
from reception.appointment_public_views import BOOKINGS_PER_WINDOW
from reception.appointments import appointment_book, appointment_cancel
from reception.models import Appointment, AppointmentStatus, Ticket
from tests.factories import CustomerFactory

from .fixtures import SHANGHAI

pytestmark = pytest.mark.django_db

THURSDAY = dt.date(2026, 3, 5)
LIST = reverse("reception:appointments")
NEW = reverse("reception:appointment-new")


def at(hour: int, minute: int = 0, day: dt.date = THURSDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def text(response) -> str:
    page = re.sub(r"<(script|template)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


@pytest.fixture(autouse=True)
def _private_file_cache(settings, tmp_path):
    # The rate limit counts in the cache: without Redis a directory every process shares.
    default = settings.CACHES["default"]
    if default["BACKEND"].endswith(".FileBasedCache"):
        settings.CACHES = {**settings.CACHES, "default": {**default, "LOCATION": str(tmp_path)}}


@pytest.fixture
def greeter_client(client, greeter, reception_clock):
    client.force_login(greeter)
    return client


@pytest.fixture
def booked(reception_clock, wealth):
    def make(hour, minute=0, phone="13800138000", **extra):
        return appointment_book(
            actor=None,
            service_type=wealth,
            starts_at=at(hour, minute),
            contact_name="Li Lei",
            contact_phone=phone,
            **extra,
        )

    return make


# --- Staff: the list ----------------------------------------------------------------------------


def test_the_list_shows_the_days_appointments_with_the_phone_masked(
    greeter_client, booked, branch_a
):
    booked(10)
    response = greeter_client.get(LIST, {"branch": branch_a.pk, "day": "2026-03-05"})
    assert response.status_code == 200
    page = text(response)
    assert "Li Lei" in page and "10:00" in page
    assert "+86138****8000" in page and "+8613800138000" not in page
    assert not Event.objects.filter(type="customer.pii_revealed").exists()


def test_a_teller_sees_the_contacts_phone_and_the_look_is_audited(
    client, teller, booked, branch_a, reception_clock
):
    appointment = booked(10)
    booked(11, phone="13900139000")
    client.force_login(teller)
    page = text(client.get(LIST, {"branch": branch_a.pk, "day": "2026-03-05"}))
    assert "+8613800138000" in page
    events = Event.objects.filter(type="customer.pii_revealed").order_by("id")
    assert [(e.actor_user, e.subject_id, e.payload) for e in events] == [
        (teller, str(appointment.pk), {"fields": ["phone"], "where": LIST}),
        (teller, str(appointment.pk + 1), {"fields": ["phone"], "where": LIST}),
    ]


def test_another_branchs_list_is_a_404(client, make_staff, branch_a, branch_b, reception_clock):
    client.force_login(make_staff(Role.GREETER, branch=branch_b, username="greeter-b"))
    assert client.get(LIST, {"branch": branch_a.pk}).status_code == 404


def test_the_floor_view_links_to_the_appointments(greeter_client, branch_a):
    response = greeter_client.get(reverse("reception:floor"), {"branch": branch_a.pk})
    assert f"{LIST}?branch={branch_a.pk}" in response.content.decode()


@pytest.mark.parametrize("appointments", [1, 6])
def test_the_list_query_count_is_fixed(
    greeter_client, booked, branch_a, django_assert_num_queries, appointments
):
    for n in range(appointments):
        booked(9 + n, phone=f"1390000{n:04d}")
    # user, scope, branches, services, appointments (one query with their service, customer
    # and ticket); saving the session: savepoint, update, release
    with django_assert_num_queries(8):
        response = greeter_client.get(LIST, {"branch": branch_a.pk, "day": "2026-03-05"})
    assert len(response.context["appointments"]) == appointments


# --- Staff: booking and steps -------------------------------------------------------------------


def test_book_for_a_contact_from_the_staff_page(greeter_client, wealth, branch_a, greeter):
    form = greeter_client.get(
        NEW, {"branch": branch_a.pk, "service_type": wealth.pk, "day": "2026-03-05"}
    )
    assert form.status_code == 200
    assert "10:00 (1 left)" in text(form)
    response = greeter_client.post(
        NEW,
        {
            "branch": branch_a.pk,
            "service_type": wealth.pk,
            "day": "2026-03-05",
            "starts_at": at(10).isoformat(),
            "contact_name": "Li Lei",
            "contact_phone": "13800138000",
        },
    )
    assert response.status_code == 302, text(response)
    assert response["Location"] == f"{LIST}?branch={branch_a.pk}&day=2026-03-05"
    appointment = Appointment.objects.get()
    assert (appointment.contact_name, appointment.created_by) == ("Li Lei", greeter)


def test_book_for_a_customer_found_by_phone(greeter_client, wealth, branch_a):
    customer = CustomerFactory(home_branch=branch_a, phone="+8613912345678")
    response = greeter_client.post(
        NEW,
        {
            "branch": branch_a.pk,
            "service_type": wealth.pk,
            "day": "2026-03-05",
            "starts_at": at(11).isoformat(),
            "customer_query": "5678",
        },
    )
    assert response.status_code == 302, text(response)
    assert Appointment.objects.get().customer == customer


def test_booking_without_anyone_is_refused_on_the_page(greeter_client, wealth, branch_a):
    response = greeter_client.post(
        NEW,
        {
            "branch": branch_a.pk,
            "service_type": wealth.pk,
            "day": "2026-03-05",
            "starts_at": at(11).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "Find the customer's record, or give a name and a phone." in text(response)
    assert not Appointment.objects.exists()


def test_check_in_from_the_list_issues_the_ticket_and_shows_its_number(
    greeter_client, greeter, booked, branch_a, reception_clock
):
    appointment = booked(10)
    reception_clock.move_to(at(9, 50))
    greeter_client.force_login(greeter)
    url = reverse("reception:appointment-check-in", args=[appointment.pk])
    response = greeter_client.post(url, follow=True)
    ticket = Ticket.objects.get()
    assert response.redirect_chain[-1][0] == (
        f"{LIST}?branch={branch_a.pk}&day=2026-03-05&checked_in={ticket.pk}"
    )
    assert "Checked in: ticket V001" in text(response)
    assert response.context["checked_in"].ticket == ticket
    again = greeter_client.post(url, follow=True)
    assert "already checked in (ticket V001)" in text(again)
    assert Ticket.objects.count() == 1


def test_check_in_too_early_is_a_message_not_a_ticket(greeter_client, booked):
    appointment = booked(10)
    url = reverse("reception:appointment-check-in", args=[appointment.pk])
    response = greeter_client.post(url, follow=True)
    assert "Too early: check-in for this appointment opens at 2026-03-05 09:30." in text(response)
    assert not Ticket.objects.exists()


def test_cancel_and_reschedule_from_the_staff_pages(greeter_client, booked):
    first, second = booked(10), booked(11, phone="13900001111")
    cancel = reverse("reception:appointment-cancel", args=[first.pk])
    assert greeter_client.post(cancel).status_code == 302
    first.refresh_from_db()
    assert first.status == AppointmentStatus.CANCELLED

    move = reverse("reception:appointment-reschedule", args=[second.pk])
    page = greeter_client.get(move, {"day": "2026-03-05"})
    assert page.status_code == 200
    assert "10:00" in text(page)  # the cancelled appointment's time is free again
    response = greeter_client.post(move, {"starts_at": at(10).isoformat()})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.starts_at == at(10)


def test_a_role_without_change_permission_cannot_act(client, make_staff, branch_a, booked):
    appointment = booked(10)
    client.force_login(make_staff(Role.AUDITOR, branch=branch_a, username="auditor-a"))
    for name in ("appointment-check-in", "appointment-cancel"):
        assert client.post(reverse(f"reception:{name}", args=[appointment.pk])).status_code == 403
    assert client.get(NEW, {"branch": branch_a.pk}).status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


# --- Public: booking ----------------------------------------------------------------------------


def book_url(branch, **query):
    path = reverse("reception_public:book", args=[branch.code])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def contact(**extra):
    return {
        "service": extra.pop("service"),
        "day": "2026-03-05",
        "slot": at(10).isoformat(),
        "name": "Li Lei",
        "phone": "13800138000",
        "consent_sms": "on",
        **extra,
    }


def test_public_booking_walks_service_day_time_details(reception_clock, wealth, branch_a):
    browser = Client()
    page = browser.get(book_url(branch_a))
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert "Wealth management" in text(page)
    page = browser.get(book_url(branch_a, service=wealth.pk))
    assert 'data-day="2026-03-05"' in page.content.decode()
    page = browser.get(book_url(branch_a, service=wealth.pk, day="2026-03-05"))
    assert 'data-slot="10:00"' in page.content.decode()
    page = browser.get(book_url(branch_a, service=wealth.pk, day="2026-03-05", slot="x"))
    assert "Your details" not in text(page)  # not a slot: no form

    response = browser.post(book_url(branch_a), contact(service=wealth.pk))
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/a/{appointment.reference}/?booked=1"
    assert appointment.channel == "public"
    assert appointment.contact_consent_sms
    assert appointment.created_by is None
    assert Event.objects.get(type="reception.appointment_booked").actor_user is None


def test_public_booking_in_chinese_books_in_chinese(reception_clock, wealth, branch_a):
    page = Client().get(book_url(branch_a, service=wealth.pk, day="2026-03-05", lang="zh-hans"))
    assert page.status_code == 200
    assert "理财咨询" in text(page)
    assert "lang=zh-hans" in page.content.decode()  # the step links keep the language
    response = Client().post(book_url(branch_a), contact(service=wealth.pk, lang="zh-hans"))
    appointment = Appointment.objects.get()
    assert response["Location"] == f"/a/{appointment.reference}/?booked=1&lang=zh-hans"
    assert appointment.language == "zh-hans"
    page = Client().get(response["Location"])
    assert page["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in page.content.decode()


def test_public_booking_needs_a_phone_or_email(reception_clock, wealth, branch_a):
    response = Client().post(book_url(branch_a), contact(service=wealth.pk, phone=""))
    assert response.status_code == 400
    assert "Give a mobile number or an e-mail address." in text(response)
    response = Client().post(book_url(branch_a), contact(service=wealth.pk, phone="12ab"))
    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_a_taken_slot_on_the_public_page_is_409(reception_clock, wealth, branch_a, booked):
    booked(10, phone="13900001111")
    response = Client().post(book_url(branch_a), contact(service=wealth.pk))
    assert response.status_code == 409
    assert "no longer free" in text(response)
    assert Appointment.objects.count() == 1


def test_public_bookings_are_rate_limited_per_address(reception_clock, wealth, branch_a):
    browser = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(BOOKINGS_PER_WINDOW):
        response = browser.post(
            book_url(branch_a),
            contact(service=wealth.pk, slot=at(9 + n).isoformat(), phone=f"1390000{n:04d}"),
        )
        assert response.status_code == 302
    response = browser.post(book_url(branch_a), contact(service=wealth.pk, slot=at(15).isoformat()))
    assert response.status_code == 429
    assert "Too many appointments were booked from this connection" in text(response)
    assert Appointment.objects.count() == BOOKINGS_PER_WINDOW
    other = Client(REMOTE_ADDR="198.51.100.7").post(
        book_url(branch_a), contact(service=wealth.pk, slot=at(15).isoformat())
    )
    assert other.status_code == 302


def test_an_unknown_or_inactive_branch_is_a_404(reception_clock, branch_a):
    assert Client().get("/book/nope/").status_code == 404
    branch_a.is_active = False
    branch_a.save()
    assert Client().get(book_url(branch_a)).status_code == 404


# --- Public: the manage page --------------------------------------------------------------------


def manage_url(appointment):
    return reverse("reception_public:appointment", args=[appointment.reference])


def test_the_manage_page_shows_the_appointment_and_no_phone(reception_clock, booked):
    appointment = booked(10)
    response = Client().get(manage_url(appointment))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = text(response)
    assert "Thu 5 Mar 2026 · 10:00" in page
    assert "Check-in opens at 09:30" in page
    assert "13800138000" not in page
    assert Client().get("/a/not-a-reference/").status_code == 404


def test_the_customer_moves_and_cancels(reception_clock, booked):
    appointment = booked(10)
    browser = Client()
    page = browser.get(manage_url(appointment), {"move": 1, "day": "2026-03-05"})
    assert 'value="2026-03-05T11:00:00+08:00"' in page.content.decode()
    response = browser.post(
        manage_url(appointment), {"step": "reschedule", "starts_at": at(11).isoformat()}
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == at(11)
    assert browser.post(manage_url(appointment), {"step": "cancel"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    again = browser.post(manage_url(appointment), {"step": "cancel"})
    assert again.status_code == 409
    assert "is Cancelled: it cannot be cancelled" in text(again)


def test_the_customer_checks_in_on_the_day_and_follows_the_ticket(reception_clock, booked):
    appointment = booked(10)
    browser = Client()
    early = browser.post(manage_url(appointment), {"step": "check_in"})
    assert early.status_code == 409
    assert "opens at 2026-03-05 09:30" in text(early)
    reception_clock.move_to(at(9, 40))
    response = browser.post(manage_url(appointment), {"step": "check_in"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/t/{ticket.public_token}/"
    assert ticket.is_appointment
    page = browser.get(manage_url(appointment))
    assert f"/t/{ticket.public_token}/" in page.content.decode()


def test_a_cancelled_appointment_offers_no_steps(reception_clock, booked, greeter):
    appointment = appointment_cancel(actor=greeter, appointment=booked(10))
    page = Client().get(manage_url(appointment)).content.decode()
    assert "data-check-in" not in page and "data-cancel" not in page
