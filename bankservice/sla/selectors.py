"""Read queries on deadlines."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Q

from .models import OPEN_STATES, Deadline, DeadlineState


def deadlines_for(subject: models.Model, *, kind: str | None = None) -> models.QuerySet[Deadline]:
    """Every deadline of an object (optionally of one kind), oldest first, with branch loaded."""
    deadlines = Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=str(subject.pk)
    )
    if kind is not None:
        deadlines = deadlines.filter(kind=kind)
    return deadlines.select_related("branch").order_by("started_at", "id")


def open_deadline_for(subject: models.Model, *, kind: str) -> Deadline | None:
    """The object's open deadline of ``kind`` (there is at most one), or None."""
    return deadlines_for(subject, kind=kind).filter(state__in=OPEN_STATES).first()


def deadlines_at_risk(
    *, branch_ids, groups: dict, now, using: str = "default"
) -> dict[int, dict[str, int]]:
    """How many deadlines of each group are at risk at each branch: {branch id: {group: n}}.

    `groups` maps a name to `(kinds, within)`: the kinds (exact names, given by the caller; the
    kernel knows no stage) and how far ahead a due time counts. A deadline is at risk when it is
    open, running (not paused) and due before `now + within` (overdue ones the sweep has not
    reached yet included), or when it was breached and not met since (late and still unmet).
    One query, however many branches and groups."""
    condition = Q()
    counts = {}
    for name, (kinds, within) in groups.items():
        group = Q(kind__in=list(kinds)) & (
            Q(state=DeadlineState.OPEN, paused_at__isnull=True, due_at__lte=now + within)
            | Q(state=DeadlineState.BREACHED, met_at__isnull=True)
        )
        condition |= group
        counts[name] = Count("pk", filter=group)
    if not counts:
        return {}
    rows = (
        Deadline.objects.using(using)
        .filter(condition, branch_id__in=list(branch_ids))
        .order_by()
        .values("branch_id")
        .annotate(**counts)
    )
    return {row.pop("branch_id"): row for row in rows}
