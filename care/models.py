"""Customer care: follow-up rules, the callbacks they schedule, and each attempt to reach the
customer (issue 8, first slice).

- A `FollowUpRule` reacts to a kind of event (a service completed, a request executed, a
  complaint decided, a consultation closed with "follow-up needed"): after how long, for which
  role, with which script, priority and reason code.
- A `Callback` is one scheduled contact with a customer; at most one open per customer and reason.
- A `CallbackAttempt` is one try (channel, result, note); no answer reschedules, up to a maximum.
- `CareCursor` is the generator's position in the event stream (events.Event ids), so a restart
  neither loses nor repeats an event.
"""

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
        permissions = [("work_callback", _("Can work callbacks (care agent)"))]
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
