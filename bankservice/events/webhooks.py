"""Webhook rules that need no database: URL and pattern validation, matching, the request body,
retry back-off. The models validate with these; the relay in `webhook_services` uses them."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import random
import re
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import Event

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
# Plain HTTP only to the machine itself (a local receiver, a sidecar, the test suite).
LOOPBACK_HOSTS = frozenset({"localhost"})
# "*", an exact type such as "customer.created", or a prefix such as "customer.*".
EVENT_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")

_url_syntax = URLValidator(schemes=["http", "https"])


def webhook_secret_generate() -> str:
    """A new random signing secret (256 bits), recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_webhook_url(value: str) -> None:
    """HTTPS everywhere; plain HTTP only to a loopback address; no credentials in the URL."""
    _url_syntax(value)
    parts = urlsplit(value)
    if parts.username or parts.password:
        raise ValidationError(
            _("Put no user name or password in the URL; receivers verify the signature instead."),
            code="credentials",
        )
    if parts.scheme != "https" and not _is_loopback(parts.hostname or ""):
        raise ValidationError(
            _("Webhook URLs must use HTTPS (plain HTTP is allowed only to localhost)."),
            code="insecure",
        )
    if parts.fragment:
        raise ValidationError(_("A webhook URL cannot have a #fragment."), code="fragment")


def validate_event_patterns(value) -> None:
    """A non-empty list of patterns: "*", "customer.*" or an exact type "customer.created"."""
    if not isinstance(value, list) or not value:
        raise ValidationError(
            _('List at least one event type, for example ["customer.*"] or ["*"].'),
            code="empty",
        )
    bad = [p for p in value if not isinstance(p, str) or not EVENT_PATTERN.match(p)]
    if bad:
        raise ValidationError(
            _(
                'Not an event type pattern: %(patterns)s. Use "*", a type such as '
                '"customer.created" or a prefix such as "customer.*".'
            ),
            params={"patterns": ", ".join(map(str, bad))},
            code="pattern",
        )


def event_type_matches(event_type: str, patterns: list[str]) -> bool:
    """Whether a type matches any pattern; "customer.*" matches "customer.x" and "customer.x.y"."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def event_body(event: Event) -> bytes:
    """The JSON a receiver gets for an event: the same bytes on every attempt."""
    subject = None
    if event.subject_type_id:
        content_type = ContentType.objects.get_for_id(event.subject_type_id)
        subject = {
            "type": f"{content_type.app_label}.{content_type.model}",
            "id": event.subject_id,
        }
    document = {
        "id": event.pk,
        "type": event.type,
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "branch": event.branch.code if event.branch_id else None,
        "customer": event.customer_id,
        "subject": subject,
        "payload": event.payload,
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode()


def retry_delay(attempts: int) -> dt.timedelta:
    """Back-off before the next attempt after `attempts` failures: exponential, capped, jittered.

    Equal jitter: half the exponential delay is fixed, half random, so receivers coming back from
    an outage are not hit by every subscription at once, yet no retry comes immediately.
    """
    base = settings.WEBHOOK_BACKOFF_BASE_SECONDS
    cap = settings.WEBHOOK_BACKOFF_CAP_SECONDS
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    # Not a secret: jitter only spreads retries.
    return dt.timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))  # noqa: S311
