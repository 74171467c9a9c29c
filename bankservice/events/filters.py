"""One filter set for the audit trail page, its CSV export and /api/v1/events."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Event


class EventFilter(django_filters.FilterSet):
    after = django_filters.NumberFilter(
        field_name="id", lookup_expr="gt", label=_("After event id"), min_value=0
    )
    type = django_filters.CharFilter(
        method="filter_type", label=_("Type"), help_text=_("customer.updated, or customer.*")
    )
    user = django_filters.CharFilter(field_name="actor_user__username", label=_("User"))
    branch = django_filters.CharFilter(field_name="branch__code", label=_("Branch code"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer number"))
    subject_type = django_filters.CharFilter(
        method="filter_subject_type", label=_("Object type"), help_text=_("e.g. customers.customer")
    )
    subject_id = django_filters.CharFilter(field_name="subject_id", label=_("Object id"))
    since = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="date__gte", label=_("From date")
    )
    until = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="date__lte", label=_("To date")
    )

    class Meta:
        model = Event
        fields = []

    def filter_type(self, queryset, name, value):
        value = value.strip()
        if value.endswith(".*"):
            return queryset.filter(type__startswith=value[:-1])
        return queryset.filter(type=value)

    def filter_subject_type(self, queryset, name, value):
        app_label, _dot, model = value.strip().lower().partition(".")
        return queryset.filter(subject_type__app_label=app_label, subject_type__model=model)
