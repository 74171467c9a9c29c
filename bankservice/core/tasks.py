"""Kernel periodic tasks (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.core.management import call_command

from .idempotency import idempotency_keys_purge
from .services import heartbeat_beat


@shared_task(name="core.heartbeat", soft_time_limit=20, time_limit=30, ignore_result=True)
def heartbeat() -> None:
    heartbeat_beat(name="worker")


@shared_task(name="core.clear_sessions", soft_time_limit=540, time_limit=600, ignore_result=True)
def clear_sessions() -> None:
    call_command("clearsessions")


@shared_task(
    name="core.purge_idempotency_keys", soft_time_limit=540, time_limit=600, ignore_result=True
)
def purge_idempotency_keys() -> None:
    idempotency_keys_purge()
