"""Remote check-in: a customer takes a number from their own phone while the branch is open."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bankservice.events.models import Event
from reception.models import Ticket, TicketStatus, VisitSource
from reception.public_views import REMOTE_COOKIE, REMOTE_TICKETS_PER_WINDOW
from reception.services import ticket_call_next, ticket_complete, ticket_start

from .factories import ServiceTypeFactory
from .fixtures import CLOSED_AT
from .test_public import assert_csp_clean, status_url, text

pytestmark = pytest.mark.django_db


def checkin_url(branch, **query):
    url = reverse("reception_public:checkin", args=[branch.code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def no_remote_service(branch_a):
    return ServiceTypeFactory(
        branch=branch_a, code="vault", name_en="Safe deposit", prefix="V", remote_checkin=False
    )


def test_page_lists_the_services_open_to_remote_check_in(
    client, branch_a, cash_service, accounts_service, no_remote_service, reception_clock
):
    ServiceTypeFactory(
        branch=branch_a, code="gone", name_en="Withdrawn", prefix="C", is_active=False
    )
    response = client.get(checkin_url(branch_a))
    assert response.status_code == 200
    page = text(response)
    assert "Take a number from your phone" in page
    assert "Cash" in page and "Accounts" in page
    assert "Safe deposit" not in page and "Withdrawn" not in page
    assert "Text me when I'm nearly next" in page
    assert response["Cache-Control"] == "no-store"
    assert_csp_clean(response)

    chinese = client.get(checkin_url(branch_a, lang="zh-hans"))
    assert '<html lang="zh-hans">' in chinese.content.decode()
    assert "现金业务" in text(chinese)
    assert 'name="lang" value="zh-hans"' in chinese.content.decode()
    assert f'href="{checkin_url(branch_a, lang="en")}"' in chinese.content.decode()


def test_issues_a_remote_ticket_with_the_sms_and_shows_the_status_page(
    client, branch_a, cash_service, issue_tickets, reception_clock
):
    issue_tickets(2)
    response = client.post(
        checkin_url(branch_a),
        {
            "service": cash_service.pk,
            "phone": "139 1234 5678",
            "sms_when_next": "on",
            "lang": "zh-hans",
        },
    )
    ticket = Ticket.objects.get(visit__source=VisitSource.REMOTE)
    assert response.status_code == 302
    assert response["Location"] == status_url(ticket) + "?lang=zh-hans"
    assert ticket.number == "A003"
    visit = ticket.visit
    assert visit.customer is None
    assert visit.contact_phone == "+8613912345678"  # normalised to E.164
    assert visit.sms_when_next is True
    assert visit.language == "zh-hans"
    event = Event.objects.get(type="reception.ticket_issued", subject_id=str(ticket.pk))
    assert event.payload["source"] == "remote"
    assert event.actor_user_id is None and event.actor_client_id is None

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert re.search(r"data-ahead>\s*2\s*<", page.content.decode())


def test_without_the_sms_no_phone_number_is_kept(client, branch_a, cash_service, reception_clock):
    response = client.post(
        checkin_url(branch_a), {"service": cash_service.pk, "phone": "13912345678"}
    )
    assert response.status_code == 302
    visit = Ticket.objects.get().visit
    assert (visit.contact_phone, visit.sms_when_next, visit.language) == ("", False, "en")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"sms_when_next": "on"}, "Enter your mobile number to get the SMS."),
        ({"sms_when_next": "on", "phone": "12345"}, "This is not a valid phone number"),
        ({"sms_when_next": "on", "phone": "call me"}, "Enter a phone number, such as"),
    ],
)
def test_the_sms_needs_a_valid_phone_number(
    client, branch_a, cash_service, reception_clock, data, message
):
    response = client.post(checkin_url(branch_a), {"service": cash_service.pk, **data})
    assert response.status_code == 400
    assert message in text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    # What the customer typed stays in the form.
    assert "checked" in response.content.decode()
    assert not Ticket.objects.exists()


def test_refuses_a_service_without_remote_check_in_another_branch_or_garbage(
    client, branch_a, branch_b, cash_service, no_remote_service, reception_clock
):
    elsewhere = ServiceTypeFactory(branch=branch_b, code="cash", prefix="A")
    for value in (no_remote_service.pk, elsewhere.pk, "x"):
        response = client.post(checkin_url(branch_a), {"service": value})
        assert response.status_code == 400
        assert "Please choose one of the services shown." in text(response)
    response = client.post(checkin_url(branch_a), {})
    assert response.status_code == 400
    assert "Please choose a service." in text(response)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_outside_opening_hours_a_closed_page_with_the_hours(
    client, branch_a, cash_service, reception_clock, method
):
    reception_clock.move_to(CLOSED_AT)
    response = getattr(client, method)(checkin_url(branch_a), {"service": cash_service.pk})
    assert response.status_code == 200
    assert "We are closed now" in text(response)
    assert "09:00–17:00" in text(response)
    assert f'content="60;url={checkin_url(branch_a)}"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_unknown_or_inactive_branch_is_404(client, branch_a, cash_service, reception_clock):
    assert client.get("/checkin/nowhere/").status_code == 404
    branch_a.is_active = False
    branch_a.save(update_fields=["is_active"])
    assert client.get(checkin_url(branch_a)).status_code == 404
    assert client.post(checkin_url(branch_a), {"service": cash_service.pk}).status_code == 404


def test_one_open_remote_ticket_per_browser(
    client, branch_a, cash_service, open_counter, teller, reception_clock
):
    first = client.post(checkin_url(branch_a), {"service": cash_service.pk})
    assert first.status_code == 302
    ticket = Ticket.objects.get()
    assert REMOTE_COOKIE in first.cookies
    assert first.cookies[REMOTE_COOKIE]["httponly"]

    again = client.post(checkin_url(branch_a), {"service": cash_service.pk})
    assert again.status_code == 200
    assert f"You already have a number {ticket.number}" in text(again)
    assert f'href="{status_url(ticket)}"' in again.content.decode()
    assert Ticket.objects.count() == 1
    assert "You already have a number" in text(client.get(checkin_url(branch_a)))

    # A forged cookie counts for nothing.
    forged = Client()
    forged.cookies[REMOTE_COOKIE] = ticket.public_token
    assert "You already have a number" not in text(forged.get(checkin_url(branch_a)))

    # Once served, the browser may take another number.
    ticket_call_next(actor=teller, counter=open_counter)
    ticket_start(actor=teller, ticket=ticket)
    ticket_complete(actor=teller, ticket=ticket)
    assert client.post(checkin_url(branch_a), {"service": cash_service.pk}).status_code == 302
    assert Ticket.objects.filter(status=TicketStatus.WAITING).count() == 1


def test_rate_limit_per_client_address(branch_a, cash_service, reception_clock):
    for _i in range(REMOTE_TICKETS_PER_WINDOW):
        # A fresh browser each time: the cookie alone would stop the second one.
        assert Client().post(checkin_url(branch_a), {"service": cash_service.pk}).status_code == 302
    refused = Client().post(checkin_url(branch_a), {"service": cash_service.pk})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1800"
    assert "Too many numbers were taken from this connection" in text(refused)
    assert Ticket.objects.count() == REMOTE_TICKETS_PER_WINDOW
    # Another address is not affected; invalid forms do not use up the allowance.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert other.post(checkin_url(branch_a), {"service": "x"}).status_code == 400
    assert other.post(checkin_url(branch_a), {"service": cash_service.pk}).status_code == 302


def test_the_window_ends(branch_a, cash_service, reception_clock):
    for _i in range(REMOTE_TICKETS_PER_WINDOW):
        Client().post(checkin_url(branch_a), {"service": cash_service.pk})
    assert Client().post(checkin_url(branch_a), {"service": cash_service.pk}).status_code == 429
    from django.core.cache import cache

    cache.clear()  # the window's key expires (a cache's own clock cannot be moved here)
    assert Client().post(checkin_url(branch_a), {"service": cash_service.pk}).status_code == 302


def test_csrf_is_enforced(branch_a, cash_service, reception_clock):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(checkin_url(branch_a))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = browser.post(
        checkin_url(branch_a), {"service": cash_service.pk, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Ticket.objects.count() == 1


def test_query_counts_are_fixed(
    client, branch_a, cash_service, issue_tickets, reception_clock, django_assert_num_queries
):
    client.get(checkin_url(branch_a))  # the branch's calendar is cached after the first look
    for letter in "BCDEF":
        ServiceTypeFactory(branch=branch_a, code=f"s{letter}", prefix=letter)
    # The branch, its services.
    with django_assert_num_queries(2):
        assert client.get(checkin_url(branch_a)).status_code == 200

    def issue_queries(browser) -> int:
        with CaptureQueriesContext(connection) as issued:
            assert (
                browser.post(checkin_url(branch_a), {"service": cash_service.pk}).status_code == 302
            )
        return len(issued)

    # Issuing: the branch, the chosen service, then ticket_issue (number, priority rule, visit,
    # ticket, event), however long the queue is.
    issue_tickets(1)  # today's number series exists (the day's first ticket creates it)
    first = issue_queries(client)
    assert first <= 10
    issue_tickets(5)
    assert issue_queries(Client(REMOTE_ADDR="10.9.9.9")) == first
    # With the cookie of an open ticket: the branch and that ticket (no service list).
    with django_assert_num_queries(2):
        assert "You already have a number" in text(client.get(checkin_url(branch_a)))
