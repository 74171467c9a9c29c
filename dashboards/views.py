"""The dashboards' overview, KPI definitions and trends pages (issue 9).

Every figure comes from `selectors.kpi_table`, limited to the branches the user may see; the
filter is dashboards.forms.FilterForm plus, here, a staff member (for users who may see staff
performance), the grouping of the overview, and the KPI, grain and split of the trends.

Drill-down narrows the filter one level at a time: region -> branch -> service -> staff member
(the last only with `dashboards.view_staff_performance`). Each table downloads as CSV or Excel
through dashboards.exports.table_response, with the page's filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bankservice.branches.scope import has_perm
from bankservice.core.decorators import require_perm

from . import kpis
from .exports import table_response
from .forms import FilterForm
from .rollups import last_rolled_up
from .selectors import VIEW_KPIS, VIEW_STAFF, kpi_table

# The overview's columns: the main KPI of each stage.
OVERVIEW_KPIS = (
    "wait_mean",
    "wait_p90",
    "service_level",
    "service_mean",
    "abandonment_rate",
    "first_contact_resolution",
    "rework_rate",
    "csat_mean",
    "nps",
    "complaint_rate",
    "complaints_within_deadline",
    "callback_completion",
    "counter_utilisation",
)
# The volumes the figures rest on, shown beside them.
VOLUMES = (
    ("tickets_issued", _("Tickets")),
    ("csat_answers", _("Surveys answered")),
)
GROUPS = {
    "region": _("Region"),
    "branch": _("Branch"),
    "service": _("Service"),
    "staff": _("Staff member"),
    "day": pgettext_lazy("dashboards grouping", "Day"),
    "week": pgettext_lazy("dashboards grouping", "Week"),
    "month": pgettext_lazy("dashboards grouping", "Month"),
}
GRAINS = ("day", "week", "month")
UNITS = {
    "seconds": _("seconds (shown as minutes:seconds)"),
    "share": _("share (shown as per cent)"),
    "score": _("score"),
    "per_1000": _("per 1,000"),
}
EXPORT_UNITS = {"seconds": _("s"), "share": "%", "per_1000": "‰", "score": ""}
BETTER = {"higher": _("higher is better"), "lower": _("lower is better")}
# The trends chart draws at most this many lines besides the total.
MAX_LINES = 8
# What "busiest" means when the chart keeps only MAX_LINES lines.
ACTIVITY = (
    "tickets_issued",
    "consultations",
    "requests_finished",
    "csat_answers",
    "complaints_received",
    "callbacks_closed",
)


# --- Formatting


def format_value(value: float | None, unit: str) -> str:
    """A KPI's value for people: seconds as m:ss (h:mm:ss from an hour), shares as per cent,
    rates per 1,000 with one decimal, scores with two; "—" without data."""
    if value is None:
        return "—"
    if unit == "seconds":
        hours, rest = divmod(round(value), 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "per_1000":
        return f"{value:.1f}"
    return f"{value:.2f}"


def export_value(value: float | None, unit: str) -> float | None:
    """A KPI's value for a spreadsheet: a number in the unit its column header names."""
    if value is None:
        return None
    if unit == "share":
        return round(value * 100, 2)
    if unit == "seconds":
        return round(value, 1)
    return round(value, 2)


def export_header(kpi) -> str:
    suffix = str(EXPORT_UNITS[kpi.unit])
    return f"{kpi.name} ({suffix})" if suffix else str(kpi.name)


def period_label(value: dt.date, grain: str) -> str:
    if grain == "month":
        return f"{value:%Y-%m}"
    return value.isoformat()


def periods(start: dt.date, end: dt.date, grain: str) -> list[dt.date]:
    """Every day, week (its Monday) or month (its 1st) from start to end: the chart's x axis."""
    if grain == "day":
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    if grain == "week":
        first = start - dt.timedelta(days=start.weekday())
        return [first + dt.timedelta(days=7 * n) for n in range((end - first).days // 7 + 1)]
    months = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


# --- Forms


class ScopeForm(FilterForm):
    """The lead's filter plus one staff member (for users who may see staff performance)."""

    staff = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data=None, *, principal, **kwargs):
        super().__init__(data, principal=principal, **kwargs)
        self.can_see_staff = has_perm(principal, VIEW_STAFF)

    def clean_staff(self):
        staff = self.cleaned_data.get("staff")
        if staff is not None and not self.can_see_staff:
            raise forms.ValidationError(_("You may not see the figures of a staff member."))
        return staff

    def query(self) -> dict:
        query = super().query()
        query["staff"] = self.cleaned_data.get("staff")
        return query

    def names(self) -> dict:
        """Names of the chosen region and branch, from the choices (no query)."""
        data = self.cleaned_data
        regions = {key: label for key, label in self.fields["region"].choices}
        branches = {key: label for key, label in self.fields["branch"].choices}
        return {
            "region": regions.get(data.get("region")),
            "branch": branches.get(data.get("branch")),
        }

    def child(self) -> str | None:
        """The dimension one level below the filter: what drilling down groups by."""
        data = self.cleaned_data
        if data.get("staff") is not None:
            return None
        if data.get("service"):
            return "staff" if self.can_see_staff else None
        if data.get("branch") is not None:
            return "service"
        if data.get("region") is not None:
            return "branch"
        return "region" if len(self.fields["region"].choices) > 2 else "branch"


class OverviewForm(ScopeForm):
    by = forms.ChoiceField(label=_("Group by"), required=False)

    def __init__(self, data=None, *, principal, **kwargs):
        super().__init__(data, principal=principal, **kwargs)
        self.fields["by"].choices = [
            (key, label) for key, label in GROUPS.items() if key != "staff" or self.can_see_staff
        ]

    def clean(self):
        data = super().clean()
        if not data.get("by"):
            data["by"] = self.child() or "day"
        return data


class TrendForm(ScopeForm):
    kpi = forms.ChoiceField(label=_("Indicator"), required=False)
    grain = forms.ChoiceField(
        label=_("Each point"),
        required=False,
        choices=[(key, GROUPS[key]) for key in GRAINS],
    )
    split = forms.BooleanField(label=_("One line per part"), required=False)

    def __init__(self, data=None, *, principal, **kwargs):
        super().__init__(data, principal=principal, **kwargs)
        self.fields["kpi"].choices = [(kpi.code, kpi.name) for kpi in kpis.KPIS]

    def clean(self):
        data = super().clean()
        data["kpi"] = data.get("kpi") or "wait_mean"
        data["grain"] = data.get("grain") or "day"
        return data


# --- Links


def _params(form) -> dict:
    """The form's current filter as query parameters (what links keep)."""
    data = form.cleaned_data
    params = {
        "start": data["start"].isoformat(),
        "end": data["end"].isoformat(),
        "region": data.get("region"),
        "branch": data.get("branch"),
        "service": data.get("service"),
        "staff": data.get("staff"),
    }
    for name in ("by", "kpi", "grain"):
        if name in data:
            params[name] = data[name]
    if data.get("split"):
        params["split"] = "on"
    return params


def _link(path: str, params: Mapping, **changes) -> str:
    merged = {**params, **changes}
    return f"{path}?{urlencode({k: v for k, v in merged.items() if v not in (None, '')})}"


def _narrowed(dimension: str, key, params: dict) -> dict | None:
    """The filter changes that narrow the current one to `key` of `dimension`; None when that
    row cannot be narrowed (a branch-wide service, staff not recorded, a single day)."""
    if key is None or key == "":
        return None
    if dimension == "region":
        return {"region": key, "branch": None, "service": None, "staff": None}
    if dimension == "branch":
        return {"branch": key, "service": None, "staff": None}
    if dimension == "service":
        return {"service": key, "staff": None}
    if dimension == "staff":
        return {"staff": key}
    start = dt.date.fromisoformat(params["start"])
    end = dt.date.fromisoformat(params["end"])
    if dimension == "week":
        first, last = key, key + dt.timedelta(days=6)
    elif dimension == "month":
        first, last = key, (key + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    else:
        return None
    return {"start": max(first, start).isoformat(), "end": min(last, end).isoformat()}


def _drill_by(dimension: str, form) -> str | None:
    """What the overview groups by after drilling into a row of `dimension`."""
    return {
        "region": "branch",
        "branch": "service",
        "service": "staff" if form.can_see_staff else None,
        "week": "day",
        "month": "day",
    }.get(dimension)


def _breadcrumbs(form, path: str, params: dict, staff_name: str | None) -> list[dict]:
    """The filter's levels, each a link that widens back to it."""
    data = form.cleaned_data
    names = form.names()
    crumbs = [
        {
            "label": _("All in my scope"),
            "url": _link(path, params, region=None, branch=None, service=None, staff=None, by=None),
        }
    ]
    if data.get("region") is not None:
        crumbs.append(
            {
                "label": names["region"],
                "url": _link(path, params, branch=None, service=None, staff=None, by=None),
            }
        )
    if data.get("branch") is not None:
        crumbs.append(
            {
                "label": names["branch"],
                "url": _link(path, params, service=None, staff=None, by=None),
            }
        )
    if data.get("service"):
        crumbs.append({"label": data["service"], "url": _link(path, params, staff=None, by=None)})
    if data.get("staff") is not None:
        crumbs.append({"label": staff_name or "—", "url": _link(path, params)})
    crumbs[-1]["current"] = True
    return crumbs


def _staff_name(form) -> str | None:
    staff = form.cleaned_data.get("staff") if form.is_valid() else None
    if staff is None:
        return None
    user = get_user_model().objects.filter(pk=staff).first()
    return (user.get_full_name() or user.get_username()) if user else None


def _bound(form_class, request):
    # A plain dict: FilterForm adds the default period to it when the query has none.
    return form_class(request.GET.dict(), principal=request.user)


def _exports(request) -> dict:
    """Links to this page's table as CSV and Excel, with the current filters."""
    params = request.GET.dict()
    params.pop("export", None)
    return {fmt: _link(request.path, params, export=fmt) for fmt in ("csv", "xlsx")}


# --- Pages


def _key_label(dimension: str, row) -> str:
    value = row.key.get(dimension)
    if dimension in ("day", "week", "month") and value is not None:
        return period_label(value, dimension)
    return row.labels.get(dimension, "—")


@require_perm(VIEW_KPIS)
def overview(request):
    """The main KPIs of every region, branch, service, staff member or period in scope."""
    form = _bound(OverviewForm, request)
    columns = [kpis.KPI_BY_CODE[code] for code in OVERVIEW_KPIS]
    context = {
        "form": form,
        "columns": columns,
        "volumes": [label for _name, label in VOLUMES],
        "as_of": last_rolled_up(),
    }
    if not form.is_valid():
        return render(request, "dashboards/overview.html", context, status=400)
    by = form.cleaned_data["by"]
    path = request.path
    params = _params(form)
    rows = kpi_table(request.user, by=(by,), codes=OVERVIEW_KPIS, **form.query())
    drill_by = _drill_by(by, form)
    total_measures = kpis.empty_measures()
    table = []
    for row in rows:
        kpis.add_measures(total_measures, row.measures)
        key = row.key[by]
        changes = _narrowed(by, key, params)
        drill = None
        if changes is not None and (drill_by or by == "staff"):
            if by == "staff":
                # A staff member's figures over time: their trends.
                drill = _link(reverse("dashboards:trends"), params, by=None, **changes)
            else:
                drill = _link(path, params, by=drill_by, **changes)
        table.append(
            {
                "key": key.isoformat() if isinstance(key, dt.date) else key,
                "label": _key_label(by, row),
                "drill": drill,
                "volumes": [row.measures[name] for name, _label in VOLUMES],
                "values": [row.values[kpi.code] for kpi in columns],
            }
        )
    total_values = kpis.compute(total_measures, OVERVIEW_KPIS)
    total = {
        "volumes": [total_measures[name] for name, _label in VOLUMES],
        "values": [total_values[kpi.code] for kpi in columns],
    }
    headers = [GROUPS[by], *[label for _name, label in VOLUMES], *map(export_header, columns)]
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    response = table_response(
        request,
        filename=f"kpi-overview-{by}-{start:%Y%m%d}-{end:%Y%m%d}",
        headers=headers,
        rows=[
            [
                entry["label"],
                *entry["volumes"],
                *[export_value(v, k.unit) for v, k in zip(entry["values"], columns, strict=True)],
            ]
            for entry in [*table, {**total, "label": str(_("Total"))}]
        ],
    )
    if response is not None:
        return response
    for entry in [*table, total]:
        entry["cells"] = [
            {"code": kpi.code, "text": format_value(value, kpi.unit)}
            for kpi, value in zip(columns, entry["values"], strict=True)
        ]
    context.update(
        by=by,
        group_label=GROUPS[by],
        table=table,
        total=total,
        exports=_exports(request),
        breadcrumbs=_breadcrumbs(form, path, params, _staff_name(form)),
        trends_url=_link(reverse("dashboards:trends"), params, by=None),
    )
    return render(request, "dashboards/overview.html", context)


@require_perm(VIEW_KPIS)
def definitions(request):
    """How every KPI is computed, for the managers who read them."""
    rows = [
        {
            "kpi": kpi,
            "unit": UNITS[kpi.unit],
            "better": BETTER[kpi.better],
        }
        for kpi in kpis.KPIS
    ]
    return render(request, "dashboards/definitions.html", {"rows": rows})


def _activity(measures: dict) -> int:
    return sum(measures[name] for name in ACTIVITY)


@require_perm(VIEW_KPIS)
def trends(request):
    """One KPI over time for the filtered scope, and optionally one line per part of it."""
    form = _bound(TrendForm, request)
    context = {"form": form}
    if not form.is_valid():
        return render(request, "dashboards/trends.html", context, status=400)
    data = form.cleaned_data
    kpi = kpis.KPI_BY_CODE[data["kpi"]]
    grain = data["grain"]
    start, end = data["start"], data["end"]
    axis = periods(start, end, grain)
    params = _params(form)
    path = request.path
    query = form.query()

    total_rows = kpi_table(request.user, by=(grain,), codes=[kpi.code], **query)
    total_values = {row.key[grain]: row.values[kpi.code] for row in total_rows}
    staff_name = _staff_name(form)
    scope_name = _scope_name(form, staff_name)
    series = [
        {
            "key": "total",
            "label": scope_name,
            "values": [total_values.get(point) for point in axis],
            "href": None,
        }
    ]
    child = form.child()
    hidden = 0
    if data.get("split") and child is not None:
        child_rows = kpi_table(request.user, by=(child, grain), codes=[kpi.code], **query)
        lines: dict = {}
        for row in child_rows:
            key = row.key[child]
            line = lines.setdefault(
                key, {"label": row.labels.get(child, "—"), "values": {}, "activity": 0}
            )
            line["values"][row.key[grain]] = row.values[kpi.code]
            line["activity"] += _activity(row.measures)
        ranked = sorted(lines.items(), key=lambda item: (-item[1]["activity"], item[1]["label"]))
        hidden = max(0, len(ranked) - MAX_LINES)
        for key, line in sorted(ranked[:MAX_LINES], key=lambda item: item[1]["label"]):
            changes = _narrowed(child, key, params)
            series.append(
                {
                    "key": str(key),
                    "label": line["label"],
                    "values": [line["values"].get(point) for point in axis],
                    "href": _link(path, params, **changes) if changes else None,
                }
            )

    headers = [
        GROUPS.get(child, _("Scope")) if len(series) > 1 else _("Scope"),
        *[period_label(point, grain) for point in axis],
    ]
    response = table_response(
        request,
        filename=f"kpi-trend-{kpi.code}-{grain}-{start:%Y%m%d}-{end:%Y%m%d}",
        headers=[f"{headers[0]} / {export_header(kpi)}", *headers[1:]],
        rows=[
            [line["label"], *[export_value(v, kpi.unit) for v in line["values"]]] for line in series
        ],
    )
    if response is not None:
        return response
    chart = {
        "title": str(kpi.name),
        "unit": kpi.unit,
        "x": [point.isoformat() for point in axis],
        "xLabels": [period_label(point, grain) for point in axis],
        "series": [
            {
                **line,
                "values": [None if v is None else round(v, 4) for v in line["values"]],
                "label": str(line["label"]),
            }
            for line in series
        ],
        "noData": str(_("No data for this period.")),
    }
    for line in series:
        line["cells"] = [format_value(v, kpi.unit) for v in line["values"]]
    context.update(
        kpi=kpi,
        better=BETTER[kpi.better],
        grain=grain,
        axis=[period_label(point, grain) for point in axis],
        series=series,
        chart=chart,
        child=child,
        child_label=GROUPS.get(child) if child else None,
        hidden=hidden,
        max_lines=MAX_LINES,
        split=bool(data.get("split")),
        split_url=_link(path, params, split="on"),
        exports=_exports(request),
        breadcrumbs=_breadcrumbs(form, path, params, staff_name),
        overview_url=_link(
            reverse("dashboards:overview"), params, kpi=None, grain=None, split=None
        ),
    )
    return render(request, "dashboards/trends.html", context)


def _scope_name(form, staff_name: str | None) -> str:
    data = form.cleaned_data
    names = form.names()
    if data.get("staff") is not None:
        return staff_name or "—"
    if data.get("service"):
        return data["service"]
    if data.get("branch") is not None:
        return str(names["branch"])
    if data.get("region") is not None:
        return str(names["region"])
    return str(_("All in my scope"))
