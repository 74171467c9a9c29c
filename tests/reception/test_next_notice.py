"""The "you're next" SMS: sent once when a ticket that asked for it has RECEPTION_NEXT_SMS_AHEAD
people or fewer ahead, to the customer's record or the walk-in's contact phone, through the real
SMS channel against a local gateway (tests/notify/conftest.py)."""

import pytest
from django.db import transaction
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.notify.models import Notification, NotificationStatus, SkipReason
from bankservice.notify.tasks import send_notification
from reception.models import Ticket, VisitSource
from reception.next_notice import ticket_next_notices
from reception.services import ticket_call_next, ticket_complete, ticket_issue, ticket_start
from reception.tasks import send_next_notices
from tests.concurrency import run_together
from tests.conftest import requires_postgres, use_broker
from tests.factories import CustomerFactory
from tests.notify.conftest import sms_gateway  # noqa: F401 - the local SMS gateway fixture

from .test_public import status_url, text

pytestmark = pytest.mark.django_db

BASE_URL = "https://queue.bank.example"
WALK_IN_PHONE = "+8613911112222"


@pytest.fixture(autouse=True)
def _next_sms_settings(settings):
    settings.RECEPTION_NEXT_SMS_AHEAD = 2
    settings.RECEPTION_PUBLIC_BASE_URL = BASE_URL
    settings.NOTIFY_QUIET_HOURS = "off"


def issue(service, *, sms=False, customer=None, phone=WALK_IN_PHONE, language="en"):
    return ticket_issue(
        actor=None,
        service_type=service,
        source=VisitSource.REMOTE if customer is None else VisitSource.GREETER,
        customer=customer,
        contact_phone="" if customer is not None or not sms else phone,
        sms_when_next=sms,
        language=language,
    )


@pytest.fixture
def queued(monkeypatch):
    """Service ids handed to the broker (the real enqueue, with apply_async replaced)."""
    ids = []

    def apply_async(args, **kwargs):
        ids.append(args[0])

    monkeypatch.setattr(send_next_notices, "apply_async", apply_async)
    return ids


@pytest.fixture
def call(teller, open_counter, queued, django_capture_on_commit_callbacks):
    """call() -> the ticket called next at the teller's counter (then served), with what follows
    the commit: the hook queues the task, a worker runs it, and the SMS it queued are sent."""

    def call_next():
        with django_capture_on_commit_callbacks(execute=True):
            assert queued == []
            ticket = ticket_call_next(actor=teller, counter=open_counter)
            assert queued == []  # nothing leaves before the commit
        assert queued == [ticket.service_type_id]
        send_next_notices(queued.pop())  # the worker
        for pk in Notification.objects.filter(status=NotificationStatus.PENDING).values_list(
            "pk", flat=True
        ):
            send_notification(pk)
        ticket_start(actor=teller, ticket=ticket)
        ticket_complete(actor=teller, ticket=ticket)
        return ticket

    return call_next


def test_sms_goes_once_when_the_position_reaches_n(
    sms_gateway,  # noqa: F811
    cash_service,
    issue_tickets,
    reception_clock,
    call,
):
    first, second, third, quiet = issue_tickets(4)
    mine = issue(cash_service, sms=True)
    # Four ahead, then three: not yet.
    assert call() == first
    assert sms_gateway.requests == []
    mine.refresh_from_db()
    assert mine.next_notified_at is None

    # Two ahead: the SMS, with the number, how many are ahead and the link to the status page.
    assert call() == second
    assert len(sms_gateway.requests) == 1
    sent = sms_gateway.requests[0]["json"]
    assert sent["to"] == WALK_IN_PHONE
    assert sent["text"] == (
        f"You're nearly next at Branch A: ticket {mine.number} (Cash), 2 people ahead. "
        f"Please go to the waiting area. {BASE_URL}{status_url(mine)}"
    )
    mine.refresh_from_db()
    assert mine.next_notified_at is not None
    notification = Notification.objects.get()
    assert notification.customer is None
    assert notification.status == NotificationStatus.SENT
    assert notification.dedupe_key == f"reception.ticket_next:{mine.pk}"

    # Closer still, then called: nothing more. Tickets that did not ask got nothing.
    assert call() == third
    assert call() == quiet
    assert call() == mine
    assert len(sms_gateway.requests) == 1
    assert Notification.objects.count() == 1


def test_a_ticket_further_back_waits_its_turn(
    sms_gateway,  # noqa: F811
    cash_service,
    issue_tickets,
    reception_clock,
    call,
):
    issue_tickets(1)
    near = issue(cash_service, sms=True)  # one ahead
    issue_tickets(2)
    far = issue(cash_service, sms=True)  # four ahead
    call()  # near: 0 ahead, far: 3 ahead
    assert [r["json"]["text"].split("ticket ")[1][:4] for r in sms_gateway.requests] == [
        near.number
    ]
    assert "you are first in line" in sms_gateway.texts[0]
    far.refresh_from_db()
    assert far.next_notified_at is None


def test_the_customer_of_record_is_texted_with_their_consent(
    sms_gateway,  # noqa: F811
    branch_a,
    cash_service,
    issue_tickets,
    reception_clock,
    call,
):
    willing = CustomerFactory(
        home_branch=branch_a,
        full_name="Chen Yi",
        phone="+8613912345678",
        consent_sms=True,
        preferred_language="zh-hans",
    )
    unwilling = CustomerFactory(home_branch=branch_a, consent_sms=False)
    issue_tickets(1)
    texted = issue(cash_service, sms=True, customer=willing)
    refused = issue(cash_service, sms=True, customer=unwilling)
    call()
    # The record's number and language, not a contact phone.
    assert [r["json"]["to"] for r in sms_gateway.requests] == [willing.phone]
    assert sms_gateway.texts[0].startswith(f"Chen Yi，您在Branch A的现金业务排队号{texted.number}")
    assert Notification.objects.get(customer=willing).status == NotificationStatus.SENT
    skipped = Notification.objects.get(customer=unwilling)
    assert (skipped.status, skipped.skip_reason) == (
        NotificationStatus.SKIPPED,
        SkipReason.NO_CONSENT,
    )
    refused.refresh_from_db()
    assert refused.next_notified_at is not None  # decided once; not asked again on every call


def test_a_walk_in_is_texted_in_the_language_of_the_check_in_page(
    sms_gateway,  # noqa: F811
    cash_service,
    reception_clock,
    call,
    issue_tickets,
):
    issue_tickets(1)
    mine = issue(cash_service, sms=True, language="zh-hans")
    call()
    assert sms_gateway.texts == [
        f"您在Branch A的现金业务排队号{mine.number}即将叫到：您排在第一位，请到等候区等候。"
        f"{BASE_URL}{status_url(mine)}"
    ]


def test_nothing_without_the_request_or_with_the_setting_off(
    sms_gateway,  # noqa: F811
    cash_service,
    issue_tickets,
    reception_clock,
    call,
    settings,
):
    issue_tickets(2)
    call()
    assert Notification.objects.count() == 0
    settings.RECEPTION_NEXT_SMS_AHEAD = 0
    issue(cash_service, sms=True)
    call()
    assert ticket_next_notices(service_type_id=cash_service.pk) == []
    assert sms_gateway.requests == []


def test_without_a_public_base_url_the_sms_has_no_link(
    sms_gateway,  # noqa: F811
    cash_service,
    issue_tickets,
    reception_clock,
    call,
    settings,
):
    settings.RECEPTION_PUBLIC_BASE_URL = ""
    issue_tickets(1)
    issue(cash_service, sms=True)
    call()
    assert sms_gateway.texts[0].endswith("Please go to the waiting area.")


def test_the_task_run_twice_texts_once(
    sms_gateway,  # noqa: F811
    cash_service,
    issue_tickets,
    reception_clock,
    call,
):
    issue_tickets(1)
    mine = issue(cash_service, sms=True)
    call()
    assert send_next_notices(cash_service.pk) == 0  # a redelivered task
    with transaction.atomic():
        assert ticket_next_notices(service_type_id=cash_service.pk) == []
    assert Notification.objects.filter(dedupe_key=f"reception.ticket_next:{mine.pk}").count() == 1
    assert len(sms_gateway.requests) == 1


def test_a_broker_outage_does_not_fail_the_call(
    cash_service,
    issue_tickets,
    reception_clock,
    teller,
    open_counter,
    caplog,
    django_capture_on_commit_callbacks,
):
    issue_tickets(2)
    use_broker("redis://127.0.0.1:1/0", {})  # nothing listens: refused at once
    with django_capture_on_commit_callbacks(execute=True):
        called = ticket_call_next(actor=teller, counter=open_counter)
    assert called is not None
    assert "not queued (broker unavailable)" in caplog.text


def test_status_page_says_you_are_next_within_n(
    client, cash_service, issue_tickets, reception_clock, teller, open_counter
):
    tickets = issue_tickets(4)
    mine = tickets[-1]
    assert "You're next" not in text(client.get(status_url(mine)))  # three ahead
    ticket_call_next(actor=teller, counter=open_counter)
    page = client.get(status_url(mine))
    assert "You're next — please go to the waiting area." in text(page)
    assert "data-nearly-next" in page.content.decode()


# --- Asking for it at the greeter's desk and through the API -----------------------------------


def test_greeter_asks_for_the_sms_for_a_walk_in_or_a_customer(
    client, make_staff, branch_a, cash_service, reception_clock
):
    client.force_login(make_staff(Role.GREETER, branch=branch_a))
    issue_url = reverse("reception:issue")
    base = {"branch": branch_a.pk, "service_type": cash_service.pk, "sms_when_next": "on"}
    missing = client.post(issue_url, base)
    assert missing.status_code == 200
    assert "Give a phone number for the SMS." in text(missing)
    bad = client.post(issue_url, {**base, "contact_phone": "12"})
    assert "This is not a valid phone number" in text(bad)
    assert not Ticket.objects.exists()

    assert client.post(issue_url, {**base, "contact_phone": "139 1111 2222"}).status_code == 302
    visit = Ticket.objects.get().visit
    assert (visit.contact_phone, visit.sms_when_next) == (WALK_IN_PHONE, True)

    customer = CustomerFactory(home_branch=branch_a, core_banking_id="CB77")
    response = client.post(
        issue_url, {**base, "customer_query": "CB77", "contact_phone": "139 1111 2222"}
    )
    assert response.status_code == 302
    visit = Ticket.objects.latest("pk").visit
    # The customer's own number (and consent) is used: no copy of a number is kept.
    assert (visit.customer, visit.contact_phone, visit.sms_when_next) == (customer, "", True)


def test_api_issue_takes_the_sms_request(api, teller, branch_a, cash_service, reception_clock):
    api.force_login(teller)
    refused = api.post(
        "/api/v1/tickets", {"service_type": cash_service.pk, "sms_when_next": True}, format="json"
    )
    assert refused.status_code == 400
    assert "contact_phone" in refused.json()
    invalid = api.post(
        "/api/v1/tickets",
        {"service_type": cash_service.pk, "sms_when_next": True, "contact_phone": "x"},
        format="json",
    )
    assert invalid.status_code == 400 and "contact_phone" in invalid.json()
    assert not Ticket.objects.exists()

    ok = api.post(
        "/api/v1/tickets",
        {"service_type": cash_service.pk, "sms_when_next": True, "contact_phone": "13911112222"},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    visit = Ticket.objects.get(pk=ok.json()["id"]).visit
    assert (visit.contact_phone, visit.sms_when_next) == (WALK_IN_PHONE, True)
    assert WALK_IN_PHONE not in ok.content.decode()


# --- Two workers at once ------------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_text_once(
    sms_gateway,  # noqa: F811
    cash_service,
    issue_tickets,
    reception_clock,
):
    issue_tickets(1)
    mine = issue(cash_service, sms=True)
    rounds = [
        run_together(*(lambda: ticket_next_notices(service_type_id=cash_service.pk),) * 4)
        for _round in range(3)
    ]
    for results in rounds:
        assert not [r for r in results if isinstance(r, Exception)], results
    # One worker of the first round texts; everyone else finds the ticket claimed.
    assert sorted(len(r) for r in rounds[0]) == [0, 0, 0, 1]
    assert all(r == [] for results in rounds[1:] for r in results)
    assert Notification.objects.filter(dedupe_key=f"reception.ticket_next:{mine.pk}").count() == 1
