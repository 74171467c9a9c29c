"""Forms of the consultation pages: start (phone, chat, video), edit, close."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.customers.forms import CustomerLookupForm
from bankservice.customers.models import Product

from .models import Category, Channel, Outcome
from .services import REMOTE_CHANNELS, advisors_at


class StartForm(CustomerLookupForm):
    """A consultation by phone, chat or video, for a customer record or a contact."""

    branch = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Branch"))
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[(c.value, c.label) for c in REMOTE_CHANNELS],
        initial=Channel.PHONE,
    )
    contact_name = forms.CharField(label=gettext_lazy("Name"), max_length=80, required=False)
    contact_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    contact_email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    question = forms.CharField(
        label=gettext_lazy("What the customer asks"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        if branches.count() == 1:
            self.fields["branch"].initial = branches.first()


class ConsultationForm(forms.Form):
    """What was asked and noted, the topics and products it was about."""

    question = forms.CharField(
        label=gettext_lazy("What the customer asks"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=Category.objects.filter(is_active=True),
        label=gettext_lazy("Topics"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.filter(is_active=True),
        label=gettext_lazy("Products"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=8000,
    )
    # The version the form was filled from; the service refuses the save if it moved on
    # (the page always carries it; a post without it is not checked, as in the API).
    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


class CloseForm(forms.Form):
    """The outcome; referring to another advisor names them."""

    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"), choices=[("", "—"), *Outcome.choices]
    )
    referred_to = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("Refer to advisor"), required=False
    )
    outcome_note = forms.CharField(
        label=gettext_lazy("Outcome note"), max_length=500, required=False
    )

    def __init__(self, *args, consultation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referred_to"].queryset = advisors_at(consultation.branch_id).exclude(
            pk=consultation.advisor_id
        )
        self.fields["referred_to"].label_from_instance = lambda u: u.get_full_name() or u.username

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == Outcome.ADVISOR and cleaned.get("referred_to") is None:
            self.add_error("referred_to", _("Choose the advisor to refer the customer to."))
        return cleaned
