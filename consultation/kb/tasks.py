"""The knowledge base's periodic work (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import articles_flag_review_due


# Safe to run twice: an article is flagged once per review date (see the service).
@shared_task(name="consultation.kb_review_due", soft_time_limit=240, time_limit=300)
def kb_review_due() -> int:
    return articles_flag_review_due()
