"""The domain event log: one row per change, shared by timeline, audit trail and webhooks."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from bankservice.branches.scope import ScopedQuerySet
from bankservice.core.models import ActedBy

from .webhooks import validate_event_patterns, validate_webhook_url


class Event(ActedBy):
    """Something that happened to a customer or an object, by whom, where and when."""

    type = models.CharField(_("type"), max_length=80, db_index=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    branch = models.ForeignKey(
        "branches.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_id = models.CharField(max_length=64, blank=True)
    # Never secrets; personal data masked before it gets here.
    payload = models.JSONField(default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["customer", "-id"], name="event_customer_idx"),
            models.Index(fields=["branch", "-occurred_at"], name="event_branch_time_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="event_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"

    @property
    def label(self) -> str:
        from .catalogue import event_label

        return event_label(self.type)

    @property
    def stage(self) -> str:
        return self.type.split(".", 1)[0]


# --- Webhooks: subscriptions, one delivery per (subscription, event), one log row per attempt.
# Imported here rather than at the top so this section stays one appended block.


class WebhookSubscription(models.Model):
    """A receiver URL that gets the events matching its patterns and branches, signed."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500, validators=[validate_webhook_url])
    # Kept as it is: the relay needs it to sign. Shown once on creation, never again.
    secret = models.CharField(_("signing secret"), max_length=64, editable=False)
    event_types = models.JSONField(
        _("event types"),
        default=list,
        validators=[validate_event_patterns],
        help_text=_('Patterns such as ["customer.*"], ["customer.created"] or ["*"].'),
    )
    is_active = models.BooleanField(_("active"), default=True)
    all_branches = models.BooleanField(
        _("all branches"),
        default=False,
        help_text=_("Also receives events that belong to no branch."),
    )
    branches = models.ManyToManyField(
        "branches.Branch", blank=True, related_name="+", verbose_name=_("branches")
    )
    # The relay's position in the event stream: every event up to this id has been considered.
    last_event_id = models.PositiveBigIntegerField(_("last event considered"), default=0)
    # Set while one relay works on this subscription, so no other relay sends for it meanwhile.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead-lettered")


DELIVERY_OPEN_STATES = frozenset({DeliveryStatus.PENDING})
DELIVERY_TERMINAL_STATES = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.DEAD})


class WebhookDelivery(models.Model):
    """One event owed to one subscription: pending until delivered or dead-lettered."""

    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="+", verbose_name=_("event")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last response status"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        permissions = [("resend_webhookdelivery", _("Can re-send a webhook delivery"))]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="webhookdelivery_unique_event"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="webhookdelivery_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=DeliveryStatus.PENDING)
                | models.Q(next_attempt_at__isnull=False),
                name="webhookdelivery_pending_has_due_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=DeliveryStatus.DELIVERED)
                | models.Q(delivered_at__isnull=False),
                name="webhookdelivery_delivered_has_time",
            ),
        ]
        indexes = [
            # The relay's question: this subscription's oldest pending event.
            models.Index(
                fields=["subscription", "event"],
                condition=models.Q(status=DeliveryStatus.PENDING),
                name="webhookdelivery_pending_idx",
            ),
            models.Index(fields=["status", "-id"], name="webhookdelivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request made for a delivery, and what came back."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("delivery"),
    )
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    error = models.TextField(_("error"), blank=True)
    # The t= of the X-Signature header sent, so a receiver's rejection can be matched up.
    signature_timestamp = models.PositiveBigIntegerField(_("signature timestamp"))

    class Meta:
        ordering = ["delivery", "attempted_at", "id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
