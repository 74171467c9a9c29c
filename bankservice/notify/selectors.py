"""Reading notifications, scoped to what the user may see."""

from .models import RETRYABLE_STATES, Notification


def notifications_for_customer(*, user, customer):
    """A customer's notifications, newest first, with their attempts (the caller paginates)."""
    return (
        Notification.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("branch")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )


def notifications_needing_attention(*, user):
    """Failed notifications and those whose outcome is unknown: a person should look."""
    return (
        Notification.objects.visible_to(user)
        .filter(status__in=RETRYABLE_STATES)
        .select_related("customer", "branch")
        .order_by("-created_at", "-id")
    )
