"""The appointment API under /api/v1/appointments: who may book and act at which branch, free
slots, 400 for bad input (field-keyed), 409 for a taken slot or a step the state refuses (with
the current `status`), masking of the contact's details, and fixed query budgets.

Time is frozen on Wednesday 4 March 2026, 10:00 in Shanghai; Thursday the 5th is bookable.
"""

import datetime as dt

import pytest

from bankservice.branches.models import Role
from bankservice.events.models import Event
from reception.appointments import appointment_book
from reception.models import Appointment, AppointmentStatus, Ticket
from tests.factories import CustomerFactory

from .factories import ServiceTypeFactory
from .fixtures import SHANGHAI

pytestmark = pytest.mark.django_db

APPOINTMENTS = "/api/v1/appointments"
THURSDAY = dt.date(2026, 3, 5)
# user, scope, page (service, branch, customer, ticket joined); saving the session:
# savepoint, update, release
LIST_QUERIES = 6
# user, scope, the service (with branch and calendar); the calendar's exception days, opening
# hours, the day's appointments; saving the session (savepoint, update, release)
SLOTS_QUERIES = 9


def at(hour: int, minute: int = 0, day: dt.date = THURSDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def greeter_api(api, greeter, reception_clock):
    api.force_login(greeter)
    return api


@pytest.fixture
def teller_api(api, teller, reception_clock):
    api.force_login(teller)
    return api


@pytest.fixture
def booked(reception_clock, wealth):
    """book(hour, minute=0, phone=...) -> an appointment for a contact, booked by the system."""

    def make(hour, minute=0, phone="13800138000"):
        return appointment_book(
            actor=None,
            service_type=wealth,
            starts_at=at(hour, minute),
            contact_name="Li Lei",
            contact_phone=phone,
            contact_email="li.lei@example.cn",
        )

    return make


def book_body(service, starts_at, **extra):
    body = {
        "service_type": service.pk,
        "starts_at": starts_at.isoformat(),
        "contact_name": "Li Lei",
        "contact_phone": "13800138000",
    }
    return {**body, **extra}


def assert_conflict(response, current=None):
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["detail"]
    if current is not None:
        assert body["status"] == current
    return body


# --- Slots --------------------------------------------------------------------------------------


def test_slots_of_a_day_with_places_left(greeter_api, wealth, booked):
    booked(10)
    response = greeter_api.get(
        f"{APPOINTMENTS}/slots", {"service_type": wealth.pk, "date": "2026-03-05"}
    )
    assert response.status_code == 200, response.content
    slots = response.json()
    assert len(slots) == 16
    assert slots[0] == {
        "starts_at": "2026-03-05T09:00:00+08:00",
        "ends_at": "2026-03-05T09:30:00+08:00",
        "capacity": 1,
        "remaining": 1,
        "advisors": [],  # a service without an advisor
    }
    assert slots[2]["remaining"] == 0  # 10:00


@pytest.mark.parametrize(
    "query, field",
    [({"date": "2026-03-05"}, "service_type"), ({"date": "5 March"}, "date"), ({}, "date")],
)
def test_slots_need_a_visible_service_and_a_date(greeter_api, wealth, query, field):
    query = {"service_type": wealth.pk, **query} if field != "service_type" else query
    response = greeter_api.get(f"{APPOINTMENTS}/slots", query)
    assert response.status_code == 400
    assert field in response.json()


def test_slots_of_another_branchs_service_are_not_shown(greeter_api, branch_b):
    other = ServiceTypeFactory(branch=branch_b, code="wealth-b", bookable=True)
    response = greeter_api.get(
        f"{APPOINTMENTS}/slots", {"service_type": other.pk, "date": "2026-03-05"}
    )
    assert response.status_code == 400
    assert response.json()["service_type"] == ["No such service at your branches."]


@pytest.mark.parametrize("appointments", [1, 6])
def test_slots_query_count_is_fixed(
    greeter_api, wealth, booked, django_assert_num_queries, appointments
):
    for n in range(appointments):
        booked(9 + n, phone=f"1390000{n:04d}")
    with django_assert_num_queries(SLOTS_QUERIES):
        response = greeter_api.get(
            f"{APPOINTMENTS}/slots", {"service_type": wealth.pk, "date": "2026-03-05"}
        )
    assert sum(1 for s in response.json() if s["remaining"] == 0) == appointments


# --- Booking ------------------------------------------------------------------------------------


def test_greeter_books_for_a_contact_and_sees_the_phone_masked(greeter_api, wealth, greeter):
    response = greeter_api.post(APPOINTMENTS, book_body(wealth, at(10), consent_sms=True))
    assert response.status_code == 201, response.content
    body = response.json()
    appointment = Appointment.objects.get()
    assert body["id"] == appointment.pk
    assert body["status"] == "booked"
    assert body["starts_at"] == "2026-03-05T10:00:00+08:00"
    assert body["ends_at"] == "2026-03-05T10:30:00+08:00"
    assert body["channel"] == "staff"
    assert body["contact_phone"] == "+86138****8000"  # a greeter may not see personal data
    assert not Event.objects.filter(type="customer.pii_revealed").exists()
    assert body["manage_url"] == f"/a/{appointment.reference}/"
    assert appointment.contact_phone == "+8613800138000"
    assert appointment.created_by == greeter


def test_a_teller_may_see_the_contacts_phone(teller_api, wealth):
    response = teller_api.post(APPOINTMENTS, book_body(wealth, at(10), contact_email="l@x.cn"))
    assert response.status_code == 201, response.content
    assert response.json()["contact_phone"] == "+8613800138000"
    assert response.json()["contact_email"] == "l@x.cn"
    event = Event.objects.get(type="customer.pii_revealed")  # the full look is audited
    assert event.payload == {"fields": ["email", "phone"], "where": APPOINTMENTS}
    assert event.subject_id == str(response.json()["id"])


def test_booking_for_a_customer_record(greeter_api, wealth, branch_a):
    customer = CustomerFactory(home_branch=branch_a)
    response = greeter_api.post(
        APPOINTMENTS,
        {"service_type": wealth.pk, "starts_at": at(11).isoformat(), "customer": customer.pk},
    )
    assert response.status_code == 201, response.content
    assert response.json()["customer"] == customer.pk
    assert response.json()["contact_name"] == ""


def test_an_api_client_with_reception_write_books(
    make_api_client, branch_a, wealth, reception_clock
):
    http = make_api_client(["reception:write", "reception:read"], branches=[branch_a])
    response = http.post(APPOINTMENTS, book_body(wealth, at(10)), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "api"
    assert response.json()["contact_phone"] == "+86138****8000"
    appointment = Appointment.objects.get()
    assert appointment.created_by is None
    event = Event.objects.get(type="reception.appointment_booked")
    assert event.actor_client == http.api_client


def test_an_api_client_that_only_reads_cannot_book(make_api_client, branch_a, wealth):
    http = make_api_client(["reception:read"], branches=[branch_a])
    response = http.post(APPOINTMENTS, book_body(wealth, at(10)), format="json")
    assert response.status_code == 403
    assert not Appointment.objects.exists()


def test_staff_of_another_branch_cannot_book_here(
    api, make_staff, branch_b, wealth, reception_clock
):
    api.force_login(make_staff(Role.GREETER, branch=branch_b, username="greeter-b"))
    response = api.post(APPOINTMENTS, book_body(wealth, at(10)))
    assert response.status_code == 400
    assert response.json()["service_type"] == ["No such service at your branches."]


def test_an_auditor_may_read_but_not_book(api, make_staff, branch_a, wealth, booked):
    booked(10)
    api.force_login(make_staff(Role.AUDITOR, branch=branch_a, username="auditor-a"))
    assert len(api.get(APPOINTMENTS).json()["results"]) == 1
    assert api.post(APPOINTMENTS, book_body(wealth, at(11))).status_code == 403


@pytest.mark.parametrize(
    "change, field",
    [
        ({"starts_at": at(10, 10).isoformat()}, "starts_at"),
        ({"starts_at": at(10, day=dt.date(2026, 3, 7)).isoformat()}, "starts_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"contact_name": ""}, "contact_name"),
        ({"contact_phone": "abc"}, "contact_phone"),
        ({"contact_phone": "", "contact_email": ""}, "contact_phone"),
        ({"service_type": 999999}, "service_type"),
    ],
)
def test_bad_booking_input_is_a_field_error(greeter_api, wealth, change, field):
    response = greeter_api.post(APPOINTMENTS, {**book_body(wealth, at(10)), **change})
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert not Appointment.objects.exists()
    assert not Event.objects.filter(type__startswith="reception.appointment").exists()


def test_a_taken_slot_is_409_and_nothing_is_written(greeter_api, wealth, booked):
    booked(10, phone="13900001111")
    response = greeter_api.post(APPOINTMENTS, book_body(wealth, at(10)))
    body = assert_conflict(response)
    assert "has just been taken" in body["detail"]
    assert Appointment.objects.count() == 1
    assert Event.objects.filter(type="reception.appointment_booked").count() == 1


# --- Reading ------------------------------------------------------------------------------------


def test_lists_are_scoped_to_the_callers_branches(api, make_staff, branch_b, booked):
    appointment = booked(10)
    api.force_login(make_staff(Role.TELLER, branch=branch_b, username="teller-b"))
    assert api.get(APPOINTMENTS).json()["results"] == []
    assert api.get(f"{APPOINTMENTS}/{appointment.pk}").status_code == 404
    assert api.post(f"{APPOINTMENTS}/{appointment.pk}/cancel").status_code == 404


def test_list_filters_by_day_and_status(greeter_api, booked, greeter):
    first, second = booked(10), booked(11, phone="13900001111")
    from reception.appointments import appointment_cancel

    appointment_cancel(actor=greeter, appointment=second)
    listed = greeter_api.get(APPOINTMENTS, {"date": "2026-03-05", "status": "booked"}).json()
    assert [row["id"] for row in listed["results"]] == [first.pk]
    assert greeter_api.get(APPOINTMENTS, {"date": "2026-03-06"}).json()["results"] == []


@pytest.mark.parametrize("appointments", [1, 6])
def test_list_query_count_is_fixed(greeter_api, booked, django_assert_num_queries, appointments):
    for n in range(appointments):
        booked(9 + n, phone=f"1390000{n:04d}")
    with django_assert_num_queries(LIST_QUERIES):
        response = greeter_api.get(APPOINTMENTS)
    assert len(response.json()["results"]) == appointments


# --- Steps --------------------------------------------------------------------------------------


def test_reschedule_and_its_409s(greeter_api, booked):
    appointment, other = booked(10), booked(11, phone="13900001111")
    url = f"{APPOINTMENTS}/{appointment.pk}/reschedule"
    assert (
        "has just been taken"
        in assert_conflict(greeter_api.post(url, {"starts_at": at(11).isoformat()}))["detail"]
    )
    assert greeter_api.post(url, {}).json() == {"starts_at": ["This field is required."]}
    response = greeter_api.post(url, {"starts_at": at(14).isoformat()})
    assert response.status_code == 200, response.content
    assert response.json()["starts_at"] == "2026-03-05T14:00:00+08:00"
    assert response.json()["reschedule_count"] == 1
    other.refresh_from_db()
    assert other.starts_at == at(11)


def test_cancel_twice_is_409_naming_the_state(greeter_api, booked):
    appointment = booked(10)
    url = f"{APPOINTMENTS}/{appointment.pk}/cancel"
    response = greeter_api.post(url, {"reason": "ill"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert_conflict(greeter_api.post(url), current="cancelled")
    assert Event.objects.filter(type="reception.appointment_cancelled").count() == 1


def test_check_in_windows_through_the_api(greeter_api, greeter, booked, reception_clock):
    appointment = booked(10)
    url = f"{APPOINTMENTS}/{appointment.pk}/check-in"
    reception_clock.move_to(at(9, 29))
    greeter_api.force_login(greeter)  # the next day: a new session
    body = assert_conflict(greeter_api.post(url), current="booked")
    assert "opens at 2026-03-05 09:30" in body["detail"]
    assert not Ticket.objects.exists()

    reception_clock.move_to(at(9, 45))
    response = greeter_api.post(url)
    assert response.status_code == 201, response.content
    ticket = response.json()
    assert ticket["number"] == "V001"
    assert ticket["is_appointment"] is True
    assert ticket["source"] == "appointment"

    body = assert_conflict(greeter_api.post(url), current="checked_in")
    assert "ticket V001" in body["detail"]
    assert Ticket.objects.count() == 1
    read = greeter_api.get(f"{APPOINTMENTS}/{appointment.pk}").json()
    assert (read["status"], read["ticket_number"]) == ("checked_in", "V001")


def test_late_check_in_through_the_api_is_a_walk_in(greeter_api, greeter, booked, reception_clock):
    appointment = booked(10)
    reception_clock.move_to(at(10, 20))
    greeter_api.force_login(greeter)  # the next day: a new session
    response = greeter_api.post(f"{APPOINTMENTS}/{appointment.pk}/check-in")
    assert response.status_code == 201, response.content
    assert response.json()["is_appointment"] is False
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN


def test_an_auditor_cannot_act(api, make_staff, branch_a, booked):
    appointment = booked(10)
    api.force_login(make_staff(Role.AUDITOR, branch=branch_a, username="auditor-a"))
    for step in ("cancel", "check-in", "reschedule"):
        assert api.post(f"{APPOINTMENTS}/{appointment.pk}/{step}").status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_no_generic_update(greeter_api, booked, method):
    appointment = booked(10)
    response = getattr(greeter_api, method)(
        f"{APPOINTMENTS}/{appointment.pk}", {"status": "cancelled"}
    )
    assert response.status_code in {403, 405}
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
