"""Staff performance (dashboards:staff) and the monthly branch report (dashboards:monthly_report).

The staff page needs VIEW_STAFF and shows the people of the branches where the user holds it;
the report needs VIEW_KPIS and a branch in the user's scope (404 otherwise). Both downloads are
recorded as ``dashboards.exported`` events.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bankservice.branches.models import Branch
from bankservice.core.decorators import require_perm
from bankservice.events.services import record

from . import report_pdf
from .exports import EVENT_TYPE, table_response
from .forms import FilterForm
from .performance import MIN_ANSWERS, MIN_SERVED, staff_performance
from .report_pdf import duration
from .selectors import VIEW_KPIS, VIEW_STAFF, scope_branch_ids


def _trends_url(staff_id: int, query: dict) -> str | None:
    """The trends page for one person over the same period and scope (None until it exists)."""
    try:
        url = reverse("dashboards:trends")
    except NoReverseMatch:
        return None
    params = {"staff": staff_id, "start": query["start"], "end": query["end"]}
    for name in ("region", "branch", "service"):
        if query.get(name) is not None:
            params[name] = query[name]
    return f"{url}?{urlencode(params)}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _export_rows(people) -> tuple[list, list]:
    headers = [
        _("Staff"),
        _("Served"),
        _("Service time, mean (s)"),
        _("Expected for their mix of services (s)"),
        _("Actual / expected"),
        _("Too few served to judge"),
        _("Top services (share; branch share)"),
        _("CSAT, mean"),
        _("Survey answers"),
        _("Too few answers to judge"),
        _("Complaints about them"),
        _("Callbacks done"),
        _("Callbacks closed"),
        _("Requests finished"),
        _("Rework rate"),
    ]

    def rounded(value, digits=1):
        return None if value is None else round(value, digits)

    rows = [
        [
            person.name,
            person.served,
            rounded(person.service_mean),
            rounded(person.expected_service_mean),
            rounded(person.mix_ratio, 3),
            person.too_few_served,
            "; ".join(
                f"{share.service or '—'} {_percent(share.share)} ({_percent(share.branch_share)})"
                for share in person.top_services
            ),
            rounded(person.csat_mean, 2),
            person.csat_answers,
            person.too_few_answers,
            person.complaints,
            person.callbacks_done,
            person.callbacks_closed,
            person.requests_finished,
            rounded(person.rework_rate, 4),
        ]
        for person in people
    ]
    return headers, rows


def _display(person, query: dict) -> dict:
    return {
        "person": person,
        "trends_url": _trends_url(person.staff_id, query),
        "service_mean": duration(person.service_mean),
        "expected": duration(person.expected_service_mean),
        "ratio": _number(person.mix_ratio),
        "services": [
            {
                "code": share.service or "—",
                "share": _percent(share.share),
                "branch_share": _percent(share.branch_share),
            }
            for share in person.top_services
        ],
        "csat": _number(person.csat_mean),
        "rework": _percent(person.rework_rate),
    }


@require_GET
@require_perm(VIEW_STAFF)
def staff(request):
    """Each member of staff's figures in the filtered scope, with the caveats beside them."""
    form = FilterForm(request.GET or None, principal=request.user, perm=VIEW_STAFF)
    context = {"form": form, "min_served": MIN_SERVED, "min_answers": MIN_ANSWERS}
    if not form.is_valid():
        return render(request, "dashboards/staff.html", context, status=400)
    query = form.query()
    people = staff_performance(request.user, **query)
    start, end = query["start"], query["end"]
    headers, rows = _export_rows(people)
    response = table_response(
        request,
        filename=f"staff-performance-{start:%Y%m%d}-{end:%Y%m%d}",
        headers=headers,
        rows=rows,
    )
    if response is not None:
        return response
    params = {key: value for key, value in request.GET.items() if key != "export"}
    report_query = {"branch": query["branch"]} if query.get("branch") else {}
    context.update(
        start=start,
        end=end,
        days=(end - start).days + 1,
        rows=[_display(person, query) for person in people],
        export_query=urlencode(params),
        report_url=f"{reverse('dashboards:monthly_report')}?{urlencode(report_query)}"
        if report_query
        else reverse("dashboards:monthly_report"),
    )
    return render(request, "dashboards/staff.html", context)


class MonthlyReportForm(forms.Form):
    """A branch (any id: one outside the user's scope is a 404, not a form error) and a month."""

    branch = forms.IntegerField(label=gettext_lazy("Branch"), widget=forms.Select)
    month = forms.DateField(
        label=gettext_lazy("Month"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": gettext_lazy("Enter a month as YYYY-MM.")},
    )

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, **kwargs)
        ids = scope_branch_ids(principal, perm=VIEW_KPIS)
        # The branches in scope, by id: the view answers 404 for any other.
        self.branches = {b.id: b for b in Branch.objects.filter(id__in=ids).order_by("name")}
        self.fields["branch"].widget.choices = [
            (b.id, f"{b.name} ({b.code})") for b in self.branches.values()
        ]

    def clean_month(self):
        month = self.cleaned_data["month"]
        if not dt.date(2000, 1, 1) <= month <= dt.date(2100, 12, 1):
            raise forms.ValidationError(_("Choose a month between 2000 and 2100."))
        return month


def _last_month() -> dt.date:
    return report_pdf.previous_month(timezone.localdate())


@require_GET
@require_perm(VIEW_KPIS)
def monthly_report(request):
    """The picker (no query yet) or, for a branch and a month, the report as a PDF download."""
    if "month" not in request.GET:
        # The picker; a branch in the query (the staff page's link) or the only one preselected.
        form = MonthlyReportForm(principal=request.user)
        asked = request.GET.get("branch", "")
        branch = int(asked) if asked.isdigit() and int(asked) in form.branches else None
        if branch is None and len(form.branches) == 1:
            branch = next(iter(form.branches))
        form.initial = {"month": _last_month(), "branch": branch}
        return render(request, "dashboards/monthly_report.html", {"form": form})
    form = MonthlyReportForm(request.GET, principal=request.user)
    if not form.is_valid():
        return render(request, "dashboards/monthly_report.html", {"form": form}, status=400)
    branch = form.branches.get(form.cleaned_data["branch"])
    if branch is None:
        raise Http404(_("No such branch in your scope."))
    report = report_pdf.monthly_report(
        request.user, branch=branch, month=form.cleaned_data["month"]
    )
    name = report_pdf.filename(report)
    with transaction.atomic():
        record(
            type=EVENT_TYPE,
            actor=request.user,
            branch=branch,
            payload={
                "format": "pdf",
                "file": name,
                "path": request.path,
                "query": {"branch": branch.id, "month": f"{report.month:%Y-%m}"},
            },
        )
    response = HttpResponse(report_pdf.render_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Content-Language"] = get_language()
    return response
