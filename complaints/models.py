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
    DECIDED = "decided", _("Decided")
    CLOSED = "closed", _("Closed")


# Groups of statuses, for list filters and guards: a complaint is open until it is decided.
OPEN_STATUSES = (
    ComplaintStatus.RECEIVED,
    ComplaintStatus.ACKNOWLEDGED,
    ComplaintStatus.INVESTIGATING,
)
DONE_STATUSES = (ComplaintStatus.DECIDED, ComplaintStatus.CLOSED)


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
        max_length=15,
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

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(fields=["branch", "-received_at"], name="complaint_branch_received_idx"),
            models.Index(fields=["status", "-received_at"], name="complaint_status_idx"),
            models.Index(fields=["category", "-received_at"], name="complaint_category_idx"),
            # Repeat detection: the same customer and product, latest first.
            models.Index(
                fields=["customer", "product", "-received_at"], name="complaint_repeat_idx"
            ),
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
        ]

    def __str__(self) -> str:
        return self.reference
