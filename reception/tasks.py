"""Reception's periodic work (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import tickets_close_unserved


@shared_task(name="reception.close_unserved", soft_time_limit=240, time_limit=300)
def close_unserved() -> int:
    return sum(result.closed for result in tickets_close_unserved())
