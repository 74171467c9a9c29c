"""notification_send: consent, addresses, deduplication, events, queueing after commit."""

import pytest
from django.db import transaction

from bankservice.core.masking import mask_email
from bankservice.events.models import Event
from bankservice.notify import services
from bankservice.notify.models import Notification, NotificationStatus, SkipReason
from bankservice.notify.registry import UnknownMessage
from bankservice.notify.services import InvalidContext, notification_send
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Ids handed to the broker (the real enqueue, with apply_async replaced)."""
    ids = []

    def apply_async(args, **kwargs):
        ids.append(args[0])

    from bankservice.notify.tasks import send_notification

    monkeypatch.setattr(send_notification, "apply_async", apply_async)
    return ids


def test_queues_after_commit_with_masked_recipient_and_event(
    customer, teller, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        n = notification_send(
            customer=customer,
            channel="sms",
            template="generic.message",
            context={"text": "Your card is ready."},
            actor=teller,
        )
        assert queued == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert queued == [n.pk]
    n.refresh_from_db()
    assert n.status == NotificationStatus.PENDING
    assert (n.language, n.branch, n.recipient_masked) == (
        "en",
        customer.home_branch,
        "+86139****5678",
    )
    assert "13912345678" not in str(n.__dict__)  # no copy of the real number
    event = Event.objects.get(type="notification.queued")
    assert (event.customer, event.actor_user, event.subject_id) == (customer, teller, str(n.pk))
    assert event.payload["recipient"] == "+86139****5678"
    assert "Your card" not in str(event.payload)


def test_rolled_back_transaction_leaves_no_notification_and_queues_nothing(
    customer, queued, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notification_send(customer=customer, channel="sms", template="customer.welcome")
        raise RuntimeError("the business change failed")
    assert not Notification.objects.exists()
    assert queued == []


@pytest.mark.parametrize(
    ("channel", "changes", "reason"),
    [
        ("sms", {"consent_sms": False}, SkipReason.NO_CONSENT),
        ("email", {"consent_email": False}, SkipReason.NO_CONSENT),
        ("sms", {"phone": ""}, SkipReason.NO_ADDRESS),
        ("email", {"email": ""}, SkipReason.NO_ADDRESS),
    ],
)
def test_no_consent_or_no_address_is_skipped_with_reason(
    branch_a, queued, django_capture_on_commit_callbacks, channel, changes, reason
):
    fields = {"consent_sms": True, "consent_email": True, "email": "li@example.cn"}
    person = CustomerFactory(home_branch=branch_a, **{**fields, **changes})
    with django_capture_on_commit_callbacks(execute=True):
        n = notification_send(customer=person, channel=channel, template="customer.welcome")
    assert (n.status, n.skip_reason) == (NotificationStatus.SKIPPED, reason)
    assert queued == []
    event = Event.objects.get(type="notification.skipped")
    assert event.payload["reason"] == reason


def test_dedupe_key_notifies_the_same_fact_once(
    customer, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = notification_send(
            customer=customer, channel="sms", template="customer.welcome", dedupe_key="welcome:1"
        )
        second = notification_send(
            customer=customer, channel="sms", template="customer.welcome", dedupe_key="welcome:1"
        )
    assert first.pk == second.pk
    assert Notification.objects.count() == 1
    assert Event.objects.filter(type="notification.queued").count() == 1
    assert queued == [first.pk]
    # Without a key, or with another, each call is its own message.
    notification_send(customer=customer, channel="sms", template="customer.welcome")
    notification_send(customer=customer, channel="sms", template="customer.welcome")
    notification_send(
        customer=customer, channel="email", template="customer.welcome", dedupe_key="welcome:2"
    )
    assert Notification.objects.count() == 4


def test_dedupe_race_inside_the_callers_transaction_returns_the_winner(customer, monkeypatch):
    """The unique constraint, not the look-up, is the guard: a concurrent insert that slips past
    the look-up makes the insert fail in a savepoint, and the caller's transaction lives on."""
    winner = notification_send(
        customer=customer, channel="sms", template="customer.welcome", dedupe_key="k"
    )
    real_filter = Notification.objects.filter
    calls = []

    def first_lookup_misses(*args, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            return Notification.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Notification.objects, "filter", first_lookup_misses)
    with transaction.atomic():
        again = notification_send(
            customer=customer, channel="sms", template="customer.welcome", dedupe_key="k"
        )
        assert Event.objects.count() >= 1  # the transaction is still usable
    assert again.pk == winner.pk
    monkeypatch.undo()
    assert Notification.objects.count() == 1


def test_unknown_template_missing_context_and_secrets_are_refused(customer):
    with pytest.raises(UnknownMessage):
        notification_send(customer=customer, channel="sms", template="no.such.message")
    with pytest.raises(InvalidContext):
        notification_send(customer=customer, channel="sms", template="generic.message")
    with pytest.raises(InvalidContext):
        notification_send(
            customer=customer,
            channel="sms",
            template="generic.message",
            context={"text": "hi", "otp": "123456"},
        )
    with pytest.raises(InvalidContext):
        notification_send(
            customer=customer,
            channel="sms",
            template="generic.message",
            context={"text": "hi", "extra": {"reset_token": "abc"}},
        )
    with pytest.raises(InvalidContext):
        notification_send(
            customer=customer, channel="sms", template="generic.message", context={"text": object()}
        )
    assert not Notification.objects.exists()


def test_context_is_stored_as_json(customer):
    import datetime as dt

    n = notification_send(
        customer=customer,
        channel="sms",
        template="generic.message",
        context={"text": "hi", "when": dt.date(2026, 2, 17)},
    )
    n.refresh_from_db()
    assert n.context == {"text": "hi", "when": "2026-02-17"}


def test_explicit_branch_overrides_home_branch(customer, branch_b):
    n = notification_send(
        customer=customer, channel="sms", template="customer.welcome", branch=branch_b
    )
    assert n.branch == branch_b


def test_mask_email():
    assert mask_email("chen.yi@example.cn") == "c******@example.cn"
    assert mask_email("a@b.cn") == "a*@b.cn"
    assert mask_email("") == ""


def test_broker_error_at_enqueue_is_logged_not_raised(customer, monkeypatch, caplog):
    from kombu.exceptions import OperationalError

    from bankservice.notify.tasks import send_notification

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to broker. Connection refused.")

    monkeypatch.setattr(send_notification, "apply_async", down)
    assert services.notification_enqueue(42) is False
    assert "not queued" in caplog.text
