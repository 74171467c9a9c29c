"""Care's Celery tasks (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from .campaigns import campaigns_run
from .generator import callbacks_generate
from .surveys import surveys_expire

logger = logging.getLogger(__name__)


# No retries: beat runs it again within a minute and it resumes at its cursor. Two runs at once
# are safe: the second skips the locked cursor. The generator stops starting batches after
# generator.BUDGET_SECONDS; a batch cut by the time limit rolls back whole and is redone.
@shared_task(name="care.generate_callbacks", soft_time_limit=50, time_limit=60, ignore_result=True)
def generate_callbacks() -> None:
    report = callbacks_generate()
    if report.created or report.surveys_sent or report.failed:
        logger.info("care generator: %s", report)


# No retries: the next hourly run takes whatever this one left (it works in committed batches,
# skipping rows being answered right now). Two runs at once are safe (SKIP LOCKED).
@shared_task(name="care.expire_surveys", soft_time_limit=240, time_limit=300, ignore_result=True)
def expire_surveys() -> None:
    expired = surveys_expire()
    if expired:
        logger.info("care: %s survey links expired", expired)


# No retries: beat runs it again within a minute and it resumes with the targets still pending.
# Two runs at once share the work (SKIP LOCKED); a batch cut by the time limit rolls back whole.
@shared_task(name="care.run_campaigns", soft_time_limit=50, time_limit=60, ignore_result=True)
def run_campaigns() -> None:
    report = campaigns_run()
    if report.started or report.contacted or report.excluded or report.finished:
        logger.info("care campaigns: %s", report)
