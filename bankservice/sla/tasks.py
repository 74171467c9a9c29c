"""Deadline periodic task (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from dataclasses import asdict

from celery import shared_task

from .services import deadline_sweep


# Safe to run twice or side by side: each due row is taken once (SKIP LOCKED plus a conditional
# UPDATE). A run stops after SLA_SWEEP_MAX_BATCHES batches, well inside the time limits; if a
# limit still strikes, the open batch rolls back and the next run takes it again.
@shared_task(name="sla.sweep", soft_time_limit=110, time_limit=120, ignore_result=True)
def sweep() -> dict:
    return asdict(deadline_sweep())
