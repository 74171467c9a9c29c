"""The complaints report page and the regulatory return's downloads (complaints.export_complaint).

The page shows, for the period chosen, the breakdown by one dimension, the Pareto of root causes
and the repeats after corrective actions (complaints/reporting.py); its buttons download the
return (complaints/exports.py) for the same period. Each download is recorded as an event.
"""

import zoneinfo

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bankservice.core.decorators import require_perm
from bankservice.events.services import record

from . import exports, reporting
from .reporting import EXPORT_PERM

# A year and a bit: a return is monthly, quarterly or yearly.
MAX_DAYS = 400
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("Received from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=_("to"), widget=forms.DateInput(attrs={"type": "date"}))
    dimension = forms.ChoiceField(
        label=pgettext_lazy("complaints report", "Group by"),
        choices=[(key, label) for key, (label, _columns) in reporting.DIMENSIONS.items()],
        required=False,
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The period ends before it starts."))
            elif (end - start).days >= MAX_DAYS:
                self.add_error(
                    "end", _("Choose a period of at most %(days)d days.") % {"days": MAX_DAYS}
                )
        data["dimension"] = data.get("dimension") or "category"
        return data


def _period_form(request) -> PeriodForm:
    """The form bound to the query, or to this month so far when the page is first opened."""
    if "start" in request.GET or "end" in request.GET:
        return PeriodForm(request.GET)
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()
    initial = {"start": today.replace(day=1), "end": today, "dimension": "category"}
    return PeriodForm({key: str(value) for key, value in initial.items()})


def _links(request) -> dict:
    namespace = request.resolver_match.namespace
    return {
        name: reverse(f"{namespace}:{name}") for name in ("report", "export_csv", "export_xlsx")
    }


@require_perm(EXPORT_PERM)
def report(request):
    """The report for a period: breakdown, Pareto of root causes, repeats after actions."""
    form = _period_form(request)
    context = {"form": form, "links": _links(request)}
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        pareto, without_cause = reporting.root_cause_pareto(request.user, start, end)
        context.update(
            start=start,
            end=end,
            breakdown=reporting.breakdown(request.user, start, end, form.cleaned_data["dimension"]),
            dimension_label=reporting.DIMENSIONS[form.cleaned_data["dimension"]][0],
            pareto=pareto,
            without_cause=without_cause,
            repeats=reporting.repeats_after_actions(request.user, start, end),
            query=f"start={start.isoformat()}&end={end.isoformat()}",
        )
    status = 200 if form.is_valid() else 400
    return render(request, "complaints/reports.html", context, status=status)


def _refused(request, form) -> HttpResponse:
    context = {"form": form, "links": _links(request)}
    return render(request, "complaints/reports.html", context, status=400)


def _recorded_export(request, form, fmt: str):
    """The period's rows and the file name; the export is recorded first."""
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    with transaction.atomic():
        record(
            type="complaints.exported",
            actor=request.user,
            payload={"format": fmt, "start": start.isoformat(), "end": end.isoformat()},
        )
    filename = f"complaints-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
    return exports.return_rows(request.user, start, end), filename


@require_perm(EXPORT_PERM)
def export_csv(request):
    """The regulatory return as CSV, streamed (UTF-8 with a byte-order mark)."""
    form = _period_form(request)
    if not form.is_valid():
        return _refused(request, form)
    rows, filename = _recorded_export(request, form, "csv")
    response = StreamingHttpResponse(
        exports.csv_lines(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_perm(EXPORT_PERM)
def export_xlsx(request):
    """The regulatory return as an Excel workbook."""
    form = _period_form(request)
    if not form.is_valid():
        return _refused(request, form)
    rows, filename = _recorded_export(request, form, "xlsx")
    response = HttpResponse(exports.xlsx_bytes(rows), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
