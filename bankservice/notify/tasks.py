"""Notification tasks: thin, safe to run twice (the claim in the service makes them so)."""

from celery import shared_task
from django.utils import timezone

from .services import notification_deliver, notification_enqueue, notification_sweep


# acks_late: a worker lost mid-task gets the message redelivered; the redelivered run finds the
# row already claimed (sending) and does nothing, so a crash never causes a second SMS.
# No Celery autoretry: the service stores the next try in the database (next_attempt_at) and
# the task only queues a prompt retry; the sweep is the safety net if that message is lost.
@shared_task(
    name="notify.send",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def send_notification(notification_id: int) -> str:
    delivery = notification_deliver(notification_id=notification_id)
    if delivery.outcome == "retry" and delivery.retry_at is not None:
        countdown = max((delivery.retry_at - timezone.now()).total_seconds(), 0)
        notification_enqueue(notification_id, countdown=countdown)
    return delivery.outcome


# The sweep stops taking new batches after NOTIFY_SWEEP_BUDGET_SECONDS; the limits leave room
# for the batch in hand (NOTIFY_SWEEP_BATCH_SIZE sends of at most one provider timeout each).
@shared_task(name="notify.sweep", soft_time_limit=240, time_limit=270, ignore_result=True)
def sweep_notifications() -> dict:
    report = notification_sweep()
    return {"delivered": report.delivered, "flagged_unknown": report.flagged_unknown}
