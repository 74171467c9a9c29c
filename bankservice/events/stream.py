"""Reading the event log in id order from a cursor, for readers that must neither skip nor repeat
an event: the webhook relay (one cursor per subscription) and the care generator.

Event ids come from a sequence when the row is inserted, not when its transaction commits: id 10
can become visible after id 11. So a cursor moves only over consecutive ids. A missing id is
waited for (an open transaction may still commit it) until the event after it is `grace` old;
then it is taken as rolled back and skipped, with a warning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.db import connection
from django.db.models import Max
from django.utils import timezone

from .models import Event

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class StreamBatch:
    """One step of a reader: the events it may take now and where its cursor goes."""

    rows: list[tuple]  # (id, *fields) of each event taken, in id order
    position: int  # the new cursor: every id up to it has been considered
    waiting_on_gap: bool  # stopped before a missing id that may still commit
    caught_up: bool  # fewer events than a batch were there: nothing more to read now


def stream_position() -> int:
    """The id of the newest event allocated so far, committed or not: where a new reader starts
    to follow only what happens from now on."""
    if connection.vendor == "postgresql":
        # The sequence, not MAX(id): ids of transactions still open are behind us too, so a new
        # reader starts cleanly after them instead of waiting on them as a gap.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id'))",
                [Event._meta.db_table],
            )
            row = cursor.fetchone()
        if row and row[0] is not None:
            return row[0]
    return Event.objects.aggregate(last=Max("id"))["last"] or 0


def events_after(
    position: int,
    *,
    fields: tuple[str, ...] = (),
    batch: int,
    grace: dt.timedelta,
    reader: str = "",
) -> StreamBatch:
    """The next events after `position` (up to `batch` of them, as (id, *fields) tuples) that
    the cursor may move over now. One query."""
    now = timezone.now()
    rows = list(
        Event.objects.filter(id__gt=position)
        .order_by("id")
        .values_list("id", "occurred_at", *fields)[:batch]
    )
    taken: list[tuple] = []
    cursor = position
    waiting_on_gap = False
    for event_id, occurred_at, *values in rows:
        if event_id != cursor + 1:
            if occurred_at > now - grace:
                waiting_on_gap = True
                break
            logger.warning(
                "%s skips event ids %s-%s (never committed)", reader, cursor + 1, event_id - 1
            )
        cursor = event_id
        taken.append((event_id, *values))
    return StreamBatch(
        rows=taken, position=cursor, waiting_on_gap=waiting_on_gap, caught_up=len(rows) < batch
    )
