"""The domain event log: one row per change, shared by timeline, audit trail and webhooks."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from bankservice.branches.scope import ScopedQuerySet


class Event(models.Model):
    """Something that happened to a customer or an object, by whom, where and when."""

    type = models.CharField(_("type"), max_length=80, db_index=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    actor_client = models.ForeignKey(
        "core.ApiClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API client"),
    )
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
    def actor_label(self) -> str:
        if self.actor_user is not None:
            return self.actor_user.get_full_name() or self.actor_user.get_username()
        if self.actor_client is not None:
            return f"API: {self.actor_client.name}"
        return str(_("system"))

    @property
    def stage(self) -> str:
        return self.type.split(".", 1)[0]
