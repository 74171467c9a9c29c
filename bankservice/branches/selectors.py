"""Reading branches within the reader's scope."""

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
