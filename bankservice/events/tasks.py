"""Webhook relay task (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from .webhook_services import webhooks_relay

logger = logging.getLogger(__name__)


# No retries: beat runs it again in seconds and it resumes where it stopped. The hard limit stays
# below the relay's lease (webhook_services.LEASE_MIN_SECONDS), so a killed run's lease expires.
@shared_task(name="events.relay_webhooks", soft_time_limit=120, time_limit=150, ignore_result=True)
def relay_webhooks() -> None:
    report = webhooks_relay()
    if report.queued or report.delivered or report.failed or report.dead:
        logger.info("webhooks relay: %s", report)
