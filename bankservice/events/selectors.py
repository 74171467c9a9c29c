"""Reading the event log."""

from .models import Event


def customer_timeline(*, customer, stage: str | None = None):
    """A customer's events, newest first (the caller paginates)."""
    events = Event.objects.filter(customer=customer).select_related(
        "actor_user", "actor_client", "branch"
    )
    if stage:
        events = events.filter(type__startswith=f"{stage}.")
    return events.order_by("-id")
