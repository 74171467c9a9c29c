"""Staff forms for the customer record."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Branch

from .filters import CustomerFilter
from .models import Customer
from .selectors import customer_list
from .services import EDITABLE_FIELDS

MASKED_FIELDS = ("national_id", "phone")
# More matches than this and the user should type more of the number.
MAX_CANDIDATES = 10


class CustomerForm(forms.ModelForm):
    confirm_duplicate = forms.BooleanField(
        required=False,
        label=_("I have checked: this is a different person who shares the phone number"),
    )
    # The version the form was filled from; the service refuses the save if it moved on
    # (the page always carries it; a post without it is not checked, as in the API).
    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    class Meta:
        model = Customer
        fields = EDITABLE_FIELDS
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, principal, perm: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_branch"].queryset = Branch.objects.visible_to(principal, perm)
        self._stored = {name: getattr(self.instance, name) for name in MASKED_FIELDS}
        if self.instance.pk:
            self.initial["version"] = self.instance.version
            # The page never carries the full numbers: blank means "keep the stored one".
            for name in MASKED_FIELDS:
                field = self.fields[name]
                field.widget.attrs["placeholder"] = getattr(self.instance, f"{name}_masked")
                field.help_text = _("Leave blank to keep the stored number.")
                self.initial[name] = ""

    def _keep_if_blank(self, name: str):
        value = self.cleaned_data.get(name)
        return self._stored[name] if self.instance.pk and not value else value

    def clean_national_id(self):
        return self._keep_if_blank("national_id")

    def clean_phone(self):
        return self._keep_if_blank("phone")

    def validate_unique(self):
        # Duplicates are the service's to find: it names the field and the existing record.
        pass

    def service_data(self) -> dict:
        """Normalised field values for the service (Customer.clean() ran during validation)."""
        return {name: getattr(self.instance, name) for name in EDITABLE_FIELDS}


class CustomerLookupForm(forms.Form):
    """Finds the customer a form is about among those the user may see, as at the greeter's
    desk: core-banking ID, full ID number, the last digits of the phone or the name. Several
    matches are listed (`candidates`) for the user to pick one, which comes back in `customer`.
    """

    customer_query = forms.CharField(
        label=_("Customer record"),
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

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.principal = principal
        self.candidates = []
        self.fields["customer"].queryset = customer_list(principal=principal)

    def clean(self):
        cleaned = super().clean()
        query = (cleaned.get("customer_query") or "").strip()
        if cleaned.get("customer") is not None or not query:
            return cleaned
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
        return cleaned
