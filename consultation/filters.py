"""One filter set for the consultation API list and the staff list page."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Channel, Consultation, ConsultationStatus, Outcome


class ConsultationFilter(django_filters.FilterSet):
    started_from = django_filters.DateFilter(
        field_name="started_at", lookup_expr="date__gte", label=_("From")
    )
    started_to = django_filters.DateFilter(
        field_name="started_at", lookup_expr="date__lte", label=_("To")
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label=_("Outcome"))
    status = django_filters.ChoiceFilter(choices=ConsultationStatus.choices, label=_("Status"))
    advisor = django_filters.NumberFilter(field_name="advisor_id", label=_("Advisor (user id)"))
    branch = django_filters.CharFilter(field_name="branch__code", label=_("Branch code"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))

    class Meta:
        model = Consultation
        fields = [
            "started_from",
            "started_to",
            "channel",
            "outcome",
            "status",
            "advisor",
            "branch",
            "customer",
        ]
