"""Forms of the complaint pages: the list's filters, intake by staff, each lifecycle action, and
the complainant's public form.

Forms only read and shape input; the services decide (and say why not, at a field).
"""

import datetime as dt
import zoneinfo

import django_filters
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.branches.models import Branch
from bankservice.customers.forms import CustomerLookupForm
from bankservice.customers.models import Product
from bankservice.customers.validators import normalize_phone
from bankservice.sla.models import Deadline, DeadlineState

from .deadlines import KIND_PREFIX, kind_for
from .models import (
    DECIDED_STATUSES,
    ENDED_STATUSES,
    OPEN_STATUSES,
    REASONED_STATUSES,
    Category,
    Channel,
    Complaint,
    ComplaintStatus,
    PackClock,
    RootCause,
)

ADD_PERM = "complaints.add_complaint"
TEXT_MAX = 4000
NOTE_MAX = 2000

# Staff take complaints from every channel but the public form (which the complainant fills in).
STAFF_CHANNELS = [(c.value, c.label) for c in Channel if c != Channel.ONLINE_FORM]

STATUS_GROUPS = {
    "open": OPEN_STATUSES,
    "decided": DECIDED_STATUSES,
    "ended": ENDED_STATUSES,
}


def _person(user) -> str:
    return user.get_full_name() or user.username


def top_categories():
    return Category.objects.filter(parent__isnull=True, is_active=True).order_by("code")


def subcategory_choices() -> list:
    """Sub-categories grouped under their category (the service checks the pair)."""
    groups: dict[int, list] = {}
    names: dict[int, str] = {}
    for sub in Category.objects.filter(parent__isnull=False, is_active=True).select_related(
        "parent"
    ):
        groups.setdefault(sub.parent_id, []).append((sub.pk, sub.name))
        names[sub.parent_id] = sub.parent.name
    return [("", "—")] + [(names[pk], choices) for pk, choices in groups.items()]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (each checked by the service: type from its bytes, size)."""

    def __init__(self, *args, max_files: int, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > self.max_files:
            raise forms.ValidationError(
                _("Attach at most %(count)d files.") % {"count": self.max_files}
            )
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


# --- The list's filters ------------------------------------------------------------------------


STATUS_CHOICES = [
    (
        gettext_lazy("Groups"),
        [
            ("open", gettext_lazy("Open")),
            ("decided", gettext_lazy("Decided")),
            ("ended", gettext_lazy("Ended")),
        ],
    ),
    (gettext_lazy("Status"), list(ComplaintStatus.choices)),
]


def _clock_deadlines(*, obligations_only: bool = True):
    """Deadlines of the complaint in the outer query (windows left out: they are not late)."""
    deadlines = Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(Complaint),
        subject_id=Cast(OuterRef("pk"), CharField()),
        kind__startswith=KIND_PREFIX,
    )
    if obligations_only:
        windows = {kind_for(c) for c in PackClock.objects.filter(is_window=True).only("code")}
        deadlines = deadlines.exclude(kind__in=windows)
    return deadlines


class ComplaintFilter(django_filters.FilterSet):
    """The staff list's filters; ?q= finds a reference (or its beginning)."""

    q = django_filters.CharFilter(method="filter_reference", label=gettext_lazy("Reference"))
    status = django_filters.ChoiceFilter(
        method="filter_status", choices=STATUS_CHOICES, label=gettext_lazy("Status")
    )
    category = django_filters.ModelChoiceFilter(
        queryset=top_categories(), method="filter_category", label=gettext_lazy("Category")
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=gettext_lazy("Channel"))
    branch = django_filters.ModelChoiceFilter(
        queryset=Branch.objects.none(), label=gettext_lazy("Branch")
    )
    assigned = django_filters.ChoiceFilter(
        method="filter_assigned",
        choices=[("me", gettext_lazy("Assigned to me")), ("none", gettext_lazy("Unassigned"))],
        label=gettext_lazy("Officer"),
    )
    repeat = django_filters.BooleanFilter(
        field_name="is_repeat",
        label=gettext_lazy("Repeat complaints"),
        widget=forms.Select(
            choices=[("", "—"), ("true", gettext_lazy("Yes")), ("false", gettext_lazy("No"))]
        ),
    )
    timing = django_filters.ChoiceFilter(
        method="filter_timing",
        choices=[
            ("overdue", gettext_lazy("Overdue")),
            ("at_risk", gettext_lazy("At risk (warned)")),
        ],
        label=gettext_lazy("Deadlines"),
    )

    class Meta:
        model = Complaint
        fields = ["q", "status", "category", "channel", "branch", "assigned", "repeat", "timing"]

    def __init__(self, *args, branches=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["category"].queryset = top_categories()
        if branches is not None:
            self.filters["branch"].queryset = branches

    def filter_reference(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(reference__startswith=value) if value else queryset

    def filter_status(self, queryset, name, value):
        if value in STATUS_GROUPS:
            return queryset.filter(status__in=STATUS_GROUPS[value])
        return queryset.filter(status=value)

    def filter_category(self, queryset, name, value):
        return queryset.filter(category=value)

    def filter_assigned(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assigned_to=self.user)
        return queryset.filter(assigned_to__isnull=True, status__in=OPEN_STATUSES)

    def filter_timing(self, queryset, name, value):
        now = timezone.now()
        deadlines = _clock_deadlines()
        if value == "overdue":
            late = deadlines.filter(
                Q(state=DeadlineState.BREACHED, met_at__isnull=True)
                | Q(state=DeadlineState.OPEN, due_at__lte=now)
            )
            return queryset.filter(Exists(late), status__in=OPEN_STATUSES)
        warned = deadlines.filter(
            state=DeadlineState.OPEN, paused_at__isnull=True, warn_at__lte=now, due_at__gt=now
        )
        return queryset.filter(Exists(warned), status__in=OPEN_STATUSES)


# --- Intake by staff ---------------------------------------------------------------------------


class ComplaintForm(CustomerLookupForm):
    """A complaint taken at the counter, by phone, letter, e-mail, referral or social media: the
    customer (lookup) or a contact, and what the complaint is about."""

    branch = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Branch"), required=False)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=STAFF_CHANNELS, initial=Channel.COUNTER
    )
    contact_name = forms.CharField(
        label=gettext_lazy("Complainant's name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Only when the complainant is not a customer found above."),
    )
    contact_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, required=False)
    contact_email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True).order_by("code"),
        label=gettext_lazy("Product"),
        required=False,
    )
    category = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Category"))
    subcategory = forms.TypedChoiceField(
        label=gettext_lazy("Sub-category"), required=False, coerce=int, empty_value=None
    )
    description = forms.CharField(
        label=gettext_lazy("What the complaint is about"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=TEXT_MAX,
    )
    desired_outcome = forms.CharField(
        label=gettext_lazy("What the complainant wants"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=TEXT_MAX,
        required=False,
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount in dispute"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        required=False,
        help_text=gettext_lazy("Three letters, such as CNY"),
    )
    is_payment_services = forms.BooleanField(
        label=gettext_lazy("A payment-services complaint"), required=False
    )
    staff_complained_about = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("Staff member complained about"), required=False
    )
    received_at = forms.DateTimeField(
        label=gettext_lazy("Received at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text=gettext_lazy("The branch's local time; leave empty for now."),
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Attachments"), max_files=settings.COMPLAINTS_PUBLIC_MAX_FILES
    )

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, principal=principal, **kwargs)
        branches = Branch.objects.visible_to(principal, ADD_PERM).filter(is_active=True)
        self.fields["branch"].queryset = branches.order_by("name")
        first_two = list(branches[:2])
        # Staff of one branch are not asked which.
        self.only_branch = first_two[0] if len(first_two) == 1 else None
        if self.only_branch is not None:
            self.fields["branch"].initial = self.only_branch
        self.fields["category"].queryset = top_categories()
        self.fields["subcategory"].choices = subcategory_choices()
        staff = (
            get_user_model()
            .objects.filter(is_active=True, memberships__branch__in=branches)
            .distinct()
        )
        self.fields["staff_complained_about"].queryset = staff.order_by(
            "first_name", "last_name", "username"
        )
        self.fields["staff_complained_about"].label_from_instance = _person

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("branch") is None and self.only_branch is not None:
            cleaned["branch"] = self.only_branch
        branch = cleaned.get("branch")
        if branch is None and "branch" not in self.errors:
            self.add_error("branch", _("Choose the branch."))
        sub = cleaned.get("subcategory")
        cleaned["subcategory"] = Category.objects.filter(pk=sub).first() if sub else None
        received = cleaned.get("received_at")
        if received is not None and branch is not None:
            # The form read the wall time in the site's zone; it was meant on the branch's.
            wall = timezone.make_naive(received)
            cleaned["received_at"] = wall.replace(tzinfo=zoneinfo.ZoneInfo(branch.time_zone))
        phone = (cleaned.get("contact_phone") or "").strip()
        if phone and cleaned.get("customer") is None:
            try:
                cleaned["contact_phone"] = normalize_phone(phone)
            except forms.ValidationError as exc:
                self.add_error("contact_phone", exc)
        return cleaned


# --- Lifecycle actions -------------------------------------------------------------------------


class AssignForm(forms.Form):
    officer = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Complaint officer"))

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers
        self.fields["officer"].label_from_instance = _person


class EmptyForm(forms.Form):
    """An action without input (acknowledge, investigate, accept)."""


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CaseNoteForm(NoteForm):
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class RequiredNoteForm(NoteForm):
    note = forms.CharField(
        label=gettext_lazy("What the customer is asked for"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class ProposeForm(forms.Form):
    proposal = forms.CharField(
        label=gettext_lazy("Proposed resolution"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[(s.value, s.label) for s in REASONED_STATUSES],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=gettext_lazy("Reasons (the complainant reads them)"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    redress_amount = forms.DecimalField(
        label=gettext_lazy("Redress"), required=False, min_value=0, max_digits=14, decimal_places=2
    )


class ExtensionForm(forms.Form):
    clock = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Extension"))
    reason = forms.CharField(
        label=gettext_lazy("Why more time is needed"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, clocks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clock"].queryset = clocks
        self.fields["clock"].label_from_instance = lambda clock: clock.name


class ExtensionDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("approve", gettext_lazy("Approve")), ("refuse", gettext_lazy("Refuse"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=NOTE_MAX, required=False)


class ClassifyForm(forms.Form):
    """What the complaint is about, corrected by its handler."""

    category = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Category"))
    subcategory = forms.TypedChoiceField(
        label=gettext_lazy("Sub-category"), required=False, coerce=int, empty_value=None
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True).order_by("code"),
        label=gettext_lazy("Product"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = top_categories()
        self.fields["subcategory"].choices = subcategory_choices()

    def clean_subcategory(self):
        sub = self.cleaned_data.get("subcategory")
        return Category.objects.filter(pk=sub).first() if sub else None


class RootCauseForm(forms.Form):
    root_cause = forms.ModelChoiceField(
        queryset=RootCause.objects.filter(is_active=True), label=gettext_lazy("Root cause")
    )
    note = forms.CharField(
        label=gettext_lazy("Analysis"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CorrectiveActionForm(forms.Form):
    root_cause = forms.ModelChoiceField(
        queryset=RootCause.objects.filter(is_active=True), label=gettext_lazy("Root cause")
    )
    description = forms.CharField(
        label=gettext_lazy("Action"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Owner"))
    due_date = forms.DateField(
        label=gettext_lazy("Due date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = _person

    def clean_due_date(self):
        due = self.cleaned_data["due_date"]
        if due < timezone.localdate() - dt.timedelta(days=1):
            raise forms.ValidationError(_("The due date has passed."))
        return due


class CompleteActionForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))


# --- The complainant's public form -------------------------------------------------------------


class PublicComplaintForm(forms.Form):
    """A customer's complaint: where, who (a name and a phone or an e-mail), what, and files."""

    branch = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Branch"))
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=100)
    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=30, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    category = forms.ModelChoiceField(queryset=None, label=gettext_lazy("What it is about"))
    description = forms.CharField(
        label=gettext_lazy("Your complaint"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    desired_outcome = forms.CharField(
        label=gettext_lazy("What would put it right for you"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    files = MultipleFileField(
        label=gettext_lazy("Documents or photos (optional)"),
        max_files=settings.COMPLAINTS_PUBLIC_MAX_FILES,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.filter(is_active=True).order_by("name")
        self.fields["category"].queryset = top_categories()
        for name, message in (
            ("branch", _("Please choose the branch.")),
            ("category", _("Please choose what your complaint is about.")),
            ("name", _("Please give your name.")),
            ("description", _("Please describe your complaint.")),
        ):
            self.fields[name].error_messages["required"] = message
        self.fields["branch"].error_messages["invalid_choice"] = _(
            "Please choose one of the branches shown."
        )

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        return normalize_phone(phone) if phone else ""

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("phone")
            and not cleaned.get("email")
            and "phone" not in self.errors
            and "email" not in self.errors
        ):
            self.add_error("phone", _("Please give a mobile number or an e-mail address."))
        return cleaned
