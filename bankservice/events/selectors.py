"""Reading the event log, always within the reader's branch scope."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

from .models import Event

AUDIT_PERM = "events.view_event"


def event_list(*, principal):
    """Events the principal may audit; events without a branch only for bank-wide roles."""
    return Event.objects.visible_to(principal, AUDIT_PERM).select_related(
        "actor_user", "actor_client", "branch", "subject_type"
    )


def customer_timeline(*, customer, stage: str | None = None):
    """A customer's events (and those of customers merged into it), newest first."""
    from bankservice.customers.selectors import customer_merged_ids

    events = Event.objects.filter(customer_id__in=customer_merged_ids(customer=customer))
    if stage:
        events = events.filter(type__startswith=f"{stage}.")
    return events.select_related("actor_user", "actor_client", "branch").order_by("-id")


def subject_history(subject: Model) -> QuerySet[Event]:
    """A record's own history for its page (a complaint, consultation, request): its events,
    oldest first, without the looks at personal data (customer.pii_revealed), which stay in the
    audit trail but are not something that happened to the record."""
    return (
        Event.objects.filter(
            subject_type=ContentType.objects.get_for_model(subject),
            subject_id=str(subject.pk),
        )
        .exclude(type="customer.pii_revealed")
        .select_related("actor_user", "actor_client")
        .order_by("occurred_at", "id")
    )
