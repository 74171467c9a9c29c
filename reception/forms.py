"""Staff forms: issuing a ticket at the greeter's desk, completing and transferring at a counter,
advisors' weekly availability and time off."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bankservice.branches.models import OpeningHours
from bankservice.customers.filters import CustomerFilter
from bankservice.customers.selectors import customer_list
from bankservice.customers.validators import normalize_phone

from .models import Counter, ServiceType

# More matches than this and the greeter should type more of the number.
MAX_CANDIDATES = 10


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ServiceType) -> str:
        return f"{obj.prefix} · {obj.name}"


class IssueTicketForm(forms.Form):
    """A service and, optionally, the customer: found by core-banking ID, full ID number or the
    last digits of the phone, among the customers the greeter may see."""

    service_type = ServiceChoiceField(
        queryset=ServiceType.objects.none(), label=pgettext_lazy("queue", "Service")
    )
    customer_query = forms.CharField(
        label=_("Customer (optional)"),
        required=False,
        max_length=64,
        help_text=_("Core-banking ID, full ID number or the last 4+ digits of the phone"),
    )
    # Picked from the candidates when the search matched several customers.
    customer = forms.ModelChoiceField(
        queryset=None,
        required=False,
        widget=forms.HiddenInput,
        label=_("Customer"),
        error_messages={"invalid_choice": _("That customer is not one you may see; search again.")},
    )
    # "You're next" SMS: to the customer's own number (with their SMS consent), or for a walk-in
    # to the number given here, for this ticket only (reception/next_notice.py).
    sms_when_next = forms.BooleanField(
        label=_("Text the customer when nearly next"), required=False
    )
    contact_phone = forms.CharField(
        label=_("Mobile number for the SMS (walk-ins)"), required=False, max_length=32
    )

    def __init__(self, *args, branch, principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.principal = principal
        self.candidates = []
        self.fields["service_type"].queryset = ServiceType.objects.filter(
            branch=branch, is_active=True
        )
        self.fields["customer"].queryset = customer_list(principal=principal)

    def clean_contact_phone(self) -> str:
        phone = self.cleaned_data["contact_phone"].strip()
        return normalize_phone(phone) if phone else ""

    def clean(self):
        cleaned = super().clean()
        self._find_customer(cleaned)
        if cleaned.get("customer") is not None or not cleaned.get("sms_when_next"):
            cleaned["contact_phone"] = ""  # an identified customer is texted at their own number
        elif not cleaned.get("contact_phone") and not self.errors:
            self.add_error("contact_phone", _("Give a phone number for the SMS."))
        return cleaned

    def _find_customer(self, cleaned) -> None:
        query = (cleaned.get("customer_query") or "").strip()
        if cleaned.get("customer") is not None or not query:
            return
        visible = customer_list(principal=self.principal)
        matches = list(CustomerFilter({"q": query}, queryset=visible).qs[: MAX_CANDIDATES + 1])
        if not matches:
            self.add_error("customer_query", _("No customer matches; check the number."))
        elif len(matches) > MAX_CANDIDATES:
            self.add_error("customer_query", _("Too many customers match; type the full number."))
        elif len(matches) > 1:
            self.candidates = matches
            self.add_error("customer_query", _("Several customers match: choose one below."))
        else:
            cleaned["customer"] = matches[0]


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
