"""The filter every dashboards page starts from: a period and, within the user's scope, a region,
a branch and a service. Unbound (first visit): the last 30 days, every branch in scope."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Branch, Region

from .selectors import VIEW_KPIS, scope_branch_ids

MAX_DAYS = 800  # two years and a bit: a year against the year before
DEFAULT_DAYS = 30


class FilterForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("to"), widget=forms.DateInput(attrs={"type": "date"}))
    region = forms.TypedChoiceField(label=_("Region"), coerce=int, required=False)
    branch = forms.TypedChoiceField(label=_("Branch"), coerce=int, required=False)
    service = forms.CharField(label=_("Service code"), max_length=60, required=False)

    def __init__(self, data=None, *, principal, perm=VIEW_KPIS, **kwargs):
        if data is None or not ({"start", "end"} & set(data)):
            today = timezone.localdate()
            data = {
                **(data.dict() if hasattr(data, "dict") else (data or {})),
                "start": str(today - dt.timedelta(days=DEFAULT_DAYS - 1)),
                "end": str(today),
            }
        super().__init__(data, **kwargs)
        self.principal = principal
        self.perm = perm
        ids = scope_branch_ids(principal, perm=perm)
        branches = Branch.objects.filter(id__in=ids).select_related("region").order_by("name")
        regions = Region.objects.filter(branches__id__in=ids).distinct().order_by("name")
        everything = [("", _("All in my scope"))]
        self.fields["region"].choices = everything + [(r.id, r.name) for r in regions]
        self.fields["branch"].choices = everything + [(b.id, b.name) for b in branches]
        self.fields["region"].empty_value = None
        self.fields["branch"].empty_value = None

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
        data["service"] = data.get("service") or None
        return data

    def query(self) -> dict:
        """Keyword arguments for selectors.kpi_table / measure_table (call when valid)."""
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["end"],
            "region": data.get("region"),
            "branch": data.get("branch"),
            "service": data.get("service"),
            "perm": self.perm,
        }
