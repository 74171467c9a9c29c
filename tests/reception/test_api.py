"""The reception API: service types, counters and tickets under /api/v1/.

Who may do what at which branch, every ticket and counter step with its 409 (which names the
current state), bad input as 400 field errors, and fixed query budgets for issue and call-next.
"""

import datetime as dt

import pytest
from django.conf import settings

from bankservice.branches.models import Role
from bankservice.events.models import Event
from reception.models import ServiceType, Ticket, TicketStatus, Visit
from reception.selectors import estimate_wait
from reception.services import counter_sign_in, ticket_call_next, ticket_start
from tests.factories import CustomerFactory

from .factories import CounterFactory, ServiceTypeFactory
from .fixtures import CLOSED_AT

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets"
COUNTERS = "/api/v1/counters"
SERVICE_TYPES = "/api/v1/service-types"


def issue(http, service_type, **body):
    return http.post(TICKETS, {"service_type": service_type.pk, **body})


def ticket_step(http, ticket, step, **body):
    pk = ticket if isinstance(ticket, int) else ticket.pk
    return http.post(f"{TICKETS}/{pk}/{step}", body)


def counter_step(http, counter, step):
    return http.post(f"{COUNTERS}/{counter.pk}/{step}")


def assert_conflict(response, current):
    """409 naming the current state of the ticket or counter."""
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["status"] == current
    assert body["detail"]


@pytest.fixture
def staff_api(api, teller):
    """The API client signed in as the teller of branch A (a session, as the staff console)."""
    api.force_login(teller)
    return api


@pytest.fixture
def other_teller(make_staff, branch_a):
    return make_staff(Role.TELLER, branch=branch_a, username="teller-two")


@pytest.fixture
def branch_b_ticket(branch_b, reception_clock):
    service = ServiceTypeFactory(branch=branch_b, code="cash-b", prefix="A")
    from reception.services import ticket_issue

    return ticket_issue(actor=None, service_type=service, source="greeter")


# --- Issue ------------------------------------------------------------------------------------


def test_teller_issues_a_ticket_and_sees_its_place(
    staff_api, open_counter, issue_tickets, cash_service
):
    issue_tickets(2)

    response = issue(staff_api, cash_service)

    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert body["number"] == "A003"
    assert body["status"] == "waiting"
    assert body["service"] == "cash"
    assert body["service_type"] == cash_service.pk
    assert body["branch"] == "a01"
    assert body["counter"] is None
    assert body["customer"] is None
    assert body["source"] == "greeter"
    assert body["status_url"] == f"/t/{ticket.public_token}/"
    assert body["arrived_at"] == "2026-03-04T10:02:00+08:00"
    assert body["called_at"] is None
    # The issue answer stays cheap: the place is on the status page and in the ticket itself.
    assert body["position"] is None
    assert body["estimated_wait_seconds"] is None
    # Two ahead, one open idle counter, 8 minutes a service (no history yet): the estimate is
    # the selectors' (tests/reception/test_estimate.py checks the formula itself).
    read = staff_api.get(f"{TICKETS}/{ticket.pk}").json()
    assert read["position"] == 3
    expected = estimate_wait(
        ahead=2, open_counters=1, idle_counters=1, mean=dt.timedelta(minutes=8)
    )
    assert read["estimated_wait_seconds"] == round(expected.total_seconds()) > 0


def test_issue_for_an_identified_customer_gives_only_the_customer_id(
    staff_api, reception_clock, cash_service, branch_a
):
    customer = CustomerFactory(home_branch=branch_a)

    response = issue(staff_api, cash_service, customer=customer.pk)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == customer.pk
    assert customer.full_name not in response.content.decode()
    assert customer.national_id not in response.content.decode()


def test_status_is_not_writable_on_issue(staff_api, reception_clock, cash_service):
    response = issue(staff_api, cash_service, status="completed", counter=1)

    assert response.status_code == 201
    assert response.json()["status"] == "waiting"
    assert Ticket.objects.get().status == TicketStatus.WAITING


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_tickets_have_no_generic_update(staff_api, issue_tickets, method):
    (ticket,) = issue_tickets(1)

    response = getattr(staff_api, method)(f"{TICKETS}/{ticket.pk}", {"status": "completed"})

    # 405; DELETE is refused first for want of reception.delete_ticket, which no role holds.
    assert response.status_code in {403, 405} if method == "delete" else response.status_code == 405
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING


def test_unknown_service_is_a_field_error(staff_api, reception_clock):
    response = staff_api.post(TICKETS, {"service_type": 999999})

    assert response.status_code == 400
    assert response.json() == {"service_type": ["No such service at your branches."]}


def test_service_of_another_branch_is_a_field_error(staff_api, reception_clock, branch_b):
    elsewhere = ServiceTypeFactory(branch=branch_b, code="cash", prefix="A")

    response = issue(staff_api, elsewhere)

    assert response.status_code == 400
    assert response.json() == {"service_type": ["No such service at your branches."]}
    assert not Ticket.objects.exists()


def test_inactive_service_is_a_field_error(staff_api, reception_clock, cash_service):
    cash_service.is_active = False
    cash_service.save(update_fields=["is_active"])

    response = issue(staff_api, cash_service)

    assert response.status_code == 400
    assert response.json() == {"service_type": ["This service is not offered now."]}
    assert not Visit.objects.exists()


def test_missing_service_unknown_source_and_invisible_customer_are_field_errors(
    staff_api, reception_clock, cash_service, branch_b
):
    assert staff_api.post(TICKETS, {}).json().keys() == {"service_type"}

    bad_source = issue(staff_api, cash_service, source="fax")
    assert bad_source.status_code == 400
    assert bad_source.json().keys() == {"source"}

    stranger = CustomerFactory(home_branch=branch_b)
    hidden = issue(staff_api, cash_service, customer=stranger.pk)
    assert hidden.status_code == 400
    assert hidden.json() == {"customer": ["No such customer in your branches."]}
    assert not Ticket.objects.exists()


def test_closed_branch_answers_409_and_writes_nothing(staff_api, reception_clock, cash_service):
    reception_clock.move_to(CLOSED_AT)

    response = issue(staff_api, cash_service)

    assert response.status_code == 409
    assert response.json() == {
        "detail": "The branch is closed now; tickets are issued during opening hours."
    }
    assert not Visit.objects.exists()
    assert not Ticket.objects.exists()


def test_api_client_with_reception_write_issues_tickets(
    make_api_client, reception_clock, cash_service, branch_a, branch_b
):
    http = make_api_client(["reception:read", "reception:write"], branches=[branch_a])

    response = issue(http, cash_service)
    kiosk = issue(http, cash_service, source="kiosk")
    elsewhere = issue(http, ServiceTypeFactory(branch=branch_b, code="cash", prefix="A"))

    assert response.status_code == 201, response.content
    assert response.json()["source"] == "api"
    assert kiosk.json()["source"] == "kiosk"
    assert elsewhere.status_code == 400
    assert elsewhere.json().keys() == {"service_type"}
    read = http.get(f"{TICKETS}/{response.json()['id']}").json()
    assert (read["number"], read["position"]) == ("A001", 1)


def test_api_client_with_read_scope_only_cannot_issue(
    make_api_client, reception_clock, cash_service, branch_a
):
    http = make_api_client(["reception:read"], branches=[branch_a])

    assert issue(http, cash_service).status_code == 403
    assert http.get(TICKETS).status_code == 200
    assert http.get(SERVICE_TYPES).status_code == 200


def test_api_client_cannot_serve(
    make_api_client, open_counter, issue_tickets, teller, branch_a, counter
):
    (ticket,) = issue_tickets(1)
    http = make_api_client(["reception:read", "reception:write"], branches=[branch_a])

    assert counter_step(http, counter, "call-next").status_code == 403
    assert counter_step(http, counter, "sign-in").status_code == 403
    ticket_call_next(actor=teller, counter=open_counter)
    denied = ticket_step(http, ticket, "start")
    assert denied.status_code == 403
    assert denied.json() == {
        "detail": "Serving tickets needs a member of staff signed in to a counter."
    }
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CALLED


# --- Who sees and does what where -------------------------------------------------------------


def test_teller_sees_only_own_branch(staff_api, issue_tickets, branch_b_ticket, counter, branch_b):
    (mine,) = issue_tickets(1)
    other_counter = CounterFactory(branch=branch_b, number=1)

    listed = staff_api.get(TICKETS).json()["results"]

    assert [t["id"] for t in listed] == [mine.pk]
    assert staff_api.get(f"{TICKETS}/{branch_b_ticket.pk}").status_code == 404
    assert ticket_step(staff_api, branch_b_ticket, "recall").status_code == 404
    assert [c["id"] for c in staff_api.get(COUNTERS).json()["results"]] == [counter.pk]
    assert staff_api.get(f"{COUNTERS}/{other_counter.pk}").status_code == 404
    assert counter_step(staff_api, other_counter, "sign-in").status_code == 404
    assert counter_step(staff_api, other_counter, "call-next").status_code == 404


def test_greeter_issues_but_does_not_serve(
    api, make_staff, branch_a, open_counter, reception_clock, cash_service, teller
):
    greeter = make_staff(Role.GREETER, branch=branch_a)
    api.force_login(greeter)

    issued = issue(api, cash_service)

    assert issued.status_code == 201
    assert issued.json()["source"] == "greeter"
    assert counter_step(api, open_counter, "call-next").status_code == 403
    assert counter_step(api, open_counter, "sign-in").status_code == 403
    ticket_call_next(actor=teller, counter=open_counter)
    assert ticket_step(api, issued.json()["id"], "start").status_code == 403
    assert api.get(f"{TICKETS}/{issued.json()['id']}").json()["status"] == "called"


def test_auditor_reads_every_branch_and_changes_nothing(
    api, make_staff, issue_tickets, branch_b_ticket, open_counter, cash_service, teller
):
    (ticket,) = issue_tickets(1)
    api.force_login(make_staff(Role.AUDITOR))

    listed = {t["id"] for t in api.get(TICKETS).json()["results"]}

    assert listed == {ticket.pk, branch_b_ticket.pk}
    assert api.get(f"{TICKETS}/{ticket.pk}").json()["position"] == 1
    assert api.get(f"{COUNTERS}/{open_counter.pk}").status_code == 200
    assert issue(api, cash_service).status_code == 403
    assert counter_step(api, open_counter, "call-next").status_code == 403
    ticket_call_next(actor=teller, counter=open_counter)
    assert ticket_step(api, ticket, "no-show").status_code == 403
    assert api.post(SERVICE_TYPES, {"branch": "a01", "code": "x", "prefix": "X"}).status_code == 403
    assert api.patch(f"{SERVICE_TYPES}/{cash_service.pk}", {"name_en": "X"}).status_code == 403


def test_anonymous_is_refused(api, counter):
    assert api.get(TICKETS).status_code in {401, 403}
    assert counter_step(api, counter, "call-next").status_code in {401, 403}


# --- Counters ---------------------------------------------------------------------------------


def test_counter_sign_in_pause_resume_sign_out(staff_api, counter, teller):
    signed_in = counter_step(staff_api, counter, "sign-in")
    assert signed_in.status_code == 200, signed_in.content
    body = signed_in.json()
    assert (body["state"], body["staff"], body["number"], body["branch"]) == (
        "open",
        teller.pk,
        1,
        "a01",
    )
    assert [s["code"] for s in body["services"]] == ["cash", "accounts"]

    assert counter_step(staff_api, counter, "pause").json()["state"] == "paused"
    assert_conflict(counter_step(staff_api, counter, "pause"), "paused")
    assert_conflict(counter_step(staff_api, counter, "call-next"), "paused")
    assert counter_step(staff_api, counter, "resume").json()["state"] == "open"
    assert_conflict(counter_step(staff_api, counter, "resume"), "open")

    signed_out = counter_step(staff_api, counter, "sign-out")
    assert (signed_out.json()["state"], signed_out.json()["staff"]) == ("closed", None)


def test_counter_steps_need_the_signed_in_teller(staff_api, counter, other_teller):
    for step in ("sign-out", "pause", "resume", "call-next"):
        response = counter_step(staff_api, counter, step)
        assert response.status_code == 409, step
        assert response.json() == {"detail": "You are not signed in to this counter."}

    counter_sign_in(actor=other_teller, counter=counter)
    taken = counter_step(staff_api, counter, "sign-in")
    assert taken.status_code == 409
    assert taken.json() == {"detail": "Another member of staff is signed in to this counter."}


def test_counter_cannot_close_with_a_ticket_at_it(staff_api, open_counter, issue_tickets):
    issue_tickets(1)
    counter_step(staff_api, open_counter, "call-next")

    response = counter_step(staff_api, open_counter, "sign-out")

    assert response.status_code == 409
    assert "A001" not in response.json()["detail"]  # it names the counter
    assert staff_api.get(f"{COUNTERS}/{open_counter.pk}").json()["state"] == "open"


def test_call_next_with_nobody_waiting(staff_api, open_counter, reception_clock):
    response = counter_step(staff_api, open_counter, "call-next")

    assert response.status_code == 200
    assert response.json() == {"ticket": None, "detail": "Nobody is waiting."}


def test_call_next_calls_the_first_ticket_and_then_refuses_while_busy(
    staff_api, open_counter, issue_tickets
):
    first, _second = issue_tickets(2)

    response = counter_step(staff_api, open_counter, "call-next")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["detail"] == "A001 called to Counter 1."
    assert body["ticket"]["id"] == first.pk
    assert body["ticket"]["status"] == "called"
    assert body["ticket"]["counter"] == 1
    assert body["ticket"]["called_at"] == "2026-03-04T10:02:00+08:00"
    assert body["ticket"]["position"] is None
    assert_conflict(counter_step(staff_api, open_counter, "call-next"), "called")


# --- Ticket steps -----------------------------------------------------------------------------


@pytest.fixture
def called(teller, open_counter, issue_tickets):
    """A001 called to counter 1 by the teller (A002 still waiting)."""
    issue_tickets(2)
    return ticket_call_next(actor=teller, counter=open_counter)


def test_recall_start_complete(staff_api, called, reception_clock):
    reception_clock.shift(dt.timedelta(minutes=1))
    recalled = ticket_step(staff_api, called, "recall")
    assert recalled.status_code == 200, recalled.content
    assert recalled.json()["recall_count"] == 1
    assert recalled.json()["called_at"] == "2026-03-04T10:03:00+08:00"

    started = ticket_step(staff_api, called, "start")
    assert started.json()["status"] == "serving"
    assert started.json()["serving_started_at"] == "2026-03-04T10:03:00+08:00"

    reception_clock.shift(dt.timedelta(minutes=6))
    done = ticket_step(staff_api, called, "complete", outcome="  Deposit, ref 42  ")
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["outcome"], body["counter"]) == ("completed", "Deposit, ref 42", 1)
    assert body["finished_at"] == "2026-03-04T10:09:00+08:00"


def test_each_step_refused_in_the_wrong_state_names_the_current_one(
    staff_api, called, issue_tickets
):
    waiting = Ticket.objects.get(number="A002")
    assert_conflict(ticket_step(staff_api, waiting, "start"), "waiting")
    assert_conflict(ticket_step(staff_api, waiting, "recall"), "waiting")
    assert_conflict(ticket_step(staff_api, waiting, "no-show"), "waiting")
    assert_conflict(ticket_step(staff_api, waiting, "park"), "waiting")
    assert_conflict(ticket_step(staff_api, waiting, "unpark"), "waiting")
    assert_conflict(ticket_step(staff_api, waiting, "complete"), "waiting")
    accounts = ServiceType.objects.get(code="accounts")
    assert_conflict(
        ticket_step(staff_api, waiting, "transfer", service_type=accounts.pk), "waiting"
    )

    assert_conflict(ticket_step(staff_api, called, "complete"), "called")
    ticket_step(staff_api, called, "start")
    assert_conflict(ticket_step(staff_api, called, "recall"), "serving")
    assert_conflict(ticket_step(staff_api, called, "no-show"), "serving")
    assert_conflict(ticket_step(staff_api, called, "start"), "serving")
    ticket_step(staff_api, called, "complete")
    for step in ("recall", "start", "complete", "no-show", "park", "unpark"):
        assert_conflict(ticket_step(staff_api, called, step), "completed")
    assert Ticket.objects.get(pk=called.pk).status == TicketStatus.COMPLETED


def test_no_show_after_recalls_and_the_recall_limit(staff_api, called):
    for _recall in range(settings.RECEPTION_MAX_RECALLS):
        assert ticket_step(staff_api, called, "recall").status_code == 200
    assert_conflict(ticket_step(staff_api, called, "recall"), "called")

    response = ticket_step(staff_api, called, "no-show")

    assert response.status_code == 200
    assert response.json()["status"] == "no_show"
    assert_conflict(ticket_step(staff_api, called, "no-show"), "no_show")


def test_park_and_unpark(staff_api, called, open_counter):
    parked = ticket_step(staff_api, called, "park")
    assert parked.status_code == 200
    assert (parked.json()["status"], parked.json()["counter"]) == ("parked", None)
    assert parked.json()["reserved_counter"] == 1
    assert_conflict(ticket_step(staff_api, called, "park"), "parked")

    # The counter is free for the next customer meanwhile.
    assert counter_step(staff_api, open_counter, "call-next").json()["ticket"]["number"] == "A002"

    back = ticket_step(staff_api, called, "unpark")
    assert back.status_code == 200
    assert back.json()["status"] == "waiting"
    assert back.json()["position"] == 1


def test_transfer_keeps_arrival_and_can_reserve_a_counter(
    staff_api, called, accounts_service, branch_a
):
    counter_two = CounterFactory(branch=branch_a, number=2, services=[accounts_service])
    ticket_step(staff_api, called, "start")

    response = ticket_step(
        staff_api, called, "transfer", service_type=accounts_service.pk, counter=counter_two.pk
    )

    assert response.status_code == 201, response.content
    new = response.json()
    assert new["number"] == "B001"
    assert new["status"] == "waiting"
    assert new["service"] == "accounts"
    assert new["transferred_from"] == called.pk
    assert new["reserved_counter"] == 2
    assert new["arrived_at"] == "2026-03-04T10:00:00+08:00"
    assert new["position"] == 1
    assert staff_api.get(f"{TICKETS}/{called.pk}").json()["status"] == "transferred"
    assert_conflict(
        ticket_step(staff_api, called, "transfer", service_type=accounts_service.pk), "transferred"
    )


def test_transfer_bad_input_is_a_field_error(
    staff_api, called, accounts_service, cash_service, branch_a, branch_b
):
    elsewhere = ServiceTypeFactory(branch=branch_b, code="accounts", prefix="B")
    cash_only = CounterFactory(branch=branch_a, number=3, services=[cash_service])
    closed = ServiceTypeFactory(branch=branch_a, code="closed", prefix="C", is_active=False)

    unknown = ticket_step(staff_api, called, "transfer", service_type=999999)
    other_branch = ticket_step(staff_api, called, "transfer", service_type=elsewhere.pk)
    wrong_counter = ticket_step(
        staff_api, called, "transfer", service_type=accounts_service.pk, counter=cash_only.pk
    )
    inactive = ticket_step(staff_api, called, "transfer", service_type=closed.pk)
    missing = ticket_step(staff_api, called, "transfer")

    assert unknown.json() == {"service_type": ["No such service at your branches."]}
    assert other_branch.json() == {"service_type": ["No such service at your branches."]}
    assert wrong_counter.json() == {"counter": ["That counter does not serve this service."]}
    assert inactive.json() == {
        "service_type": ["Transfer to an active service of the same branch."]
    }
    assert missing.json().keys() == {"service_type"}
    for response in (unknown, other_branch, wrong_counter, inactive, missing):
        assert response.status_code == 400
    assert Ticket.objects.get(pk=called.pk).status == TicketStatus.CALLED
    assert not Ticket.objects.filter(transferred_from=called).exists()


def test_another_tellers_ticket_is_a_conflict(api, called, other_teller):
    api.force_login(other_teller)

    response = ticket_step(api, called, "start")

    assert response.status_code == 409
    assert response.json() == {"detail": "This ticket is at another member of staff's counter."}


def test_complete_outcome_too_long_is_a_field_error(staff_api, called, teller):
    ticket_start(actor=teller, ticket=called)

    response = ticket_step(staff_api, called, "complete", outcome="x" * 201)

    assert response.status_code == 400
    assert response.json().keys() == {"outcome"}


# --- Lists and filters ------------------------------------------------------------------------


def test_ticket_filters(staff_api, called, issue_tickets, accounts_service, open_counter):
    issue_tickets(1, service_type=accounts_service)

    def numbers(**params):
        response = staff_api.get(TICKETS, params)
        assert response.status_code == 200, response.content
        return sorted(t["number"] for t in response.json()["results"])

    assert numbers() == ["A001", "A002", "B001"]
    assert numbers(status="waiting") == ["A002", "B001"]
    assert len(staff_api.get(f"{TICKETS}?status=waiting&status=called").json()["results"]) == 3
    assert numbers(service_type=accounts_service.pk) == ["B001"]
    assert numbers(counter=open_counter.pk) == ["A001"]
    assert numbers(business_date="2026-03-04") == ["A001", "A002", "B001"]
    assert numbers(business_date="2026-03-05") == []
    assert numbers(number="A002") == ["A002"]
    assert staff_api.get(TICKETS, {"status": "lost"}).status_code == 400
    # Lists leave the queue position out (it costs queries per ticket).
    assert {t["position"] for t in staff_api.get(TICKETS).json()["results"]} == {None}


def test_ticket_list_query_count_does_not_grow(staff_api, issue_tickets, django_assert_num_queries):
    issue_tickets(3)
    staff_api.get(TICKETS)  # the session's first request stores its sign-in time
    # user, scope, page (the session comes from the cache)
    with django_assert_num_queries(3):
        staff_api.get(TICKETS)
    issue_tickets(30, gap=dt.timedelta(seconds=1))  # within the session's refresh interval
    with django_assert_num_queries(3):
        staff_api.get(TICKETS)


# --- Service types ----------------------------------------------------------------------------


@pytest.fixture
def admin_api(api, make_staff):
    api.force_login(make_staff(Role.ADMIN))
    return api


def test_service_types_are_read_within_scope(
    staff_api, cash_service, accounts_service, branch_b, make_api_client, branch_a
):
    ServiceTypeFactory(branch=branch_b, code="cash", prefix="A")

    listed = staff_api.get(SERVICE_TYPES).json()["results"]

    assert [s["code"] for s in listed] == ["accounts", "cash"]
    assert listed[1]["name"] == "Cash"
    assert listed[1]["branch"] == "a01"
    client = make_api_client(["reception:read"], branches=[branch_a])
    assert client.get(SERVICE_TYPES).json()["count"] == 2
    assert client.get(f"{SERVICE_TYPES}/{cash_service.pk}").json()["prefix"] == "A"


def test_admin_configures_service_types(admin_api, branch_a):
    created = admin_api.post(
        SERVICE_TYPES,
        {
            "branch": "a01",
            "code": "wealth",
            "name_zh": "理财",
            "name_en": "Wealth",
            "prefix": "V",
            "category": "wealth",
            "target_wait_minutes": 10,
            "expected_service_minutes": 20,
        },
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert ServiceType.objects.get(pk=pk).branch == branch_a

    updated = admin_api.patch(
        f"{SERVICE_TYPES}/{pk}", {"name_en": "Wealth management", "branch": "b01"}
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["name_en"] == "Wealth management"
    assert updated.json()["branch"] == "a01"  # a service does not move
    assert list(
        Event.objects.filter(subject_id=str(pk)).order_by("id").values_list("type", "payload")
    ) == [
        ("reception.service_type_created", {"code": "wealth", "prefix": "V"}),
        ("reception.service_type_updated", {"code": "wealth", "changed": ["name_en"]}),
    ]

    duplicate = admin_api.post(
        SERVICE_TYPES,
        {"branch": "a01", "code": "wealth", "name_zh": "x", "name_en": "x", "prefix": "W"},
    )
    assert duplicate.status_code == 400
    assert duplicate.json() == {"code": ["This branch already has a service with this code."]}
    bad = admin_api.post(
        SERVICE_TYPES,
        {
            "branch": "a01",
            "code": "loans",
            "name_zh": "x",
            "name_en": "x",
            "prefix": "a",
            "expected_service_minutes": 0,
        },
    )
    assert bad.status_code == 400
    assert bad.json().keys() == {"prefix", "expected_service_minutes"}


def test_branch_admin_configures_only_its_branch(api, make_staff, branch_a, branch_b):
    api.force_login(make_staff(Role.ADMIN, branch=branch_a))
    body = {"code": "cash", "name_zh": "x", "name_en": "x", "prefix": "A"}

    assert api.post(SERVICE_TYPES, {**body, "branch": "a01"}).status_code == 201
    elsewhere = api.post(SERVICE_TYPES, {**body, "branch": "b01"})

    assert elsewhere.status_code == 400
    assert elsewhere.json() == {"branch": ["You cannot configure services at this branch."]}
    assert not ServiceType.objects.filter(branch=branch_b).exists()


def test_only_configurers_write_service_types(staff_api, cash_service, make_api_client, branch_a):
    body = {"branch": "a01", "code": "x", "name_zh": "x", "name_en": "x", "prefix": "X"}
    assert staff_api.post(SERVICE_TYPES, body).status_code == 403
    assert (
        staff_api.patch(f"{SERVICE_TYPES}/{cash_service.pk}", {"name_en": "Y"}).status_code == 403
    )
    client = make_api_client(["reception:read", "reception:write"], branches=[branch_a])
    refused = client.post(SERVICE_TYPES, body)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Reception is configured by staff, not with an API key."}
    cash_service.refresh_from_db()
    assert cash_service.name_en == "Cash"


# --- Query budgets ----------------------------------------------------------------------------
# A staff request costs 2 of them: the user and the branch scope (one query); the session comes
# from the cache and is saved only once a minute (bankservice/core/middleware.py). The branch's
# opening hours, priority rule and counters' services come from the configuration cache
# (reception/config.py; tests/reception/test_config_cache.py counts a cold one).
ISSUE_QUERIES = 9  # + service (with branch); savepoint, visit, number (one upsert), ticket,
# event, release.
CALL_NEXT_QUERIES = 9  # + savepoint, counter lock, candidate (SKIP LOCKED, not busy), claim,
# the called ticket with its service and customer, event, release.


@pytest.fixture
def warm(staff_api, open_counter, reception_clock):
    """The session's first request has stored its sign-in time, and the counter's services are
    in the configuration cache: what every later request of a working day finds."""
    from reception.config import counter_services

    staff_api.get(f"{COUNTERS}/{open_counter.pk}")
    counter_services(open_counter.pk)


@pytest.mark.parametrize("waiting", [3, 30])
def test_issue_query_count_is_fixed(
    staff_api, warm, issue_tickets, cash_service, django_assert_num_queries, waiting
):
    issue_tickets(waiting, gap=dt.timedelta(seconds=1))

    with django_assert_num_queries(ISSUE_QUERIES):
        response = issue(staff_api, cash_service)

    assert response.json()["number"] == f"A{waiting + 1:03d}"


@pytest.mark.parametrize("waiting", [3, 30])
def test_call_next_query_count_is_fixed(
    staff_api,
    warm,
    open_counter,
    issue_tickets,
    accounts_service,
    django_assert_num_queries,
    waiting,
):
    issue_tickets(waiting, gap=dt.timedelta(milliseconds=500))
    issue_tickets(waiting, service_type=accounts_service, gap=dt.timedelta(milliseconds=500))

    with django_assert_num_queries(CALL_NEXT_QUERIES):
        response = counter_step(staff_api, open_counter, "call-next")

    assert response.json()["ticket"]["number"] == "A001"
