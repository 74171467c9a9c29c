"""The live monitor (a branch now, or a region's branches side by side) and its alert rules."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from bankservice.branches.models import Branch, Region
from bankservice.branches.scope import can_act_at, has_perm
from bankservice.core.decorators import require_perm
from bankservice.core.errors import BadInput
from reception.selectors import live_queues

from . import alerts, monitor
from .models import AlertFiring, AlertMetric, AlertRule
from .selectors import VIEW_KPIS, scope_branch_ids

# The page asks for fresh figures this often (seconds).
REFRESH_SECONDS = 15


# --- The monitor ------------------------------------------------------------------------------


class PickerForm(forms.Form):
    """A branch or a region within the user's scope; anything else is not there (404)."""

    region = forms.TypedChoiceField(label=_("Region"), coerce=int, required=False)
    branch = forms.TypedChoiceField(label=_("Branch"), coerce=int, required=False)

    def __init__(self, data, *, branches, regions):
        super().__init__(data)
        everything = [("", _("All in my scope"))]
        self.fields["region"].choices = everything + [(r.pk, r.name) for r in regions]
        self.fields["branch"].choices = everything + [(b.pk, b.name) for b in branches]
        self.fields["region"].empty_value = None
        self.fields["branch"].empty_value = None
        self.fields["region"].widget.attrs["id"] = "monitor-region"
        self.fields["branch"].widget.attrs["id"] = "monitor-branch"


def _over_flags(figures: monitor.BranchFigures, rules: list[AlertRule]) -> dict:
    """Which figures are past an active rule's threshold: {"waiting": bool, ..., "services":
    {code: {"waiting": bool, "longest_wait": bool}}}."""
    flags = {metric: False for metric in AlertMetric.values}
    flags["services"] = {
        s.code: {"waiting": False, "longest_wait": False} for s in figures.services
    }
    for rule in rules:
        value = monitor.figure(figures, rule.metric, rule.service)
        if not monitor.over(rule.metric, value, rule.threshold):
            continue
        if rule.service:
            if rule.service in flags["services"]:
                flags["services"][rule.service][rule.metric] = True
        else:
            flags[rule.metric] = True
    return flags


def _context(request) -> dict:
    user = request.user
    scope = scope_branch_ids(user)
    branches = list(Branch.objects.filter(id__in=scope).order_by("name"))
    regions = list(Region.objects.filter(branches__id__in=scope).distinct().order_by("name"))
    picker = PickerForm(request.GET or None, branches=branches, regions=regions)
    region = branch = None
    if picker.is_bound:
        if not picker.is_valid():
            raise Http404
        region, branch = picker.cleaned_data["region"], picker.cleaned_data["branch"]
    if branch is None and region is None and len(scope) == 1:
        branch = scope[0]
    ids = scope_branch_ids(user, region=region, branch=branch)
    if not ids:
        raise Http404
    now = timezone.now()
    figures = monitor.live_figures(ids, now=now)
    rules: dict[int, list[AlertRule]] = {}
    for rule in AlertRule.objects.filter(branch_id__in=ids, is_active=True):
        rules.setdefault(rule.branch_id, []).append(rule)
    firings = list(
        AlertFiring.objects.filter(branch_id__in=ids, cleared_at__isnull=True).select_related(
            "rule", "branch"
        )
    )
    rows = []
    for branch_id, one in figures.items():
        flags = _over_flags(one, rules.get(branch_id, []))
        overs = sum(1 for name, value in flags.items() if name != "services" and value) + sum(
            1 for service in flags["services"].values() for value in service.values() if value
        )
        services = [
            {"figures": service, "over": flags["services"][service.code]}
            for service in one.services
        ]
        rows.append({"figures": one, "over": flags, "overs": overs, "services": services})
    # Worst first: most figures past a threshold, then the longest wait, the longest queue.
    rows.sort(
        key=lambda r: (
            -r["overs"],
            -r["figures"].longest_wait.total_seconds(),
            -r["figures"].waiting,
            r["figures"].branch.name,
        )
    )
    query = request.GET.urlencode()
    return {
        "picker": picker,
        "single": branch is not None,
        "row": rows[0] if branch is not None else None,
        "rows": rows,
        "firings": firings,
        "now": now,
        "zone": rows[0]["figures"].branch.time_zone if branch is not None else None,
        "refresh_seconds": REFRESH_SECONDS,
        "panel_url": reverse("dashboards:monitor_panel") + (f"?{query}" if query else ""),
        "can_set_alerts": has_perm(user, alerts.VIEW_PERM),
    }


@require_perm(VIEW_KPIS)
def monitor_page(request):
    return render(request, "dashboards/monitor.html", _context(request))


@require_perm(VIEW_KPIS)
def monitor_panel(request):
    """The figures alone, for the page to refresh itself (htmx, every REFRESH_SECONDS)."""
    return render(request, "dashboards/monitor_panel.html", _context(request))


# --- Alert rules ------------------------------------------------------------------------------


class AlertRuleForm(forms.Form):
    branch = forms.TypedChoiceField(label=_("Branch"), coerce=int)
    metric = forms.ChoiceField(label=_("Figure"), choices=AlertMetric.choices)
    service = forms.CharField(
        label=_("Service code"),
        max_length=60,
        required=False,
        help_text=_("Only for the queue figures; empty for the whole branch."),
    )
    threshold = forms.IntegerField(label=_("Threshold"), min_value=0, max_value=100_000)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, data=None, *, branches):
        super().__init__(data)
        self.fields["branch"].choices = [(b.pk, b.name) for b in branches]
        if len(branches) == 1:
            self.fields["branch"].initial = branches[0].pk
        for name, field in self.fields.items():
            field.widget.attrs["id"] = f"alert-{name}"
        self.branches = {b.pk: b for b in branches}

    def clean(self):
        data = super().clean()
        metric, service = data.get("metric"), (data.get("service") or "").strip()
        data["service"] = service
        if metric == AlertMetric.SERVICE_LEVEL and (data.get("threshold") or 0) > 100:
            self.add_error("threshold", _("A service level is a per cent: at most 100."))
        if service and metric and metric not in monitor.QUEUE_METRICS:
            self.add_error(
                "service",
                _("Only the queue figures (waiting, longest wait) can be set for one service."),
            )
        elif service and data.get("branch") in self.branches:
            codes = {row["service"] for row in live_queues(branch_ids=[data["branch"]])}
            if service not in codes:
                self.add_error("service", _("The branch has no active service with this code."))
        return data


class AlertRuleEditForm(forms.Form):
    threshold = forms.IntegerField(label=_("Threshold"), min_value=0, max_value=100_000)
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, data=None, *, rule: AlertRule, **kwargs):
        super().__init__(data, **kwargs)
        self.rule = rule
        for name, field in self.fields.items():
            field.widget.attrs["id"] = f"alert-{name}"

    def clean_threshold(self):
        threshold = self.cleaned_data["threshold"]
        if self.rule.metric == AlertMetric.SERVICE_LEVEL and threshold > 100:
            raise forms.ValidationError(_("A service level is a per cent: at most 100."))
        return threshold


def _apply_error(form, error: BadInput) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@require_perm(alerts.VIEW_PERM)
def alert_rules(request):
    user = request.user
    add_ids = scope_branch_ids(user, perm=alerts.ADD_PERM)
    add_branches = list(Branch.objects.filter(id__in=add_ids).order_by("name"))
    form = None
    if add_branches:
        form = AlertRuleForm(request.POST or None, branches=add_branches)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                alerts.alert_rule_create(
                    actor=user,
                    branch=form.branches[data["branch"]],
                    metric=data["metric"],
                    service=data["service"],
                    threshold=data["threshold"],
                    is_active=data["is_active"],
                )
            except BadInput as error:
                _apply_error(form, error)
            else:
                return redirect("dashboards:alert_rules")
    rules = (
        AlertRule.objects.visible_to(user, alerts.VIEW_PERM)
        .select_related("branch")
        .prefetch_related(
            Prefetch(
                "firings",
                queryset=AlertFiring.objects.filter(cleared_at__isnull=True),
                to_attr="open_firings",
            )
        )
        .order_by("branch__name", "metric", "service", "pk")
    )
    change_ids = set(scope_branch_ids(user, perm=alerts.CHANGE_PERM))
    delete_ids = set(scope_branch_ids(user, perm=alerts.DELETE_PERM))
    rows = [
        {
            "rule": rule,
            "can_change": rule.branch_id in change_ids,
            "can_delete": rule.branch_id in delete_ids,
        }
        for rule in rules
    ]
    status = 400 if request.method == "POST" else 200
    return render(
        request, "dashboards/monitor_alerts.html", {"form": form, "rows": rows}, status=status
    )


def _rule(request, pk: int, perm: str) -> AlertRule:
    rule = get_object_or_404(
        AlertRule.objects.visible_to(request.user, alerts.VIEW_PERM).select_related("branch"),
        pk=pk,
    )
    if not can_act_at(request.user, perm, rule.branch_id):
        raise PermissionDenied
    return rule


@require_perm(alerts.CHANGE_PERM)
def alert_rule_edit(request, pk: int):
    rule = _rule(request, pk, alerts.CHANGE_PERM)
    initial = {"threshold": rule.threshold, "is_active": rule.is_active}
    form = AlertRuleEditForm(request.POST or None, rule=rule, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                alerts.alert_rule_update(
                    actor=request.user,
                    rule=rule,
                    threshold=form.cleaned_data["threshold"],
                    is_active=form.cleaned_data["is_active"],
                )
            except BadInput as error:
                _apply_error(form, error)
            else:
                return redirect("dashboards:alert_rules")
        return render(
            request, "dashboards/monitor_alert_edit.html", {"form": form, "rule": rule}, status=400
        )
    return render(request, "dashboards/monitor_alert_edit.html", {"form": form, "rule": rule})


@require_POST
@require_perm(alerts.DELETE_PERM)
def alert_rule_delete(request, pk: int):
    rule = _rule(request, pk, alerts.DELETE_PERM)
    alerts.alert_rule_delete(actor=request.user, rule=rule)
    return redirect("dashboards:alert_rules")
