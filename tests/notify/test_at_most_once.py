"""At most once: a duplicated task, a racing sweep or a crashed worker never sends twice."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from bankservice.events.models import Event
from bankservice.notify import services
from bankservice.notify.models import AttemptStatus, Notification, NotificationStatus
from bankservice.notify.services import notification_send, notification_sweep
from bankservice.notify.tasks import send_notification, sweep_notifications

pytestmark = pytest.mark.django_db


def queue_sms(customer):
    return notification_send(
        customer=customer, channel="sms", template="generic.message", context={"text": "Hi"}
    )


def test_task_run_twice_sends_once(sms_gateway, customer):
    n = queue_sms(customer)
    assert send_notification.apply(args=[n.pk]).get() == "sent"
    assert send_notification.apply(args=[n.pk]).get() == "not_claimed"
    assert notification_sweep().delivered == 0
    assert len(sms_gateway.requests) == 1
    n.refresh_from_db()
    assert (n.status, n.attempts) == (NotificationStatus.SENT, 1)
    assert n.attempt_log.count() == 1
    assert Event.objects.filter(type="notification.sent").count() == 1


def test_a_worker_that_died_mid_send_is_not_resent_but_flagged(sms_gateway, customer, settings):
    settings.NOTIFY_SENDING_TIMEOUT_SECONDS = 600
    n = queue_sms(customer)
    # The worker claimed it and died (no result recorded): acks_late redelivers the task.
    claimed_at = timezone.now()
    Notification.objects.filter(pk=n.pk).update(
        status=NotificationStatus.SENDING, attempts=1, claimed_at=claimed_at
    )
    assert send_notification(n.pk) == "not_claimed"
    assert notification_sweep().flagged_unknown == 0  # not yet past the timeout
    with time_machine.travel(claimed_at + dt.timedelta(seconds=601)):
        report = sweep_notifications.apply().get()
        assert report == {"delivered": 0, "flagged_unknown": 1}
        assert notification_sweep().delivered == 0
    assert sms_gateway.requests == []
    n.refresh_from_db()
    assert n.status == NotificationStatus.UNKNOWN
    assert "may or may not have been sent" in n.last_error
    assert n.attempt_log.get().status == AttemptStatus.UNKNOWN
    assert Event.objects.filter(type="notification.unknown", subject_id=str(n.pk)).count() == 1


def test_an_unexpected_error_in_a_channel_means_outcome_unknown(customer, settings, monkeypatch):
    from bankservice.notify.channels import ConsoleChannel

    def broken(self, message):
        raise KeyError("parsing the answer failed after the request went out")

    monkeypatch.setattr(ConsoleChannel, "send", broken)
    n = queue_sms(customer)
    assert send_notification(n.pk) == "unknown"
    n.refresh_from_db()
    assert n.status == NotificationStatus.UNKNOWN
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        assert notification_sweep().delivered == 0


def test_a_late_result_still_lands_after_the_row_was_flagged(sms_gateway, customer, monkeypatch):
    """The sweep flagged the row unknown while the worker was still talking to the gateway:
    the real outcome, when it arrives, replaces "unknown"."""
    n = queue_sms(customer)
    real_send = services.channel_for

    def slow_channel(kind):
        channel = real_send(kind)
        original = channel.send

        def send(message):
            Notification.objects.filter(pk=n.pk).update(status=NotificationStatus.UNKNOWN)
            return original(message)

        channel.send = send
        return channel

    monkeypatch.setattr(services, "channel_for", slow_channel)
    assert send_notification(n.pk) == "sent"
    n.refresh_from_db()
    assert n.status == NotificationStatus.SENT


def test_an_interrupted_sweep_gives_back_what_it_had_not_tried(sms_gateway, customer, monkeypatch):
    ids = [queue_sms(customer).pk for _ in range(3)]
    real = services._deliver_claimed
    seen = []

    def deliver(notification):
        seen.append(notification.pk)
        if len(seen) == 2:
            raise TimeoutError("soft time limit")
        return real(notification)

    monkeypatch.setattr(services, "_deliver_claimed", deliver)
    with pytest.raises(TimeoutError):
        notification_sweep(batch_size=3)
    statuses = dict(Notification.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses[seen[0]] == NotificationStatus.SENT
    assert statuses[seen[1]] == NotificationStatus.SENDING  # interrupted mid-way: unknown later
    [rest] = set(ids) - set(seen)
    assert statuses[rest] == NotificationStatus.PENDING
    assert Notification.objects.get(pk=rest).attempts == 0
