"""The KPI rollups: each day's measures, summed once from the stages' records (issue 9).

`rollup(start, end)` rebuilds every day of the range from scratch: it asks each stage for the
day's measures by hour, branch, service and staff member, and writes them as DayRollup rows (by
branch and service), StaffDayRollup rows (and staff member) and HourRollup rows (and hour),
replacing what the day had. It is idempotent and
can be rerun for any range at any time: a late closure, a corrected record or a new measure only
needs the days rolled up again. Each day is one transaction, and its RollupDay row is locked
first, so two workers rolling up the same day one after the other give the same rows, never
twice as many.

Beat keeps today (and yesterday, for the branches whose day is not over) current every few
minutes, and rolls up the last ROLLUP_DAYS_BACK days every night for what changes late (a
consultation's first-contact resolution is known only after its repeat window).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from bankservice.core.measures import DIMENSIONS

from .models import SCALAR_FIELDS, DayRollup, HourRollup, RollupDay, StaffDayRollup
from .selectors import STAGES, add_sparse

ROLLUP_DAYS_BACK = 8
COLUMNS = {"branch": "branch_id", "staff": "staff_id"}  # dimension -> rollup column


def _rows_for(day: dt.date) -> list[dict]:
    rows: list[dict] = []
    for stage in STAGES:
        rows.extend(stage.measure_rows(start=day, end=day, by=DIMENSIONS))
    return rows


def _grouped(rows: list[dict], key_names: tuple[str, ...]) -> dict[tuple, dict]:
    grouped: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[name] for name in key_names)
        add_sparse(grouped.setdefault(key, {}), row)
    return grouped


def _rollup_fields(measures: dict) -> dict:
    fields = {name: measures.get(name, 0) for name in SCALAR_FIELDS}
    fields["histograms"] = {
        name: {str(index): count for index, count in sorted(value.items())}
        for name, value in measures.items()
        if isinstance(value, dict) and value
    }
    return fields


def rollup_day(day: dt.date, *, now: dt.datetime | None = None) -> int:
    """Rebuild one day's rollups; the number of rows written."""
    now = now or timezone.now()
    with transaction.atomic():
        marker, _created = RollupDay.objects.get_or_create(day=day, defaults={"rolled_up_at": now})
        marker = RollupDay.objects.select_for_update().get(pk=marker.pk)
        rows = _rows_for(day)
        grains = (
            (DayRollup, ("branch", "service")),
            (StaffDayRollup, ("branch", "service", "staff")),
            (HourRollup, ("hour", "branch", "service")),
        )
        written = 0
        for model, key_names in grains:
            model.objects.filter(day=day).delete()
            columns = [COLUMNS.get(name, name) for name in key_names]
            new_rows = [
                model(day=day, **dict(zip(columns, key, strict=True)), **_rollup_fields(measures))
                for key, measures in _grouped(rows, key_names).items()
            ]
            model.objects.bulk_create(new_rows, batch_size=2000)
            written += len(new_rows)
        marker.rolled_up_at = now
        marker.rows = written
        marker.save(update_fields=["rolled_up_at", "rows"])
    return marker.rows


def rollup(
    start: dt.date,
    end: dt.date,
    *,
    progress: Callable[[dt.date, int], None] | None = None,
) -> int:
    """Rebuild the rollups of every day from `start` to `end` (both included)."""
    written = 0
    day = start
    while day <= end:
        count = rollup_day(day)
        written += count
        if progress:
            progress(day, count)
        day += dt.timedelta(days=1)
    return written


def last_rolled_up() -> dt.datetime | None:
    """When today's rollup was last rebuilt (the dashboards say how fresh they are)."""
    marker = RollupDay.objects.filter(day=timezone.localdate()).first()
    return marker.rolled_up_at if marker else None
