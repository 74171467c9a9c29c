"""Transaction processing: service requests filled as e-forms, approved online, sent to core
banking.

- A `RequestType` (open account, activate card …) has versioned definitions
  (`RequestTypeVersion`): the e-form (JSON Schema plus UI hints), required documents, approval
  rules and the SLA policy. A request keeps the version it was filled with.
- A `ServiceRequest` moves draft → submitted → (approval levels) → approved → sent → executed or
  failed; returned for correction (rework) → resubmitted; rejected; cancelled. `Approval` rows
  are the decisions, level by level and round by round.
- A `Bundle` completes several request types in one flow (`BundleRun`): shared fields entered
  once, one customer confirmation.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bankservice.branches.scope import ScopedQuerySet
from bankservice.core.language import in_language


def new_public_token() -> str:
    return secrets.token_urlsafe(16)


class RequestType(models.Model):
    """A kind of business a customer comes to do; its rules live in its current version."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    # The reception queue (service code, the same at every branch) this business belongs to.
    service_code = models.SlugField(_("service"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("request type")
        verbose_name_plural = _("request types")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class RequestTypeVersion(models.Model):
    """One definition of a request type. Published versions are never edited: a change is a new
    version, and requests keep the version they were filled with.

    - `form_schema`: JSON Schema (draft 2020-12) of the form's data, with our formats
      (national-id, phone, account-number, money) — validated on the server, rendered in the browser.
    - `ui_schema`: labels in both languages, order, sections, help text, conditional fields and
      prefill sources (see transactions/eforms.py).
    - `documents`: required documents, [{"code", "name_zh", "name_en", "required", "when"}].
    - `approval_rules`: [{"when": {...conditions...}, "levels": ["approver", "branch_manager"]}];
      the first rule whose conditions hold gives the levels (none: no approval needed).
    """

    request_type = models.ForeignKey(RequestType, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    form_schema = models.JSONField(_("form schema"))
    ui_schema = models.JSONField(_("form layout"), default=dict, blank=True)
    documents = models.JSONField(_("documents"), default=list, blank=True)
    approval_rules = models.JSONField(_("approval rules"), default=list, blank=True)
    # A registered deadline policy name (transactions/apps.py registers the choices).
    sla_policy = models.CharField(_("SLA"), max_length=60)
    is_current = models.BooleanField(_("current"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["request_type", "-number"]
        verbose_name = _("request type version")
        verbose_name_plural = _("request type versions")
        constraints = [
            models.UniqueConstraint(
                fields=["request_type", "number"], name="requesttypeversion_unique"
            ),
            models.UniqueConstraint(
                fields=["request_type"],
                condition=Q(is_current=True),
                name="requesttypeversion_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_type.code} v{self.number}"


class Bundle(models.Model):
    """Several request types done in one flow: shared fields entered once, one confirmation."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    request_types = models.ManyToManyField(
        RequestType, through="BundleItem", related_name="bundles", verbose_name=_("request types")
    )
    # Field names that mean the same in every request type of the bundle (entered once).
    shared_fields = models.JSONField(_("shared fields"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("bundle")
        verbose_name_plural = _("bundles")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class BundleItem(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="items")
    request_type = models.ForeignKey(RequestType, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["bundle", "position"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "request_type"], name="bundleitem_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bundle.code}:{self.request_type.code}"


class BundleRun(models.Model):
    """One customer's bundle: the requests it created, the shared data, the confirmation."""

    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="runs")
    branch = models.ForeignKey("branches.Branch", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="bundle_runs"
    )
    shared_data = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The customer confirmed the whole bundle once (at the counter, on the staff screen).
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.bundle.code} #{self.pk}"


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for approval")
    RETURNED = "returned", _("Returned for correction")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent to core banking")
    EXECUTED = "executed", _("Executed")
    FAILED = "failed", _("Failed in core banking")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


# Editable by the maker; waiting for someone; finished.
EDITABLE_STATES = (RequestStatus.DRAFT, RequestStatus.RETURNED)
OPEN_STATES = (
    RequestStatus.DRAFT,
    RequestStatus.SUBMITTED,
    RequestStatus.RETURNED,
    RequestStatus.APPROVED,
    RequestStatus.SENT,
)
TERMINAL_STATES = (
    RequestStatus.EXECUTED,
    RequestStatus.FAILED,
    RequestStatus.REJECTED,
    RequestStatus.CANCELLED,
)


class ServiceRequest(models.Model):
    """A customer's request, filled on the e-form of one request-type version."""

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    public_token = models.CharField(max_length=32, unique=True, default=new_public_token)
    branch = models.ForeignKey(
        "branches.Branch", on_delete=models.PROTECT, related_name="service_requests"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="service_requests",
        verbose_name=_("customer"),
    )
    request_type = models.ForeignKey(RequestType, on_delete=models.PROTECT, related_name="requests")
    version = models.ForeignKey(
        RequestTypeVersion, on_delete=models.PROTECT, related_name="requests"
    )
    bundle_run = models.ForeignKey(
        BundleRun, on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    data = models.JSONField(_("form data"), default=dict, blank=True)
    # The amount the approval rules look at (from the form's money field), for worklists too.
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.DRAFT
    )
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="made_requests",
        verbose_name=_("maker"),
    )
    # Roles required, level by level, fixed at submission (the rules that applied then).
    approval_levels = models.JSONField(default=list, blank=True)
    # The level waiting for a decision (1-based; 0 when none is waiting).
    current_level = models.PositiveSmallIntegerField(default=0)
    # Submission rounds: each return for correction starts a new one (rework = round - 1).
    round = models.PositiveSmallIntegerField(default=0)
    rework_count = models.PositiveSmallIntegerField(_("returned for correction"), default=0)
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    core_reference = models.CharField(_("core-banking reference"), max_length=64, blank=True)
    # Where it came from: the visit/ticket at the counter, or a consultation's hand-off.
    ticket = models.ForeignKey(
        "reception.Ticket", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    consultation = models.ForeignKey(
        "consultation.Consultation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    language = models.CharField(max_length=8, default="zh-hans")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("approved or rejected"), null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Worklists order by it: the open SLA deadline's due time, copied here for one index.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        permissions = [
            ("approve_servicerequest", _("Can approve service requests")),
            ("process_servicerequest", _("Can process service requests")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in RequestStatus]),
                name="servicerequest_status_valid",
            ),
        ]
        indexes = [
            # Worklists: a branch's requests in a state, by due time.
            models.Index(fields=["branch", "status", "due_at"], name="request_worklist_idx"),
            # The approvers' worklist over many branches (a region): the waiting requests already
            # in due order, so a page reads its rows from the index instead of sorting them all.
            # (PostgreSQL's ascending order already puts NULLs last, as the worklists do.)
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status="submitted"),
                name="request_waiting_due_idx",
            ),
            # API lists (newest first) filtered by state, over any number of branches.
            models.Index(fields=["status", "-created_at", "-id"], name="request_status_new_idx"),
            models.Index(fields=["customer", "-created_at"], name="request_customer_idx"),
            models.Index(fields=["maker", "status"], name="request_maker_idx"),
        ]

    def __str__(self) -> str:
        return self.reference


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for correction")
    REJECTED = "rejected", _("Rejected")


class Approval(models.Model):
    """A decision on one level of one submission round."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="approvals")
    round = models.PositiveSmallIntegerField()
    level = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=30)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    note = models.CharField(max_length=500, blank=True)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["request", "round", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "round", "level"], name="approval_once_per_level"
            ),
            # Four eyes, in the database as well: one person decides one level of a round.
            models.UniqueConstraint(
                fields=["request", "round", "approver"], name="approval_one_level_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} r{self.round} L{self.level} {self.decision}"


def document_path(instance: "RequestDocument", filename: str) -> str:
    # A random name: the original is kept in `name`, never used as a path.
    return f"requests/{instance.request_id}/{secrets.token_hex(8)}"


class RequestDocument(models.Model):
    """A document attached to a request (ID copy, proof of address …), type read from its bytes."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="documents")
    doc_type = models.SlugField(max_length=40)
    file = models.FileField(upload_to=document_path)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    is_removed = models.BooleanField(default=False)

    class Meta:
        ordering = ["request", "doc_type", "uploaded_at"]

    def __str__(self) -> str:
        return self.name
