"""Forms of the API client pages: scopes and branches, and the overlap of a key rotation."""

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bankservice.branches.models import Branch

from .models import ApiScope
from .services import DEFAULT_ROTATION_OVERLAP


class ApiClientForm(forms.Form):
    """What a client may do (scopes) and where (all branches or the chosen ones)."""

    name = forms.CharField(label=pgettext_lazy("API client", "Name"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )
    all_branches = forms.BooleanField(label=_("All branches"), required=False)
    branches = forms.ModelMultipleChoiceField(
        label=_("Branches"),
        queryset=Branch.objects.order_by("code"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["name"]  # chosen once: integrators and the audit trail know it
        self.fields["scopes"].error_messages["required"] = _("Choose at least one scope.")

    def clean(self):
        data = super().clean()
        if not data.get("all_branches") and not data.get("branches"):
            self.add_error("branches", _("Choose at least one branch, or all branches."))
        return data


OVERLAP_CHOICES = [
    (0, _("None: the old key stops now")),
    (1, _("1 hour")),
    (24, _("24 hours")),
    (24 * 7, _("7 days")),
]


class RotateKeyForm(forms.Form):
    """How long the key being replaced keeps working."""

    overlap_hours = forms.TypedChoiceField(
        label=_("The old key keeps working for"),
        choices=OVERLAP_CHOICES,
        coerce=int,
        initial=DEFAULT_ROTATION_OVERLAP // timedelta(hours=1),
    )

    @property
    def overlap(self) -> timedelta:
        return timedelta(hours=self.cleaned_data["overlap_hours"])
