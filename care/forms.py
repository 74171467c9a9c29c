"""Forms of the care pages: the worklist's filters, an attempt to reach the customer, the outcome
of a callback, the reason a callback is cancelled. The services check everything again; these give the agent errors at the field."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bankservice.branches.models import Branch

from .models import AttemptChannel, AttemptResult, Priority

NOTE_MAX = 1000
OUTCOME_MAX = 2000
SATISFACTION_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


class WorklistFilterForm(forms.Form):
    """Narrow the worklist to one branch (of those the user works at) and one priority."""

    branch = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("Branch"), empty_label="—"
    )
    priority = forms.TypedChoiceField(
        choices=[("", "—"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label=pgettext_lazy("urgency", "Priority"),
    )

    def __init__(self, *args, principal, perm: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.visible_to(principal, perm).order_by("name")


class AttemptForm(forms.Form):
    """One try to reach the customer: how, what happened, and a note."""

    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=AttemptChannel.choices, initial=AttemptChannel.PHONE
    )
    result = forms.ChoiceField(
        label=gettext_lazy("Result"), choices=AttemptResult.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("What was said or agreed; no card or ID numbers."),
    )


class CompleteForm(forms.Form):
    """The customer was reached: what came of the call and how satisfied they are."""

    outcome = forms.CharField(
        label=gettext_lazy("Outcome"),
        max_length=OUTCOME_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    satisfaction = forms.TypedChoiceField(
        label=gettext_lazy("Satisfaction (1 = very unhappy, 5 = very happy)"),
        choices=SATISFACTION_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("Leave empty if the customer would not say."),
    )

    def clean_outcome(self):
        outcome = self.cleaned_data["outcome"].strip()
        if not outcome:
            raise forms.ValidationError(_("Say what came of the call."))
        return outcome


class CancelForm(forms.Form):
    """The care team lead cancels a callback: why it is no longer needed (kept as its outcome)."""

    reason = forms.CharField(
        label=gettext_lazy("Why is this callback no longer needed?"),
        max_length=OUTCOME_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the callback is cancelled."))
        return reason
