"""Forms of the campaign pages: the campaign itself, a CSV list to import, the start time, the
targets table's filters. The services check everything again; these give errors at the field."""

from django import forms
from django.utils.translation import gettext_lazy, pgettext_lazy

from bankservice.branches.models import Branch
from bankservice.customers.models import Segment

from .campaigns import MESSAGE_MAX, NAME_MAX, SCRIPT_MAX, manage_perm
from .models import CampaignChannel, CampaignKind, ExclusionReason, Priority, TargetStatus

NEEDS_CHOICES = [
    ("elderly", gettext_lazy("Elderly")),
    ("disability", gettext_lazy("Disability")),
    ("pregnant", gettext_lazy("Pregnant")),
]


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX)
    purpose = forms.CharField(
        label=gettext_lazy("Purpose"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=CampaignKind.choices, widget=forms.RadioSelect
    )
    branches = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Branches"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    segments = forms.MultipleChoiceField(
        label=gettext_lazy("Segments"),
        choices=Segment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every segment."),
    )
    needs = forms.MultipleChoiceField(
        label=gettext_lazy("Needs"),
        choices=NEEDS_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Customers with any of these needs; none ticked: everyone."),
    )
    birthday_this_month = forms.BooleanField(
        label=gettext_lazy("Birthday this month"), required=False
    )
    imported_only = forms.BooleanField(
        label=gettext_lazy("Only the customers of an imported list"),
        required=False,
        help_text=gettext_lazy("The filters above then narrow the list."),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[("", "—"), *CampaignChannel.choices],
        required=False,
    )
    message_text = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=MESSAGE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MESSAGE_MAX}),
        help_text=gettext_lazy(
            "At most 500 characters; the greeting, the opt-out link and the branch's signature "
            "are added."
        ),
    )
    reason_code = forms.SlugField(label=gettext_lazy("Reason code"), max_length=40, required=False)
    script = forms.CharField(
        label=gettext_lazy("Script or checklist"),
        max_length=SCRIPT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    priority = forms.TypedChoiceField(
        label=pgettext_lazy("urgency", "Priority"),
        choices=Priority.choices,
        coerce=int,
        initial=Priority.NORMAL,
    )

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branches"].queryset = Branch.objects.visible_to(
            principal, manage_perm(principal)
        ).order_by("name")

    @classmethod
    def initial_from(cls, campaign) -> dict:
        return {
            "name": campaign.name,
            "purpose": campaign.purpose,
            "kind": campaign.kind,
            "branches": list(campaign.branches.all()),
            "segments": campaign.segments,
            "needs": campaign.needs,
            "birthday_this_month": campaign.birthday_this_month,
            "imported_only": campaign.imported_only,
            "channel": campaign.channel,
            "message_text": campaign.message_text,
            "reason_code": campaign.reason_code,
            "script": campaign.script,
            "priority": campaign.priority,
        }


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8; the first line names the column customer_id or core_banking_id, and "
            "optionally note (at most 200 characters: why this customer)."
        ),
    )


class ScheduleForm(forms.Form):
    scheduled_for = forms.DateTimeField(
        label=gettext_lazy("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class TargetFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=[("", "—"), *TargetStatus.choices], required=False
    )
    excluded_reason = forms.ChoiceField(
        label=gettext_lazy("Left out because"),
        choices=[("", "—"), *ExclusionReason.choices],
        required=False,
    )
