"""Appointments: slots from opening hours, lunch breaks, holidays, capacity and the booking
window; booking, moving and cancelling; the check-in windows (early, on time, late → walk-in,
twice); the no-show and reminder sweeps; messages to a customer or a contact; events.

The clock is frozen on Wednesday 4 March 2026, 10:00 in Shanghai (`reception_clock`); branch A is
open Monday–Friday 09:00–17:00, so Thursday the 5th is a whole bookable day.
"""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.branches.models import CalendarDay, OpeningHours, Role
from bankservice.core.errors import BadInput, Conflict
from bankservice.events.models import Event
from bankservice.notify.models import Notification
from reception.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_reschedule,
    appointments_mark_no_shows,
    appointments_send_reminders,
    available_slots,
    bookable_days,
)
from reception.models import Appointment, AppointmentChannel, AppointmentStatus, VisitSource
from reception.services import InvalidTransition
from tests.factories import CustomerFactory

from .factories import ServiceTypeFactory
from .fixtures import OPEN_AT, SHANGHAI

pytestmark = pytest.mark.django_db

THURSDAY = dt.date(2026, 3, 5)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def wealth(wealth):
    """Two advisors: two places per slot."""
    wealth.slot_capacity = 2
    wealth.save(update_fields=["slot_capacity"])
    return wealth


@pytest.fixture
def customer(branch_a):
    return CustomerFactory(
        home_branch=branch_a,
        full_name="Chen Yi",
        phone="+8613912345678",
        email="chen.yi@example.cn",
        preferred_language="en",
        consent_sms=True,
        consent_email=True,
    )


@pytest.fixture
def book(reception_clock, wealth, greeter):
    """book(starts_at, **kwargs) -> an appointment for a contact (or `customer=`), by the greeter."""

    def make(starts_at, **kwargs):
        if "customer" not in kwargs:
            kwargs.setdefault("contact_name", "Li Lei")
            kwargs.setdefault("contact_phone", "138 0013 8000")
        kwargs.setdefault("actor", greeter)
        kwargs.setdefault("service_type", wealth)
        return appointment_book(starts_at=starts_at, **kwargs)

    return make


# --- Slots --------------------------------------------------------------------------------------


def test_slots_run_through_the_opening_hours(reception_clock, wealth):
    slots = available_slots(service_type=wealth, day=THURSDAY)
    assert [s.starts_at for s in slots] == [
        at(THURSDAY, 9) + dt.timedelta(minutes=30 * n) for n in range(16)
    ]
    assert slots[-1].ends_at == at(THURSDAY, 17)
    assert {(s.capacity, s.remaining) for s in slots} == {(2, 2)}


def test_a_lunch_break_has_no_slots_and_no_slot_runs_past_a_closing(
    reception_clock, wealth, branch_a
):
    OpeningHours.objects.filter(branch=branch_a, weekday=4).delete()
    OpeningHours.objects.create(branch=branch_a, weekday=4, opens_at="09:00", closes_at="12:00")
    OpeningHours.objects.create(branch=branch_a, weekday=4, opens_at="13:30", closes_at="17:00")
    wealth.slot_minutes = 45
    times = [
        s.starts_at.astimezone(SHANGHAI).strftime("%H:%M")
        for s in available_slots(service_type=wealth, day=THURSDAY)
    ]
    # 09:00–12:00 holds four 45-minute slots; 13:30–17:00 four more, the last ending 16:30.
    assert times == ["09:00", "09:45", "10:30", "11:15", "13:30", "14:15", "15:00", "15:45"]


def test_holidays_and_weekends_have_no_slots(reception_clock, wealth, branch_a):
    CalendarDay.objects.create(calendar=branch_a.calendar, date=THURSDAY, kind="holiday")
    assert available_slots(service_type=wealth, day=THURSDAY) == []
    assert available_slots(service_type=wealth, day=dt.date(2026, 3, 7)) == []  # Saturday
    days = bookable_days(service_type=wealth)
    assert THURSDAY not in days and dt.date(2026, 3, 6) in days


def test_slots_only_within_the_booking_window(reception_clock, wealth, settings):
    settings.RECEPTION_BOOKING_NOTICE_MINUTES = 60
    settings.RECEPTION_BOOKING_DAYS = 7
    today = available_slots(service_type=wealth, day=OPEN_AT.date())
    assert today[0].starts_at == at(OPEN_AT.date(), 11)  # 10:00 now, one hour's notice
    # Seven days ahead is Wednesday 11 March, 10:00: that day's slots until then.
    last_day = available_slots(service_type=wealth, day=dt.date(2026, 3, 11))
    assert [s.starts_at for s in last_day] == [
        at(dt.date(2026, 3, 11), 9),
        at(dt.date(2026, 3, 11), 9, 30),
        at(dt.date(2026, 3, 11), 10),
    ]
    assert available_slots(service_type=wealth, day=dt.date(2026, 3, 12)) == []
    assert available_slots(service_type=wealth, day=dt.date(2026, 3, 3)) == []  # the past
    days = bookable_days(service_type=wealth)
    assert days[0] == OPEN_AT.date() and days[-1] == dt.date(2026, 3, 11)


def test_a_service_that_is_not_bookable_has_no_slots(reception_clock, wealth):
    wealth.bookable = False
    assert available_slots(service_type=wealth, day=THURSDAY) == []
    assert bookable_days(service_type=wealth) == []


def test_booked_appointments_take_places_in_every_slot_they_overlap(
    book, wealth, django_assert_num_queries
):
    book(at(THURSDAY, 10))
    book(at(THURSDAY, 10), contact_phone="13900001111")
    book(at(THURSDAY, 11), contact_phone="13900002222")
    # Slots are now 60 minutes: the 10:00 one holds the two 10:00 bookings, 11:00 holds one.
    wealth.slot_minutes = 60
    # The calendar's exception days, the opening hours, the day's appointments.
    with django_assert_num_queries(3):
        slots = {s.starts_at: s for s in available_slots(service_type=wealth, day=THURSDAY)}
    assert slots[at(THURSDAY, 10)].remaining == 0
    assert not slots[at(THURSDAY, 10)].is_free
    assert slots[at(THURSDAY, 11)].remaining == 1
    assert slots[at(THURSDAY, 9)].remaining == 2


# --- Booking ------------------------------------------------------------------------------------


def test_booking_a_slot_for_a_contact(book, greeter, wealth):
    appointment = book(at(THURSDAY, 10, 30), notes="Bring passport")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.ends_at == at(THURSDAY, 11)
    assert appointment.contact_phone == "+8613800138000"  # normalised to E.164
    assert appointment.channel == AppointmentChannel.STAFF
    assert appointment.created_by == greeter
    event = Event.objects.get(type="reception.appointment_booked")
    assert event.actor_user == greeter
    assert event.subject_id == str(appointment.pk)
    assert event.payload["service"] == "wealth"


def test_the_last_place_goes_once(book):
    book(at(THURSDAY, 10))
    book(at(THURSDAY, 10), contact_phone="13900001111")
    with pytest.raises(Conflict, match="has just been taken"):
        book(at(THURSDAY, 10), contact_phone="13900002222")
    assert Appointment.objects.count() == 2


@pytest.mark.parametrize(
    "starts_at, message",
    [
        (at(THURSDAY, 10, 10), "is not an appointment slot"),
        (at(THURSDAY, 17), "is not an appointment slot"),  # closing time
        (at(dt.date(2026, 3, 7), 10), "is not an appointment slot"),  # Saturday
        (OPEN_AT + dt.timedelta(minutes=30), "can be booked from"),  # less than an hour ahead
        (at(THURSDAY, 10) + dt.timedelta(days=60), "can be booked from"),
        (dt.datetime(2026, 3, 5, 10, 0), "time zone"),  # noqa: DTZ001 - naive, the case
    ],
)
def test_a_start_off_the_slots_or_outside_the_window_is_bad_input(book, starts_at, message):
    with pytest.raises(BadInput, match=message) as refused:
        book(starts_at)
    assert refused.value.field == "starts_at"
    assert not Appointment.objects.exists()
    assert not Event.objects.filter(type__startswith="reception.appointment").exists()


def test_a_service_that_is_not_bookable_refuses(book, wealth):
    wealth.bookable = False
    wealth.save()
    with pytest.raises(BadInput, match="cannot be booked") as refused:
        book(at(THURSDAY, 10))
    assert refused.value.field == "service_type"


@pytest.mark.parametrize(
    "contact, field",
    [
        ({"contact_name": ""}, "contact_name"),
        ({"contact_phone": "", "contact_email": ""}, "contact_phone"),
        ({"contact_phone": "12ab"}, "contact_phone"),
        ({"contact_phone": "", "contact_email": "not-an-address"}, "contact_email"),
    ],
)
def test_a_contact_needs_a_name_and_a_valid_phone_or_email(book, contact, field):
    with pytest.raises(BadInput) as refused:
        book(at(THURSDAY, 10), **contact)
    assert refused.value.field == field
    assert not Appointment.objects.exists()


def test_one_person_cannot_hold_two_overlapping_appointments(book, branch_a, customer):
    accounts = ServiceTypeFactory(
        branch=branch_a, code="accounts", prefix="B", bookable=True, slot_minutes=15
    )
    book(at(THURSDAY, 10), customer=customer)
    with pytest.raises(Conflict, match="already an appointment"):
        book(at(THURSDAY, 10, 15), customer=customer, service_type=accounts)
    book(at(THURSDAY, 11))  # the contact Li Lei, phone 138 0013 8000
    with pytest.raises(Conflict, match="already an appointment"):
        book(at(THURSDAY, 11), contact_name="Li Lei", contact_phone="+8613800138000")
    book(at(THURSDAY, 10, 30), customer=customer, service_type=accounts)  # after the first
    assert Appointment.objects.count() == 3


def test_staff_of_another_branch_cannot_book(book, make_staff, branch_b):
    outsider = make_staff(Role.GREETER, branch=branch_b, username="greeter-b")
    with pytest.raises(PermissionDenied):
        book(at(THURSDAY, 10), actor=outsider)
    assert not Appointment.objects.exists()


def test_a_merged_customer_books_as_the_survivor(book, customer, branch_a):
    duplicate = CustomerFactory(home_branch=branch_a, merged_into=customer)
    appointment = book(at(THURSDAY, 10), customer=duplicate)
    assert appointment.customer == customer
    assert appointment.contact_name == ""


# --- Moving and cancelling ----------------------------------------------------------------------


def test_rescheduling_moves_to_a_free_slot_and_frees_the_old_one(book, greeter, wealth):
    appointment = book(at(THURSDAY, 10))
    book(at(THURSDAY, 14), contact_phone="13900001111")
    book(at(THURSDAY, 14), contact_phone="13900002222")
    with pytest.raises(Conflict, match="has just been taken"):
        appointment_reschedule(actor=greeter, appointment=appointment, starts_at=at(THURSDAY, 14))
    moved = appointment_reschedule(
        actor=greeter, appointment=appointment, starts_at=at(THURSDAY, 15, 30)
    )
    assert (moved.starts_at, moved.ends_at) == (at(THURSDAY, 15, 30), at(THURSDAY, 16))
    assert moved.reschedule_count == 1
    slots = {s.starts_at: s.remaining for s in available_slots(service_type=wealth, day=THURSDAY)}
    assert slots[at(THURSDAY, 10)] == 2 and slots[at(THURSDAY, 15, 30)] == 1
    event = Event.objects.get(type="reception.appointment_rescheduled")
    assert dt.datetime.fromisoformat(event.payload["previous"]) == at(THURSDAY, 10)
    assert dt.datetime.fromisoformat(event.payload["starts_at"]) == at(THURSDAY, 15, 30)


def test_rescheduling_to_the_same_time_is_bad_input(book, greeter):
    appointment = book(at(THURSDAY, 10))
    book(at(THURSDAY, 10), contact_phone="13900001111")
    with pytest.raises(BadInput, match="already at that time"):
        appointment_reschedule(actor=greeter, appointment=appointment, starts_at=at(THURSDAY, 10))


def test_cancelling_frees_the_place_and_cannot_be_repeated(book, greeter, wealth):
    appointment = book(at(THURSDAY, 10))
    cancelled = appointment_cancel(actor=greeter, appointment=appointment, reason="ill")
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancelled_at == OPEN_AT
    assert available_slots(service_type=wealth, day=THURSDAY)[2].remaining == 2
    with pytest.raises(InvalidTransition) as refused:
        appointment_cancel(actor=greeter, appointment=appointment)
    assert refused.value.as_dict()["status"] == "cancelled"
    with pytest.raises(InvalidTransition):
        appointment_reschedule(actor=greeter, appointment=appointment, starts_at=at(THURSDAY, 11))
    assert Event.objects.get(type="reception.appointment_cancelled").payload["reason"] == "ill"


# --- Check-in -----------------------------------------------------------------------------------


def test_check_in_too_early_says_from_when(book, greeter):
    appointment = book(at(THURSDAY, 10))
    with pytest.raises(InvalidTransition, match="opens at 2026-03-05 09:30") as refused:
        appointment_check_in(actor=greeter, appointment=appointment, now=at(THURSDAY, 9, 29))
    assert refused.value.as_dict()["status"] == "booked"
    assert Appointment.objects.get().ticket is None


@pytest.mark.parametrize("minutes", [-30, 0, 15])
def test_check_in_on_time_issues_an_appointment_ticket(book, greeter, minutes):
    appointment = book(at(THURSDAY, 10))
    now = at(THURSDAY, 10) + dt.timedelta(minutes=minutes)
    ticket = appointment_check_in(actor=greeter, appointment=appointment, now=now)
    assert ticket.is_appointment
    assert "appointment" in ticket.priority_reasons
    assert ticket.visit.source == VisitSource.APPOINTMENT
    assert ticket.number == "V001"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    assert appointment.ticket == ticket
    assert appointment.checked_in_at == now
    event = Event.objects.get(type="reception.appointment_checked_in")
    assert event.payload["late"] is False
    assert event.payload["number"] == "V001"


def test_check_in_after_the_window_gives_a_walk_in_ticket(book, greeter):
    appointment = book(at(THURSDAY, 10))
    ticket = appointment_check_in(actor=greeter, appointment=appointment, now=at(THURSDAY, 10, 16))
    assert not ticket.is_appointment
    assert ticket.priority_reasons == []
    assert ticket.priority_at == ticket.arrived_at
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    event = Event.objects.get(type="reception.appointment_checked_in")
    assert event.payload["late"] is True
    assert event.payload["minutes_from_start"] == 16


def test_check_in_twice_names_the_ticket(book, greeter):
    appointment = book(at(THURSDAY, 10))
    ticket = appointment_check_in(actor=greeter, appointment=appointment, now=at(THURSDAY, 10))
    with pytest.raises(InvalidTransition, match=f"already checked in \\(ticket {ticket.number}\\)"):
        appointment_check_in(actor=greeter, appointment=appointment, now=at(THURSDAY, 10, 1))
    assert Appointment.objects.get().ticket == ticket
    assert ticket.visit.tickets.count() == 1


def test_a_cancelled_or_no_show_appointment_cannot_check_in(book, greeter):
    cancelled = appointment_cancel(actor=greeter, appointment=book(at(THURSDAY, 10)))
    missed = book(at(THURSDAY, 9), contact_phone="13900001111")
    appointments_mark_no_shows(now=at(THURSDAY, 9, 16))
    for appointment, status in ((cancelled, "cancelled"), (missed, "no_show")):
        with pytest.raises(InvalidTransition) as refused:
            appointment_check_in(actor=greeter, appointment=appointment, now=at(THURSDAY, 10))
        assert refused.value.as_dict()["status"] == status


def test_the_contacts_phone_and_language_carry_to_the_visit(book, greeter, customer):
    contact = book(at(THURSDAY, 10), language="en")
    ticket = appointment_check_in(actor=greeter, appointment=contact, now=at(THURSDAY, 10))
    ticket.visit.refresh_from_db()
    assert (ticket.visit.contact_phone, ticket.visit.language) == ("+8613800138000", "en")
    assert not ticket.visit.sms_when_next  # no SMS consent given with the booking
    texted = book(at(THURSDAY, 10, 30), contact_phone="13900001111", consent_sms=True)
    ticket = appointment_check_in(actor=greeter, appointment=texted, now=at(THURSDAY, 10, 30))
    assert ticket.visit.sms_when_next
    assert ticket.visit.contact_phone == "+8613900001111"
    record = book(at(THURSDAY, 11), customer=customer)
    ticket = appointment_check_in(actor=greeter, appointment=record, now=at(THURSDAY, 11))
    assert ticket.visit.customer == customer
    assert ticket.visit.contact_phone == ""


def test_a_role_that_may_not_issue_tickets_cannot_check_in(book, make_staff, branch_a):
    appointment = book(at(THURSDAY, 10))
    auditor = make_staff(Role.AUDITOR, branch=branch_a, username="auditor-a")
    with pytest.raises(PermissionDenied):
        appointment_check_in(actor=auditor, appointment=appointment, now=at(THURSDAY, 10))
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


# --- Sweeps -------------------------------------------------------------------------------------


def test_the_no_show_sweep_marks_each_missed_appointment_once(book, greeter):
    missed = book(at(THURSDAY, 9))
    later = book(at(THURSDAY, 10), contact_phone="13900001111")
    came = book(at(THURSDAY, 9), contact_phone="13900002222")
    appointment_check_in(actor=greeter, appointment=came, now=at(THURSDAY, 9))
    assert appointments_mark_no_shows(now=at(THURSDAY, 9, 15)) == 0  # not yet past the window
    assert appointments_mark_no_shows(now=at(THURSDAY, 9, 16)) == 1
    assert appointments_mark_no_shows(now=at(THURSDAY, 9, 20)) == 0
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {missed.pk: "no_show", later.pk: "booked", came.pk: "checked_in"}
    event = Event.objects.get(type="reception.appointment_no_show")
    assert event.subject_id == str(missed.pk)
    assert (event.actor_user, event.actor_client) == (None, None)  # the system


def test_the_reminder_goes_once_a_day_ahead(book, settings, customer):
    settings.RECEPTION_REMINDER_HOURS = 24
    starts = at(dt.date(2026, 3, 9), 10)  # Monday
    appointment = book(starts, customer=customer)
    assert appointment.reminded_at is None
    assert appointments_send_reminders(now=starts - dt.timedelta(hours=25)) == 0
    assert appointments_send_reminders(now=starts - dt.timedelta(hours=23)) == 1
    assert appointments_send_reminders(now=starts - dt.timedelta(hours=22)) == 0
    reminders = Notification.objects.filter(template="reception.appointment_reminder")
    assert sorted(reminders.values_list("channel", flat=True)) == ["email", "sms"]
    assert Event.objects.filter(type="reception.appointment_reminded").count() == 1
    appointment.refresh_from_db()
    assert appointment.reminded_at == starts - dt.timedelta(hours=23)


def test_no_separate_reminder_for_a_booking_made_within_a_day(book, settings):
    settings.RECEPTION_REMINDER_HOURS = 24
    appointment = book(at(THURSDAY, 9))  # 23 hours ahead: the confirmation reminds
    assert appointment.reminded_at == OPEN_AT
    assert appointments_send_reminders(now=at(THURSDAY, 8)) == 0


def test_a_moved_appointment_is_reminded_of_its_new_time(book, greeter, settings):
    settings.RECEPTION_REMINDER_HOURS = 24
    appointment = book(at(dt.date(2026, 3, 9), 10))
    appointments_send_reminders(now=at(dt.date(2026, 3, 8), 11))
    moved = appointment_reschedule(
        actor=greeter,
        appointment=appointment,
        starts_at=at(dt.date(2026, 3, 10), 10),
        now=at(dt.date(2026, 3, 8), 12),
    )
    assert moved.reminded_at is None
    assert appointments_send_reminders(now=at(dt.date(2026, 3, 9), 11)) == 1
    assert Notification.objects.filter(template="reception.appointment_reminder").count() == 2


# --- Messages -----------------------------------------------------------------------------------


def test_messages_go_to_the_customer_record_on_the_channels_they_agreed_to(book, greeter, customer):
    appointment = book(at(THURSDAY, 10), customer=customer)
    appointment_reschedule(actor=greeter, appointment=appointment, starts_at=at(THURSDAY, 11))
    appointment_cancel(actor=greeter, appointment=appointment)
    sent = Notification.objects.order_by("template", "channel")
    assert [(n.template, n.channel) for n in sent] == [
        ("reception.appointment_booked", "email"),
        ("reception.appointment_booked", "sms"),
        ("reception.appointment_cancelled", "email"),
        ("reception.appointment_cancelled", "sms"),
        ("reception.appointment_changed", "email"),
        ("reception.appointment_changed", "sms"),
    ]
    assert {n.customer_id for n in sent} == {customer.pk}
    # Each change withdrew the messages not sent yet: only the cancellation is still to go.
    assert {n.template for n in sent if n.status == "pending"} == {
        "reception.appointment_cancelled"
    }
    assert {n.status for n in sent if n.status != "pending"} == {"cancelled"}
    assert {n.contact_address for n in sent} == {""}
    booked = sent[0]
    assert booked.context["when"] == "2026-03-05 10:00"
    assert booked.context["manage_url"].endswith(f"/a/{appointment.reference}/")
    assert booked.context["service_en"] == "Wealth management"


def test_messages_to_a_contact_go_to_the_address_given_with_consent(book, settings):
    settings.RECEPTION_PUBLIC_BASE_URL = "https://desk.bank.example"
    appointment = book(at(THURSDAY, 10), consent_sms=True, language="en")
    notification = Notification.objects.get()
    assert notification.customer is None
    assert notification.channel == "sms"
    assert notification.contact_address == "+8613800138000"
    assert notification.language == "en"
    assert notification.context["manage_url"] == (
        f"https://desk.bank.example/a/{appointment.reference}/"
    )


def test_a_contact_without_consent_is_not_messaged(book):
    book(at(THURSDAY, 10))
    notification = Notification.objects.get()
    assert notification.status == "skipped"
    assert notification.contact_address == ""


def test_the_sweeps_are_scheduled_tasks(book, settings, reception_clock):
    from bankservice.celery import app
    from reception.tasks import appointment_no_shows, appointment_reminders

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"reception.appointment_no_shows", "reception.appointment_reminders"} <= scheduled
    assert {"reception.appointment_no_shows", "reception.appointment_reminders"} <= set(app.tasks)
    book(at(THURSDAY, 9))
    reception_clock.move_to(at(THURSDAY, 9, 20))
    assert appointment_no_shows() == 1
    assert appointment_no_shows() == 0
    assert appointment_reminders() == 0
