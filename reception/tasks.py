"""Reception's Celery tasks: periodic work (scheduled in settings.CELERY_BEAT_SCHEDULE) and the
"you're next" SMS queued after a call."""

from celery import shared_task

from .appointments import appointments_mark_no_shows, appointments_send_reminders
from .next_notice import ticket_next_notices
from .services import tickets_close_unserved


@shared_task(name="reception.close_unserved", soft_time_limit=240, time_limit=300)
def close_unserved() -> int:
    return sum(result.closed for result in tickets_close_unserved())


# acks_late: a worker lost mid-run gets the message again; the rerun finds the tickets already
# claimed (next_notified_at) and texts nobody twice.
@shared_task(
    name="reception.next_notices",
    acks_late=True,
    soft_time_limit=30,
    time_limit=60,
    ignore_result=True,
)
def send_next_notices(service_type_id: int) -> int:
    return len(ticket_next_notices(service_type_id=service_type_id))


@shared_task(name="reception.appointment_no_shows", soft_time_limit=240, time_limit=300)
def appointment_no_shows() -> int:
    return appointments_mark_no_shows()


@shared_task(name="reception.appointment_reminders", soft_time_limit=240, time_limit=300)
def appointment_reminders() -> int:
    return appointments_send_reminders()
