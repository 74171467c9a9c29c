"""Read queries on deadlines."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import OPEN_STATES, Deadline


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
