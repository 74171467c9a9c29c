"""One filter set for the ticket API list and staff ticket lists."""

import django_filters
from django.utils.translation import gettext_lazy

from .models import Ticket, TicketStatus


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    service_type = django_filters.NumberFilter(
        field_name="service_type", label=gettext_lazy("Service type id")
    )
    counter = django_filters.NumberFilter(field_name="counter", label=gettext_lazy("Counter id"))
    business_date = django_filters.DateFilter(label=gettext_lazy("Business date"))
    branch = django_filters.CharFilter(field_name="branch__code", label=gettext_lazy("Branch code"))
    number = django_filters.CharFilter(label=gettext_lazy("Ticket number"))

    class Meta:
        model = Ticket
        fields = ["status", "service_type", "counter", "business_date", "branch", "number"]
