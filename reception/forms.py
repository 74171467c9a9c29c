"""Staff forms: issuing a ticket at the greeter's desk, completing and transferring at a counter,
advisors' weekly availability and time off."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bankservice.branches.models import OpeningHours
from bankservice.customers.forms import CustomerLookupForm
from bankservice.customers.validators import normalize_phone

from .models import Counter, ServiceType


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ServiceType) -> str:
        return f"{obj.prefix} · {obj.name}"


class IssueTicketForm(CustomerLookupForm):
    """A service and, optionally, the customer: found by core-banking ID, full ID number or the
    last digits of the phone, among the customers the greeter may see."""

    service_type = ServiceChoiceField(
        queryset=ServiceType.objects.none(), label=pgettext_lazy("queue", "Service")
    )
    # "You're next" SMS: to the customer's own number (with their SMS consent), or for a walk-in
    # to the number given here, for this ticket only (reception/next_notice.py).
    sms_when_next = forms.BooleanField(
        label=_("Text the customer when nearly next"), required=False
    )
    contact_phone = forms.CharField(
        label=_("Mobile number for the SMS (walk-ins)"), required=False, max_length=32
    )

    def __init__(self, *args, branch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_query"].label = _("Customer (optional)")
        self.fields["service_type"].queryset = ServiceType.objects.filter(
            branch=branch, is_active=True
        )

    def clean_contact_phone(self) -> str:
        phone = self.cleaned_data["contact_phone"].strip()
        return normalize_phone(phone) if phone else ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("customer") is not None or not cleaned.get("sms_when_next"):
            cleaned["contact_phone"] = ""  # an identified customer is texted at their own number
        elif not cleaned.get("contact_phone") and not self.errors:
            self.add_error("contact_phone", _("Give a phone number for the SMS."))
        return cleaned


class CompleteForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("What was done (service marks, refs)")}),
    )


class CounterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Counter) -> str:
        return str(obj)


class TransferForm(forms.Form):
    """Where the visit goes next: a service of the same branch, optionally one counter."""

    service_type = ServiceChoiceField(queryset=ServiceType.objects.none(), label=_("To service"))
    counter = CounterChoiceField(
        queryset=Counter.objects.none(),
        required=False,
        label=_("To counter (optional)"),
        empty_label=_("Any counter"),
    )

    def __init__(self, *args, branch_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].queryset = ServiceType.objects.filter(
            branch_id=branch_id, is_active=True
        )
        self.fields["counter"].queryset = Counter.objects.filter(branch_id=branch_id)


class AvailabilityForm(forms.Form):
    """A weekly period when an advisor takes appointments at a branch (branch managers)."""

    service_types = forms.ModelMultipleChoiceField(
        queryset=ServiceType.objects.none(),
        label=_("Services"),
        widget=forms.CheckboxSelectMultiple,
    )
    weekday = forms.TypedChoiceField(
        label=_("Weekday"), choices=OpeningHours.Weekday.choices, coerce=int
    )
    starts = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))
    valid_from = forms.DateField(
        label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, branch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_types"].queryset = ServiceType.objects.filter(
            branch=branch, with_advisor=True, is_active=True
        )


class TimeOffForm(forms.Form):
    """An advisor away, in the branch's local time."""

    starts_at = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=120, required=False)
