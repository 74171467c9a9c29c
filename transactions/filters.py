"""One filter set for the service-request API list and staff request lists."""

import django_filters
from django.utils.translation import gettext_lazy as _

from bankservice.core.api_filters import IsoDateTimeFilter

from .models import RequestStatus, ServiceRequest


class RequestFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RequestStatus.choices, label=_("Status"))
    request_type = django_filters.CharFilter(
        field_name="request_type__code", label=_("Request type code")
    )
    branch = django_filters.CharFilter(field_name="branch__code", label=_("Branch code"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))
    maker = django_filters.NumberFilter(field_name="maker_id", label=_("Maker (user id)"))
    due_before = IsoDateTimeFilter(field_name="due_at", lookup_expr="lt", label=_("Due before"))
    due_after = IsoDateTimeFilter(
        field_name="due_at", lookup_expr="gte", label=_("Due at or after")
    )
    bundle_run = django_filters.NumberFilter(field_name="bundle_run_id", label=_("Bundle run id"))
    ordering = django_filters.OrderingFilter(
        fields=(("due_at", "due"), ("created_at", "created")),
        label=_("Order by"),
    )

    class Meta:
        model = ServiceRequest
        fields = [
            "status",
            "request_type",
            "branch",
            "customer",
            "maker",
            "due_before",
            "due_after",
            "bundle_run",
        ]
