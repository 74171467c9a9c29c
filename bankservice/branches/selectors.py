"""Reading branches within the reader's scope."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch

from .models import Branch, OpeningHours


def branch_list(*, principal):
    return (
        Branch.objects.visible_to(principal)
        .select_related("region", "calendar")
        .prefetch_related(
            Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens_at"))
        )
    )


def staff_to_notify(role: str, branch) -> list:
    """Active staff holding `role` at the branch who have an e-mail address, in a stable order:
    whom a deadline warning or escalation e-mails."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, memberships__role__name=role, memberships__branch=branch)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
