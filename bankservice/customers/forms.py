"""Staff forms for the customer record."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Branch

from .models import Customer
from .services import EDITABLE_FIELDS

MASKED_FIELDS = ("national_id", "phone")


class CustomerForm(forms.ModelForm):
    confirm_duplicate = forms.BooleanField(
        required=False,
        label=_("I have checked: this is a different person who shares the phone number"),
    )

    class Meta:
        model = Customer
        fields = EDITABLE_FIELDS
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, principal, perm: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_branch"].queryset = Branch.objects.visible_to(principal, perm)
        self._stored = {name: getattr(self.instance, name) for name in MASKED_FIELDS}
        if self.instance.pk:
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
