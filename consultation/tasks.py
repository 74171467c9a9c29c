"""Consultation's Celery tasks (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .handoffs import handoffs_retry


@shared_task(name="consultation.handoffs_retry", soft_time_limit=240, time_limit=300)
def retry_handoffs() -> int:
    return handoffs_retry()
