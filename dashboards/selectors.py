"""The dashboards' reads: tables of measures and KPIs by any dimension, from the rollups or from
the stages' raw records, limited to the branches the principal may see (issue 9).

`kpi_table(principal, start=, end=, by=("branch", "month"))` is what every page, export and the
API call. Rollups (dashboards/rollups.py) answer long periods fast; `source="raw"` asks the stages
themselves (the live monitor's today, and the benchmark's comparison). Both give the same
numbers, because the rollups are sums of the same measures.

Reads go to `settings.DASHBOARDS_DATABASE`: "default", or "replica" when REPLICA_DATABASE_URL is
set, so heavy dashboards can be kept off the primary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth, TruncWeek

from bankservice.branches.models import Branch, Region
from bankservice.branches.scope import ALL_BRANCHES, branch_ids_for
from care import kpi_selectors as care_measures
from complaints import kpi_selectors as complaints_measures
from consultation import kpi_selectors as consultation_measures
from reception import kpi_selectors as reception_measures
from transactions import kpi_selectors as transactions_measures

from . import kpis
from .models import SCALAR_FIELDS, DayRollup, HourRollup, StaffDayRollup

VIEW_KPIS = "dashboards.view_kpis"
VIEW_STAFF = "dashboards.view_staff_performance"
BY = ("region", "branch", "service", "staff", "month", "week", "day", "hour")
# Every stage's measures; each module's measure_rows(start=, end=, branch_ids=, by=, using=).
STAGES = (
    reception_measures,
    consultation_measures,
    transactions_measures,
    complaints_measures,
    care_measures,
)


def database() -> str:
    return settings.DASHBOARDS_DATABASE


@dataclass
class MeasureRow:
    key: dict  # dimension -> value (date, int or str)
    measures: dict  # every MEASURES name; histograms as lists of BUCKETS counts
    labels: dict = field(default_factory=dict)  # dimension -> text to show


@dataclass
class KpiRow(MeasureRow):
    values: dict = field(default_factory=dict)  # KPI code -> value or None


def check_by(by) -> tuple[str, ...]:
    """The dimensions asked for, in BY's order; ValueError for an unknown one or a bad mix."""
    unknown = set(by) - set(BY)
    if unknown:
        raise ValueError(f"unknown dimension: {', '.join(sorted(unknown))}")
    if "hour" in by and "staff" in by:
        raise ValueError("hour and staff cannot be combined")
    return tuple(name for name in BY if name in set(by))


def scope_branch_ids(principal, *, perm=VIEW_KPIS, region=None, branch=None) -> list[int]:
    """The branches the principal may see with `perm`, narrowed to a region or a branch."""
    ids = branch_ids_for(principal, perm)
    branches = Branch.objects.all()
    if ids is not ALL_BRANCHES:
        if not ids:
            return []
        branches = branches.filter(id__in=ids)
    if region is not None:
        branches = branches.filter(region_id=region)
    if branch is not None:
        branches = branches.filter(id=branch)
    return sorted(branches.values_list("id", flat=True))


def _full(measures: dict) -> dict:
    """Sparse measures (histograms as {bucket: count}) as full ones: lists, zeros where absent."""
    full = kpis.empty_measures()
    for name, value in measures.items():
        if name in kpis.HISTOGRAMS:
            histogram = full[name]
            for index, count in value.items():
                histogram[int(index)] += count
        elif name in full:
            full[name] = value
    return full


def add_sparse(total: dict, row: dict) -> None:
    for name, value in row.items():
        if name in kpis.HISTOGRAMS:
            histogram = total.setdefault(name, {})
            for index, count in value.items():
                histogram[int(index)] = histogram.get(int(index), 0) + count
        elif name in kpis.MEASURES:
            total[name] = total.get(name, 0) + value


def _from_rollups(by, branch_ids, *, start, end, service, staff, histograms) -> dict:
    if "hour" in by:
        model = HourRollup
    elif "staff" in by or staff is not None:
        model = StaffDayRollup
    else:
        model = DayRollup
    rows = model.objects.using(database()).filter(branch_id__in=branch_ids, day__gte=start)
    rows = rows.filter(day__lte=end)
    if service is not None:
        rows = rows.filter(service=service)
    if staff is not None:
        rows = rows.filter(staff_id=staff)
    dimensions = {
        "region": F("branch__region_id"),
        "branch": F("branch_id"),
        "service": F("service"),
        "staff": F("staff_id"),
        "month": TruncMonth("day"),
        "week": TruncWeek("day"),
        "day": F("day"),
        "hour": F("hour"),
    }
    keys = [f"k_{name}" for name in by]
    grouped = rows.annotate(**{f"k_{name}": dimensions[name] for name in by}).values(*keys)
    sums = {name: Sum(name) for name in SCALAR_FIELDS}
    if keys:
        summed = grouped.annotate(**sums).order_by()
    else:  # one total; values() without fields would group by every column
        summed = [rows.aggregate(**sums, n=Count("pk"))]
    table: dict[tuple, dict] = {}
    for values in summed:
        if values.get("n") == 0:
            continue
        table[tuple(values[k] for k in keys)] = {name: values[name] for name in SCALAR_FIELDS}
    if histograms:
        for *key, stored in grouped.exclude(histograms={}).values_list(*keys, "histograms"):
            add_sparse(table.setdefault(tuple(key), {}), stored)
    return table


def _from_raw(by, branch_ids, *, start, end, service, staff) -> dict:
    stage_by = {"day" if name in ("month", "week") else name for name in by}
    stage_by = {"branch" if name == "region" else name for name in stage_by}
    if service is not None:
        stage_by.add("service")
    if staff is not None:
        stage_by.add("staff")
    regions = {}
    if "region" in by:
        regions = dict(Branch.objects.filter(id__in=branch_ids).values_list("id", "region_id"))
    table: dict[tuple, dict] = {}
    for stage in STAGES:
        for row in stage.measure_rows(
            start=start, end=end, branch_ids=branch_ids, by=tuple(stage_by), using=database()
        ):
            if service is not None and row["service"] != service:
                continue
            if staff is not None and row["staff"] != staff:
                continue
            key = []
            for name in by:
                if name == "month":
                    key.append(row["day"].replace(day=1))
                elif name == "week":
                    key.append(row["day"] - dt.timedelta(days=row["day"].weekday()))
                elif name == "region":
                    key.append(regions[row["branch"]])
                else:
                    key.append(row[name])
            add_sparse(table.setdefault(tuple(key), {}), row)
    return table


def _labels(by, keys) -> list[dict]:
    """Display text for each key's dimensions: names of regions, branches and staff."""
    names: dict[str, dict] = {}
    for position, name in enumerate(by):
        ids = {key[position] for key in keys if key[position] is not None}
        if name == "region":
            names[name] = dict(Region.objects.filter(id__in=ids).values_list("id", "name"))
        elif name == "branch":
            names[name] = dict(Branch.objects.filter(id__in=ids).values_list("id", "name"))
        elif name == "staff":
            names[name] = {
                user.pk: user.get_full_name() or user.get_username()
                for user in get_user_model().objects.filter(pk__in=ids)
            }
    labels = []
    for key in keys:
        row = {}
        for name, value in zip(by, key, strict=True):
            if name in names:
                row[name] = names[name].get(value, "—") if value is not None else "—"
            elif name == "hour":
                row[name] = f"{value:02d}:00"
            elif value is None or value == "":
                row[name] = "—"
            else:
                row[name] = str(value)
        labels.append(row)
    return labels


def measure_table(
    principal,
    *,
    start: dt.date,
    end: dt.date,
    by=(),
    region=None,
    branch=None,
    service=None,
    staff=None,
    source="rollup",
    perm=VIEW_KPIS,
    histograms=True,
) -> list[MeasureRow]:
    """The measures of the branches the principal may see, from `start` to `end` (both
    included), one row per combination of the `by` dimensions, sorted by them.

    By staff (or for one staff member) needs VIEW_STAFF at those branches: PermissionDenied
    when the principal holds it nowhere."""
    by = check_by(by)
    if "staff" in by or staff is not None:
        perm = VIEW_STAFF
        if not scope_branch_ids(principal, perm=perm):
            raise PermissionDenied
    branch_ids = scope_branch_ids(principal, perm=perm, region=region, branch=branch)
    return branch_measures(
        branch_ids,
        start=start,
        end=end,
        by=by,
        service=service,
        staff=staff,
        source=source,
        histograms=histograms,
    )


def branch_measures(
    branch_ids,
    *,
    start: dt.date,
    end: dt.date,
    by=(),
    service=None,
    staff=None,
    source="rollup",
    histograms=True,
) -> list[MeasureRow]:
    """measure_table for branches the caller has already chosen: unscoped, for the scoped
    selectors above and for the system itself (the alert check runs for every branch)."""
    by = check_by(by)
    if not branch_ids or start > end:
        return []
    options = {"start": start, "end": end, "service": service, "staff": staff}
    if source == "raw":
        table = _from_raw(by, branch_ids, **options)
    else:
        table = _from_rollups(by, branch_ids, histograms=histograms, **options)
    keys = sorted(table, key=lambda key: tuple((v is None, 0 if v is None else v) for v in key))
    return [
        MeasureRow(key=dict(zip(by, key, strict=True)), measures=_full(table[key]), labels=labels)
        for key, labels in zip(keys, _labels(by, keys), strict=True)
    ]


def _with_kpis(measure_rows: list[MeasureRow], codes) -> list[KpiRow]:
    return [
        KpiRow(
            key=row.key,
            measures=row.measures,
            labels=row.labels,
            values=kpis.compute(row.measures, codes),
        )
        for row in measure_rows
    ]


def _codes_and_histograms(codes, options: dict) -> list[str]:
    codes = list(codes) if codes else [kpi.code for kpi in kpis.KPIS]
    needs = {name for code in codes for name in kpis.KPI_BY_CODE[code].needs}
    options.setdefault("histograms", bool(needs & set(kpis.HISTOGRAMS)))
    return codes


def kpi_table(principal, *, codes=None, **options) -> list[KpiRow]:
    """measure_table's rows with the KPIs (all, or `codes`) computed from each row's measures."""
    codes = _codes_and_histograms(codes, options)
    return _with_kpis(measure_table(principal, **options), codes)


def branch_kpis(branch_ids, *, codes=None, **options) -> list[KpiRow]:
    """kpi_table for branches the caller has already chosen (see branch_measures)."""
    codes = _codes_and_histograms(codes, options)
    return _with_kpis(branch_measures(branch_ids, **options), codes)
