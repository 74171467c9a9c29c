"""The webhook API: bank-wide administrators only; the secret is shown once."""

import pytest
from django.urls import reverse

from bankservice.events.models import Event, WebhookDelivery, WebhookSubscription
from bankservice.events.webhook_services import webhooks_relay

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/api/v1/webhook-subscriptions"
DELIVERIES = "/api/v1/webhook-deliveries"


def payload(receiver, **changes):
    return {
        "name": "core banking",
        "url": receiver.url(),
        "event_types": ["customer.*"],
        "all_branches": True,
        **changes,
    }


@pytest.fixture
def admin_api(api, webhook_admin):
    api.force_authenticate(webhook_admin)
    return api


def test_the_routes_are_where_the_lead_will_register_them():
    assert reverse("webhook-subscription-list") == SUBSCRIPTIONS
    assert reverse("webhook-delivery-resend", args=[1]) == f"{DELIVERIES}/1/resend"


def test_create_shows_the_secret_once(admin_api, receiver, branch_a, webhook_admin):
    response = admin_api.post(
        SUBSCRIPTIONS, payload(receiver, all_branches=False, branches=["a01"]), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert body["branches"] == ["a01"] and body["is_active"] is True
    subscription = WebhookSubscription.objects.get(pk=body["id"])
    assert subscription.secret == secret

    listed = admin_api.get(SUBSCRIPTIONS)
    assert listed.status_code == 200
    assert secret not in listed.content.decode()
    assert "secret" not in listed.json()["results"][0]
    detail = admin_api.get(f"{SUBSCRIPTIONS}/{subscription.pk}")
    assert "secret" not in detail.json() and secret not in detail.content.decode()

    audit = Event.objects.get(type="webhook.subscription_created")
    assert audit.actor_user == webhook_admin
    assert secret not in str(audit.payload)
    assert audit.payload["branches"] == ["a01"]


def test_a_query_string_token_stays_out_of_the_audit_trail(admin_api):
    response = admin_api.post(
        SUBSCRIPTIONS,
        {
            "name": "q",
            "url": "https://hooks.partner.example/in?token=abc",
            "event_types": ["*"],
            "all_branches": True,
        },
        format="json",
    )
    assert response.status_code == 201
    audit = Event.objects.get(type="webhook.subscription_created")
    assert audit.payload["url"] == "https://hooks.partner.example/in"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "http://hooks.partner.example/in"}, "url"),
        ({"url": "ftp://hooks.partner.example/in"}, "url"),
        ({"url": "https://user:pw@hooks.partner.example/in"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["customer.**"]}, "event_types"),
        ({"event_types": "customer.*"}, "event_types"),
        ({"all_branches": False}, "branches"),
        ({"branches": ["nope"], "all_branches": False}, "branches"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_api, receiver, changes, field):
    response = admin_api.post(SUBSCRIPTIONS, payload(receiver, **changes), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not WebhookSubscription.objects.exists()


def test_a_duplicate_name_is_refused(admin_api, receiver):
    assert admin_api.post(SUBSCRIPTIONS, payload(receiver), format="json").status_code == 201
    response = admin_api.post(SUBSCRIPTIONS, payload(receiver), format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_update_deactivate_activate_and_rotate(admin_api, receiver):
    created = admin_api.post(SUBSCRIPTIONS, payload(receiver), format="json").json()
    url = f"{SUBSCRIPTIONS}/{created['id']}"

    patched = admin_api.patch(url, {"event_types": ["*"], "is_active": False}, format="json")
    assert patched.status_code == 200
    assert patched.json()["event_types"] == ["*"]
    assert patched.json()["is_active"] is True  # not writable here: DELETE / activate
    assert "secret" not in patched.json()
    assert admin_api.patch(url, {"url": "http://example.com/x"}).status_code == 400

    assert admin_api.delete(url).status_code == 204
    assert admin_api.get(url).json()["is_active"] is False  # kept, with its delivery log
    assert admin_api.delete(url).status_code == 409
    assert admin_api.post(f"{url}/activate").json()["is_active"] is True
    assert admin_api.post(f"{url}/activate").status_code == 409

    rotated = admin_api.post(f"{url}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != created["secret"]
    assert WebhookSubscription.objects.get(pk=created["id"]).secret == new_secret
    assert secret_free(admin_api.get(url), new_secret)


def secret_free(response, secret) -> bool:
    return secret not in response.content.decode()


def test_non_admins_get_403(api, teller, make_staff, branch_a, make_api_client, receiver):
    branch_admin = make_staff("admin", branch=branch_a, username="branch-admin")
    from django.contrib.auth.models import Group, Permission

    Group.objects.get(name="admin").permissions.add(
        *Permission.objects.filter(content_type__app_label="events")
    )
    for user in (teller, branch_admin):  # no permission; the permission at one branch only
        api.force_authenticate(user)
        assert api.get(SUBSCRIPTIONS).status_code == 403
        assert api.post(SUBSCRIPTIONS, payload(receiver), format="json").status_code == 403
        assert api.get(DELIVERIES).status_code == 403
    api.force_authenticate(None)
    assert api.get(SUBSCRIPTIONS).status_code in {401, 403}
    # An API key never manages webhooks, whatever its scopes.
    keyed = make_api_client(["events:read", "events:write"], all_branches=True)
    assert keyed.get(SUBSCRIPTIONS).status_code == 403
    assert keyed.get(DELIVERIES).status_code == 403
    assert not WebhookSubscription.objects.exists()


def test_delivery_log_filters_and_nests_attempts(
    admin_api, receiver, subscribe, emit, django_assert_max_num_queries
):
    one, _s = subscribe(receiver.url("/one"))
    two, _s = subscribe(receiver.url("/two"), event_types=["customer.created"])
    receiver.fail_next(1)
    first, second = emit(), emit("customer.updated")
    webhooks_relay()
    webhooks_relay()

    with django_assert_max_num_queries(8):
        listed = admin_api.get(DELIVERIES)
    assert listed.status_code == 200
    assert len(listed.json()["results"]) == WebhookDelivery.objects.count()

    mine = admin_api.get(DELIVERIES, {"subscription": one.pk}).json()["results"]
    assert {d["subscription"] for d in mine} == {one.pk}
    assert len(admin_api.get(DELIVERIES, {"event": second.pk}).json()["results"]) == 1
    pending = admin_api.get(DELIVERIES, {"status": "pending"}).json()["results"]
    assert pending and all(d["status"] == "pending" for d in pending)
    assert admin_api.get(DELIVERIES, {"status": "bogus"}).status_code == 400

    [failed] = admin_api.get(DELIVERIES, {"subscription": one.pk, "event": first.pk}).json()[
        "results"
    ]
    assert failed["event_type"] == "customer.created"
    assert failed["attempts"] == 1 and failed["last_status_code"] == 500
    [attempt] = failed["attempt_log"]
    assert attempt["status_code"] == 500 and attempt["latency_ms"] >= 0
    assert set(attempt) == {
        "attempted_at",
        "status_code",
        "latency_ms",
        "error",
        "signature_timestamp",
    }
    assert two.pk  # the second subscription's deliveries are listed too


def test_resend_action(admin_api, receiver, subscribe, emit, teller, api):
    subscribe(receiver.url())
    event = emit()
    webhooks_relay()
    delivery = WebhookDelivery.objects.get(event=event)

    response = admin_api.post(f"{DELIVERIES}/{delivery.pk}/resend")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending" and response.json()["attempts"] == 0
    assert admin_api.post(f"{DELIVERIES}/{delivery.pk}/resend").status_code == 409
    assert admin_api.post(f"{DELIVERIES}/999999/resend").status_code == 404
    webhooks_relay()
    assert receiver.ids() == [event.pk, event.pk]

    api.force_authenticate(teller)
    assert api.post(f"{DELIVERIES}/{delivery.pk}/resend").status_code == 403


def test_the_schema_describes_the_webhook_api_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--fail-on-warn",
        "--validate",
        "--file",
        str(out),
    )
    text = out.read_text()
    for path in (
        "/api/v1/webhook-subscriptions:",
        "/api/v1/webhook-subscriptions/{id}:",
        "/api/v1/webhook-subscriptions/{id}/activate:",
        "/api/v1/webhook-subscriptions/{id}/rotate-secret:",
        "/api/v1/webhook-deliveries:",
        "/api/v1/webhook-deliveries/{id}/resend:",
    ):
        assert path in text, path
