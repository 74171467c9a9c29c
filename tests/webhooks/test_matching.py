"""Which events a subscription gets: its type patterns and its branches."""

import pytest

from bankservice.events.models import WebhookDelivery
from bankservice.events.webhook_services import webhook_subscription_update, webhooks_relay

pytestmark = pytest.mark.django_db


def test_patterns_and_branch_scope_choose_the_events(receiver, subscribe, emit, branch_a, branch_b):
    customers_at_a, _s = subscribe(
        receiver.url("/a-customers"), event_types=["customer.*"], branches=[branch_a]
    )
    created_anywhere, _s = subscribe(
        receiver.url("/created"), event_types=["customer.created"], all_branches=True
    )
    all_at_b, _s = subscribe(receiver.url("/b-all"), event_types=["*"], branches=[branch_b])
    complaints, _s = subscribe(
        receiver.url("/complaints"), event_types=["complaint.*"], all_branches=True
    )

    created_a = emit("customer.created", branch=branch_a)
    updated_b = emit("customer.updated", branch=branch_b)
    created_nowhere = emit("customer.created", branch=None)
    complaint_a = emit("complaint.opened", branch=branch_a)
    other_b = emit("reception.ticket_issued", branch=branch_b)
    webhooks_relay()

    assert receiver.ids("/a-customers") == [created_a.pk]
    # An event without a branch goes only to all-branches subscriptions.
    assert receiver.ids("/created") == [created_a.pk, created_nowhere.pk]
    assert receiver.ids("/b-all") == [updated_b.pk, other_b.pk]
    assert receiver.ids("/complaints") == [complaint_a.pk]
    # Deliveries exist only for what matched; every cursor moved past everything it saw.
    assert WebhookDelivery.objects.count() == 6
    for subscription in (customers_at_a, created_anywhere, all_at_b, complaints):
        subscription.refresh_from_db()
        assert subscription.last_event_id == other_b.pk


def test_a_branch_subscription_never_gets_events_without_a_branch(
    receiver, subscribe, emit, branch_a
):
    subscribe(receiver.url(), event_types=["*"], branches=[branch_a])
    emit("customer.created", branch=None)
    webhooks_relay()
    assert receiver.requests == []


def test_changed_patterns_apply_to_events_not_yet_queued(receiver, subscribe, emit, branch_b):
    subscription, _secret = subscribe(receiver.url(), event_types=["customer.created"])
    first = emit("customer.updated")
    webhooks_relay()
    assert receiver.requests == []
    webhook_subscription_update(
        actor=None,
        subscription=subscription,
        data={"event_types": ["customer.*"], "all_branches": False, "branches": [branch_b]},
    )
    at_b = emit("customer.updated", branch=branch_b)
    emit("customer.updated")  # branch A: no longer subscribed
    webhooks_relay()
    assert receiver.ids() == [at_b.pk]
    assert first.pk not in receiver.ids()


def test_many_non_matching_events_move_the_cursor_in_one_run(receiver, subscribe, emit, settings):
    settings.WEBHOOK_BATCH_SIZE = 5
    subscription, _secret = subscribe(receiver.url(), event_types=["complaint.*"])
    for _ in range(23):
        emit("customer.updated")
    wanted = emit("complaint.opened")
    webhooks_relay()
    assert receiver.ids() == [wanted.pk]
    subscription.refresh_from_db()
    assert subscription.last_event_id == wanted.pk
