"""Deadlines shared by every stage: one row per timer, swept by a periodic task."""

import datetime as dt

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bankservice.core.models import ActedBy

from .clock import Clock


class DeadlineState(models.TextChoices):
    """Where a deadline is in its life; only bankservice.sla.services changes it."""

    OPEN = "open", _("Open")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


# A breached deadline is terminal for the timer; its owner may still record a late meet (met_at).
OPEN_STATES = (DeadlineState.OPEN,)
TERMINAL_STATES = (DeadlineState.MET, DeadlineState.BREACHED, DeadlineState.CANCELLED)


class Deadline(models.Model):
    """A timer owned by any object (a complaint, a callback): due at due_at unless met first."""

    State = DeadlineState
    OPEN_STATES = OPEN_STATES
    TERMINAL_STATES = TERMINAL_STATES

    # Indexed by deadline_subject_idx (subject_type, subject_id), not on its own.
    subject_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("subject type"),
    )
    subject_id = models.CharField(_("subject id"), max_length=64)
    subject = GenericForeignKey("subject_type", "subject_id")
    # Dotted, owned by a stage ("complaint.decision"); the sweep calls the handlers of the kind.
    kind = models.CharField(_("kind"), max_length=80)
    policy = models.CharField(_("policy"), max_length=80)
    # Copied from the policy at start, so resume and extend count time the same way for life.
    clock = models.CharField(_("clock"), max_length=20, choices=Clock.choices)
    branch = models.ForeignKey(
        "branches.Branch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("branch"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=DeadlineState.choices, default=DeadlineState.OPEN
    )
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"))
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_total = models.DurationField(_("time paused"), default=dt.timedelta(0))
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    extended_count = models.PositiveSmallIntegerField(_("extensions"), default=0)
    # A breach handler that raised: the deadline stays open and is retried from retry_at.
    handler_failures = models.PositiveSmallIntegerField(_("handler failures"), default=0)
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    last_error = models.CharField(_("last handler error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        indexes = [
            # The sweep: open, not paused, due_at <= now, oldest first.
            models.Index(
                fields=["due_at"],
                condition=Q(state="open", paused_at__isnull=True),
                name="deadline_due_open_idx",
            ),
            # The warning sweep: open, not paused, not yet warned, warn_at <= now.
            models.Index(
                fields=["warn_at"],
                condition=Q(state="open", paused_at__isnull=True, warned_at__isnull=True),
                name="deadline_warn_open_idx",
            ),
            models.Index(fields=["subject_type", "subject_id"], name="deadline_subject_idx"),
        ]
        constraints = [
            # One running timer of a kind per object: a second start is a conflict, not a twin.
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind"],
                condition=Q(state="open"),
                name="deadline_one_open_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(state__in=DeadlineState.values), name="deadline_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(clock__in=Clock.values), name="deadline_clock_valid"
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=F("started_at")), name="deadline_due_after_start"
            ),
            models.CheckConstraint(
                condition=Q(state="breached", breached_at__isnull=False)
                | (~Q(state="breached") & Q(breached_at__isnull=True)),
                name="deadline_breached_at_iff_breached",
            ),
            models.CheckConstraint(
                condition=Q(state="cancelled", cancelled_at__isnull=False)
                | (~Q(state="cancelled") & Q(cancelled_at__isnull=True)),
                name="deadline_cancelled_at_iff_cancelled",
            ),
            models.CheckConstraint(
                condition=Q(met_at__isnull=True)
                | Q(state__in=[DeadlineState.MET, DeadlineState.BREACHED]),
                name="deadline_met_at_only_met_or_late",
            ),
            models.CheckConstraint(
                condition=~Q(state="met") | Q(met_at__isnull=False),
                name="deadline_met_has_met_at",
            ),
            models.CheckConstraint(
                condition=Q(paused_at__isnull=True) | Q(state="open"),
                name="deadline_paused_only_open",
            ),
            models.CheckConstraint(
                condition=Q(retry_at__isnull=True) | Q(state="open"),
                name="deadline_retry_only_open",
            ),
            models.CheckConstraint(
                condition=Q(warned_at__isnull=True) | Q(warn_at__isnull=False),
                name="deadline_warned_needs_warn_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class DeadlineExtension(ActedBy):
    """One extension of a deadline: from when to when, why and by whom."""

    deadline = models.ForeignKey(
        Deadline, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("deadline")
    )
    old_due_at = models.DateTimeField(_("old due at"))
    new_due_at = models.DateTimeField(_("new due at"))
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["deadline", "at", "id"]
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")
        constraints = [
            models.CheckConstraint(
                condition=Q(new_due_at__gt=F("old_due_at")), name="extension_moves_later"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="extension_reason_given"),
        ]

    def __str__(self) -> str:
        return f"{self.deadline} → {self.new_due_at:%Y-%m-%d %H:%M}"
