"""Manual re-send of a delivered or dead-lettered delivery."""

import pytest
from django.utils import translation

from bankservice.core.errors import Conflict
from bankservice.events.models import Event, WebhookDelivery
from bankservice.events.webhook_services import (
    webhook_delivery_resend,
    webhook_subscription_deactivate,
    webhooks_relay,
)

from .conftest import relay_steps

pytestmark = pytest.mark.django_db


def test_a_delivered_delivery_can_be_sent_again(receiver, subscribe, emit, webhook_admin):
    subscribe(receiver.url())
    event = emit()
    webhooks_relay()
    delivery = WebhookDelivery.objects.get(event=event)

    resent = webhook_delivery_resend(actor=webhook_admin, delivery=delivery)
    assert (resent.status, resent.attempts, resent.delivered_at) == ("pending", 0, None)
    webhooks_relay()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert receiver.ids() == [event.pk, event.pk]
    assert delivery.attempt_log.count() == 2  # the log keeps both
    audit = Event.objects.get(type="webhook.delivery_resent")
    assert audit.actor_user == webhook_admin
    assert audit.payload == {
        "subscription": delivery.subscription_id,
        "event": event.pk,
        "previous_status": "delivered",
    }


def test_a_dead_letter_resent_goes_before_later_events(receiver, subscribe, emit, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    subscribe(receiver.url())
    first = emit()
    receiver.always(500)
    relay_steps(2)
    assert WebhookDelivery.objects.get(event=first).status == "dead"

    second = emit()
    webhook_delivery_resend(actor=None, delivery=WebhookDelivery.objects.get(event=first))
    receiver.always(None)
    receiver.fail_event(first.pk, 1)
    relay_steps(1)
    # The re-sent first failed again: the second (newer) waits behind it.
    assert WebhookDelivery.objects.get(event=second).attempts == 0
    relay_steps(1)
    assert receiver.ids(ok_only=True) == [first.pk, second.pk]


def test_pending_deliveries_and_paused_subscriptions_cannot_be_resent(receiver, subscribe, emit):
    subscription, _secret = subscribe(receiver.url())
    receiver.always(500)
    event = emit()
    webhooks_relay()
    delivery = WebhookDelivery.objects.get(event=event)
    with translation.override("en"), pytest.raises(Conflict, match="still pending"):
        webhook_delivery_resend(actor=None, delivery=delivery)

    receiver.always(None)
    relay_steps(1)
    webhook_subscription_deactivate(actor=None, subscription=subscription)
    with translation.override("en"), pytest.raises(Conflict, match="inactive"):
        webhook_delivery_resend(actor=None, delivery=delivery)
