"""Care's Celery tasks (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from .generator import callbacks_generate

logger = logging.getLogger(__name__)


# No retries: beat runs it again within a minute and it resumes at its cursor. Two runs at once
# are safe: the second skips the locked cursor. The generator stops starting batches after
# generator.BUDGET_SECONDS; a batch cut by the time limit rolls back whole and is redone.
@shared_task(name="care.generate_callbacks", soft_time_limit=50, time_limit=60, ignore_result=True)
def generate_callbacks() -> None:
    report = callbacks_generate()
    if report.created or report.failed:
        logger.info("care generator: %s", report)
