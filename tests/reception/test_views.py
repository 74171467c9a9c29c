"""Staff reception pages: the counter console and the greeter's floor view.

Scope (another branch's counters and tickets are 404), roles (403), every console action through
the page including its refusals (shown as messages after a redirect, never a 500), issuing a
ticket with or without a customer, and fixed query counts however long the queue.
"""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from bankservice.branches.models import Role
from reception.models import CounterState, Ticket, TicketStatus
from reception.services import counter_sign_in, ticket_call_next, ticket_park, ticket_start
from tests.factories import CustomerFactory

from .factories import CounterFactory, ServiceTypeFactory
from .fixtures import CLOSED_AT

pytestmark = pytest.mark.django_db

CONSOLE = "/reception/counter/"
FLOOR = "/reception/floor/"
ISSUE = "/reception/floor/issue/"


def url(name: str, *args) -> str:
    return reverse(f"reception:{name}", args=args)


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def as_user(client, reception_clock):
    """as_user(user) -> the test client signed in as `user` (inside the frozen open clock)."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def greeter(make_staff, branch_a):
    return make_staff(Role.GREETER, branch=branch_a)


@pytest.fixture
def auditor(make_staff, branch_a):
    return make_staff(Role.AUDITOR, branch=branch_a)


@pytest.fixture
def other_counter(branch_b):
    service = ServiceTypeFactory(branch=branch_b, code="cash-b", prefix="A")
    return CounterFactory(branch=branch_b, number=1, services=[service])


def post(client, path, data=None):
    """POST and follow the redirect back (PRG); the page and its messages."""
    response = client.post(path, data or {})
    assert response.status_code == 302, (response.status_code, response.content[:500])
    messages = flashed(response)
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page, messages


# --- Scope and roles --------------------------------------------------------------------------


def test_console_offers_the_counters_of_my_branch_only(as_user, teller, counter, other_counter):
    page = as_user(teller).get(CONSOLE)
    assert page.status_code == 200
    html = page.content.decode()
    assert url("sign-in", counter.pk) in html
    assert url("sign-in", other_counter.pk) not in html
    assert "Sign in to a counter" in html


def test_another_branchs_counter_and_ticket_are_404(
    as_user, teller, open_counter, other_counter, make_staff, branch_b, issue_tickets
):
    client = as_user(teller)
    for action in ("sign-in", "sign-out", "pause", "resume", "call-next"):
        assert client.post(url(action, other_counter.pk)).status_code == 404, action
    teller_b = make_staff(Role.TELLER, branch=branch_b)
    counter_sign_in(actor=teller_b, counter=other_counter)
    ticket_b = issue_tickets(1, service_type=other_counter.services.get())[0]
    for action in ("recall", "start", "complete", "no-show", "transfer", "park", "unpark"):
        assert client.post(url(action, ticket_b.pk)).status_code == 404, action
    assert client.post(url("sign-in", 999_999)).status_code == 404
    ticket_b.refresh_from_db()
    other_counter.refresh_from_db()
    assert ticket_b.status == TicketStatus.WAITING
    assert other_counter.staff == teller_b


def test_greeter_cannot_use_the_console(as_user, greeter, counter, issue_tickets):
    client = as_user(greeter)
    ticket = issue_tickets(1)[0]
    assert client.get(CONSOLE).status_code == 403
    assert client.get(url("console-live")).status_code == 403
    assert client.post(url("sign-in", counter.pk)).status_code == 403
    assert client.post(url("call-next", counter.pk)).status_code == 403
    assert client.post(url("start", ticket.pk)).status_code == 403
    counter.refresh_from_db()
    assert counter.staff is None


def test_greeter_sees_the_floor_with_the_issue_form(as_user, greeter, counter):
    page = as_user(greeter).get(FLOOR)
    assert page.status_code == 200
    assert f'action="{ISSUE}"' in page.content.decode()


def test_auditor_sees_the_floor_but_cannot_issue(as_user, auditor, counter, cash_service):
    client = as_user(auditor)
    page = client.get(FLOOR)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Waiting now" in html
    assert f'action="{ISSUE}"' not in html
    response = client.post(ISSUE, {"branch": counter.branch_id, "service_type": cash_service.pk})
    assert response.status_code == 403
    assert not Ticket.objects.exists()
    assert client.get(CONSOLE).status_code == 403


def test_navigation_shows_reception_and_counter_by_role(as_user, teller, greeter, auditor):
    def nav(user):
        html = as_user(user).get("/").content.decode()
        return re.findall(r'<nav aria-label="Main">.*?</nav>', html, re.S)[0]

    assert 'href="/reception/floor/"' in nav(teller)
    assert 'href="/reception/counter/"' in nav(teller)
    assert 'href="/reception/floor/"' in nav(greeter)
    assert 'href="/reception/counter/"' not in nav(greeter)
    assert 'href="/reception/counter/"' not in nav(auditor)


def test_pages_need_sign_in_and_actions_need_post(client, teller, counter):
    response = client.get(CONSOLE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(teller)
    assert client.get(url("call-next", counter.pk)).status_code == 405
    assert client.get(ISSUE).status_code == 405


# --- Console actions --------------------------------------------------------------------------


def test_sign_in_opens_the_counter_and_shows_its_queues(as_user, teller, counter, issue_tickets):
    issue_tickets(2)
    page, messages = post(as_user(teller), url("sign-in", counter.pk))
    assert messages == ["You are signed in to Counter 1."]
    counter.refresh_from_db()
    assert (counter.state, counter.staff) == (CounterState.OPEN, teller)
    html = page.content.decode()
    assert 'data-field="counter-state">Open<' in html
    assert url("call-next", counter.pk) in html
    # Waiting per service of the counter: cash 2, accounts 0.
    assert re.search(r'data-service="cash".*?data-field="waiting">2<', html, re.S)
    assert re.search(r'data-service="accounts".*?data-field="waiting">0<', html, re.S)


def test_sign_in_to_a_counter_taken_by_someone_else_is_a_message(
    as_user, open_counter, make_staff, branch_a
):
    other_teller = make_staff(Role.TELLER, branch=branch_a, username="teller-2")
    page, messages = post(as_user(other_teller), url("sign-in", open_counter.pk))
    assert messages == ["Another member of staff is signed in to this counter."]
    assert "Sign in to a counter" in page.content.decode()


def test_call_next_with_nobody_waiting_is_a_friendly_message(as_user, teller, open_counter):
    page, messages = post(as_user(teller), url("call-next", open_counter.pk))
    assert messages == ["Nobody is waiting."]
    assert "No customer at your counter." in page.content.decode()


def test_call_next_on_a_paused_counter_shows_a_message(
    as_user, teller, open_counter, issue_tickets
):
    issue_tickets(1)
    client = as_user(teller)
    page, messages = post(client, url("pause", open_counter.pk))
    assert messages == ["Counter 1 is paused: no tickets are called to it."]
    assert url("call-next", open_counter.pk) not in page.content.decode()
    page, messages = post(client, url("call-next", open_counter.pk))
    assert messages == ["The counter is Paused: open it to call tickets."]
    assert 'data-field="counter-state">Paused<' in page.content.decode()
    assert Ticket.objects.get().status == TicketStatus.WAITING
    page, messages = post(client, url("pause", open_counter.pk))
    assert messages == ["The counter is Paused."]
    page, messages = post(client, url("resume", open_counter.pk))
    assert messages == ["Counter 1 is open again."]
    page, messages = post(client, url("call-next", open_counter.pk))
    assert messages == ["Calling A001 to Counter 1."]


def test_call_start_complete_through_the_page(
    as_user, teller, open_counter, issue_tickets, reception_clock
):
    first, _second = issue_tickets(2)
    client = as_user(teller)
    page, messages = post(client, url("call-next", open_counter.pk))
    assert messages == ["Calling A001 to Counter 1."]
    html = page.content.decode()
    assert 'data-field="current-number">A001<' in html
    assert 'data-field="current-status">Called<' in html
    assert url("start", first.pk) in html
    assert url("call-next", open_counter.pk) not in html  # busy: finish this one first

    page, messages = post(client, url("start", first.pk))
    assert messages == ["Serving A001."]
    assert 'data-field="current-status">Being served<' in page.content.decode()
    reception_clock.shift(dt.timedelta(minutes=6))
    page, messages = post(client, url("complete", first.pk), {"outcome": "Deposit 5,000 CNY"})
    assert messages == ["A001 completed."]
    first.refresh_from_db()
    assert (first.status, first.outcome) == (TicketStatus.COMPLETED, "Deposit 5,000 CNY")
    html = page.content.decode()
    assert "No customer at your counter." in html
    assert re.search(r'data-service="cash".*?data-field="waiting">1<', html, re.S)

    page, messages = post(client, url("call-next", open_counter.pk))
    assert messages == ["Calling A002 to Counter 1."]


def test_a_step_in_the_wrong_state_is_a_message_with_the_current_state(
    as_user, teller, open_counter, issue_tickets
):
    ticket = issue_tickets(1)[0]
    client = as_user(teller)
    page, messages = post(client, url("complete", ticket.pk), {"outcome": "x"})
    assert messages == ["Ticket A001 is Waiting: it cannot be completed."]
    post(client, url("call-next", open_counter.pk))
    post(client, url("start", ticket.pk))
    for action, verb in [("start", "started"), ("recall", "recalled")]:
        page, messages = post(client, url(action, ticket.pk))
        assert messages == [f"Ticket A001 is Being served: it cannot be {verb}."]
    page, messages = post(client, url("no-show", ticket.pk))
    assert messages == ["Ticket A001 is Being served: it cannot be marked as a no-show."]
    page, messages = post(client, url("complete", ticket.pk), {"outcome": "y" * 201})
    assert messages == ["Outcome: Ensure this value has at most 200 characters (it has 201)."]
    assert 'data-field="current-status">Being served<' in page.content.decode()


def test_recall_then_no_show(as_user, teller, open_counter, issue_tickets, settings):
    settings.RECEPTION_MAX_RECALLS = 1
    ticket = issue_tickets(1)[0]
    client = as_user(teller)
    post(client, url("call-next", open_counter.pk))
    page, messages = post(client, url("recall", ticket.pk))
    assert messages == ["Calling A001 again."]
    assert "called again 1 time" in page.content.decode()
    page, messages = post(client, url("recall", ticket.pk))
    assert messages == ["Ticket A001 was recalled 1 time: mark it as a no-show."]
    page, messages = post(client, url("no-show", ticket.pk))
    assert messages == ["A001 marked as a no-show."]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NO_SHOW


def test_another_tellers_ticket_is_refused_with_a_message(
    as_user, teller, open_counter, make_staff, branch_a, cash_service, issue_tickets
):
    ticket = issue_tickets(1)[0]
    ticket_call_next(actor=teller, counter=open_counter)
    colleague = make_staff(Role.TELLER, branch=branch_a, username="teller-2")
    counter_sign_in(actor=colleague, counter=CounterFactory(branch=branch_a, number=2))
    client = as_user(colleague)
    _page, messages = post(client, url("start", ticket.pk))
    assert messages == ["This ticket is at another member of staff's counter."]
    _page, messages = post(client, url("call-next", open_counter.pk))
    assert messages == ["You are not signed in to this counter."]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CALLED


def test_transfer_keeps_the_visit_and_its_arrival(
    as_user, teller, open_counter, issue_tickets, accounts_service, branch_a
):
    ticket = issue_tickets(1)[0]
    client = as_user(teller)
    post(client, url("call-next", open_counter.pk))
    page, messages = post(client, url("transfer", ticket.pk), {})
    assert messages == ["To service: This field is required."]
    not_serving = CounterFactory(branch=branch_a, number=7)
    page, messages = post(
        client,
        url("transfer", ticket.pk),
        {"service_type": accounts_service.pk, "counter": not_serving.pk},
    )
    assert messages == ["That counter does not serve this service."]
    page, messages = post(client, url("transfer", ticket.pk), {"service_type": accounts_service.pk})
    assert messages == ["A001 transferred: the customer now holds B001 for Accounts."]
    new = Ticket.objects.get(number="B001")
    assert (new.visit_id, new.arrived_at, new.status) == (
        ticket.visit_id,
        ticket.arrived_at,
        TicketStatus.WAITING,
    )
    assert "No customer at your counter." in page.content.decode()


def test_park_and_unpark(as_user, teller, open_counter, issue_tickets):
    first, _second = issue_tickets(2)
    client = as_user(teller)
    post(client, url("call-next", open_counter.pk))
    page, messages = post(client, url("park", first.pk))
    assert messages == ["A001 is set aside; unpark it when the customer is ready."]
    html = page.content.decode()
    assert re.search(r'class="card rx-parked".*?data-ticket="A001"', html, re.S)
    assert url("unpark", first.pk) in html
    page, messages = post(client, url("call-next", open_counter.pk))
    assert messages == ["Calling A002 to Counter 1."]
    page, messages = post(client, url("unpark", first.pk))
    assert messages == ["A001 is back in the queue, first for you."]
    page, messages = post(client, url("unpark", first.pk))
    assert messages == ["Ticket A001 is Waiting: it cannot be returned to the queue."]
    assert "Nothing is parked." in page.content.decode()


def test_sign_out_refused_while_busy_then_allowed(as_user, teller, open_counter, issue_tickets):
    ticket = issue_tickets(1)[0]
    client = as_user(teller)
    post(client, url("call-next", open_counter.pk))
    page, messages = post(client, url("sign-out", open_counter.pk))
    assert messages == ["Finish or transfer the ticket at Counter 1 first."]
    post(client, url("start", ticket.pk))
    post(client, url("complete", ticket.pk))
    page, messages = post(client, url("sign-out", open_counter.pk))
    assert messages == ["You signed out of Counter 1; it is closed."]
    assert "Sign in to a counter" in page.content.decode()
    open_counter.refresh_from_db()
    assert (open_counter.state, open_counter.staff) == (CounterState.CLOSED, None)
    page, messages = post(client, url("call-next", open_counter.pk))
    assert messages == ["You are not signed in to this counter."]


def test_console_shows_the_customer_masked_with_a_link(
    as_user, teller, open_counter, issue_tickets, branch_a
):
    customer = CustomerFactory(
        full_name="王小明", phone="+8613912345678", home_branch=branch_a, is_elderly=True
    )
    issue_tickets(1, customer=customer)
    page, _messages = post(as_user(teller), url("call-next", open_counter.pk))
    html = page.content.decode()
    assert f'href="/customers/{customer.pk}/">王小明</a>' in html
    assert customer.national_id_masked in html
    assert "+86139****5678" in html
    assert customer.national_id not in html
    assert "13912345678" not in html
    assert "elderly" in html


def test_console_live_partial_has_the_waiting_counts(as_user, teller, open_counter, issue_tickets):
    issue_tickets(3)
    html = as_user(teller).get(url("console-live")).content.decode()
    assert "<html" not in html
    assert re.search(r'data-service="cash".*?data-field="waiting">3<', html, re.S)


# --- Floor view and issuing -------------------------------------------------------------------


def test_floor_shows_queues_counters_and_the_waiting_list(
    as_user, greeter, teller, open_counter, issue_tickets, accounts_service, reception_clock
):
    issue_tickets(2)  # A001 at 10:00, A002 at 10:01
    issue_tickets(1, service_type=accounts_service)  # B001 at 10:02
    ticket_call_next(actor=teller, counter=open_counter)  # A001 goes to counter 1
    reception_clock.shift(dt.timedelta(minutes=14))  # 10:17
    html = as_user(greeter).get(FLOOR).content.decode()
    # Waiting now per service, the cash queue past its 15-minute target.
    assert re.search(r'<tr data-service="cash" class="rx-over">.*?"waiting">1<', html, re.S)
    assert re.search(r'<tr data-service="accounts">.*?"waiting">1<', html, re.S)
    assert 'data-field="waiting-total">2<' in html
    # The counter is open and busy with A001.
    assert re.search(r'data-counter="1">.*?"state">Open<.*?"busy"><strong[^>]*>A001<', html, re.S)
    # The waiting list in queue order (A002 arrived before B001), without A001.
    numbers = re.findall(r'<tr data-ticket="(\w+)"', html)
    assert numbers == ["A002", "B001"]
    assert re.search(r'data-ticket="A002" class="rx-over', html)
    assert not re.search(r'data-ticket="B001" class="rx-over', html)
    assert "16 min" in html  # A002 waited 16 minutes


def test_floor_branch_selector_and_scope(
    as_user, make_staff, region, branch_a, branch_b, branch_other_region
):
    manager = make_staff(Role.REGIONAL_MANAGER, region=region)
    client = as_user(manager)
    html = client.get(FLOOR).content.decode()
    assert 'name="branch"' in html
    assert f'<option value="{branch_b.pk}"' in html
    page = client.get(FLOOR, {"branch": branch_b.pk})
    assert page.status_code == 200
    assert "Reception · Branch B" in page.content.decode()
    assert client.get(FLOOR, {"branch": branch_other_region.pk}).status_code == 404
    assert client.get(FLOOR, {"branch": "x"}).status_code == 404
    live = client.get(url("floor-live"), {"branch": branch_other_region.pk})
    assert live.status_code == 404


def test_greeter_issues_an_anonymous_ticket_and_sees_number_and_status_link(
    as_user, greeter, cash_service, branch_a
):
    client = as_user(greeter)
    response = client.post(ISSUE, {"branch": branch_a.pk, "service_type": cash_service.pk})
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{FLOOR}?branch={branch_a.pk}&issued={ticket.pk}"
    assert flashed(response) == ["Ticket A001 issued for Cash."]
    html = client.get(response["Location"]).content.decode()
    assert 'data-field="issued-number">A001<' in html
    assert f"/t/{ticket.public_token}/" in html
    assert ticket.visit.customer is None
    assert ticket.visit.source == "greeter"


@pytest.mark.parametrize("how", ["core_banking_id", "national_id", "phone_tail"])
def test_issue_for_a_customer_found_by_id_or_phone(as_user, greeter, cash_service, branch_a, how):
    customer = CustomerFactory(home_branch=branch_a, phone="+8613900004321")
    CustomerFactory(home_branch=branch_a, phone="+8613900009999")
    query = {
        "core_banking_id": customer.core_banking_id,
        "national_id": customer.national_id,
        "phone_tail": "4321",
    }[how]
    response = as_user(greeter).post(
        ISSUE, {"branch": branch_a.pk, "service_type": cash_service.pk, "customer_query": query}
    )
    assert response.status_code == 302
    assert Ticket.objects.get().visit.customer == customer


def test_issue_finds_only_customers_the_greeter_may_see(
    as_user, greeter, cash_service, branch_a, branch_other_region
):
    stranger = CustomerFactory(home_branch=branch_other_region)
    client = as_user(greeter)
    data = {"branch": branch_a.pk, "service_type": cash_service.pk}
    page = client.post(ISSUE, {**data, "customer_query": stranger.core_banking_id})
    assert page.status_code == 200
    assert "No customer matches; check the number." in page.content.decode()
    # Nor can the id be posted directly.
    page = client.post(ISSUE, {**data, "customer": stranger.pk})
    assert page.status_code == 200
    assert "That customer is not one you may see; search again." in page.content.decode()
    assert not Ticket.objects.exists()


def test_issue_with_several_matches_asks_which_one(as_user, greeter, cash_service, branch_a):
    mother = CustomerFactory(home_branch=branch_a, phone="+8613900001234", full_name="李梅")
    son = CustomerFactory(home_branch=branch_a, phone="+8613900001234", full_name="李明")
    client = as_user(greeter)
    data = {"branch": branch_a.pk, "service_type": cash_service.pk, "customer_query": "1234"}
    page = client.post(ISSUE, data)
    html = page.content.decode()
    assert "Several customers match: choose one below." in html
    assert f'name="customer" id="rx-customer-{mother.pk}"' in html
    assert f'name="customer" id="rx-customer-{son.pk}"' in html
    assert mother.phone not in html  # candidates are shown masked
    assert not Ticket.objects.exists()
    response = client.post(ISSUE, {**data, "customer": son.pk})
    assert response.status_code == 302
    assert Ticket.objects.get().visit.customer == son


def test_issue_refused_cleanly_when_closed_or_bad_input(
    as_user, greeter, cash_service, branch_a, reception_clock
):
    reception_clock.move_to(CLOSED_AT)
    client = as_user(greeter)
    data = {"branch": branch_a.pk, "service_type": cash_service.pk}
    page = client.post(ISSUE, data)
    assert page.status_code == 200
    assert "The branch is closed now; tickets are issued during opening hours." in (
        page.content.decode()
    )
    inactive = ServiceTypeFactory(branch=branch_a, code="gone", prefix="G", is_active=False)
    page = client.post(ISSUE, {**data, "service_type": inactive.pk})
    assert "Select a valid choice" in page.content.decode()
    page = client.post(ISSUE, {"branch": branch_a.pk})
    assert "This field is required." in page.content.decode()
    assert not Ticket.objects.exists()


def test_issue_at_a_branch_out_of_scope_is_404(as_user, greeter, branch_b):
    other_service = ServiceTypeFactory(branch=branch_b, code="cash-b")
    client = as_user(greeter)
    response = client.post(ISSUE, {"branch": branch_b.pk, "service_type": other_service.pk})
    assert response.status_code == 404
    assert client.post(ISSUE, {"branch": "nope"}).status_code == 404


def test_floor_live_partial(as_user, greeter, branch_a, issue_tickets):
    issue_tickets(2)
    html = as_user(greeter).get(url("floor-live"), {"branch": branch_a.pk}).content.decode()
    assert "<html" not in html
    assert re.findall(r'<tr data-ticket="(\w+)"', html) == ["A001", "A002"]


# --- Query counts -----------------------------------------------------------------------------


def _fill_queue(issue_tickets, accounts_service, n: int):
    """n tickets over two services, half of them for identified customers."""
    customers = CustomerFactory.create_batch(2)
    for i in range(n):
        issue_tickets(
            1,
            service_type=accounts_service if i % 2 else None,
            customer=customers[i % 2] if i % 3 == 0 else None,
        )


# Every signed-in request: the user and the role scope (the session comes from the cache, and
# is saved again only every SESSION_REFRESH_SECONDS: not within these frozen-clock tests).
REQUEST_QUERIES = 2
# + branches, the issued ticket, the services' queues (floor summary), counters with their
# services and the tickets at them (4), recent service times of each active service (2 here: one
# per service, never per ticket), the waiting list, the issue form's services.
FLOOR_QUERIES = REQUEST_QUERIES + 11
# + counters with their services (3), the ticket at my counter, my parked tickets, waiting counts
# per service, the transfer form's services and counters.
CONSOLE_QUERIES = REQUEST_QUERIES + 8
# + counters with their services (3), waiting counts.
CONSOLE_LIVE_QUERIES = REQUEST_QUERIES + 4


@pytest.mark.parametrize("waiting", [3, 30])
def test_floor_query_count_does_not_grow_with_the_queue(
    as_user,
    greeter,
    teller,
    open_counter,
    issue_tickets,
    accounts_service,
    branch_a,
    waiting,
    django_assert_num_queries,
):
    _fill_queue(issue_tickets, accounts_service, waiting + 1)
    ticket_start(actor=teller, ticket=ticket_call_next(actor=teller, counter=open_counter))
    client = as_user(greeter)
    issued = client.post(ISSUE, {"branch": branch_a.pk, "service_type": accounts_service.pk})
    client.get(FLOOR)  # the session's first request stores its sign-in time
    with django_assert_num_queries(FLOOR_QUERIES):
        page = client.get(issued["Location"])
    assert len(re.findall(r'<tr data-ticket="', page.content.decode())) == waiting + 1


@pytest.mark.parametrize("waiting", [3, 30])
def test_console_query_count_does_not_grow_with_the_queue(
    as_user,
    teller,
    open_counter,
    issue_tickets,
    accounts_service,
    waiting,
    django_assert_num_queries,
):
    _fill_queue(issue_tickets, accounts_service, waiting + 2)
    ticket_park(actor=teller, ticket=ticket_call_next(actor=teller, counter=open_counter))
    ticket_call_next(actor=teller, counter=open_counter)
    client = as_user(teller)
    client.get(CONSOLE)  # the session's first request stores its sign-in time
    with django_assert_num_queries(CONSOLE_QUERIES):
        page = client.get(CONSOLE)
    html = page.content.decode()
    assert 'data-field="current-number">A002<' in html
    assert re.search(r'class="card rx-parked".*?data-ticket="A001"', html, re.S)
    with django_assert_num_queries(CONSOLE_LIVE_QUERIES):
        client.get(url("console-live"))
