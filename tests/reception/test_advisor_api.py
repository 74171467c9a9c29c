"""The API with advisors: slots list the free advisors, booking with `advisor` (or any) answers
the advisor, a busy advisor is 409; availability and time-off endpoints for managers, with
permissions and branch scope; fixed queries for the slot listing.

Time is frozen on Wednesday 4 March 2026, 10:00 in Shanghai; Thursday the 5th is bookable.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bankservice.branches.models import Role
from bankservice.events.models import Event
from reception.appointments import appointment_book
from reception.models import AdvisorAvailability, AdvisorTimeOff

from .factories import AdvisorAvailabilityFactory
from .fixtures import SHANGHAI

pytestmark = pytest.mark.django_db

THURSDAY = dt.date(2026, 3, 5)
APPOINTMENTS = "/api/v1/appointments"
AVAILABILITY = "/api/v1/advisor-availability"
TIME_OFF = "/api/v1/advisor-time-off"


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(THURSDAY, dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def wealth(wealth):
    wealth.with_advisor = True
    wealth.save(update_fields=["with_advisor"])
    return wealth


@pytest.fixture
def make_advisor(make_staff, branch_a, wealth):
    def make(username, first, last, branch=branch_a):
        user = make_staff(Role.ADVISOR, branch=branch, username=username)
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
        AdvisorAvailabilityFactory(advisor=user, branch=branch, service_types=[wealth])
        return user

    return make


@pytest.fixture
def li(make_advisor):
    return make_advisor("adv-li", "Wei", "Li")


@pytest.fixture
def zhang(make_advisor):
    return make_advisor("adv-zhang", "Min", "Zhang")


@pytest.fixture
def as_user(api, reception_clock):
    def sign_in(user):
        api.force_authenticate(user)
        return api

    return sign_in


def body(service, starts_at, **extra):
    return {
        "service_type": service.pk,
        "starts_at": starts_at.isoformat(),
        "contact_name": "Chen Yi",
        "contact_phone": "13800138000",
        **extra,
    }


def test_slots_list_the_free_advisors(as_user, greeter, wealth, li, zhang):
    appointment_book(
        actor=None,
        service_type=wealth,
        starts_at=at(9),
        advisor=li,
        contact_name="X",
        contact_phone="13900000000",
    )
    response = as_user(greeter).get(
        f"{APPOINTMENTS}/slots", {"service_type": wealth.pk, "date": "2026-03-05"}
    )
    assert response.status_code == 200, response.content
    first = response.json()[0]
    assert (first["capacity"], first["remaining"]) == (2, 1)
    assert first["advisors"] == [{"id": zhang.pk, "name": "Min Z."}]
    only_li = as_user(greeter).get(
        f"{APPOINTMENTS}/slots", {"service_type": wealth.pk, "date": "2026-03-05", "advisor": li.pk}
    )
    assert only_li.json()[0]["remaining"] == 0
    assert only_li.json()[1]["advisors"] == [{"id": li.pk, "name": "Wei L."}]


def test_slot_listing_has_fixed_queries(
    as_user, greeter, wealth, make_advisor, django_assert_num_queries
):
    client = as_user(greeter)
    make_advisor("adv-1", "A", "One")
    query = {"service_type": wealth.pk, "date": "2026-03-05"}
    client.get(f"{APPOINTMENTS}/slots", query)  # warm the scope cache
    with CaptureQueriesContext(connection) as one:
        client.get(f"{APPOINTMENTS}/slots", query)
    assert len(one.captured_queries) <= 8
    for n in range(2, 6):
        make_advisor(f"adv-{n}", "A", f"N{n}")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(f"{APPOINTMENTS}/slots", query)
    assert response.json()[0]["capacity"] == 5


def test_book_a_named_advisor_and_read_it_back(as_user, greeter, wealth, li, zhang):
    client = as_user(greeter)
    response = client.post(APPOINTMENTS, body(wealth, at(10), advisor=li.pk), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["advisor"] == {"id": li.pk, "name": "Wei L."}
    assert response.json()["advisor_chosen"] is True
    busy = client.post(
        APPOINTMENTS,
        body(wealth, at(10), advisor=li.pk, contact_phone="13900000001"),
        format="json",
    )
    assert busy.status_code == 409
    assert busy.json()["detail"].startswith("Wei L. is not free at 2026-03-05 10:00")
    anyone = client.post(
        APPOINTMENTS, body(wealth, at(10), contact_phone="13900000002"), format="json"
    )
    assert anyone.status_code == 201
    assert anyone.json()["advisor"]["id"] == zhang.pk


def test_an_unknown_or_unsuitable_advisor_is_bad_input(
    as_user, greeter, wealth, make_staff, branch_a
):
    client = as_user(greeter)
    response = client.post(APPOINTMENTS, body(wealth, at(10), advisor=999999), format="json")
    assert response.status_code == 400
    assert "advisor" in response.json()
    teller = make_staff(Role.TELLER, branch=branch_a, username="teller-x")
    response = client.post(APPOINTMENTS, body(wealth, at(10), advisor=teller.pk), format="json")
    assert response.status_code == 400
    assert "does not take appointments" in response.json()["advisor"][0]


def test_the_manager_plans_availability_over_the_api(
    as_user, make_staff, branch_a, wealth, li, branch_b
):
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)
    client = as_user(manager)
    response = client.post(
        AVAILABILITY,
        {
            "advisor": li.pk,
            "branch": branch_a.code,
            "service_types": [wealth.pk],
            "weekday": 5,
            "starts": "09:00",
            "ends": "12:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["weekday"], created["service_types"]) == (5, [wealth.pk])
    assert Event.objects.filter(type="reception.advisor_availability_added").count() == 1
    listed = client.get(AVAILABILITY, {"advisor": li.pk}).json()
    assert sorted(row["weekday"] for row in listed["results"]) == [4, 5]
    bad = client.post(
        AVAILABILITY,
        {
            "advisor": li.pk,
            "branch": branch_a.code,
            "service_types": [wealth.pk],
            "weekday": 5,
            "starts": "12:00",
            "ends": "09:00",
        },
        format="json",
    )
    assert bad.status_code == 400 and "ends" in bad.json()
    assert client.delete(f"{AVAILABILITY}/{created['id']}").status_code == 204
    assert AdvisorAvailability.objects.filter(weekday=5).count() == 0
    # Another branch's manager: not visible (404); a greeter: no permission (403).
    other = make_staff(Role.BRANCH_MANAGER, branch=branch_b)
    row = AdvisorAvailability.objects.get()
    assert as_user(other).delete(f"{AVAILABILITY}/{row.pk}").status_code == 404


def test_a_greeter_may_not_plan_availability(as_user, greeter, branch_a, wealth, li):
    response = as_user(greeter).post(
        AVAILABILITY,
        {
            "advisor": li.pk,
            "branch": branch_a.code,
            "service_types": [wealth.pk],
            "weekday": 5,
            "starts": "09:00",
            "ends": "12:00",
        },
        format="json",
    )
    assert response.status_code == 403


def test_time_off_over_the_api_names_the_clashing_appointments(as_user, wealth, li, zhang):
    booked = appointment_book(
        actor=None,
        service_type=wealth,
        starts_at=at(14),
        advisor=li,
        contact_name="X",
        contact_phone="13900000000",
    )
    client = as_user(li)
    response = client.post(
        TIME_OFF,
        {"advisor": li.pk, "starts_at": at(13).isoformat(), "ends_at": at(17).isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["clashing_appointments"] == [booked.pk]
    # Not for a colleague.
    refused = client.post(
        TIME_OFF,
        {"advisor": zhang.pk, "starts_at": at(13).isoformat(), "ends_at": at(17).isoformat()},
        format="json",
    )
    assert refused.status_code == 403
    assert AdvisorTimeOff.objects.count() == 1
    assert [row["advisor"] for row in client.get(TIME_OFF).json()["results"]] == [li.pk]
