"""Every POST of the API honours `Idempotency-Key` (bankservice/core/idempotency.py): the schema
documents the header on each one, bar the exemptions below; and a retried create or step of each
stage answers the first response without doing it again, while the same key with another body is
refused with 422."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from bankservice.branches.models import Role
from bankservice.customers.models import Customer
from bankservice.events.models import Event, WebhookSubscription
from consultation.models import Consultation
from reception.models import Ticket, TicketStatus
from tests.factories import make_resident_id

# POST operations (by operationId) that deliberately do not take the key, with the reason.
EXEMPT = {
    # A read: it changes nothing and returns the numbers, auditing every look. A replay would show
    # them without an audit event, and keep a copy of them for 24 hours in the key's stored
    # response, out of reach of the customer's erasure.
    "customers_reveal_create": "a read of personal data, audited at every call",
    # A question, not a change: it answers from the current knowledge base; asking again is
    # harmless and the answer may rightly differ.
    "assistant_suggest": "a read: suggestions for a question, nothing is changed",
}


def post_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        if "post" in item:
            yield path, item["post"]


def test_every_post_documents_the_idempotency_key_except_the_exemptions():
    operations = dict(post_operations())
    assert len(operations) > 50  # the schema was walked, not an empty one
    missing, exempt = [], set()
    for path, operation in operations.items():
        has_key = any(
            p["in"] == "header" and p["name"] == "Idempotency-Key"
            for p in operation.get("parameters", [])
        )
        if operation["operationId"] in EXEMPT:
            exempt.add(operation["operationId"])
            assert not has_key, f"{path} takes the key: drop it from EXEMPT"
        elif not has_key:
            missing.append(path)
    assert missing == [], "put @idempotent on these POSTs, or exempt them with a reason"
    assert exempt == EXEMPT.keys(), "an exemption names an operation that no longer exists"


def assert_idempotent(http, url, body, other_body, rows):
    """Posts `body` twice and `other_body` once with the same key: one change, one answer."""
    events = Event.objects.count()
    key = {"HTTP_IDEMPOTENCY_KEY": "3f1c2a9e-retry-me"}

    first = http.post(url, body, format="json", **key)
    assert first.status_code in {200, 201}, first.content
    assert "Idempotent-Replayed" not in first.headers
    changed_rows, changed_events = rows.count(), Event.objects.count()
    assert changed_events > events  # the change was audited once

    again = http.post(url, body, format="json", **key)
    assert again.status_code == first.status_code
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"

    other = http.post(url, other_body, format="json", **key)
    assert other.status_code == 422, other.content
    assert (
        other.json()["detail"] == "This Idempotency-Key was already used for a different request."
    )
    assert (rows.count(), Event.objects.count()) == (changed_rows, changed_events)
    return first


@pytest.fixture
def teller_api(api, teller):
    api.force_login(teller)
    return api


@pytest.mark.django_db
def test_ticket_issue(teller_api, reception_clock, cash_service, accounts_service):
    first = assert_idempotent(
        teller_api,
        "/api/v1/tickets",
        {"service_type": cash_service.pk},
        {"service_type": accounts_service.pk},
        Ticket.objects.all(),
    )
    assert Ticket.objects.get().pk == first.json()["id"]


@pytest.mark.django_db
def test_counter_call_next(teller_api, open_counter, issue_tickets):
    issue_tickets(2)

    first = assert_idempotent(
        teller_api,
        f"/api/v1/counters/{open_counter.pk}/call-next",
        {},
        {"service_type": 1},
        Ticket.objects.filter(status=TicketStatus.CALLED),
    )
    assert first.json()["ticket"]["number"] == "A001"
    assert Ticket.objects.get(status=TicketStatus.CALLED).number == "A001"


@pytest.mark.django_db
def test_customer_create(teller_api, branch_a):
    body = {
        "full_name": "李四",
        "id_type": "resident_id",
        "national_id": make_resident_id(),
        "phone": "138 0013 8000",
        "home_branch": branch_a.code,
        "segment": "standard",
        "preferred_language": "zh-hans",
    }

    assert_idempotent(
        teller_api, "/api/v1/customers", body, {**body, "full_name": "王五"}, Customer.objects
    )
    assert Customer.objects.get().full_name == "李四"


@pytest.mark.django_db
def test_webhook_subscription_create(api, make_staff):
    api.force_authenticate(make_staff("admin", username="webhook-admin"))
    body = {
        "name": "core banking",
        "url": "http://127.0.0.1:9/hook",
        "event_types": ["customer.*"],
        "all_branches": True,
    }

    first = assert_idempotent(
        api,
        "/api/v1/webhook-subscriptions",
        body,
        {**body, "name": "another"},
        WebhookSubscription.objects,
    )
    # The retry gets the secret it missed: the one the subscription signs with.
    assert first.json()["secret"] == WebhookSubscription.objects.get().secret


@pytest.mark.django_db
def test_consultation_start(api, make_staff, branch_a):
    api.force_authenticate(make_staff(Role.ADVISOR, branch=branch_a, username="advisor-a"))
    body = {"channel": "phone", "branch": branch_a.code, "contact_name": "Li Lei"}

    assert_idempotent(
        api,
        "/api/v1/consultations",
        body,
        {**body, "contact_name": "Han Meimei"},
        Consultation.objects,
    )
