"""Forms of the staff pages: a new request (customer, branch, request type or bundle), a
decision, a cancellation, a document. The e-form itself is data (transactions/eforms.py)."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.branches.models import Branch
from bankservice.customers.forms import CustomerLookupForm
from reception.selectors import ticket_list

from . import eforms
from .models import Bundle, Decision, RequestType
from .services import MAKE_PERM, REASON_MAX

SERVE_PERM = "reception.change_ticket"


def _choice(kind: str, code: str) -> str:
    return f"{kind}:{code}"


class NewRequestForm(CustomerLookupForm):
    """Who the request is for (the ticket being served, or a customer found by lookup), at which
    branch, and what: one request type or a bundle of them."""

    # Required, unless the ticket says (checked in clean()).
    branch = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Branch"), required=False)
    what = forms.ChoiceField(label=gettext_lazy("Business to do"))
    # The ticket at the user's counter: its customer and branch are the request's.
    ticket = forms.ModelChoiceField(queryset=None, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, principal=principal, **kwargs)
        branches = Branch.objects.visible_to(principal, MAKE_PERM).filter(is_active=True)
        self.fields["branch"].queryset = branches.order_by("name")
        # Staff of one branch (most tellers) are not asked which.
        first_two = list(branches[:2])
        self.only_branch = first_two[0] if len(first_two) == 1 else None
        if self.only_branch is not None:
            self.fields["branch"].initial = self.only_branch
        self.fields["ticket"].queryset = ticket_list(principal=principal, perm=SERVE_PERM)
        raw = str(self["ticket"].value() or "")
        # The ticket the form is for, shown on the page (validated again by clean()).
        self.served_ticket = (
            self.fields["ticket"].queryset.filter(pk=raw).first() if raw.isdigit() else None
        )
        self.fields["what"].choices = [
            ("", "—"),
            (
                _("Request types"),
                [
                    (_choice("type", t.code), t.name)
                    for t in RequestType.objects.filter(is_active=True)
                ],
            ),
            (
                _("Bundles (several requests in one flow)"),
                [
                    (_choice("bundle", b.code), b.name)
                    for b in Bundle.objects.filter(is_active=True)
                ],
            ),
        ]

    def clean(self):
        cleaned = super().clean()
        ticket = cleaned.get("ticket")
        if ticket is not None:
            cleaned["branch"] = ticket.branch
            if cleaned.get("customer") is None:
                cleaned["customer"] = ticket.visit.customer
        if cleaned.get("branch") is None and self.only_branch is not None:
            cleaned["branch"] = self.only_branch
        if cleaned.get("branch") is None and "branch" not in self.errors:
            self.add_error("branch", _("Choose the branch."))
        if cleaned.get("customer") is None and "customer_query" not in self.errors:
            self.add_error("customer_query", _("Find the customer the request is for."))
        kind, _sep, code = (cleaned.get("what") or "").partition(":")
        model = {"type": RequestType, "bundle": Bundle}.get(kind)
        chosen = model.objects.filter(code=code, is_active=True).first() if model else None
        if chosen is None and "what" not in self.errors:
            self.add_error("what", _("Choose a request type or a bundle."))
        cleaned["request_type"] = chosen if kind == "type" else None
        cleaned["bundle"] = chosen if kind == "bundle" else None
        return cleaned


class DecisionForm(forms.Form):
    """An approver's decision on the level waiting: approve, return for correction, reject."""

    # The level the approver looked at: if someone decided it meanwhile, the service says so.
    level = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"), choices=Decision.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("Reason or note"),
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when returning or rejecting; the maker reads it."),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") in (Decision.RETURNED, Decision.REJECTED)
            and not cleaned.get("note", "").strip()
        ):
            self.add_error("note", _("Give the reason: the maker and the customer will see it."))
        return cleaned


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for cancelling"), max_length=REASON_MAX, required=False
    )


class DocumentForm(forms.Form):
    """A document of one of the types the request's version asks for."""

    doc_type = forms.ChoiceField(label=gettext_lazy("Document"))
    file = forms.FileField(label=gettext_lazy("File"))

    def __init__(self, *args, documents: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["doc_type"].choices = [(d["code"], eforms.document_label(d)) for d in documents]
