"""One filter set for the customer API list and the staff search page."""

import re

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Customer, Segment

DIGITS = re.compile(r"\D")


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        help_text=_("Name, core-banking ID, full ID number, or the last 4+ digits of the phone"),
    )
    segment = django_filters.ChoiceFilter(choices=Segment.choices, label=_("Segment"))
    home_branch = django_filters.CharFilter(field_name="home_branch__code", label=_("Branch code"))
    core_banking_id = django_filters.CharFilter(label=_("Core-banking ID"))

    class Meta:
        model = Customer
        fields = ["q", "segment", "home_branch", "core_banking_id"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(full_name__icontains=value) | Q(core_banking_id=value)
        match |= Q(national_id=value.upper())
        digits = DIGITS.sub("", value)
        if len(digits) >= 4 and len(digits) >= len(value.replace(" ", "")) - 1:
            match |= Q(phone__endswith=digits)
        return queryset.filter(match)
