"""Transactions' Celery tasks (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import requests_send_approved


@shared_task(name="transactions.send_approved", soft_time_limit=240, time_limit=300)
def send_approved() -> int:
    return requests_send_approved()
