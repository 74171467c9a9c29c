"""Kernel models: API clients for integrators, idempotency keys of their POSTs, the worker
heartbeat."""

import hashlib
import hmac
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def api_scope_for_perm(perm: str) -> str:
    """The API scope that grants a Django permission: view -> app:read, add/change/delete ->
    app:write, a custom permission such as customers.reveal_pii -> customers:reveal_pii."""
    app_label, _dot, codename = perm.partition(".")
    verb = codename.split("_", 1)[0]
    if verb == "view":
        return f"{app_label}:read"
    if verb in {"add", "change", "delete"}:
        return f"{app_label}:write"
    return f"{app_label}:{codename}"


class ApiScope(models.TextChoices):
    CUSTOMERS_READ = "customers:read", _("Read customers")
    CUSTOMERS_WRITE = "customers:write", _("Create and update customers")
    CUSTOMERS_PII = "customers:reveal_pii", _("Read full ID and phone numbers")
    BRANCHES_READ = "branches:read", _("Read branches")
    EVENTS_READ = "events:read", _("Read the event stream")
    RECEPTION_READ = "reception:read", _("Read queue tickets, counters and services")
    RECEPTION_WRITE = "reception:write", _("Issue queue tickets")
    CONSULTATION_READ = (
        "consultation:read",
        _("Read consultations and knowledge articles; ask the assistant"),
    )
    TRANSACTIONS_READ = (
        "transactions:read",
        _(
            "Read service requests (form data masked without customers:reveal_pii), request types "
            "and bundles"
        ),
    )
    TRANSACTIONS_CORE_BANKING = (
        "transactions:core_banking",
        _("Report the result of a service request in core banking (executed or failed)"),
    )
    COMPLAINTS_READ = (
        "complaints:read",
        _(
            "Read complaints (complainant details masked without customers:reveal_pii), their "
            "letters and corrective actions, rule packs, categories and root causes"
        ),
    )
    COMPLAINTS_WRITE = (
        "complaints:write",
        _("Create complaints and move them through their lifecycle"),
    )
    CARE_READ = (
        "care:read",
        _(
            "Read callbacks (customer phone masked without customers:reveal_pii), follow-up "
            "rules, survey results and campaigns"
        ),
    )
    CARE_WRITE = (
        "care:write",
        _("Create care campaigns, import their target lists and schedule them"),
    )
    DASHBOARDS_READ = (
        "dashboards:read",
        _("Read KPIs, staff performance, forecasts, staffing and evaluations"),
    )


class ApiClient(models.Model):
    """A system that calls the API (core banking, a kiosk, a channel), with its key (and, for a
    while after a rotation, its previous key)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    # SHA-256 of the whole key: keys are random and long, so no slow password hash is needed.
    key_hash = models.CharField(max_length=64, editable=False)
    # The key replaced by the last rotation keeps working until previous_key_expires_at, so the
    # integrator can deploy the new one without an outage. Indexed: authentication looks it up.
    previous_key_prefix = models.CharField(
        _("previous key prefix"), max_length=16, blank=True, db_index=True, editable=False
    )
    previous_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    previous_key_expires_at = models.DateTimeField(
        _("previous key valid until"), null=True, blank=True, editable=False
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    all_branches = models.BooleanField(_("all branches"), default=False)
    branches = models.ManyToManyField(
        "branches.Branch", blank=True, related_name="api_clients", verbose_name=_("branches")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(previous_key_prefix="", previous_key_expires_at__isnull=True)
                    | (~Q(previous_key_prefix="") & Q(previous_key_expires_at__isnull=False))
                ),
                name="apiclient_previous_key_expires",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_key(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    def previous_key_valid(self, now: datetime) -> bool:
        """Whether the key replaced by the last rotation is still in its overlap period."""
        return self.previous_key_expires_at is not None and now < self.previous_key_expires_at

    def key_matches(self, raw_key: str, now: datetime) -> bool:
        """The current key, or the previous one during its overlap (both compared in constant
        time)."""
        digest = self.hash_key(raw_key)
        current = hmac.compare_digest(self.key_hash, digest)
        previous = (
            hmac.compare_digest(self.previous_key_hash, digest) if self.previous_key_hash else False
        )
        return current or (previous and self.previous_key_valid(now))


class IdempotencyKey(models.Model):
    """A POST made with an `Idempotency-Key` header and the answer it got, so that a retry with
    the same key gets that answer instead of doing the work again (bankservice/core/idempotency.py).
    """

    # Keys belong to whoever sent them: "user:<id>" or "client:<id>" (an API client).
    principal = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    # Written in the transaction that claimed the key and ran the request, so a row others can
    # read always has its answer (null only until that transaction commits).
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotencykey_unique")
        ]
        # The clean-up deletes the expired ones.
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created_idx")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"


class Heartbeat(models.Model):
    """When a periodic task last ran on a worker: proves beat -> broker -> worker -> database."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class ActedBy(models.Model):
    """Who did it: a member of staff or an API client (a record of what happened keeps both)."""

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

    class Meta:
        abstract = True

    @staticmethod
    def actor_columns(actor) -> dict:
        """The request's principal (a user, an API client, or None for the system) as columns."""
        if getattr(actor, "is_api_client", False):
            return {"actor_user": None, "actor_client": actor.client}
        if actor is not None and getattr(actor, "is_authenticated", False):
            return {"actor_user": actor, "actor_client": None}
        return {"actor_user": None, "actor_client": None}

    @property
    def actor_label(self) -> str:
        if self.actor_user is not None:
            return self.actor_user.get_full_name() or self.actor_user.get_username()
        if self.actor_client is not None:
            return _("API: %(name)s") % {"name": self.actor_client.name}
        return str(_("system"))
