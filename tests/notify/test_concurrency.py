"""Two workers at once on PostgreSQL: exactly one SMS leaves, whoever runs."""

import pytest

from bankservice.notify.models import Notification, NotificationStatus
from bankservice.notify.services import notification_send, notification_sweep
from bankservice.notify.tasks import send_notification
from tests.concurrency import run_together
from tests.conftest import requires_postgres

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def queue_sms(customer, text="Hi"):
    return notification_send(
        customer=customer, channel="sms", template="generic.message", context={"text": text}
    )


def test_duplicated_task_on_two_workers_sends_one_sms(sms_gateway, customer):
    sms_gateway.delay = 0.2  # the gateway is slow: the second worker arrives mid-send
    for round_ in range(5):
        n = queue_sms(customer, text=f"round {round_}")
        results = run_together(*(lambda pk=n.pk: send_notification(pk) for _ in range(3)))
        assert sorted(results) == ["not_claimed", "not_claimed", "sent"], results
        n.refresh_from_db()
        assert (n.status, n.attempts) == (NotificationStatus.SENT, 1)
        assert n.attempt_log.count() == 1
    assert len(sms_gateway.requests) == 5
    assert len(set(sms_gateway.texts)) == 5


def test_two_sweepers_and_a_task_split_the_work(sms_gateway, customer, settings):
    settings.NOTIFY_SWEEP_BATCH_SIZE = 3
    sms_gateway.delay = 0.05
    ids = [queue_sms(customer, text=f"message {i}").pk for i in range(12)]
    results = run_together(
        lambda: notification_sweep(budget_seconds=10),
        lambda: notification_sweep(budget_seconds=10),
        lambda: [send_notification(pk) for pk in ids],
    )
    assert not any(isinstance(r, Exception) for r in results), results
    assert Notification.objects.filter(pk__in=ids, status=NotificationStatus.SENT).count() == 12
    texts = sms_gateway.texts
    assert len(texts) == 12 and len(set(texts)) == 12, texts
    # Each row was claimed by exactly one of them.
    swept = results[0].delivered + results[1].delivered
    by_task = results[2].count("sent")
    assert swept + by_task == 12
