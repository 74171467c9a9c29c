"""Forms of the sign-in security pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Role


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6-digit code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip()


class RolePolicyForm(forms.Form):
    """One checkbox per staff role: require two-factor sign-in."""

    def __init__(self, *args, policies, **kwargs):
        super().__init__(*args, **kwargs)
        for role, label, required in policies:
            self.fields[role] = forms.BooleanField(label=label, required=False, initial=required)

    def required_by_role(self) -> dict[str, bool]:
        return {role: self.cleaned_data[role] for role in Role.values if role in self.fields}
