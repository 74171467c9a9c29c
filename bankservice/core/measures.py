"""Measures for the dashboards, counted in SQL by each stage from its own records (issue 9).

A stage describes what it counts as `Fact`s: a queryset of its records, the time a record counts
at, where its service code and staff member are, its additive measures (aggregates such as
`Count` and `Sum`) and its histograms (a duration in seconds per record, counted by fixed
buckets). `measure_rows` groups them by any of DIMENSIONS: the day and hour (in the branch's
time zone), the branch, the service code and the staff member, one query per fact, time zone and
aggregate kind. The dashboards add the rows up (rollups) and turn them into KPIs; they never
read the stages' models.

Histograms have BUCKET_SECONDS-wide buckets up to HISTOGRAM_SECONDS and one open bucket after
it, so percentiles are exact to 30 seconds, whether from raw records or from rollups.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Count, F, FloatField, Q, Value
from django.db.models.functions import Cast, ExtractHour, Floor, Greatest, Least, TruncDate

BUCKET_SECONDS = 30
HISTOGRAM_SECONDS = 4 * 3600
BUCKETS = HISTOGRAM_SECONDS // BUCKET_SECONDS + 1  # the last one: longer than that

DIMENSIONS = ("day", "hour", "branch", "service", "staff")


def bucket(seconds: float) -> int:
    """The histogram bucket of a duration (negative durations count as zero)."""
    return min(max(int(seconds // BUCKET_SECONDS), 0), BUCKETS - 1)


class Seconds(models.Func):
    """Seconds from one datetime expression to another, as a float (end - start)."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL (and the default)
        return super().as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            # julianday() is a float of days: rounded to the millisecond, 270 s stays 270 s.
            template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - julianday(",
        )


def bucket_of(seconds) -> models.Func:
    """The SQL twin of `bucket`: the histogram bucket of a seconds expression."""
    return Cast(
        Least(
            Greatest(Floor(seconds / Value(float(BUCKET_SECONDS))), Value(0.0)),
            Value(float(BUCKETS - 1)),
        ),
        models.IntegerField(),
    )


@dataclass(frozen=True)
class Fact:
    """One kind of record a stage counts. Paths are ORM lookups from the queryset's model."""

    queryset: models.QuerySet
    at: str  # the datetime the record counts at: its day and hour
    sums: Mapping[str, models.Aggregate]  # measure -> aggregate over the records
    # measure -> (seconds expression, which records it counts)
    histograms: Mapping[str, tuple[models.Expression, Q]] = field(default_factory=dict)
    branch: str = "branch_id"
    service: str | None = None  # path to the service code ("" when it has none)
    staff: str | None = None  # path to the staff member's user id


def _zones(branch_ids: Iterable[int] | None, using: str) -> dict[str, list[int]]:
    from bankservice.branches.models import Branch

    branches = Branch.objects.using(using).all()
    if branch_ids is not None:
        branches = branches.filter(id__in=list(branch_ids))
    zones: dict[str, list[int]] = {}
    for branch_id, zone in branches.values_list("id", "time_zone"):
        zones.setdefault(zone, []).append(branch_id)
    return zones


def _dimension_expressions(fact: Fact, zone: zoneinfo.ZoneInfo, by: Iterable[str]) -> dict:
    expressions = {
        "day": TruncDate(fact.at, tzinfo=zone),
        "hour": ExtractHour(fact.at, tzinfo=zone),
        "branch": F(fact.branch),
        "service": F(fact.service) if fact.service else Value(""),
        "staff": F(fact.staff) if fact.staff else Value(None, models.IntegerField()),
    }
    return {f"d_{name}": expressions[name] for name in by}


def measure_rows(
    facts: Iterable[Fact],
    *,
    start: dt.date,
    end: dt.date,
    branch_ids: Iterable[int] | None = None,
    by: Iterable[str] = DIMENSIONS,
    using: str = "default",
) -> list[dict]:
    """The facts' measures from `start` to `end` (local days, both included), grouped by `by`.

    Each row: the dimension values (day, hour, branch, service, staff as named in `by`), the
    measures that have data, and each histogram as {bucket: count}. Rows with the same
    dimensions from different facts are merged."""
    by = tuple(name for name in DIMENSIONS if name in set(by))
    keys = [f"d_{name}" for name in by]
    rows: dict[tuple, dict] = {}

    def row_for(values: Mapping) -> dict:
        key = tuple(values[k] for k in keys)
        if key not in rows:
            rows[key] = dict(zip(by, key, strict=True))
        return rows[key]

    for zone_name, ids in _zones(branch_ids, using).items():
        zone = zoneinfo.ZoneInfo(zone_name)
        since = dt.datetime.combine(start, dt.time(), tzinfo=zone)
        until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        for fact in facts:
            records = fact.queryset.using(using).filter(
                **{f"{fact.branch}__in": ids, f"{fact.at}__gte": since, f"{fact.at}__lt": until}
            )
            # Grouped by the dimensions; for one total, by a constant (values() without fields
            # would group by every column).
            dimensions = _dimension_expressions(fact, zone, by) or {"d_total": Value(0)}
            grouped = records.annotate(**dimensions).values(*dimensions)
            if fact.sums:
                for values in grouped.annotate(**fact.sums).order_by():
                    present = {name: values[name] for name in fact.sums if values[name]}
                    if present:
                        row = row_for(values)
                        for name, value in present.items():
                            row[name] = row.get(name, 0) + value
            for name, (seconds, which) in fact.histograms.items():
                counted = (
                    grouped.filter(which)
                    .annotate(d_bucket=bucket_of(seconds))
                    .values(*keys, "d_bucket")
                    .annotate(n=Count("pk"))
                    .order_by()
                )
                for values in counted:
                    histogram = row_for(values).setdefault(name, {})
                    index = values["d_bucket"]
                    histogram[index] = histogram.get(index, 0) + values["n"]
    return list(rows.values())


def stage_measures(facts: Callable[[], Iterable[Fact]]) -> Callable[..., list[dict]]:
    """A stage's `measure_rows(start=, end=, branch_ids=, by=, using=)`, from its facts: what
    the dashboards call for each stage."""

    def rows(*, start, end, branch_ids=None, by=DIMENSIONS, using="default") -> list[dict]:
        return measure_rows(
            facts(), start=start, end=end, branch_ids=branch_ids, by=by, using=using
        )

    return rows
