"""Notifications (SMS, e-mail), their delivery attempts, and quiet hours per branch.

Personal data: a notification to a customer stores the customer, not the address. The real phone
number or e-mail address is read from the customer when the message is sent (so a corrected
address is used and no second copy of it accumulates here). A notification to a contact who is
not a customer (a public booking, a remote check-in) has no record to read from: it stores the
contact's address for its channel only, name and language, and only when it is to be sent (a
skipped one keeps the masked copy alone). `recipient_masked` keeps a masked copy for staff
screens. The context holds what the template needs, never secrets (checked on the way in).
"""

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankservice.branches.scope import ScopedQuerySet


class NotificationChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")
    # A worker claimed it and never reported back (crash, time limit): it may or may not have
    # gone out. Never resent automatically; a person decides (at-most-once).
    UNKNOWN = "unknown", _("Outcome unknown")


OPEN_STATES = frozenset({NotificationStatus.PENDING, NotificationStatus.SENDING})
TERMINAL_STATES = frozenset(
    {
        NotificationStatus.SENT,
        NotificationStatus.FAILED,
        NotificationStatus.SKIPPED,
        NotificationStatus.CANCELLED,
        NotificationStatus.UNKNOWN,
    }
)
# States a person may send again from (after checking, for UNKNOWN, that it did not arrive).
RETRYABLE_STATES = frozenset({NotificationStatus.FAILED, NotificationStatus.UNKNOWN})


class SkipReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("No consent for this channel")
    NO_ADDRESS = "no_address", _("No phone number or e-mail address")


class AttemptStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    TEMPORARY_FAILURE = "temporary_failure", _("Temporary failure")
    PERMANENT_FAILURE = "permanent_failure", _("Permanent failure")
    UNKNOWN = "unknown", _("Outcome unknown")


class Notification(models.Model):
    """One message to one customer (or one contact) on one channel, from a registered template."""

    # Sent to providers (SMS gateway reference, e-mail header) instead of the database id.
    reference = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    # Empty for a contact who is not a customer: then the contact_* fields say where it goes.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("customer"),
    )
    # The full phone number (E.164) or e-mail address for the channel; never shown on a screen.
    contact_address = models.CharField(_("contact address"), max_length=254, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    # Whose quiet hours apply and who may see the row (the customer's home branch by default).
    branch = models.ForeignKey(
        "branches.Branch",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("branch"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=NotificationChannel.choices)
    template = models.CharField(_("message"), max_length=100)
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # The customer's preferred language when queued (a contact's language, which stays); at send
    # time the one actually used (the customer's preference then, or the zh-hans fallback).
    language = models.CharField(_("language"), max_length=8)
    recipient_masked = models.CharField(_("recipient"), max_length=254, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    skip_reason = models.CharField(
        _("skip reason"), max_length=20, choices=SkipReason.choices, blank=True
    )
    # The same business fact is notified at most once: callers pass e.g. "ticket.called:123:sms".
    # Empty when the caller gave none (a partial unique constraint skips those rows).
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, blank=True)
    # Set when quiet hours deferred the message (for display; next_attempt_at drives sending).
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    # When the message may next be sent: creation, end of quiet hours, or a retry's backoff.
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Set when a worker claims the row (pending -> sending); also the claim's fencing token.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_id = models.CharField(_("provider ID"), max_length=200, blank=True)
    # The gateway's delivery receipt (SMS): delivered to the handset, or not (docs/notifications.md).
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    undelivered_reason = models.CharField(_("not delivered because"), max_length=200, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_branch_field = "branch_id"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        permissions = [("manage_notification", _("Can retry or cancel notifications"))]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_unique_dedupe_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=NotificationStatus.values),
                name="notification_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=NotificationChannel.values),
                name="notification_channel_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=NotificationStatus.SENT) | Q(sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=NotificationStatus.SENDING) | Q(claimed_at__isnull=False),
                name="notification_sending_is_claimed",
            ),
            # Somewhere to send it: a customer, or a contact's address (a skipped contact row
            # keeps none: it is never sent).
            models.CheckConstraint(
                condition=Q(customer__isnull=False)
                | ~Q(contact_address="")
                | Q(status=NotificationStatus.SKIPPED),
                name="notification_has_recipient",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(contact_address="", contact_name=""),
                name="notification_customer_or_contact",
            ),
        ]
        indexes = [
            # The sweep: due pending rows, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=NotificationStatus.PENDING),
                name="notification_due_idx",
            ),
            # The sweep: rows a worker claimed and never finished.
            models.Index(
                fields=["claimed_at"],
                condition=Q(status=NotificationStatus.SENDING),
                name="notification_claimed_idx",
            ),
            models.Index(fields=["customer", "-created_at"], name="notification_customer_idx"),
            models.Index(fields=["status", "-created_at"], name="notification_status_idx"),
            # Delivery receipts find the message by the gateway's id (bankservice/notify/receipts.py).
            models.Index(
                fields=["provider_id"],
                condition=~Q(provider_id=""),
                name="notification_provider_idx",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.template} → {self.recipient_masked or self.customer_id or '-'} ({self.status})"
        )


class NotificationAttempt(models.Model):
    """One try to hand a notification to a provider, with what came back."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    # The channel implementation that was used, e.g. "sms:gateway", "email:email".
    channel = models.CharField(_("channel"), max_length=40)
    status = models.CharField(_("status"), max_length=20, choices=AttemptStatus.choices)
    # HTTP status from the SMS gateway, SMTP reply code from the mail server.
    response_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    provider_id = models.CharField(_("provider ID"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AttemptStatus.values), name="notificationattempt_status"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.status}"


class BranchQuietHours(models.Model):
    """When a branch's customers get no messages (local time); overrides NOTIFY_QUIET_HOURS.

    Kept here until Branch grows its own fields for it (the kernel app notify owns this table).
    A window may cross midnight (21:00–08:00). A row with `enabled` off means no quiet hours.
    """

    branch = models.OneToOneField(
        "branches.Branch",
        on_delete=models.CASCADE,
        related_name="notify_quiet_hours",
        verbose_name=_("branch"),
    )
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["branch"]
        verbose_name = _("quiet hours")
        verbose_name_plural = _("quiet hours")
        constraints = [
            models.CheckConstraint(
                condition=~Q(starts_at=models.F("ends_at")), name="quiethours_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch}: {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"
