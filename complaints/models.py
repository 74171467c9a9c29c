"""Complaints: the regulators' clocks as data (rule packs), and which pack a branch uses.

- A `RulePack` is one regulator's set of complaint deadlines (CN, UK, US …), counted on one
  business calendar. The shipped packs are defined in complaints/packs.py; an administrator
  copies one and adjusts the copy (pack_copy).
- A `PackClock` is one deadline of a pack: what starts it, how long it runs on which clock, how
  its last day is counted, whether it may pause, when to warn, to which complaints it applies.
- A `PackAssignment` gives a pack to a branch, to a region, or (neither) to the whole bank.
- A `Category` is a complaint category or (with a parent) sub-category; the shipped taxonomy
  (complaints/taxonomy.py) follows the regulators' reporting categories.
- A `Complaint` is one complaint as received; its clocks are kernel deadlines (bankservice.sla).
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Branch, BusinessCalendar, Region
from bankservice.branches.scope import ScopedQuerySet
from bankservice.core.language import in_language
from bankservice.customers.models import Customer, Product


class Jurisdiction(models.TextChoices):
    CN = "CN", _("Mainland China")
    UK = "UK", _("United Kingdom")
    US = "US", _("United States")
    OTHER = "other", _("Other")


class RulePack(models.Model):
    """One regulator's complaint deadlines, counted on one business calendar."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=5, choices=Jurisdiction.choices)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="rule_packs",
        verbose_name=_("business calendar"),
    )
    copied_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="copies",
        verbose_name=_("copied from"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    recuse_role_chain = models.BooleanField(
        _("recuse the role chain"),
        default=False,
        help_text=_(
            "Besides the staff member complained about, the managers above them (of their "
            "branch and region) may not handle the complaint."
        ),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("rule pack")
        verbose_name_plural = _("rule packs")
        constraints = [
            models.CheckConstraint(
                condition=Q(jurisdiction__in=Jurisdiction.values),
                name="rulepack_jurisdiction_valid",
            ),
            models.CheckConstraint(
                condition=~Q(copied_from=models.F("id")), name="rulepack_not_copied_from_itself"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class ClockNature(models.TextChoices):
    REGULATORY = "regulatory", _("Regulatory (never pauses)")
    INTERNAL = "internal", _("Internal target")


class ClockStart(models.TextChoices):
    """The event of the complaint that starts a clock."""

    RECEIVED = "received", _("Complaint received")
    DECISION = "decision", _("Decision sent")
    EXTENSION_APPROVED = "extension_approved", _("Extension approved")
    REVIEW_REQUESTED = "review_requested", _("Review requested")


class ClockUnit(models.TextChoices):
    """The first three are the deadline kernel's clocks (bankservice.sla.clock.Clock)."""

    CALENDAR_DAYS = "calendar_days", _("Calendar days")
    BUSINESS_DAYS = "business_days", _("Business days")
    BUSINESS_HOURS = "business_hours", _("Business hours")
    HOURS = "hours", _("Hours")


class DayCounting(models.TextChoices):
    EXACT = "exact", _("From the moment it starts")
    # 民法典 art. 201/203; DISP "by close of business on the third business day following …".
    WHOLE_DAYS = "whole_days", _("Days after the day it starts, to the end of the last day")


class NonWorkingEnd(models.TextChoices):
    STAY = "stay", _("Stays on the non-working day")
    NEXT_WORKING_DAY = "next_working_day", _("Moves to the next working day")


class ClockMetBy(models.TextChoices):
    """What the bank does that stops a clock (met)."""

    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement (or an earlier decision)")
    DECISION = "decision", _("Decision (final response)")
    REVIEW_REQUEST = "review_request", _("The complainant asks for a review")


class Applicability(models.TextChoices):
    ALL = "all", _("Every complaint")
    PAYMENT_SERVICES = "payment_services", _("Payment-services complaints only")
    NOT_PAYMENT_SERVICES = "not_payment_services", _("All but payment-services complaints")


class LetterWording(models.TextChoices):
    NONE = "", _("None")
    FOS_REFERRAL = "fos_referral", _("Financial Ombudsman Service referral rights")


class PackClock(models.Model):
    """One deadline of a pack: what starts it, how long it runs and how its end is counted."""

    pack = models.ForeignKey(
        RulePack, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("rule pack")
    )
    code = models.SlugField(_("code"), max_length=40)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    nature = models.CharField(
        _("nature"), max_length=10, choices=ClockNature.choices, default=ClockNature.REGULATORY
    )
    starts_on = models.CharField(
        _("starts on"), max_length=20, choices=ClockStart.choices, default=ClockStart.RECEIVED
    )
    duration = models.PositiveIntegerField(_("duration"))
    unit = models.CharField(_("unit"), max_length=15, choices=ClockUnit.choices)
    counting = models.CharField(
        _("day counting"), max_length=10, choices=DayCounting.choices, default=DayCounting.EXACT
    )
    non_working_end = models.CharField(
        _("ending on a non-working day"),
        max_length=20,
        choices=NonWorkingEnd.choices,
        default=NonWorkingEnd.STAY,
        help_text=_("Calendar-day clocks only; business clocks always end on a working day."),
    )
    met_by = models.CharField(
        _("met by"), max_length=20, choices=ClockMetBy.choices, default=ClockMetBy.DECISION
    )
    # A window (to resolve summarily, to ask for a review) is not an obligation: when it passes
    # the sweep records it, nobody is warned and nothing is escalated or counted late.
    is_window = models.BooleanField(
        _("a window, not an obligation"),
        default=False,
        help_text=_("Passing it is not a breach: nobody is warned or escalated."),
    )
    pausable = models.BooleanField(
        _("may pause"), default=False, help_text=_("Internal targets only.")
    )
    warn_fraction = models.DecimalField(
        _("warn when this fraction has passed"),
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        default=Decimal("0.80"),
    )
    applies_to = models.CharField(
        _("applies to"), max_length=25, choices=Applicability.choices, default=Applicability.ALL
    )
    # An extension: when approved, this clock replaces the one it extends.
    extends = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="extensions",
        verbose_name=_("extends"),
    )
    requires_approval = models.BooleanField(
        _("extension needs approval by a higher level"), default=False
    )
    notify_complainant = models.BooleanField(
        _("complainant must be told of the extension"), default=False
    )
    letter_wording = models.CharField(
        _("wording the letters need"),
        max_length=20,
        choices=LetterWording.choices,
        default=LetterWording.NONE,
        blank=True,
    )
    citation = models.TextField(_("citation"), blank=True)

    class Meta:
        ordering = ["pack", "id"]
        verbose_name = _("pack clock")
        verbose_name_plural = _("pack clocks")
        constraints = [
            models.UniqueConstraint(fields=["pack", "code"], name="packclock_unique_code"),
            models.CheckConstraint(condition=Q(duration__gt=0), name="packclock_duration_positive"),
            models.CheckConstraint(
                condition=Q(nature__in=ClockNature.values), name="packclock_nature_valid"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__in=ClockStart.values), name="packclock_start_valid"
            ),
            models.CheckConstraint(
                condition=Q(unit__in=ClockUnit.values), name="packclock_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(counting__in=DayCounting.values), name="packclock_counting_valid"
            ),
            models.CheckConstraint(
                condition=Q(non_working_end__in=NonWorkingEnd.values),
                name="packclock_non_working_end_valid",
            ),
            models.CheckConstraint(
                condition=Q(applies_to__in=Applicability.values), name="packclock_applies_to_valid"
            ),
            models.CheckConstraint(
                condition=Q(met_by__in=ClockMetBy.values), name="packclock_met_by_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_window=False) | Q(warn_fraction__isnull=True),
                name="packclock_window_not_warned",
            ),
            models.CheckConstraint(
                condition=Q(letter_wording__in=LetterWording.values),
                name="packclock_letter_wording_valid",
            ),
            # Whole days are counted on day clocks only.
            models.CheckConstraint(
                condition=Q(counting=DayCounting.EXACT)
                | Q(unit__in=[ClockUnit.CALENDAR_DAYS, ClockUnit.BUSINESS_DAYS]),
                name="packclock_whole_days_on_day_clocks",
            ),
            # Business clocks end on a working day by construction.
            models.CheckConstraint(
                condition=Q(non_working_end=NonWorkingEnd.STAY) | Q(unit=ClockUnit.CALENDAR_DAYS),
                name="packclock_roll_on_calendar_days",
            ),
            # A regulator's clock runs whatever the bank is waiting for.
            models.CheckConstraint(
                condition=Q(pausable=False) | Q(nature=ClockNature.INTERNAL),
                name="packclock_only_internal_pause",
            ),
            models.CheckConstraint(
                condition=Q(warn_fraction__isnull=True)
                | Q(warn_fraction__gt=0, warn_fraction__lt=1),
                name="packclock_warn_fraction_range",
            ),
            models.CheckConstraint(
                condition=Q(extends__isnull=False)
                | Q(requires_approval=False, notify_complainant=False),
                name="packclock_approval_only_on_extensions",
            ),
            models.CheckConstraint(
                condition=~Q(extends=models.F("id")), name="packclock_not_extending_itself"
            ),
            models.CheckConstraint(
                condition=Q(nature=ClockNature.INTERNAL) | ~Q(citation=""),
                name="packclock_regulatory_cited",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pack.code}/{self.code}"

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)

    def clean(self) -> None:
        # The one rule the database cannot check: it spans two rows.
        if self.extends_id is not None and self.extends.pack_id != self.pack_id:
            raise ValidationError({"extends": _("An extension extends a clock of the same pack.")})


class PackAssignment(models.Model):
    """The pack a branch uses, or a region, or (neither set) the whole bank by default."""

    pack = models.ForeignKey(
        RulePack, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("rule pack")
    )
    branch = models.OneToOneField(
        Branch,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rule_pack_assignment",
        verbose_name=_("branch"),
    )
    region = models.OneToOneField(
        Region,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rule_pack_assignment",
        verbose_name=_("region"),
    )

    class Meta:
        verbose_name = _("rule pack assignment")
        verbose_name_plural = _("rule pack assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(branch__isnull=True) | Q(region__isnull=True),
                name="packassignment_branch_or_region",
            ),
            # One bank default: every such row indexes the same value.
            models.UniqueConstraint(
                Coalesce("branch", Value(0)),
                condition=Q(branch__isnull=True, region__isnull=True),
                name="packassignment_one_bank_default",
            ),
        ]

    def __str__(self) -> str:
        where = self.branch or self.region or _("whole bank")
        return f"{where} · {self.pack.code}"


class Category(models.Model):
    """A complaint category, or a sub-category (with a parent); configurable by administrators."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    # The regulator's reporting category this one is counted under in a regulatory return.
    regulator_code = models.CharField(_("regulator's category"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="category_not_its_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class Channel(models.TextChoices):
    COUNTER = "counter", _("At the counter")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    ONLINE_FORM = "online_form", _("Online form")
    REFERRAL = "referral", _("Regulator or ombudsman referral")
    SOCIAL_MEDIA = "social_media", _("Social media")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INVESTIGATING = "investigating", _("Investigating")
    # Internal clocks that may pause are paused; a regulator's clock never is.
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on the customer")
    RESOLUTION_PROPOSED = "resolution_proposed", _("Resolution proposed")
    # Decided: the customer accepted the proposal, or the bank upheld or rejected it with reasons.
    RESOLVED = "resolved", _("Resolved (customer accepted)")
    UPHELD = "upheld", _("Upheld")
    PARTIALLY_UPHELD = "partially_upheld", _("Partially upheld")
    REJECTED = "rejected", _("Rejected")
    # Ended without a decision: withdrawn by the complainant, or merged into an earlier complaint.
    WITHDRAWN = "withdrawn", _("Withdrawn")
    MERGED = "merged", _("Merged")


# Groups of statuses, for list filters and guards.
OPEN_STATUSES = (
    ComplaintStatus.RECEIVED,
    ComplaintStatus.ACKNOWLEDGED,
    ComplaintStatus.INVESTIGATING,
    ComplaintStatus.WAITING_ON_CUSTOMER,
    ComplaintStatus.RESOLUTION_PROPOSED,
)
DECIDED_STATUSES = (
    ComplaintStatus.RESOLVED,
    ComplaintStatus.UPHELD,
    ComplaintStatus.PARTIALLY_UPHELD,
    ComplaintStatus.REJECTED,
)
ENDED_STATUSES = (ComplaintStatus.WITHDRAWN, ComplaintStatus.MERGED)
# The bank's decisions that must give reasons (the customer did not accept a proposal).
REASONED_STATUSES = (
    ComplaintStatus.UPHELD,
    ComplaintStatus.PARTIALLY_UPHELD,
    ComplaintStatus.REJECTED,
)


class EscalationLevel(models.IntegerChoices):
    NONE = 0, _("Not escalated")
    BRANCH = 1, _("Escalated to the branch manager")
    REGION = 2, _("Escalated to the region")


class RootCause(models.Model):
    """Why complaints happen (configurable); the shipped list is installed by a migration."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


def new_public_token() -> str:
    return secrets.token_urlsafe(16)


class Complaint(models.Model):
    """One complaint as received at a branch; received_at starts its pack's clocks."""

    # "CP<yymmdd><id>", set from the id right after the insert (complaint_create).
    reference = models.CharField(_("reference"), max_length=24, unique=True)
    # The complainant's unguessable link to the progress page.
    public_token = models.CharField(max_length=32, unique=True, default=new_public_token)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("branch")
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("customer"),
    )
    # A complainant who is not (or not yet) a customer: a name and a phone or an e-mail.
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    # The language letters are written in: the contact's (from the public form's language); empty
    # for a customer, whose preferred language is read when a letter is written.
    language = models.CharField(_("language"), max_length=8, blank=True)
    channel = models.CharField(_("channel"), max_length=15, choices=Channel.choices)
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("product"),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("category")
    )
    subcategory = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subcategory_complaints",
        verbose_name=_("sub-category"),
    )
    description = models.TextField(_("description"))
    desired_outcome = models.TextField(_("desired outcome"), blank=True)
    amount = models.DecimalField(
        _("amount in dispute"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    staff_complained_about = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_about",
        verbose_name=_("staff member complained about"),
    )
    received_at = models.DateTimeField(_("received at"))
    pack = models.ForeignKey(
        RulePack, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("rule pack")
    )
    is_payment_services = models.BooleanField(_("payment-services complaint"), default=False)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ComplaintStatus.choices,
        default=ComplaintStatus.RECEIVED,
    )
    repeat_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repeats",
        verbose_name=_("repeat of"),
    )
    is_repeat = models.BooleanField(_("repeat complaint"), default=False)
    # Set on the later complaint when it is merged into the earlier one (status MERGED).
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged",
        verbose_name=_("merged into"),
    )
    # A review (核查) or appeal of a decided complaint is a complaint of its own, linked here.
    review_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviews",
        verbose_name=_("review of"),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_assigned",
        verbose_name=_("complaint officer"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolution_proposal = models.TextField(_("proposed resolution"), blank=True)
    # The decision (final response): when, why, and what the bank pays or gives back.
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reasons = models.TextField(_("reasons for the decision"), blank=True)
    redress_amount = models.DecimalField(
        _("redress"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # Withdrawn or merged: the end of a complaint that was not decided.
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation"), choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    root_cause = models.ForeignKey(
        RootCause,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("root cause"),
    )
    root_cause_note = models.TextField(_("root cause analysis"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_created",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        permissions = [
            ("handle_complaint", _("Can handle complaints (complaint officer)")),
            ("assign_complaint", _("Can assign complaints and decide on escalations")),
            ("approve_extension", _("Can approve extensions that need a higher level")),
            ("export_complaint", _("Can report on and export complaints")),
        ]
        indexes = [
            models.Index(fields=["branch", "-received_at"], name="complaint_branch_received_idx"),
            models.Index(fields=["status", "-received_at"], name="complaint_status_idx"),
            models.Index(fields=["category", "-received_at"], name="complaint_category_idx"),
            # Repeat detection: the same customer and product, latest first.
            models.Index(
                fields=["customer", "product", "-received_at"], name="complaint_repeat_idx"
            ),
            models.Index(fields=["assigned_to", "status"], name="complaint_assigned_idx"),
            # Lists in received order across many branches (head office, a region) and a
            # period's complaints. 1,000,000 complaints (bench/complaint_list.py): head office's
            # first page 2,690 -> 67 ms, a region's 776 -> 39 ms, a month's 365 -> 36 ms.
            models.Index(fields=["-received_at", "-id"], name="complaint_received_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    customer__isnull=False, contact_name="", contact_phone="", contact_email=""
                )
                | Q(customer__isnull=True)
                & ~Q(contact_name="")
                & (~Q(contact_phone="") | ~Q(contact_email="")),
                name="complaint_customer_or_contact",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="complaint_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ComplaintStatus.values), name="complaint_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | (Q(amount__gte=0) & ~Q(currency="")),
                name="complaint_amount_with_currency",
            ),
            models.CheckConstraint(
                condition=Q(is_repeat=False) | Q(repeat_of__isnull=False),
                name="complaint_repeat_names_the_original",
            ),
            models.CheckConstraint(
                condition=~Q(repeat_of=models.F("id")), name="complaint_not_a_repeat_of_itself"
            ),
            models.CheckConstraint(
                condition=Q(status=ComplaintStatus.MERGED, merged_into__isnull=False)
                | ~Q(status=ComplaintStatus.MERGED) & Q(merged_into__isnull=True),
                name="complaint_merged_names_the_survivor",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")) & ~Q(review_of=models.F("id")),
                name="complaint_not_linked_to_itself",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=DECIDED_STATUSES) | Q(decided_at__isnull=False),
                name="complaint_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=REASONED_STATUSES) | ~Q(decision_reasons=""),
                name="complaint_decision_has_reasons",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=ENDED_STATUSES) | Q(ended_at__isnull=False),
                name="complaint_ended_has_time",
            ),
            models.CheckConstraint(
                condition=Q(redress_amount__isnull=True) | Q(redress_amount__gte=0),
                name="complaint_redress_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(escalation_level__gte=0, escalation_level__lte=2),
                name="complaint_escalation_level_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_decided(self) -> bool:
        return self.status in DECIDED_STATUSES


def attachment_path(instance: "ComplaintAttachment", filename: str) -> str:
    # Never the uploaded name: a random name under the complaint's folder.
    return f"complaints/{instance.complaint_id}/{secrets.token_hex(16)}"


class ComplaintAttachment(models.Model):
    """A file given with a complaint (a statement, a photo, a letter); type read from its bytes."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("complaint")
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    # Empty when the complainant uploaded it with the public form.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    is_removed = models.BooleanField(_("removed"), default=False)

    class Meta:
        ordering = ["complaint", "uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class ExtensionStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ComplaintExtension(models.Model):
    """An extension of a complaint's clock to the pack's extension clock (``clock.extends``)."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("complaint")
    )
    # The pack's extension clock applied (its `extends` is the clock it replaces).
    clock = models.ForeignKey(
        PackClock, on_delete=models.PROTECT, related_name="+", verbose_name=_("extension")
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ExtensionStatus.choices,
        default=ExtensionStatus.REQUESTED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    # Empty when the pack needs no approval for this extension (approved on request).
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("note"), blank=True)
    # The clock's due time before and after (kept even if the pack changes later).
    old_due_at = models.DateTimeField(_("due before"))
    new_due_at = models.DateTimeField(_("due after"))

    class Meta:
        ordering = ["complaint", "requested_at", "id"]
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExtensionStatus.values),
                name="complaintextension_status_valid",
            ),
            # One extension waiting for approval per complaint at a time.
            models.UniqueConstraint(
                fields=["complaint"],
                condition=Q(status="requested"),
                name="complaintextension_one_waiting",
            ),
            models.CheckConstraint(
                condition=Q(status="requested") | Q(decided_at__isnull=False),
                name="complaintextension_decided_has_time",
            ),
            models.CheckConstraint(
                condition=Q(new_due_at__gt=models.F("old_due_at")),
                name="complaintextension_moves_later",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint} · {self.clock.code}"


class LetterKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    EXTENSION_NOTICE = "extension_notice", _("Extension notice (holding reply)")
    SUMMARY_RESOLUTION = "summary_resolution", _("Summary resolution")
    FINAL_RESPONSE = "final_response", _("Final response")
    REVIEW_DECISION = "review_decision", _("Review decision")


class Letter(models.Model):
    """A letter to the complainant, rendered from the pack's template in their language and
    kept with the case exactly as sent."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="letters", verbose_name=_("complaint")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=LetterKind.choices)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    # E-mail or SMS through notifications; "post" when printed and posted by the branch.
    channel = models.CharField(_("channel"), max_length=10)
    notification = models.ForeignKey(
        "notify.Notification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notification"),
    )
    extension = models.ForeignKey(
        ComplaintExtension,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="letters",
        verbose_name=_("extension"),
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["complaint", "created_at", "id"]
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=LetterKind.values), name="letter_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms", "post"]), name="letter_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint} · {self.get_kind_display()}"


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CorrectiveAction(models.Model):
    """A measure to stop a root cause recurring, with an owner and a due date, tracked to closure."""

    complaint = models.ForeignKey(
        Complaint,
        on_delete=models.PROTECT,
        related_name="corrective_actions",
        verbose_name=_("complaint"),
    )
    # Copied from the complaint when created: reports group and scope actions by them.
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    root_cause = models.ForeignKey(
        RootCause, on_delete=models.PROTECT, related_name="actions", verbose_name=_("root cause")
    )
    description = models.TextField(_("action"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="corrective_actions",
        verbose_name=_("owner"),
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completion_note = models.TextField(_("what was done"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("corrective action")
        verbose_name_plural = _("corrective actions")
        indexes = [models.Index(fields=["branch", "status", "due_date"], name="action_branch_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ActionStatus.values), name="action_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="done")
                | Q(completed_at__isnull=False) & ~Q(completion_note=""),
                name="action_done_says_what",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class NoteKind(models.TextChoices):
    NOTE = "note", _("Case note")
    WAITING = "waiting", _("Waiting on the customer")
    REPLIED = "replied", _("The customer replied")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REOPENED = "reopened", _("Reopened")


class ComplaintNote(models.Model):
    """What staff wrote on the case: investigation notes, and the reason given with a wait, a
    reply, a withdrawal or a reopening (events carry ids only, never free text)."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="notes", verbose_name=_("complaint")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=NoteKind.choices, default="note")
    text = models.TextField(_("text"))
    # Empty when the complainant wrote it (a withdrawal on the public page).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["complaint", "created_at", "id"]
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NoteKind.values), name="note_kind_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="note_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint} · {self.get_kind_display()}"
