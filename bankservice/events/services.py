"""Recording domain events, inside the caller's transaction."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from .models import Event


class NotInTransaction(RuntimeError):
    """record() was called outside transaction.atomic: the event could outlive a rollback."""


def record(
    *,
    type: str,
    actor: Any,
    branch=None,
    customer=None,
    subject: models.Model | None = None,
    payload: dict | None = None,
) -> Event:
    """Write one event in the current transaction; if it rolls back the event goes with it."""
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction(type)
    return Event.objects.create(
        type=type,
        occurred_at=timezone.now(),
        **Event.actor_columns(actor),
        branch=branch,
        customer=customer,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=str(subject.pk) if subject is not None else "",
        payload=payload or {},
    )
