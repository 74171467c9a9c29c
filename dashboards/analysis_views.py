"""The evaluation and staffing pages (issue 9): forms, tables and their CSV/XLSX exports.

- /dashboards/evaluation/: every KPI of two periods of the same branches, or of pilot branches
  against control branches, with the change and whether it is significant (dashboards.evaluation).
- /dashboards/staffing/: arrivals forecast and counters needed per hour of a week for one
  service of one branch, with the expected service level and wait of the counters planned
  (dashboards.staffing).

Both pages compute only once their form is submitted; bad input shows form errors.
"""

from __future__ import annotations

import datetime as dt
import math

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Branch
from bankservice.core.decorators import require_perm

from . import kpis
from . import staffing as staffing_model
from .evaluation import Group, evaluate
from .exports import table_response
from .forms import MAX_DAYS
from .selectors import VIEW_KPIS, scope_branch_ids

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DEFAULT_PERIOD_DAYS = 28
MAX_PLANNED = 500


# --- Formatting of KPI values for the page (the exports keep raw numbers).


def show_value(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "seconds":
        return gettext("%(minutes).1f min") % {"minutes": value / 60}
    if unit == "share":
        return f"{value * 100:.1f}%"
    return f"{value:.2f}"


def show_change(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "seconds":
        return gettext("%(minutes)+.1f min") % {"minutes": value / 60}
    if unit == "share":
        return gettext("%(points)+.1f pp") % {"points": value * 100}
    return f"{value:+.2f}"


def show_p(value) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _branch_choices(principal):
    ids = scope_branch_ids(principal)
    return [(b.id, b.name) for b in Branch.objects.filter(id__in=ids).order_by("name")]


# --- Evaluation


class EvaluationForm(forms.Form):
    MODES = (("periods", _("Two periods")), ("pilot", _("Pilot against control")))

    mode = forms.ChoiceField(label=_("Compare"), choices=MODES)
    before_start = forms.DateField(label=_("Before: from"), required=False, widget=DATE)
    before_end = forms.DateField(label=_("Before: to"), required=False, widget=DATE)
    after_start = forms.DateField(label=_("After: from"), required=False, widget=DATE)
    after_end = forms.DateField(label=_("After: to"), required=False, widget=DATE)
    branches = forms.TypedMultipleChoiceField(
        label=_("Branches"),
        coerce=int,
        required=False,
        help_text=_("None chosen: every branch in your scope."),
    )
    start = forms.DateField(label=_("Pilot period: from"), required=False, widget=DATE)
    end = forms.DateField(label=_("Pilot period: to"), required=False, widget=DATE)
    pilot = forms.TypedMultipleChoiceField(label=_("Pilot branches"), coerce=int, required=False)
    control = forms.TypedMultipleChoiceField(
        label=_("Control branches"), coerce=int, required=False
    )
    service = forms.CharField(
        label=_("Service code"),
        max_length=60,
        required=False,
        help_text=_("Only this service's figures; empty: every service."),
    )
    kpi = forms.MultipleChoiceField(
        label=_("KPIs"), required=False, help_text=_("None chosen: every KPI.")
    )

    def __init__(self, data=None, *, principal, **kwargs):
        today = timezone.localdate()
        after_start = today - dt.timedelta(days=DEFAULT_PERIOD_DAYS)
        before_start = after_start - dt.timedelta(days=DEFAULT_PERIOD_DAYS)
        kwargs.setdefault(
            "initial",
            {
                "mode": "periods",
                "before_start": before_start,
                "before_end": after_start - dt.timedelta(days=1),
                "after_start": after_start,
                "after_end": today - dt.timedelta(days=1),
                "start": after_start,
                "end": today - dt.timedelta(days=1),
            },
        )
        super().__init__(data, **kwargs)
        branches = _branch_choices(principal)
        for name in ("branches", "pilot", "control"):
            self.fields[name].choices = branches
            self.fields[name].widget.attrs["size"] = min(max(len(branches), 2), 8)
        self.fields["kpi"].choices = [(kpi.code, kpi.name) for kpi in kpis.KPIS]
        self.fields["kpi"].widget.attrs["size"] = 8

    def _period(self, data, start_name, end_name) -> None:
        start, end = data.get(start_name), data.get(end_name)
        for name, value in ((start_name, start), (end_name, end)):
            if value is None and name not in self.errors:
                self.add_error(name, _("Enter a date."))
        if start and end:
            if end < start:
                self.add_error(end_name, _("The period ends before it starts."))
            elif (end - start).days >= MAX_DAYS:
                self.add_error(
                    end_name, _("Choose a period of at most %(days)d days.") % {"days": MAX_DAYS}
                )

    def clean(self):
        data = super().clean()
        if data.get("mode") == "periods":
            self._period(data, "before_start", "before_end")
            self._period(data, "after_start", "after_end")
        elif data.get("mode") == "pilot":
            self._period(data, "start", "end")
            pilot, control = set(data.get("pilot") or ()), set(data.get("control") or ())
            if "pilot" not in self.errors and not pilot:
                self.add_error("pilot", _("Choose at least one pilot branch."))
            if "control" not in self.errors and not control:
                self.add_error("control", _("Choose at least one control branch."))
            if pilot & control:
                self.add_error("control", _("A branch cannot be both pilot and control."))
        data["service"] = data.get("service") or None
        return data

    def groups(self) -> tuple[Group, Group]:
        """(first, second): (before, after) or (control, pilot). Call when valid."""
        data = self.cleaned_data
        if data["mode"] == "periods":
            ids = tuple(data["branches"]) or None
            return (
                Group(data["before_start"], data["before_end"], ids),
                Group(data["after_start"], data["after_end"], ids),
            )
        return (
            Group(data["start"], data["end"], tuple(data["control"])),
            Group(data["start"], data["end"], tuple(data["pilot"])),
        )


def verdict(row) -> str:
    """not-enough, better, worse or same (significant changes), or no-test / not-significant."""
    if not row.enough_data:
        return "not-enough"
    if row.test == "none":
        return "no-test"
    if not row.significant:
        return "not-significant"
    return row.direction


VERDICTS = {
    "not-enough": _("Not enough data"),
    "no-test": _("No test (change only)"),
    "not-significant": _("No significant change"),
    "better": _("Significant improvement"),
    "worse": _("Significantly worse"),
    "same": _("No change"),
}
EVALUATION_HEADERS = (
    "kpi",
    _("KPI"),
    _("Unit"),
    _("Better when"),
    _("Before / control"),
    _("After / pilot"),
    pgettext_lazy("evaluation: after minus before", "Change"),
    _("Interval, low"),
    _("Interval, high"),
    _("p-value"),
    _("Significant"),
    _("Test"),
    _("Observations before / control"),
    _("Observations after / pilot"),
    _("Verdict"),
)


@require_perm(VIEW_KPIS)
def evaluation_view(request):
    form = EvaluationForm(request.GET if "mode" in request.GET else None, principal=request.user)
    rows = []
    if form.is_bound and form.is_valid():
        first, second = form.groups()
        results, _measures_a, _measures_b = evaluate(
            request.user,
            first,
            second,
            codes=form.cleaned_data["kpi"] or None,
            service=form.cleaned_data["service"],
        )
        response = table_response(
            request,
            filename=f"evaluation-{form.cleaned_data['mode']}",
            headers=EVALUATION_HEADERS,
            rows=[
                [
                    row.code,
                    row.name,
                    row.unit,
                    row.better,
                    row.before,
                    row.after,
                    row.change,
                    row.low,
                    row.high,
                    row.p_value,
                    "yes" if row.significant else "no",
                    row.test,
                    row.n_before,
                    row.n_after,
                    verdict(row),
                ]
                for row in results
            ],
        )
        if response is not None:
            return response
        for row in results:
            key = verdict(row)
            rows.append(
                {
                    "row": row,
                    "before": show_value(row.before, row.unit),
                    "after": show_value(row.after, row.unit),
                    "change": show_change(row.change, row.unit),
                    "low": show_change(row.low, row.unit),
                    "high": show_change(row.high, row.unit),
                    "p": show_p(row.p_value),
                    "verdict": key,
                    "verdict_label": VERDICTS[key],
                }
            )
    query = request.GET.copy()
    query.pop("export", None)
    return render(
        request,
        "dashboards/evaluation.html",
        {
            "form": form,
            "rows": rows,
            "computed": bool(form.is_bound and form.is_valid()),
            "mode": form.cleaned_data.get("mode") if form.is_bound and form.is_valid() else None,
            "query": query.urlencode(),
        },
    )


# --- Staffing


class StaffingForm(forms.Form):
    branch = forms.TypedChoiceField(label=_("Branch"), coerce=int)
    service = forms.ChoiceField(label=_("Service"))
    week = forms.DateField(
        label=_("Week of"), widget=DATE, help_text=_("Any day of the week; it starts on Monday.")
    )
    weeks = forms.IntegerField(
        label=_("Weeks of history"), min_value=1, max_value=52, initial=staffing_model.DEFAULT_WEEKS
    )
    target_percent = forms.IntegerField(
        label=_("Target: per cent called"), min_value=1, max_value=99, initial=80
    )
    target_minutes = forms.IntegerField(
        label=_("within minutes"), min_value=1, max_value=240, initial=10
    )
    planned = forms.IntegerField(
        label=_("Counters planned"),
        min_value=0,
        max_value=MAX_PLANNED,
        required=False,
        help_text=_("Empty: the counters at the branch that serve the service."),
    )

    def __init__(self, data=None, *, principal, **kwargs):
        kwargs.setdefault("initial", {"week": staffing_model.next_monday()})
        super().__init__(data, **kwargs)
        self.fields["branch"].choices = _branch_choices(principal)
        self.services = staffing_model.services_in_scope(principal)
        names = {}
        for row in self.services:
            names.setdefault(row["code"], f"{row['code']} · {row['name']}")
        self.fields["service"].choices = sorted(names.items())

    def clean(self):
        data = super().clean()
        branch, service = data.get("branch"), data.get("service")
        known = {(row["branch"], row["code"]) for row in self.services}
        if branch is not None and service and (branch, service) not in known:
            self.add_error("service", _("The branch has no active service with this code."))
        return data


def _wait(seconds) -> str:
    if seconds is None or math.isinf(seconds):
        return gettext("never empties")
    return gettext("%(minutes).1f min") % {"minutes": seconds / 60}


STAFFING_HEADERS = (
    _("Date"),
    _("Hour"),
    _("Open"),
    _("Arrivals forecast"),
    _("Counters needed"),
    _("Service level with those"),
    _("Counters planned"),
    _("Service level planned"),
    _("Mean wait planned (s)"),
    _("Plan misses the target"),
)


@require_perm(VIEW_KPIS)
def staffing_view(request):
    form = StaffingForm(request.GET if "branch" in request.GET else None, principal=request.user)
    result = None
    grid = []
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = staffing_model.plan(
                request.user,
                branch=data["branch"],
                service=data["service"],
                week=data["week"],
                weeks=data["weeks"],
                level=data["target_percent"] / 100,
                target_seconds=data["target_minutes"] * 60,
                planned=data["planned"],
            )
        except staffing_model.StaffingError as error:
            form.add_error(error.field, error.message)
    if result is not None:
        response = table_response(
            request,
            filename=f"staffing-{result.service}-{result.week:%Y%m%d}",
            headers=STAFFING_HEADERS,
            rows=[
                [
                    hour.day,
                    hour.hour,
                    "yes" if hour.open else "no",
                    round(hour.arrivals, 2),
                    hour.needed,
                    round(hour.needed_level, 4) if hour.needed_level is not None else None,
                    hour.planned,
                    round(hour.planned_level, 4),
                    staffing_model.finite(hour.planned_wait_seconds),
                    "yes" if hour.misses else "no",
                ]
                for hour in result.hours
            ],
        )
        if response is not None:
            return response
        by_cell = {(hour.day, hour.hour): hour for hour in result.hours}
        for hour_of_day in sorted({hour.hour for hour in result.hours}):
            cells = []
            for day in result.days():
                cell = by_cell.get((day, hour_of_day))
                cells.append(
                    {
                        "day": day,
                        "plan": cell,
                        "arrivals": f"{cell.arrivals:.1f}" if cell else "",
                        "level": f"{cell.planned_level * 100:.0f}%" if cell else "",
                        "wait": _wait(cell.planned_wait_seconds) if cell else "",
                    }
                )
            grid.append({"hour": hour_of_day, "label": f"{hour_of_day:02d}:00", "cells": cells})
    query = request.GET.copy()
    query.pop("export", None)
    summary = None
    if result is not None:
        level = result.planned_level
        summary = {
            "arrivals": f"{result.total_arrivals:.1f}",
            "needed": result.counter_hours_needed,
            "planned": result.counter_hours_planned,
            "missing": result.hours_missing,
            "level": f"{level * 100:.1f}%" if level is not None else "—",
            "handle": gettext("%(minutes).1f min") % {"minutes": result.handle_seconds / 60},
        }
    return render(
        request,
        "dashboards/staffing.html",
        {
            "form": form,
            "plan": result,
            "grid": grid,
            "summary": summary,
            "query": query.urlencode(),
        },
    )
