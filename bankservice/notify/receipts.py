"""The SMS gateway's delivery receipts: `POST /notify/sms/receipts` (docs/notifications.md).

The gateway signs the raw body with the shared secret SMS_RECEIPT_SECRET:
`X-Receipt-Signature: sha256=<hex HMAC-SHA256(secret, body)>` (the bare hex is accepted too).
No session, no CSRF token: the signature is the credential, compared in constant time; without
a secret configured, or with a wrong or missing signature, the answer is 403.

The body is one JSON object:
`{"provider_id": "gw-1", "status": "delivered" | "undelivered", "at": "<ISO 8601 with zone>",
"reason": "absent subscriber"}` (`at` and `reason` optional). Answers: 200 `{"changed": bool}`
(a repeated receipt is 200 and changes nothing), 400 with field messages, 404 for a provider id
we do not know (yet: the receipt may overtake our record of the send, so the gateway should
retry), 413 for a body over RECEIPT_MAX_BYTES.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.http import JsonResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bankservice.core.errors import DomainError

from .services import notification_receipt

SIGNATURE_HEADER = "X-Receipt-Signature"
SIGNATURE_PREFIX = "sha256="
RECEIPT_MAX_BYTES = 16 * 1024


def receipt_signature(secret: str, body: bytes) -> str:
    """The header value the gateway sends for `body` (also what tests and integrators use)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def _signed(request, body: bytes) -> bool:
    secret = settings.SMS_RECEIPT_SECRET
    if not secret:
        return False
    given = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not given.startswith(SIGNATURE_PREFIX):
        given = SIGNATURE_PREFIX + given
    return hmac.compare_digest(
        receipt_signature(secret, body).encode(), given.encode(errors="replace")
    )


def _error(field: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({field: [message]}, status=status)


@csrf_exempt
@require_POST
def sms_receipt(request):
    """One delivery receipt from the SMS gateway, checked against its signature."""
    length = request.headers.get("Content-Length") or "0"
    if not length.isdigit() or int(length) > RECEIPT_MAX_BYTES:
        return JsonResponse({"detail": _("The receipt is too large.")}, status=413)
    body = request.body
    if len(body) > RECEIPT_MAX_BYTES:
        return JsonResponse({"detail": _("The receipt is too large.")}, status=413)
    if not _signed(request, body):
        return JsonResponse({"detail": _("The signature does not match.")}, status=403)
    try:
        data = json.loads(body)
    except ValueError:
        return JsonResponse({"detail": _("The body must be JSON.")}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"detail": _("The body must be a JSON object.")}, status=400)
    for field in ("provider_id", "status", "at", "reason"):
        if data.get(field) is not None and not isinstance(data[field], str):
            return _error(field, _("Give this as a string."))
    at = None
    if data.get("at"):
        try:
            at = parse_datetime(data["at"])
        except ValueError:
            at = None
        if at is None:
            return _error("at", _("Give the time as ISO 8601 with its time zone."))
    try:
        receipt = notification_receipt(
            provider_id=data.get("provider_id") or "",
            status=data.get("status") or "",
            at=at,
            reason=data.get("reason") or "",
        )
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status_code)
    return JsonResponse({"changed": receipt.changed})
