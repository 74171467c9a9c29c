"""Writes in the kernel: API client keys and the heartbeat."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import ApiClient, Heartbeat

KEY_PREFIX_BYTES = 6
KEY_SECRET_BYTES = 32
# Recording every request's time would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(KEY_PREFIX_BYTES)
    return prefix, f"bsk_{prefix}_{secrets.token_urlsafe(KEY_SECRET_BYTES)}"


def apiclient_create(
    *, name: str, scopes: list[str], branches=(), all_branches: bool = False
) -> tuple[ApiClient, str]:
    """Create an API client; the raw key is returned once and only its hash is stored."""
    prefix, raw_key = _new_key()
    with transaction.atomic():
        client = ApiClient.objects.create(
            name=name,
            key_prefix=prefix,
            key_hash=ApiClient.hash_key(raw_key),
            scopes=sorted(set(scopes)),
            all_branches=all_branches,
        )
        client.branches.set(branches)
    return client, raw_key


def apiclient_rotate_key(*, client: ApiClient) -> str:
    """Replace a client's key; the old key stops working at once."""
    prefix, raw_key = _new_key()
    client.key_prefix = prefix
    client.key_hash = ApiClient.hash_key(raw_key)
    client.save(update_fields=["key_prefix", "key_hash"])
    return raw_key


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
