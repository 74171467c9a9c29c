"""Customer care: follow-up rules, the callbacks they schedule, and each attempt to reach the
customer (issue 8, first slice).

- A `FollowUpRule` reacts to a kind of event (a service completed, a request executed, a
  complaint decided, a consultation closed with "follow-up needed"): after how long, for which
  role, with which script, priority and reason code.
- A `Callback` is one scheduled contact with a customer; at most one open per customer and reason.
- A `CallbackAttempt` is one try (channel, result, note); no answer reschedules, up to a maximum.
- `CareCursor` is the generator's position in the event stream (events.Event ids), so a restart
  neither loses nor repeats an event.
- A `SurveyRule` says which events (per type, with a sample rate) send a satisfaction survey; a
  `Survey` is one link sent to one customer, answered once (CSAT 1-5, NPS 0-10, free text) before
  it expires, tied to the branch, service, staff member and the ticket, request, consultation or
  complaint it asks about.
- A `CareOptOut` is a customer's "do not contact me" for surveys, campaigns or every care contact.
- A `Campaign` targets customers (segment, needs, birthday this month, an imported list) of some
  branches with a message or a callback; a `CampaignTarget` is one customer in it, with why they
  were chosen (or left out) and what became of the contact.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bankservice.branches.models import Branch, Role
from bankservice.branches.scope import ScopedQuerySet
from bankservice.core.language import in_language
from bankservice.customers.models import Customer


class Trigger(models.TextChoices):
    SERVICE_COMPLETED = "service_completed", _("A service at the counter was completed")
    REQUEST_EXECUTED = "request_executed", _("A service request was executed")
    COMPLAINT_DECIDED = "complaint_decided", _("A complaint was decided")
    CONSULTATION_FOLLOW_UP = "consultation_follow_up", _("A consultation needs a follow-up")
    CONSULTATION_CLOSED = "consultation_closed", _("A consultation was closed")
    SURVEY_LOW_SCORE = "survey_low_score", _("A survey came back with a low score")


class DelayUnit(models.TextChoices):
    BUSINESS_DAYS = "business_days", _("Business days (branch calendar)")
    HOURS = "hours", _("Hours")


class Priority(models.IntegerChoices):
    HIGH = 1, _("High")
    NORMAL = 2, _("Normal")
    LOW = 3, _("Low")


class FollowUpRule(models.Model):
    """When an event of `trigger` happens (for `match_code`, if given), call the customer back."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    trigger = models.CharField(_("trigger"), max_length=30, choices=Trigger.choices)
    # The service type's code (service completed), the request type's code (request executed),
    # the complaint category's code (complaint decided); empty: every one.
    match_code = models.SlugField(_("only for code"), max_length=40, blank=True)
    delay = models.PositiveIntegerField(_("after"))
    delay_unit = models.CharField(_("unit"), max_length=15, choices=DelayUnit.choices)
    role = models.CharField(
        _("for role"), max_length=30, choices=Role.choices, default=Role.CARE_AGENT
    )
    script = models.TextField(_("script or checklist"), blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    reason_code = models.SlugField(_("reason code"), max_length=40)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("follow-up rule")
        verbose_name_plural = _("follow-up rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(trigger__in=Trigger.values), name="followuprule_trigger_valid"
            ),
            models.CheckConstraint(
                condition=Q(delay_unit__in=DelayUnit.values), name="followuprule_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="followuprule_priority_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class CallbackStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLAIMED = "claimed", _("Claimed")
    DONE = "done", _("Done")
    UNREACHABLE = "unreachable", _("Closed: unreachable")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_CALLBACK_STATES = (CallbackStatus.OPEN, CallbackStatus.CLAIMED)


class Callback(models.Model):
    """One scheduled contact with a customer, from a rule (or by hand), worked by a care agent."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="callbacks", verbose_name=_("customer")
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="callbacks", verbose_name=_("branch")
    )
    rule = models.ForeignKey(
        FollowUpRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callbacks",
        verbose_name=_("rule"),
    )
    reason_code = models.SlugField(_("reason code"), max_length=40)
    role = models.CharField(_("for role"), max_length=30, choices=Role.choices)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    script = models.TextField(_("script or checklist"), blank=True)
    # The event that made it (idempotent generation: one callback per rule and event), or the
    # object a hand-off came from ("consultation.consultation:12").
    source_event = models.ForeignKey(
        "events.Event",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source event"),
    )
    source_ref = models.CharField(_("source"), max_length=60, blank=True)
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=12, choices=CallbackStatus.choices, default=CallbackStatus.OPEN
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callbacks_claimed",
        verbose_name=_("claimed by"),
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    outcome = models.TextField(_("outcome"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["due_at", "priority", "id"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        permissions = [
            ("work_callback", _("Can work callbacks (care agent)")),
            ("cancel_callback", _("Can cancel callbacks (care team lead)")),
        ]
        indexes = [
            models.Index(fields=["branch", "status", "due_at"], name="callback_worklist_idx"),
            models.Index(fields=["customer", "-created_at"], name="callback_customer_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CallbackStatus.values), name="callback_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="callback_priority_valid"
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="callback_satisfaction_range",
            ),
            # Guard: one open callback per customer and reason.
            models.UniqueConstraint(
                fields=["customer", "reason_code"],
                condition=Q(status__in=["open", "claimed"]),
                name="callback_one_open_per_reason",
            ),
            # Idempotent generation: a rule acts on an event once.
            models.UniqueConstraint(
                fields=["rule", "source_event"],
                condition=Q(source_event__isnull=False),
                name="callback_once_per_rule_and_event",
            ),
            models.CheckConstraint(
                condition=Q(status="claimed", claimed_by__isnull=False) | ~Q(status="claimed"),
                name="callback_claimed_has_agent",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "claimed"]) | Q(closed_at__isnull=False),
                name="callback_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason_code} · {self.customer_id}"


class AttemptChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class AttemptResult(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    REFUSED = "refused", _("Refused")


class CallbackAttempt(models.Model):
    callback = models.ForeignKey(
        Callback, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("callback")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=AttemptChannel.choices)
    result = models.CharField(_("result"), max_length=15, choices=AttemptResult.choices)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["callback", "at", "id"]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=AttemptChannel.values), name="attempt_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(result__in=AttemptResult.values), name="attempt_result_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.callback_id} · {self.result}"


class CareCursor(models.Model):
    """The generator's position in the event stream: every event up to this id was considered."""

    name = models.SlugField(max_length=40, unique=True)
    last_event_id = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_event_id}"


def new_public_token() -> str:
    return secrets.token_urlsafe(16)


# --- Surveys.


class SurveyRule(models.Model):
    """After an event of `trigger` (for `match_code`, if given), survey `sample_percent` of the
    customers; a survey expires after `expiry_days`; a CSAT at or below `low_csat` or an NPS at
    or below `low_nps` is a low score (a service-recovery callback, by the rule of trigger
    "survey_low_score")."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    trigger = models.CharField(_("trigger"), max_length=30, choices=Trigger.choices)
    match_code = models.SlugField(_("only for code"), max_length=40, blank=True)
    sample_percent = models.PositiveSmallIntegerField(_("sample rate (%)"), default=100)
    expiry_days = models.PositiveSmallIntegerField(_("link valid for (days)"), default=7)
    low_csat = models.PositiveSmallIntegerField(_("low CSAT at or below"), default=2)
    low_nps = models.PositiveSmallIntegerField(_("low NPS at or below"), default=6)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("survey rule")
        verbose_name_plural = _("survey rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    trigger__in=[
                        Trigger.SERVICE_COMPLETED,
                        Trigger.REQUEST_EXECUTED,
                        Trigger.COMPLAINT_DECIDED,
                        Trigger.CONSULTATION_CLOSED,
                    ]
                ),
                name="surveyrule_trigger_valid",
            ),
            models.CheckConstraint(
                condition=Q(sample_percent__lte=100), name="surveyrule_sample_percent_range"
            ),
            models.CheckConstraint(
                condition=Q(expiry_days__gte=1, expiry_days__lte=90),
                name="surveyrule_expiry_days_range",
            ),
            models.CheckConstraint(
                condition=Q(low_csat__gte=1, low_csat__lte=5), name="surveyrule_low_csat_range"
            ),
            models.CheckConstraint(condition=Q(low_nps__lte=10), name="surveyrule_low_nps_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class SurveyStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired")


class Survey(models.Model):
    """One survey link sent to one customer about one service; answered at most once."""

    public_token = models.CharField(max_length=32, unique=True, default=new_public_token)
    rule = models.ForeignKey(
        SurveyRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("rule"),
    )
    source_event = models.ForeignKey(
        "events.Event",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source event"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("customer")
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("branch")
    )
    # What it asks about: the trigger, the service or request type's (or category's) code, the
    # member of staff who served, and the object ("reception.ticket:12", "transactions.
    # servicerequest:7", "consultation.consultation:3", "complaints.complaint:9") and its visit.
    trigger = models.CharField(_("about"), max_length=30, choices=Trigger.choices)
    service_code = models.SlugField(_("service"), max_length=40, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surveys_about",
        verbose_name=_("served by"),
    )
    subject_ref = models.CharField(_("about object"), max_length=60, blank=True)
    visit_id = models.PositiveBigIntegerField(_("visit"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=AttemptChannel.choices)
    language = models.CharField(_("language"), max_length=8)
    notification = models.ForeignKey(
        "notify.Notification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.SENT
    )
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    nps = models.PositiveSmallIntegerField(_("likely to recommend (0-10)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    low_score = models.BooleanField(_("low score"), default=False)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [
            models.Index(fields=["branch", "answered_at"], name="survey_branch_answered_idx"),
            models.Index(fields=["staff", "answered_at"], name="survey_staff_answered_idx"),
            models.Index(fields=["customer", "-sent_at"], name="survey_customer_idx"),
            models.Index(fields=["status", "expires_at"], name="survey_status_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SurveyStatus.values), name="survey_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "email"]), name="survey_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5),
                name="survey_csat_range",
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__lte=10), name="survey_nps_range"
            ),
            # Answered once, with a time and at least one score; unanswered ones have none.
            models.CheckConstraint(
                condition=(
                    Q(status="answered", answered_at__isnull=False)
                    & (Q(csat__isnull=False) | Q(nps__isnull=False))
                )
                | (
                    ~Q(status="answered")
                    & Q(answered_at__isnull=True, csat__isnull=True, nps__isnull=True)
                ),
                name="survey_answered_consistent",
            ),
            models.UniqueConstraint(
                fields=["rule", "source_event"],
                condition=Q(source_event__isnull=False),
                name="survey_once_per_rule_and_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trigger} · {self.customer_id}"


class OptOutScope(models.TextChoices):
    SURVEYS = "surveys", _("Surveys")
    CAMPAIGNS = "campaigns", _("Campaigns")
    ALL = "all", _("Every care contact (calls, surveys, campaigns)")


class CareOptOut(models.Model):
    """The customer asked not to be contacted (for a scope); every care sender checks it."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="care_opt_outs", verbose_name=_("customer")
    )
    scope = models.CharField(_("scope"), max_length=10, choices=OptOutScope.choices)
    # Where it came from: "survey:12", "campaign-target:40", "staff", "api".
    source = models.CharField(_("source"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("care opt-out")
        verbose_name_plural = _("care opt-outs")
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=OptOutScope.values), name="careoptout_scope_valid"
            ),
            models.UniqueConstraint(fields=["customer", "scope"], name="careoptout_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.scope}"


# --- Campaigns.


class CampaignKind(models.TextChoices):
    MESSAGE = "message", _("Message (SMS or e-mail)")
    CALLBACK = "callback", _("Callback by a care agent")


class CampaignChannel(models.TextChoices):
    PREFERRED = "preferred", _("E-mail if allowed, else SMS")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(models.Model):
    """Contact a chosen set of customers of some branches once, by message or by callback."""

    name = models.CharField(_("name"), max_length=120)
    purpose = models.TextField(_("purpose"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=CampaignKind.choices)
    branches = models.ManyToManyField(Branch, related_name="campaigns", verbose_name=_("branches"))
    # Targeting: every filter given must hold (an empty one does not filter). With
    # `imported_only`, only customers on the imported list are targeted (the filters then narrow
    # the list).
    segments = models.JSONField(_("segments"), default=list, blank=True)
    needs = models.JSONField(_("needs flags"), default=list, blank=True)
    birthday_this_month = models.BooleanField(_("birthday this month"), default=False)
    imported_only = models.BooleanField(_("imported list only"), default=False)
    # A message campaign: the channel and the text (greeting, opt-out link and signature are
    # added). A callback campaign: the reason code, script and priority of its callbacks.
    channel = models.CharField(
        _("channel"), max_length=10, choices=CampaignChannel.choices, blank=True
    )
    message_text = models.TextField(_("message"), blank=True)
    reason_code = models.SlugField(_("reason code"), max_length=40, blank=True)
    script = models.TextField(_("script or checklist"), blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    scheduled_for = models.DateTimeField(_("starts at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        permissions = [("manage_campaign", _("Can plan and run care campaigns"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=CampaignKind.values), name="campaign_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CampaignStatus.values), name="campaign_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["", *CampaignChannel.values]),
                name="campaign_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="campaign_priority_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(scheduled_for__isnull=False),
                name="campaign_scheduled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TargetSource(models.TextChoices):
    FILTERS = "filters", _("Chosen by the campaign's filters")
    IMPORTED = "imported", _("Imported list")


class TargetStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    EXCLUDED = "excluded", _("Left out")
    CONTACTED = "contacted", _("Message queued or callback scheduled")


class ExclusionReason(models.TextChoices):
    OPTED_OUT = "opted_out", _("Opted out")
    NO_CONSENT = "no_consent", _("No consent for the channel")
    NO_ADDRESS = "no_address", _("No phone number or e-mail address")
    CONTACT_CAP = "contact_cap", _("Contacted too often lately")
    OPEN_CALLBACK = "open_callback", _("Already has an open callback for this reason")
    OTHER_BRANCH = "other_branch", _("Not a customer of the campaign's branches")
    FILTERS = "filters", _("Does not match the campaign's filters")
    MERGED = "merged", _("Record merged into another")


class CampaignTarget(models.Model):
    """One customer in a campaign: why they are in it, and what became of the contact."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="targets", verbose_name=_("campaign")
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="campaign_targets",
        verbose_name=_("customer"),
    )
    source = models.CharField(_("source"), max_length=10, choices=TargetSource.choices)
    # Why: the filters that chose them ("segment: priority; birthday in December") or the
    # imported row's note ("deposit maturing 2026-12-15").
    reason = models.CharField(_("why"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TargetStatus.choices, default=TargetStatus.PENDING
    )
    excluded_reason = models.CharField(
        _("left out because"), max_length=15, choices=ExclusionReason.choices, blank=True
    )
    public_token = models.CharField(max_length=32, unique=True, default=new_public_token)
    notification = models.ForeignKey(
        "notify.Notification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    callback = models.ForeignKey(
        Callback,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("callback"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)

    class Meta:
        ordering = ["campaign", "id"]
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        indexes = [
            models.Index(fields=["campaign", "status"], name="campaigntarget_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaigntarget_once"),
            models.CheckConstraint(
                condition=Q(source__in=TargetSource.values), name="campaigntarget_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TargetStatus.values), name="campaigntarget_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="excluded", excluded_reason__in=ExclusionReason.values)
                | (~Q(status="excluded") & Q(excluded_reason="")),
                name="campaigntarget_excluded_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.customer_id}"
