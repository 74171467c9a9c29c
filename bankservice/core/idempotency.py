"""Idempotency keys: a client unsure whether its POST arrived (a timeout, a dropped connection)
sends it again with the same `Idempotency-Key` header and gets the first answer, instead of a
second request, approval or account.

The rules (after the IETF draft "The Idempotency-Key HTTP Header Field"):
- a key belongs to its principal (a member of staff or an API client) for `KEY_LIFETIME`;
- the same key with the same request (method, path with query, body) answers the first response,
  status and body, with `Idempotent-Replayed: true`, without running the request again;
- the same key with another request answers 422;
- only a success (2xx) is kept: a request that failed changed nothing (its transaction is rolled
  back, the key's row with it), so it may be sent again with the same key;
- a duplicate sent while the first still runs waits for it: the key's row is inserted in the
  request's own transaction, and the database holds the duplicate's insert until that one ends.
  Then the duplicate answers the first response, or runs itself if the first failed.

Put `@idempotent` on a viewset's `create`, or above `@action` on a POST action (below it, the
action would not be documented with the header). Rows are deleted by the `core.purge_idempotency_keys`
beat task once expired.
"""

import functools
import hashlib
import json
import re
from datetime import datetime, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework import status as http_status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = timedelta(hours=24)
# Printable ASCII, as the header's value is a string the client chose (a UUID, typically).
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
PURGE_BATCH_SIZE = 5000

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique value (e.g. a UUID, at most 255 printable ASCII characters) per intended "
        "change. Sending the same request again with the same key within 24 hours answers the "
        "first (successful) response, with the header `Idempotent-Replayed: true`, without doing "
        "it again; a retry that arrives while the first is running waits for it. The same key "
        "with a different request answers 422. Failed requests are not kept: they may be "
        "retried with the same key."
    ),
)


class KeyReused(exceptions.APIException):
    status_code = http_status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("This Idempotency-Key was already used for a different request.")
    default_code = "idempotency_key_reused"


def _principal(user) -> str:
    if getattr(user, "is_api_client", False):
        return f"client:{user.client.pk}"
    return f"user:{user.pk}"


def _canonical(value):
    """The request body as plain JSON values: form fields as lists, files by their digest."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)  # the view reads it next
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if isinstance(value, QueryDict):
        return {k: [_canonical(v) for v in values] for k, values in value.lists()}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def request_fingerprint(request) -> str:
    """SHA-256 of what makes two requests the same: method, path with query, parsed body (a
    retried multipart upload has a new boundary, so the raw bytes would differ)."""
    payload = {
        "method": request.method,
        "path": request.get_full_path(),
        "body": _canonical(request.data),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def _claim(*, principal: str, key: str, fingerprint: str, now: datetime) -> IdempotencyKey:
    """The key's row for this request, inserted or locked in the current transaction; its
    response is set when an earlier request with the key has already succeeded."""
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                principal=principal, key=key, fingerprint=fingerprint, created_at=now
            )
    except IntegrityError:
        # Used before. On PostgreSQL the insert first waited for the transaction that holds the
        # key (a duplicate running now) to commit or roll back.
        pass
    try:
        record = IdempotencyKey.objects.select_for_update().get(principal=principal, key=key)
    except IdempotencyKey.DoesNotExist:  # expired and purged in between: the key is free again
        return _claim(principal=principal, key=key, fingerprint=fingerprint, now=now)
    if record.created_at <= now - KEY_LIFETIME:
        # Expired but not purged yet: a new use of the key.
        record.fingerprint = fingerprint
        record.created_at = now
        record.response_status = record.response_body = None
        record.save(update_fields=["fingerprint", "created_at", "response_status", "response_body"])
        return record
    if record.fingerprint != fingerprint:
        raise KeyReused()
    return record


def idempotent(handler):
    """Honour the `Idempotency-Key` header on a viewset's POST handler (see the module)."""

    @functools.wraps(handler)
    def run(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not KEY_PATTERN.fullmatch(key):
            raise exceptions.ValidationError(
                {HEADER: [_("Use 1 to 255 printable ASCII characters (a UUID, for example).")]}
            )
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            record = _claim(
                principal=_principal(request.user),
                key=key,
                fingerprint=fingerprint,
                now=timezone.now(),
            )
            if record.response_status is not None:
                return Response(
                    record.response_body,
                    status=record.response_status,
                    headers={REPLAYED_HEADER: "true"},
                )
            response = handler(view, request, *args, **kwargs)
            if not http_status.is_success(response.status_code):
                # Not kept: undo whatever the handler wrote, and free the key for a retry.
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            # As the client reads it (lazy strings, decimals and dates rendered).
            record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            record.save(update_fields=["response_status", "response_body"])
        return response

    return extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])(run)


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete the expired keys, in batches (short transactions); returns how many."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted = 0
    while True:
        batch = list(
            IdempotencyKey.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :PURGE_BATCH_SIZE
            ]
        )
        if not batch:
            return deleted
        deleted += IdempotencyKey.objects.filter(pk__in=batch).delete()[0]
