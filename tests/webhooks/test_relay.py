"""The relay against a real local HTTP server: signing, retries, dead letters, order, outages."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from bankservice.customers.services import customer_create
from bankservice.events.models import DeliveryStatus, Event, WebhookAttempt, WebhookDelivery
from bankservice.events.signing import verify_signature
from bankservice.events.tasks import relay_webhooks
from bankservice.events.webhook_services import webhooks_relay

from .conftest import make_due, relay_steps

pytestmark = pytest.mark.django_db


def delivery_for(event, subscription=None) -> WebhookDelivery:
    deliveries = WebhookDelivery.objects.filter(event=event)
    if subscription is not None:
        deliveries = deliveries.filter(subscription=subscription)
    return deliveries.get()


def test_a_delivery_is_signed_and_carries_the_event(receiver, subscribe, emit, customer):
    subscription, secret = subscribe(receiver.url())
    event = emit("customer.updated", customer=customer, payload={"changed": {"segment": 1}})

    report = webhooks_relay()

    assert (report.queued, report.delivered) == (1, 1)
    [request] = receiver.requests
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Event-Id"] == str(event.pk)
    assert request.headers["X-Event-Type"] == "customer.updated"
    assert request.headers["X-Delivery-Attempt"] == "1"
    assert verify_signature(secret, request.headers["X-Signature"], request.body)
    assert not verify_signature(secret, request.headers["X-Signature"], request.body + b"x")
    assert not verify_signature("whsec_wrong", request.headers["X-Signature"], request.body)
    timestamp = int(request.headers["X-Signature"].split(",")[0].removeprefix("t="))
    assert not verify_signature(
        secret, request.headers["X-Signature"], request.body, now=timestamp + 301
    )
    assert request.json == {
        "id": event.pk,
        "type": "customer.updated",
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "branch": "a01",
        "customer": customer.pk,
        "subject": {"type": "customers.customer", "id": str(customer.pk)},
        "payload": {"changed": {"segment": 1}},
    }
    delivery = delivery_for(event)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 200, "")
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code == 200 and attempt.latency_ms >= 0 and not attempt.error
    assert attempt.signature_timestamp == timestamp
    subscription.refresh_from_db()
    assert subscription.last_event_id == event.pk
    assert subscription.lease_until is None  # released after the run

    # Nothing new: a second run sends nothing.
    assert webhooks_relay().delivered == 0
    assert len(receiver.requests) == 1


def test_recording_an_event_sends_nothing_until_the_relay_runs(receiver, subscribe, teller):
    subscribe(receiver.url())
    customer = customer_create(
        actor=teller, data={"full_name": "陈一", "home_branch": teller.memberships.get().branch}
    )
    assert receiver.requests == []  # the request did not wait for (or make) a webhook call
    webhooks_relay()
    assert receiver.ids() == [Event.objects.get(type="customer.created", customer=customer).pk]


def test_retries_with_backoff_then_succeeds(receiver, subscribe, emit):
    subscribe(receiver.url())
    receiver.fail_next(2)
    event = emit()
    start = timezone.now()

    webhooks_relay()
    delivery = delivery_for(event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert "HTTP 500" in delivery.last_error and "receiver says no" in delivery.last_error
    # Retry 1 after 5-10 s (base 10 s, equal jitter).
    assert start + dt.timedelta(seconds=5) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + dt.timedelta(seconds=10)

    webhooks_relay()  # not due yet: no request
    assert len(receiver.requests) == 1

    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1)):
        webhooks_relay()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 2)
        # Retry 2 after 10-20 s.
        wait = delivery.next_attempt_at - timezone.now()
        assert dt.timedelta(seconds=9) <= wait <= dt.timedelta(seconds=20)
        with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1)):
            webhooks_relay()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert delivery.last_error == ""
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert [r.headers["X-Delivery-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 500, 200]
    # Each attempt is signed afresh, at its own time.
    stamps = [a.signature_timestamp for a in delivery.attempt_log.all()]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]


def test_dead_letter_after_max_attempts_then_the_next_event_goes(
    receiver, subscribe, emit, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    subscribe(receiver.url())
    first, second = emit(), emit()
    receiver.fail_event(first.pk, 99, status=503)

    reports = relay_steps(3)

    dead = delivery_for(first)
    assert (dead.status, dead.attempts, dead.next_attempt_at) == ("dead", 3, None)
    assert dead.last_status_code == 503
    assert dead.attempt_log.count() == 3
    assert reports[-1].dead == 1
    # Dead-lettered, the first no longer holds the second back: it went in the same run.
    assert delivery_for(second).status == "delivered"
    assert receiver.ids() == [first.pk] * 3 + [second.pk]

    relay_steps(2)
    assert receiver.ids() == [first.pk] * 3 + [second.pk]  # a dead letter is not retried


def test_connection_errors_count_as_failed_attempts(receiver, subscribe, emit):
    subscribe(receiver.url())
    receiver.stop()
    event = emit()
    webhooks_relay()
    delivery = delivery_for(event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert "ConnectError" in delivery.last_error
    assert WebhookAttempt.objects.get().error == delivery.last_error


def test_a_redirect_is_not_followed(receiver, subscribe, emit):
    subscribe(receiver.url())
    receiver.always(302)
    event = emit()
    webhooks_relay()
    assert (delivery_for(event).status, delivery_for(event).last_status_code) == ("pending", 302)


def test_order_is_kept_while_the_first_event_is_retried(receiver, subscribe, emit):
    subscribe(receiver.url())
    e1, e2, e3 = emit(), emit("customer.updated"), emit("customer.pii_revealed")
    receiver.fail_event(e1.pk, 2)

    webhooks_relay()
    # e1 failed: e2 and e3 were not even tried.
    assert receiver.ids() == [e1.pk]
    assert WebhookDelivery.objects.filter(status="pending", attempts=0).count() == 2

    relay_steps(3)

    assert receiver.ids() == [e1.pk, e1.pk, e1.pk, e2.pk, e3.pk]
    assert receiver.ids(ok_only=True) == [e1.pk, e2.pk, e3.pk]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_nothing_is_lost_while_the_receiver_is_down(receiver, subscribe, emit, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 10
    _subscription, secret = subscribe(receiver.url())
    before = emit()
    webhooks_relay()
    receiver.stop()

    during = [emit(f"customer.t{i}") for i in range(5)]
    relay_steps(4)

    pending = WebhookDelivery.objects.filter(status="pending").order_by("event_id")
    assert [d.event_id for d in pending] == [e.pk for e in during]
    # Only the oldest was tried (four times); the others wait their turn untouched.
    assert [d.attempts for d in pending] == [4, 0, 0, 0, 0]

    receiver.start()  # back on the same port
    after = emit()
    relay_steps(1)

    expected = [before.pk, *(e.pk for e in during), after.pk]
    assert receiver.ids(ok_only=True) == expected  # each once, in order
    assert not WebhookDelivery.objects.exclude(status="delivered").exists()
    for request in receiver.requests:
        assert verify_signature(secret, request.headers["X-Signature"], request.body)


def test_a_long_backlog_is_sent_in_batches_in_order(receiver, subscribe, emit, settings):
    settings.WEBHOOK_BATCH_SIZE = 7
    subscribe(receiver.url())
    events = [emit() for _ in range(30)]
    for _ in range(6):
        webhooks_relay()
    assert receiver.ids() == [e.pk for e in events]


def test_the_beat_task_runs_the_relay(receiver, subscribe, emit):
    subscribe(receiver.url())
    event = emit()
    relay_webhooks.apply().get()
    assert receiver.ids() == [event.pk]
    assert relay_webhooks.name == "events.relay_webhooks"


def test_a_subscription_starts_after_the_events_that_exist(receiver, subscribe, emit):
    old = emit()
    subscription, _secret = subscribe(receiver.url())
    assert subscription.last_event_id >= old.pk
    new = emit()
    webhooks_relay()
    assert receiver.ids() == [new.pk]


def test_an_inactive_subscription_sends_nothing_and_catches_up_when_resumed(
    receiver, subscribe, emit
):
    from bankservice.events.webhook_services import (
        webhook_subscription_activate,
        webhook_subscription_deactivate,
    )

    subscription, _secret = subscribe(receiver.url())
    webhook_subscription_deactivate(actor=None, subscription=subscription)
    events = [emit() for _ in range(3)]
    webhooks_relay()
    assert receiver.requests == []
    webhook_subscription_activate(actor=None, subscription=subscription)
    webhooks_relay()
    # The events that recorded the pause and the resumption are events too.
    assert [e for e in receiver.ids() if e in {x.pk for x in events}] == [e.pk for e in events]


def test_a_subscription_another_relay_holds_is_skipped(receiver, subscribe, emit):
    from bankservice.events.webhook_services import _subscription_claim, _subscription_release

    subscription, _secret = subscribe(receiver.url())
    event = emit()
    assert _subscription_claim(subscription_id=subscription.pk, token="other") is not None
    assert _subscription_claim(subscription_id=subscription.pk, token="third") is None

    report = webhooks_relay()
    assert (report.skipped, report.subscriptions, receiver.requests) == (1, 0, [])

    _subscription_release(subscription_id=subscription.pk, token="other")
    webhooks_relay()
    assert receiver.ids() == [event.pk]


def test_an_expired_lease_is_taken_over(receiver, subscribe, emit):
    from bankservice.events.webhook_services import _subscription_claim

    subscription, _secret = subscribe(receiver.url())
    event = emit()
    _subscription_claim(subscription_id=subscription.pk, token="crashed-worker")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        webhooks_relay()
    assert receiver.ids() == [event.pk]


def test_a_missing_event_id_is_waited_for_then_skipped(receiver, subscribe, emit, branch_a):
    subscribe(receiver.url())
    first = emit()
    # Id first+1 is taken by a transaction that has not committed yet; first+2 is visible.
    third = Event.objects.create(
        id=first.pk + 2, type="customer.updated", occurred_at=timezone.now(), branch=branch_a
    )
    webhooks_relay()
    assert receiver.ids() == [first.pk]  # third waits: an earlier event may still appear

    # The open transaction commits: its event goes first, in order.
    second = Event.objects.create(
        id=first.pk + 1, type="customer.updated", occurred_at=timezone.now(), branch=branch_a
    )
    webhooks_relay()
    assert receiver.ids() == [first.pk, second.pk, third.pk]

    # A gap that never fills (a rolled-back transaction) is skipped after the grace period.
    fifth = Event.objects.create(
        id=third.pk + 2, type="customer.updated", occurred_at=timezone.now(), branch=branch_a
    )
    webhooks_relay()
    assert receiver.ids()[-1] == third.pk
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=121)):
        webhooks_relay()
    assert receiver.ids() == [first.pk, second.pk, third.pk, fifth.pk]


def test_make_due_only_touches_pending(receiver, subscribe, emit):
    subscribe(receiver.url())
    emit()
    webhooks_relay()
    assert make_due() == 0


def test_beat_schedules_the_relay_and_drops_runs_that_waited_too_long(settings):
    from django_celery_beat.schedulers import ModelEntry

    from bankservice.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["relay-webhooks"]
    assert entry["task"] in app.tasks
    # The DatabaseScheduler keeps expire_seconds (it silently drops a plain "expires").
    assert ModelEntry._unpack_fields(**entry)["expire_seconds"] == 10


def test_one_broken_subscription_does_not_hold_up_the_others(
    receiver, subscribe, emit, monkeypatch
):
    from bankservice.events import webhook_services

    broken, _s = subscribe(receiver.url("/broken"))
    subscribe(receiver.url("/fine"))
    event = emit()
    real = webhook_services._queue_new_events

    def queue(subscription):
        if subscription.pk == broken.pk:
            raise RuntimeError("unexpected")
        return real(subscription)

    monkeypatch.setattr(webhook_services, "_queue_new_events", queue)
    webhooks_relay()
    assert receiver.ids("/fine") == [event.pk] and receiver.ids("/broken") == []
    broken.refresh_from_db()
    assert broken.lease_until is None  # released: the next run tries again

    monkeypatch.setattr(webhook_services, "_queue_new_events", real)
    webhooks_relay()
    assert receiver.ids("/broken") == [event.pk]
