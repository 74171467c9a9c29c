"""Writes in the kernel: API clients and their keys, and the heartbeat."""

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.events.catalogue import register_event_labels
from bankservice.events.services import record

from .errors import BadInput, Conflict
from .models import ApiClient, Heartbeat

KEY_PREFIX_BYTES = 6
KEY_SECRET_BYTES = 32
# How long a rotated-out key keeps working unless the administrator chooses otherwise.
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
MAX_ROTATION_OVERLAP = timedelta(days=30)
ROTATION_FIELDS = ["previous_key_prefix", "previous_key_hash", "previous_key_expires_at"]
# Recording every request's time would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(KEY_PREFIX_BYTES)
    return prefix, f"bsk_{prefix}_{secrets.token_urlsafe(KEY_SECRET_BYTES)}"


def _audit_payload(client: ApiClient, branches) -> dict:
    # Never the key or its hash: the prefix only names which key it is.
    return {
        "name": client.name,
        "key_prefix": client.key_prefix,
        "scopes": client.scopes,
        "all_branches": client.all_branches,
        "branches": sorted(branch.code for branch in branches),
    }


def access_apiclient(pk: int, *, lock: bool = False) -> ApiClient:
    """The client, locked for a change when asked (only these services lock it; authentication
    reads it without a lock, so a request never waits for an administrator)."""
    queryset = ApiClient.objects.all()
    if lock:
        queryset = queryset.select_for_update()
    return queryset.get(pk=pk)


def apiclient_create(
    *, name: str, scopes: list[str], branches=(), all_branches: bool = False, actor=None
) -> tuple[ApiClient, str]:
    """Create an API client; the raw key is returned once and only its hash is stored."""
    prefix, raw_key = _new_key()
    branches = [] if all_branches else list(branches)
    try:
        with transaction.atomic():
            client = ApiClient.objects.create(
                name=name,
                key_prefix=prefix,
                key_hash=ApiClient.hash_key(raw_key),
                scopes=sorted(set(scopes)),
                all_branches=all_branches,
            )
            client.branches.set(branches)
            record(
                type="apiclient.created",
                actor=actor,
                subject=client,
                payload=_audit_payload(client, branches),
            )
    except IntegrityError:
        if ApiClient.objects.filter(name=name).exists():
            raise Conflict(_("An API client with this name exists."), field="name") from None
        raise
    return client, raw_key


def apiclient_update(
    *, actor, client: ApiClient, scopes: list[str], branches=(), all_branches: bool = False
) -> ApiClient:
    """Change what a client may do and where; its next request is checked against the change."""
    branches = [] if all_branches else list(branches)
    with transaction.atomic():
        locked = access_apiclient(client.pk, lock=True)
        before = {"scopes": locked.scopes, "all_branches": locked.all_branches}
        branches_before = {branch.pk for branch in locked.branches.all()}
        locked.scopes = sorted(set(scopes))
        locked.all_branches = all_branches
        changed = [field for field, value in before.items() if getattr(locked, field) != value]
        branches_changed = {branch.pk for branch in branches} != branches_before
        if changed:
            locked.save(update_fields=changed)
        if branches_changed:
            locked.branches.set(branches)
            changed.append("branches")
        if changed:
            record(
                type="apiclient.updated",
                actor=actor,
                subject=locked,
                payload={"changed": changed, **_audit_payload(locked, branches)},
            )
    return locked


def apiclient_rotate_key(
    *, client: ApiClient, overlap: timedelta = DEFAULT_ROTATION_OVERLAP, actor=None
) -> str:
    """Give a client a new key and return it (shown once). The key it replaces keeps working
    for `overlap` (none: it stops at once); a key still in an earlier overlap stops now. A
    revoked client's old key never comes back: it gets no overlap."""
    if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise BadInput(_("Choose an overlap between none and 30 days."), field="overlap")
    prefix, raw_key = _new_key()
    with transaction.atomic():
        locked = access_apiclient(client.pk, lock=True)
        keep_previous = overlap > timedelta(0) and locked.is_active
        locked.previous_key_prefix = locked.key_prefix if keep_previous else ""
        locked.previous_key_hash = locked.key_hash if keep_previous else ""
        locked.previous_key_expires_at = timezone.now() + overlap if keep_previous else None
        locked.key_prefix = prefix
        locked.key_hash = ApiClient.hash_key(raw_key)
        locked.save(update_fields=[*ROTATION_FIELDS, "key_prefix", "key_hash"])
        record(
            type="apiclient.key_rotated",
            actor=actor,
            subject=locked,
            payload={
                "name": locked.name,
                "key_prefix": locked.key_prefix,
                "previous_key_prefix": locked.previous_key_prefix,
                "previous_key_expires_at": (
                    locked.previous_key_expires_at.isoformat()
                    if locked.previous_key_expires_at
                    else None
                ),
            },
        )
    return raw_key


def apiclient_revoke(*, actor, client: ApiClient) -> ApiClient:
    """Refuse the client's keys from its next request on, the previous one included for good."""
    with transaction.atomic():
        locked = access_apiclient(client.pk, lock=True)
        if not locked.is_active:
            raise Conflict(_("The API client is already revoked."))
        locked.is_active = False
        locked.previous_key_prefix = ""
        locked.previous_key_hash = ""
        locked.previous_key_expires_at = None
        locked.save(update_fields=["is_active", *ROTATION_FIELDS])
        record(
            type="apiclient.revoked",
            actor=actor,
            subject=locked,
            payload={"name": locked.name, "key_prefix": locked.key_prefix},
        )
    return locked


def apiclient_reactivate(*, actor, client: ApiClient) -> ApiClient:
    """Accept a revoked client's current key again (rotate first if that key may have leaked)."""
    with transaction.atomic():
        locked = access_apiclient(client.pk, lock=True)
        if locked.is_active:
            raise Conflict(_("The API client is already active."))
        locked.is_active = True
        locked.save(update_fields=["is_active"])
        record(
            type="apiclient.reactivated",
            actor=actor,
            subject=locked,
            payload={"name": locked.name, "key_prefix": locked.key_prefix},
        )
    return locked


register_event_labels(
    {
        "apiclient.created": gettext_lazy("API client created"),
        "apiclient.updated": gettext_lazy("API client scopes or branches changed"),
        "apiclient.key_rotated": gettext_lazy("API client key rotated"),
        "apiclient.revoked": gettext_lazy("API client revoked"),
        "apiclient.reactivated": gettext_lazy("API client reactivated"),
    }
)


def apiclient_touch(*, client: ApiClient) -> None:
    """Note that the client was used, at most once per LAST_USED_RESOLUTION."""
    now = timezone.now()
    if client.last_used_at and now - client.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    client.last_used_at = now


def heartbeat_beat(*, name: str) -> Heartbeat:
    """Record that `name` ran now."""
    now = timezone.now()
    updated = Heartbeat.objects.filter(name=name).update(beat_at=now, count=F("count") + 1)
    if not updated:
        Heartbeat.objects.get_or_create(name=name, defaults={"beat_at": now, "count": 1})
    return Heartbeat.objects.get(name=name)
