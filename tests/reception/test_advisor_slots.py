"""Appointments with an advisor: slots from the advisors' calendars (weekly availability within
the opening hours, validity dates, holidays, time off, bookings at any service), a named advisor
or "any", double bookings across services refused, and reschedule, cancel, no-show, reminders,
messages and check-in for such appointments.

The clock is frozen on Wednesday 4 March 2026, 10:00 in Shanghai (`reception_clock`); branch A
is open Monday–Friday 09:00–17:00, so Thursday the 5th is a whole bookable day.
"""

import datetime as dt

import pytest
from django.utils import translation

from bankservice.branches.models import CalendarDay, Role
from bankservice.core.errors import BadInput, Conflict
from bankservice.events.models import Event
from bankservice.notify.models import Notification
from bankservice.notify.rendering import render_message
from reception.advisors import display_name
from reception.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_reschedule,
    appointments_mark_no_shows,
    appointments_send_reminders,
    available_slots,
)
from reception.demo import seed_reception
from reception.models import (
    AdvisorAvailability,
    AdvisorTimeOff,
    Appointment,
    ServiceType,
    VisitSource,
)

from .factories import AdvisorAvailabilityFactory, ServiceTypeFactory
from .fixtures import SHANGHAI

pytestmark = pytest.mark.django_db

THURSDAY = dt.date(2026, 3, 5)
FRIDAY = dt.date(2026, 3, 6)


def at(hour: int, minute: int = 0, day: dt.date = THURSDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def plan(advisor, services, *, weekday=4, starts="09:00", ends="17:00", branch=None, **valid):
    """A weekly period for the advisor (Thursday by default) for these services."""
    return AdvisorAvailabilityFactory(
        advisor=advisor,
        branch=branch or services[0].branch,
        service_types=services,
        weekday=weekday,
        starts=starts,
        ends=ends,
        **valid,
    )


def free_times(slots) -> list[str]:
    return [s.starts_at.astimezone(SHANGHAI).strftime("%H:%M") for s in slots if s.is_free]


@pytest.fixture
def wealth(wealth):
    wealth.with_advisor = True
    wealth.save(update_fields=["with_advisor"])
    return wealth


@pytest.fixture
def loans(branch_a):
    return ServiceTypeFactory(
        branch=branch_a,
        code="loans",
        name_en="Loans",
        name_zh="贷款业务",
        prefix="L",
        bookable=True,
        with_advisor=True,
        slot_minutes=60,
    )


@pytest.fixture
def make_advisor(make_staff, branch_a):
    def make(username, first, last, branch=branch_a):
        user = make_staff(Role.ADVISOR, branch=branch, username=username)
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
        return user

    return make


@pytest.fixture
def li(make_advisor):
    return make_advisor("adv-li", "Wei", "Li")


@pytest.fixture
def zhang(make_advisor):
    return make_advisor("adv-zhang", "Min", "Zhang")


@pytest.fixture
def book(reception_clock, wealth, greeter):
    """book(starts_at, service=wealth, advisor=None, phone=…) -> an appointment by the greeter."""

    def make(starts_at, *, service=None, advisor=None, phone="13800138000", **extra):
        return appointment_book(
            actor=greeter,
            service_type=service or wealth,
            starts_at=starts_at,
            contact_name="Customer",
            contact_phone=phone,
            advisor=advisor,
            **extra,
        )

    return make


# --- Slots ----------------------------------------------------------------------------------


def test_slots_are_the_availability_within_the_opening_hours(reception_clock, wealth, li):
    plan(li, [wealth], starts="08:00", ends="11:00")  # the branch opens at 09:00
    slots = available_slots(service_type=wealth, day=THURSDAY)
    assert free_times(slots) == ["09:00", "09:30", "10:00", "10:30"]
    # The other opening hours are listed with no advisor working (capacity 0).
    assert {(s.capacity, s.remaining) for s in slots[4:]} == {(0, 0)}
    assert slots[0].advisors[0].name == "Wei L."


def test_no_slot_on_another_weekday_outside_the_validity_or_on_a_holiday(
    reception_clock, wealth, li, branch_a
):
    plan(li, [wealth], weekday=5)  # Fridays only
    plan(li, [wealth], valid_from=dt.date(2026, 3, 12))  # Thursdays from next week
    plan(li, [wealth], starts="16:00", ends="17:00", valid_until=dt.date(2026, 3, 4))
    assert free_times(available_slots(service_type=wealth, day=THURSDAY)) == []
    assert len(free_times(available_slots(service_type=wealth, day=FRIDAY))) == 16
    CalendarDay.objects.create(calendar=branch_a.calendar, date=FRIDAY, kind="holiday")
    assert available_slots(service_type=wealth, day=FRIDAY) == []


def test_an_advisor_serves_only_the_services_and_branch_of_the_period(
    reception_clock, wealth, loans, li, branch_b
):
    plan(li, [loans])
    other = ServiceTypeFactory(branch=branch_b, code="wealth", bookable=True, with_advisor=True)
    plan(li, [other])
    assert free_times(available_slots(service_type=wealth, day=THURSDAY)) == []
    assert len(free_times(available_slots(service_type=loans, day=THURSDAY))) == 8


def test_time_off_removes_the_slots_it_overlaps(reception_clock, wealth, li):
    plan(li, [wealth], starts="09:00", ends="12:00")
    AdvisorTimeOff.objects.create(advisor=li, starts_at=at(9, 40), ends_at=at(10, 15))
    assert free_times(available_slots(service_type=wealth, day=THURSDAY)) == [
        "09:00",
        "10:30",
        "11:00",
        "11:30",
    ]


def test_a_booking_at_any_service_makes_the_advisor_busy(book, wealth, loans, li):
    plan(li, [wealth, loans])
    book(at(10), service=loans, advisor=li)  # 10:00–11:00
    assert "10:00" not in free_times(available_slots(service_type=wealth, day=THURSDAY))
    assert "10:30" not in free_times(available_slots(service_type=wealth, day=THURSDAY))
    with pytest.raises(Conflict, match=r"Wei L\. is not free at 2026-03-05 10:30"):
        book(at(10, 30), advisor=li, phone="13900000001")
    with pytest.raises(Conflict, match="slot has just been taken"):
        book(at(10, 30), phone="13900000002")  # any advisor: there is none


def test_slots_count_the_free_advisors_and_order_them_for_any(book, wealth, li, zhang):
    plan(li, [wealth])
    plan(zhang, [wealth])
    slots = available_slots(service_type=wealth, day=THURSDAY)
    assert {(s.capacity, s.remaining) for s in slots} == {(2, 2)}
    # A tie: the lowest id first.
    assert [a.id for a in slots[0].advisors] == sorted([li.pk, zhang.pk])
    book(at(9), advisor=li)
    slots = available_slots(service_type=wealth, day=THURSDAY)
    assert (slots[0].capacity, slots[0].remaining) == (2, 1)
    # Li has one booking that day, Zhang none: Zhang comes first for "any".
    assert [a.id for a in slots[2].advisors] == [zhang.pk, li.pk]


def test_any_advisor_goes_to_the_one_with_fewest_bookings_that_day(book, wealth, li, zhang):
    plan(li, [wealth])
    plan(zhang, [wealth])
    first = book(at(9), phone="13900000001")
    second = book(at(11), phone="13900000002")
    third = book(at(14), phone="13900000003")
    lowest, other = sorted([li.pk, zhang.pk])
    assert [first.advisor_id, second.advisor_id, third.advisor_id] == [lowest, other, lowest]
    assert not first.advisor_chosen
    event = Event.objects.get(type="reception.appointment_booked", subject_id=str(first.pk))
    assert event.payload["advisor"] == lowest


def test_a_named_advisor_is_kept_and_must_serve_the_service(
    book, wealth, loans, li, zhang, cash_service
):
    plan(li, [wealth])
    plan(zhang, [loans])
    appointment = book(at(9), advisor=li)
    assert (appointment.advisor_id, appointment.advisor_chosen) == (li.pk, True)
    with pytest.raises(BadInput, match=r"Min Z\. does not take appointments") as refused:
        book(at(10), advisor=zhang, phone="13900000001")
    assert refused.value.field == "advisor"
    cash_service.bookable = True
    cash_service.save(update_fields=["bookable"])
    with pytest.raises(BadInput, match="not booked with an advisor"):
        book(at(10), service=cash_service, advisor=li, phone="13900000002")


def test_display_name_has_no_family_name(li):
    assert display_name(li) == "Wei L."
    li.first_name = li.last_name = ""
    assert display_name(li) == "adv-li"


def test_display_name_of_a_chinese_name_is_family_name_and_title(li):
    li.first_name, li.last_name = "婷婷", "贾"
    assert display_name(li) == "贾 (advisor)"
    with translation.override("zh-hans"):
        assert display_name(li) == "贾经理"


def test_slot_listing_queries_do_not_grow_with_advisors_or_bookings(
    book, wealth, make_advisor, django_assert_max_num_queries, django_assert_num_queries
):
    def fresh():
        return ServiceType.objects.select_related("branch__calendar").get(pk=wealth.pk)

    first = make_advisor("adv-1", "A", "One")
    plan(first, [wealth])
    with django_assert_max_num_queries(6) as one:
        available_slots(service_type=fresh(), day=THURSDAY)
    for n in range(2, 7):
        advisor = make_advisor(f"adv-{n}", "A", f"N{n}")
        plan(advisor, [wealth], starts="09:00", ends="12:00")
        plan(advisor, [wealth], starts="13:00", ends="17:00")
        book(at(13) + dt.timedelta(minutes=30 * n), advisor=advisor, phone=f"1390000000{n}")
        AdvisorTimeOff.objects.create(advisor=advisor, starts_at=at(9), ends_at=at(9, 30))
    with django_assert_num_queries(len(one.captured_queries)):
        slots = available_slots(service_type=fresh(), day=THURSDAY)
    assert max(s.capacity for s in slots) == 6


# --- Reschedule, cancel, sweeps, messages, check-in -----------------------------------------


def test_reschedule_keeps_a_free_named_advisor_and_refuses_a_busy_one(
    book, greeter, wealth, li, zhang
):
    plan(li, [wealth])
    plan(zhang, [wealth])
    mine = book(at(9), advisor=li)
    book(at(11), advisor=li, phone="13900000001")
    moved = appointment_reschedule(actor=greeter, appointment=mine, starts_at=at(10))
    assert (moved.advisor_id, moved.starts_at) == (li.pk, at(10))
    with pytest.raises(Conflict, match=r"Wei L\. is not free at 2026-03-05 11:00"):
        appointment_reschedule(actor=greeter, appointment=mine, starts_at=at(11))
    mine.refresh_from_db()
    assert (mine.advisor_id, mine.starts_at) == (li.pk, at(10))


def test_reschedule_of_any_advisor_keeps_them_if_free_else_reassigns(
    book, greeter, wealth, li, zhang
):
    plan(li, [wealth])
    plan(zhang, [wealth])
    anyone = book(at(9))
    first = anyone.advisor
    second = zhang if first == li else li
    book(at(15), advisor=first, phone="13900000001")
    moved = appointment_reschedule(actor=greeter, appointment=anyone, starts_at=at(10))
    assert moved.advisor_id == first.pk
    moved = appointment_reschedule(actor=greeter, appointment=anyone, starts_at=at(15))
    assert moved.advisor_id == second.pk
    event = Event.objects.filter(type="reception.appointment_rescheduled").latest("id")
    assert (event.payload["previous_advisor"], event.payload["advisor"]) == (first.pk, second.pk)


def test_cancelling_frees_the_advisor(book, greeter, wealth, li):
    plan(li, [wealth])
    appointment = book(at(9), advisor=li)
    assert "09:00" not in free_times(available_slots(service_type=wealth, day=THURSDAY))
    appointment_cancel(actor=greeter, appointment=appointment)
    assert "09:00" in free_times(available_slots(service_type=wealth, day=THURSDAY))


def test_no_show_sweep_and_reminder_work_for_advisor_appointments(book, wealth, li, settings):
    settings.RECEPTION_REMINDER_HOURS = 24
    plan(li, [wealth], weekday=1)
    monday = dt.date(2026, 3, 9)
    appointment = book(at(10, day=monday), advisor=li, consent_sms=True, language="zh-hans")
    assert appointments_send_reminders(now=at(11, day=dt.date(2026, 3, 8))) == 1
    reminder = Notification.objects.get(template="reception.appointment_reminder")
    assert reminder.context["advisor"] == "Wei L."
    assert appointments_mark_no_shows(now=at(10, 16, day=monday)) == 1
    appointment.refresh_from_db()
    assert appointment.status == "no_show"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "with Wei L."), ("zh-hans", "顾问：Wei L.")],
)
def test_messages_name_the_advisor_in_both_languages(book, wealth, li, language, expected):
    plan(li, [wealth])
    book(at(10), advisor=li, consent_sms=True, language=language)
    sent = Notification.objects.get(template="reception.appointment_booked")
    for key in ("reception.appointment_booked", "reception.appointment_changed"):
        for channel in ("sms", "email"):
            rendered = render_message(
                key=key,
                channel=channel,
                language=language,
                context={**sent.context, "customer_name": "X", "branch_name": "A"},
            )
            assert "Wei L." in rendered.body
    rendered = render_message(
        key="reception.appointment_booked",
        channel="sms",
        language=language,
        context={**sent.context, "customer_name": "X", "branch_name": "A"},
    )
    assert expected in rendered.body


def test_check_in_creates_the_ticket_and_keeps_the_advisor(book, greeter, wealth, li):
    plan(li, [wealth])
    appointment = book(at(10, 30), advisor=li)
    ticket = appointment_check_in(actor=greeter, appointment=appointment, now=at(10, 20))
    appointment.refresh_from_db()
    assert (appointment.status, appointment.ticket, appointment.advisor_id) == (
        "checked_in",
        ticket,
        li.pk,
    )
    assert ticket.visit.source == VisitSource.APPOINTMENT
    # Checked in still holds the advisor's time.
    assert "10:30" not in free_times(available_slots(service_type=wealth, day=THURSDAY))


def test_the_advisor_is_recorded_on_the_appointment_row(book, wealth, li):
    plan(li, [wealth])
    book(at(9), advisor=li)
    assert Appointment.objects.filter(advisor=li, advisor_chosen=True).count() == 1


def test_the_demo_books_wealth_and_loans_with_the_branchs_advisors(branch_a, li):
    first = seed_reception(branches=[branch_a])
    again = seed_reception(branches=[branch_a])
    assert (first["advisor calendars"], again["advisor calendars"]) == (1, 0)
    services = dict(ServiceType.objects.filter(branch=branch_a).values_list("code", "with_advisor"))
    assert services["wealth"] and services["loans"] and not services["cash"]
    assert AdvisorAvailability.objects.filter(advisor=li, branch=branch_a).count() == 10
