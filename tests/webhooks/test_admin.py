"""Admin: subscriptions with the secret shown once; deliveries read-only with a re-send action."""

import pytest
from django.contrib.messages import get_messages

from bankservice.events.models import Event, WebhookDelivery, WebhookSubscription
from bankservice.events.webhook_services import webhooks_relay
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_adding_a_subscription_shows_its_secret_once(superuser_client, branch_a, receiver):
    response = superuser_client.post(
        "/admin/events/webhooksubscription/add/",
        {
            "name": "core banking",
            "url": receiver.url(),
            "event_types": '["customer.*"]',
            "branches": [branch_a.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = WebhookSubscription.objects.get()
    assert [b.code for b in subscription.branches.all()] == ["a01"]
    assert subscription.event_types == ["customer.*"]
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(subscription.secret in m for m in shown)
    assert Event.objects.filter(type="webhook.subscription_created").count() == 1

    change_url = f"/admin/events/webhooksubscription/{subscription.pk}/change/"
    first = superuser_client.get(change_url)  # the page after the redirect shows the message
    assert first.status_code == 200 and subscription.secret in first.content.decode()
    again = superuser_client.get(change_url)
    assert subscription.secret not in again.content.decode()
    listing = superuser_client.get("/admin/events/webhooksubscription/")
    assert subscription.secret not in listing.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "http://hooks.partner.example/in", "all_branches": "on"}, "url"),
        ({"url": "https://hooks.partner.example/in"}, "branches"),
        ({"url": "https://hooks.partner.example/in", "event_types": "[]"}, "event_types"),
    ],
)
def test_bad_subscriptions_are_refused_with_a_form_error(superuser_client, data, field):
    response = superuser_client.post(
        "/admin/events/webhooksubscription/add/",
        {"name": "x", "event_types": '["*"]', **data},
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not WebhookSubscription.objects.exists()


def test_changing_a_subscription_goes_through_the_service(superuser_client, subscribe, receiver):
    subscription, _secret = subscribe(receiver.url())
    response = superuser_client.post(
        f"/admin/events/webhooksubscription/{subscription.pk}/change/",
        {
            "name": "renamed",
            "url": receiver.url("/new"),
            "event_types": '["complaint.*"]',
            "all_branches": "on",
        },
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.event_types) == ("renamed", ["complaint.*"])
    audit = Event.objects.get(type="webhook.subscription_updated")
    assert set(audit.payload["changed"]) == {"name", "url", "event_types"}


def test_deliveries_are_read_only_with_attempts_and_can_be_resent(
    superuser_client, subscribe, receiver, emit
):
    subscribe(receiver.url())
    event = emit()
    webhooks_relay()
    delivery = WebhookDelivery.objects.get()

    assert superuser_client.get("/admin/events/webhookdelivery/").status_code == 200
    page = superuser_client.get(f"/admin/events/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert "attempt_log-TOTAL_FORMS" in page.content.decode()  # the attempts inline
    assert superuser_client.get("/admin/events/webhookdelivery/add/").status_code == 403

    response = superuser_client.post(
        "/admin/events/webhookdelivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    webhooks_relay()
    assert receiver.ids() == [event.pk, event.pk]


def test_subscription_actions_pause_and_rotate(superuser_client, subscribe, receiver):
    subscription, secret = subscribe(receiver.url())
    changelist = "/admin/events/webhooksubscription/"
    superuser_client.post(
        changelist, {"action": "deactivate", "_selected_action": [subscription.pk]}
    )
    subscription.refresh_from_db()
    assert subscription.is_active is False
    response = superuser_client.post(
        changelist, {"action": "rotate_secret", "_selected_action": [subscription.pk]}
    )
    subscription.refresh_from_db()
    assert subscription.secret != secret
    assert any(subscription.secret in str(m) for m in get_messages(response.wsgi_request))
