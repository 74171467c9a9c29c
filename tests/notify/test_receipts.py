"""SMS delivery receipts: an SMS really sent through the local gateway, then the gateway's signed
receipt posted to the real endpoint: signature, matching by provider id, delivered or not,
idempotency, bad input, events."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from bankservice.events.models import Event
from bankservice.notify.models import Notification
from bankservice.notify.receipts import RECEIPT_MAX_BYTES, SIGNATURE_HEADER, receipt_signature
from bankservice.notify.services import Receipt, notification_receipt, notification_send
from bankservice.notify.tasks import send_notification
from tests.concurrency import run_together
from tests.conftest import requires_postgres

SECRET = "receipt-secret-0123456789"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.SMS_RECEIPT_SECRET = SECRET


@pytest.fixture
def sent(sms_gateway, customer):
    notification = notification_send(
        customer=customer,
        channel="sms",
        template="generic.message",
        context={"text": "Your card is ready."},
    )
    assert send_notification(notification.pk) == "sent"
    notification.refresh_from_db()
    assert notification.provider_id == "gw-1"
    return notification


def post(client, data, *, secret=SECRET, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(data).encode()
    headers = {}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    elif secret:
        headers[SIGNATURE_HEADER] = receipt_signature(secret, body)
    return client.post(
        reverse("notify:sms_receipt"),
        data=body,
        content_type="application/json",
        headers=headers,
    )


def _events(kind):
    return Event.objects.filter(type=f"notification.{kind}")


def test_delivered_sets_the_time_and_records_the_event(client, sent):
    at = dt.datetime(2026, 3, 2, 1, 2, 3, tzinfo=dt.UTC)
    response = post(client, {"provider_id": "gw-1", "status": "delivered", "at": at.isoformat()})

    assert response.status_code == 200, response.content
    assert response.json() == {"changed": True}
    sent.refresh_from_db()
    assert sent.delivered_at == at
    assert sent.undelivered_reason == ""
    event = _events("delivered").get()
    assert event.subject_id == str(sent.pk)
    assert event.customer_id == sent.customer_id
    assert event.payload["provider_id"] == "gw-1"
    assert event.payload["recipient"] == sent.recipient_masked
    assert "13912345678" not in json.dumps(event.payload)


def test_a_repeated_receipt_changes_nothing(client, sent):
    receipt = {"provider_id": "gw-1", "status": "delivered"}
    assert post(client, receipt).json() == {"changed": True}
    first = Notification.objects.get(pk=sent.pk).delivered_at

    again = post(client, receipt)

    assert again.status_code == 200
    assert again.json() == {"changed": False}
    assert Notification.objects.get(pk=sent.pk).delivered_at == first
    assert _events("delivered").count() == 1


def test_undelivered_keeps_the_reason_without_the_number(client, sent):
    response = post(
        client,
        {
            "provider_id": "gw-1",
            "status": "undelivered",
            "reason": "absent subscriber +86 139 1234 5678",
        },
    )

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.delivered_at is None
    assert sent.undelivered_reason == "absent subscriber ***"
    assert _events("undelivered").get().payload["reason"] == "absent subscriber ***"
    assert post(
        client,
        {
            "provider_id": "gw-1",
            "status": "undelivered",
            "reason": "absent subscriber +86 139 1234 5678",
        },
    ).json() == {"changed": False}


def test_delivered_after_undelivered_wins_and_is_final(client, sent):
    post(client, {"provider_id": "gw-1", "status": "undelivered", "reason": "handset off"})
    assert post(client, {"provider_id": "gw-1", "status": "delivered"}).json() == {"changed": True}
    late = post(client, {"provider_id": "gw-1", "status": "undelivered", "reason": "expired"})

    assert late.json() == {"changed": False}
    sent.refresh_from_db()
    assert sent.delivered_at is not None
    assert sent.undelivered_reason == ""
    assert _events("undelivered").count() == 1


def test_a_receipt_time_in_the_future_is_taken_as_now(client, sent):
    future = timezone.now() + dt.timedelta(days=1)
    post(client, {"provider_id": "gw-1", "status": "delivered", "at": future.isoformat()})

    sent.refresh_from_db()
    assert sent.delivered_at <= timezone.now()


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=" + "0" * 64, receipt_signature("another-secret", b"{}")],
    ids=["missing", "zeros", "other-secret"],
)
def test_a_wrong_or_missing_signature_is_403_and_changes_nothing(client, sent, signature):
    response = post(client, {"provider_id": "gw-1", "status": "delivered"}, signature=signature)

    assert response.status_code == 403
    assert Notification.objects.get(pk=sent.pk).delivered_at is None
    assert not _events("delivered").exists()


def test_the_signature_covers_the_exact_body(client, sent):
    body = json.dumps({"provider_id": "gw-1", "status": "delivered"}).encode()
    tampered = body.replace(b"delivered", b"undelivered")
    response = post(client, None, raw=tampered, signature=receipt_signature(SECRET, body))

    assert response.status_code == 403


def test_the_bare_hex_signature_is_accepted(client, sent):
    body = json.dumps({"provider_id": "gw-1", "status": "delivered"}).encode()
    bare = receipt_signature(SECRET, body).removeprefix("sha256=")

    assert post(client, None, raw=body, signature=bare).status_code == 200


def test_without_a_configured_secret_every_receipt_is_refused(client, sent, settings):
    settings.SMS_RECEIPT_SECRET = ""

    response = post(client, {"provider_id": "gw-1", "status": "delivered"}, secret="")

    assert response.status_code == 403


def test_only_post_is_allowed(client):
    assert client.get(reverse("notify:sms_receipt")).status_code == 405


def test_an_unknown_provider_id_is_404_so_the_gateway_retries(client, sent):
    response = post(client, {"provider_id": "gw-999", "status": "delivered"})

    assert response.status_code == 404
    assert "provider_id" in response.json()


def test_an_e_mail_with_the_same_provider_id_is_not_matched(client, sent, customer):
    email = notification_send(
        customer=customer, channel="email", template="generic.message", context={"text": "x"}
    )
    Notification.objects.filter(pk=email.pk).update(provider_id="mail-1")

    assert post(client, {"provider_id": "mail-1", "status": "delivered"}).status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"provider_id": "gw-1", "status": "read"}, "status"),
        ({"provider_id": "", "status": "delivered"}, "provider_id"),
        ({"status": "delivered"}, "provider_id"),
        ({"provider_id": 7, "status": "delivered"}, "provider_id"),
        ({"provider_id": "gw-1", "status": "delivered", "at": "yesterday"}, "at"),
        ({"provider_id": "gw-1", "status": "delivered", "at": "2026-03-02T01:00:00"}, "at"),
    ],
)
def test_bad_input_is_400_at_its_field(client, sent, data, field):
    response = post(client, data)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Notification.objects.get(pk=sent.pk).delivered_at is None


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_400(client, sent, raw):
    assert post(client, None, raw=raw).status_code == 400


def test_an_oversized_body_is_413(client, sent):
    raw = json.dumps(
        {"provider_id": "gw-1", "status": "delivered", "reason": "x" * RECEIPT_MAX_BYTES}
    )
    assert post(client, None, raw=raw.encode()).status_code == 413


def test_a_receipt_costs_few_queries(client, sent, django_assert_max_num_queries):
    # Find and lock the message, update it, record the event (and the outbox's savepoints).
    with django_assert_max_num_queries(8):
        assert post(client, {"provider_id": "gw-1", "status": "delivered"}).status_code == 200


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_copies_of_a_receipt_at_once_change_it_once(sent):
    results = run_together(
        lambda: notification_receipt(provider_id="gw-1", status="delivered"),
        lambda: notification_receipt(provider_id="gw-1", status="delivered"),
    )

    assert all(isinstance(r, Receipt) for r in results), results
    assert sorted(r.changed for r in results) == [False, True]
    assert _events("delivered").count() == 1
