"""The dashboards' Celery tasks (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from .alerts import alerts_check
from .rollups import ROLLUP_DAYS_BACK, rollup

logger = logging.getLogger(__name__)


# Every few minutes: today's rollups (and yesterday's, whose day may not be over in a branch
# west of the server's time zone), so a dashboard that includes today is minutes old. A rerun
# or an overlap is safe: each day is rebuilt whole, one worker at a time.
@shared_task(
    name="dashboards.rollup_today", soft_time_limit=240, time_limit=300, ignore_result=True
)
def rollup_today() -> None:
    today = timezone.localdate()
    rollup(today - dt.timedelta(days=1), today)


# Nightly: the last ROLLUP_DAYS_BACK days again, for what is known only later (first-contact
# resolution after its repeat window, a request executed days after it was submitted ...).
@shared_task(
    name="dashboards.rollup_recent", soft_time_limit=3300, time_limit=3600, ignore_result=True
)
def rollup_recent() -> None:
    today = timezone.localdate()
    rows = rollup(today - dt.timedelta(days=ROLLUP_DAYS_BACK), today)
    logger.info("dashboards: %s rollup rows rebuilt", rows)


# Every minute: the live figures against the active alert rules. Two runs at once notify once
# (the partial unique index alertfiring_one_open); a missed run expires.
@shared_task(name="dashboards.check_alerts", soft_time_limit=50, time_limit=55, ignore_result=True)
def check_alerts() -> None:
    result = alerts_check()
    if result["fired"] or result["cleared"]:
        logger.info("dashboards alerts: %(fired)s fired, %(cleared)s cleared", result)
