"""The one customer record every stage shares."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bankservice.branches.scope import ScopedQuerySet
from bankservice.core.language import in_language
from bankservice.core.masking import mask_identifier, mask_phone

from .validators import (
    birth_date_from_resident_id,
    normalize_passport,
    normalize_phone,
    normalize_resident_id,
)


class Segment(models.TextChoices):
    STANDARD = "standard", _("Standard")
    PRIORITY = "priority", _("Priority")
    PRIVATE = "private", _("Private banking")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID (mainland China)")
    PASSPORT = "passport", _("Passport")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class Customer(models.Model):
    """A customer of the bank, shared by reception, consultation, processing, care, complaints."""

    core_banking_id = models.CharField(
        _("core-banking ID"), max_length=32, unique=True, null=True, blank=True
    )
    full_name = models.CharField(_("full name"), max_length=120)
    id_type = models.CharField(
        _("ID type"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    # NULL, not "", when absent, so that customers without one do not collide.
    national_id = models.CharField(
        _("ID number"), max_length=20, unique=True, null=True, blank=True
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    segment = models.CharField(
        _("segment"), max_length=10, choices=Segment.choices, default=Segment.STANDARD
    )
    # Needs flags: they raise the queue priority and tell staff to come to the customer.
    is_elderly = models.BooleanField(_("elderly"), default=False)
    has_disability = models.BooleanField(_("disability"), default=False)
    is_pregnant = models.BooleanField(_("pregnant"), default=False)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    # Consent per contact channel (PIPL: contact only with consent; opt-out any time).
    consent_sms = models.BooleanField(_("consents to SMS"), default=False)
    consent_email = models.BooleanField(_("consents to e-mail"), default=False)
    consent_phone = models.BooleanField(_("consents to phone calls"), default=False)
    home_branch = models.ForeignKey(
        "branches.Branch",
        on_delete=models.PROTECT,
        related_name="customers",
        verbose_name=_("home branch"),
    )
    # A duplicate merged into another record stays (its history is kept) but is no longer used.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_duplicates",
        verbose_name=_("merged into"),
    )
    merged_at = models.DateTimeField(_("merged"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Bumped by every edit; an edit made from an older copy is refused (optimistic check).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "home_branch_id"

    class Meta:
        ordering = ["full_name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("reveal_pii", _("Can reveal full ID and phone numbers")),
            ("merge_customer", _("Can merge duplicate customers")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(segment__in=["standard", "priority", "private"]),
                name="customer_segment_valid",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")), name="customer_not_merged_into_itself"
            ),
        ]
        indexes = [
            models.Index(fields=["home_branch", "full_name"], name="customer_branch_name_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def clean(self) -> None:
        """Normalise the ID and phone numbers, and check the birth date against the ID."""
        errors = {}
        if self.national_id:
            normalize = (
                normalize_resident_id if self.id_type == IdType.RESIDENT_ID else normalize_passport
            )
            try:
                self.national_id = normalize(self.national_id)
            except ValidationError as exc:
                errors["national_id"] = exc.messages
        else:
            self.national_id = None
        if self.phone:
            try:
                self.phone = normalize_phone(self.phone)
            except ValidationError as exc:
                errors["phone"] = exc.messages
        if self.national_id and self.id_type == IdType.RESIDENT_ID and "national_id" not in errors:
            born = birth_date_from_resident_id(self.national_id)
            if self.date_of_birth is None:
                self.date_of_birth = born
            elif self.date_of_birth != born:
                errors["date_of_birth"] = [_("This does not match the birth date in the ID.")]
        if not self.core_banking_id:
            self.core_banking_id = None
        if errors:
            raise ValidationError(errors)

    @property
    def national_id_masked(self) -> str:
        return mask_identifier(self.national_id)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def needs(self) -> list[str]:
        flags = [
            (self.is_elderly, _("elderly")),
            (self.has_disability, _("disability")),
            (self.is_pregnant, _("pregnant")),
        ]
        return [str(label) for on, label in flags if on]


class ProductFamily(models.TextChoices):
    DEPOSIT = "deposit", _("Deposits and accounts")
    CARD = "card", _("Cards")
    LOAN = "loan", _("Loans")
    MORTGAGE = "mortgage", _("Mortgages")
    WEALTH = "wealth", _("Wealth management")
    INSURANCE = "insurance", _("Insurance")
    PAYMENT = "payment", _("Payments and transfers")
    FOREX = "forex", _("Foreign exchange")
    DIGITAL = "digital", _("Online and mobile banking")
    OTHER = "other", _("Other")


class Product(models.Model):
    """A product of the bank, as customers ask about it, apply for it and complain about it.

    One catalogue for every stage (consultations, knowledge articles, requests, complaints), so a
    product means the same thing on every record and in every report.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    family = models.CharField(
        _("family"), max_length=10, choices=ProductFamily.choices, default=ProductFamily.OTHER
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["family", "code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)
