"""Delivery channels behind one interface: `Channel.send(message) -> SendResult`.

A channel either returns a `SendResult` (the provider accepted the message) or raises
`TemporaryFailure` (not delivered, worth another try later) or `PermanentFailure` (not delivered,
trying again will not help). Anything else it raises means "we do not know whether it went out",
and the service treats it so (see docs/notifications.md, "At most once").

Which implementation backs "sms" and "email" is set by NOTIFY_SMS_CHANNEL / NOTIFY_EMAIL_CHANNEL:
an alias from CHANNEL_ALIASES or a dotted path to a `Channel` subclass.
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from email.utils import make_msgid
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.core.mail.utils import DNS_NAME
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message with its real address, handed to a channel and then forgotten."""

    reference: str
    kind: str  # "sms" or "email"
    to: str
    body: str
    subject: str = ""
    language: str = ""


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted the message."""

    provider_id: str = ""
    response_code: int | None = None


class ChannelError(Exception):
    """The provider did not accept the message. Messages never contain the recipient."""

    def __init__(self, message: str, *, response_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.response_code = response_code


class TemporaryFailure(ChannelError):
    """Not delivered; the same message may succeed later (timeout, 5xx, 4xx SMTP reply)."""


class PermanentFailure(ChannelError):
    """Not delivered; retrying will not help (rejected address, 4xx from the gateway)."""


class Channel(ABC):
    """One way of delivering a message."""

    name: str = ""

    @abstractmethod
    def send(self, message: OutgoingMessage) -> SendResult:
        """Hand the message to the provider, or raise TemporaryFailure / PermanentFailure."""


class ConsoleChannel(Channel):
    """Development: writes the message to the log instead of sending it."""

    name = "console"

    def send(self, message: OutgoingMessage) -> SendResult:
        logger.info(
            "notification %s (%s, %s) to %s\n%s%s",
            message.reference,
            message.kind,
            message.language,
            message.to,
            f"Subject: {message.subject}\n" if message.subject else "",
            message.body,
        )
        return SendResult(provider_id=f"console-{message.reference}")


class FileChannel(Channel):
    """Development: appends each message as one JSON line to NOTIFY_FILE_PATH (var/)."""

    name = "file"
    _lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> SendResult:
        path = Path(settings.NOTIFY_FILE_PATH)
        line = json.dumps({"at": timezone.now().isoformat(), **asdict(message)}, ensure_ascii=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {path.name}: {exc.strerror}") from exc
        return SendResult(provider_id=f"file-{message.reference}")


class EmailChannel(Channel):
    """E-mail through Django's mail API: EMAIL_BACKEND decides (SMTP in production)."""

    name = "email"

    def send(self, message: OutgoingMessage) -> SendResult:
        message_id = make_msgid(domain=DNS_NAME.get_fqdn())
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": message_id, "X-Notification-Reference": message.reference},
            connection=get_connection(timeout=settings.NOTIFY_EMAIL_TIMEOUT),
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (None, b""))
            raise _smtp_failure(code, reply, "recipient refused") from exc
        except smtplib.SMTPResponseException as exc:
            # Sender refused, data refused, authentication, HELO: classified by the reply code.
            raise _smtp_failure(exc.smtp_code, exc.smtp_error, type(exc).__name__) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentFailure(f"mail server does not support: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Connection refused or dropped, DNS, TLS handshake, timeout: the server never
            # accepted the message, so another try is safe.
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        return SendResult(provider_id=message_id, response_code=250)


def _smtp_failure(code: int | None, reply: bytes | str, what: str) -> ChannelError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    detail = f"{what}: {code} {text}".strip()
    if code is not None and 400 <= code < 500:
        return TemporaryFailure(detail, response_code=code)
    return PermanentFailure(detail, response_code=code)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_payload(template: Any, values: dict[str, str]) -> Any:
    """Replace {name} placeholders in every string of a parsed JSON template.

    The template is parsed before filling, so message text with quotes or newlines can never
    break the JSON; an unknown placeholder is a configuration error.
    """
    if isinstance(template, str):

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name not in values:
                raise ImproperlyConfigured(
                    f"SMS_GATEWAY_PAYLOAD uses {{{name}}}; known: {', '.join(sorted(values))}"
                )
            return values[name]

        return _PLACEHOLDER.sub(replace, template)
    if isinstance(template, dict):
        return {key: fill_payload(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill_payload(value, values) for value in template]
    return template


def _dig(data: Any, path: str) -> str:
    """data["a"]["b"] for path "a.b" (list indices allowed), or "" if it is not there."""
    for part in path.split(".") if path else []:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return ""
    return "" if data is None or isinstance(data, dict | list) else str(data)


class SmsGatewayChannel(Channel):
    """SMS through an HTTP gateway: POST the JSON from SMS_GATEWAY_PAYLOAD to SMS_GATEWAY_URL."""

    name = "gateway"

    # Worth another try: the gateway is overloaded, down or asked us to slow down.
    RETRY_STATUSES = frozenset({408, 425, 429})

    def __init__(self) -> None:
        if not settings.SMS_GATEWAY_URL:
            raise ImproperlyConfigured("The SMS gateway channel needs SMS_GATEWAY_URL.")
        try:
            self.payload_template = json.loads(settings.SMS_GATEWAY_PAYLOAD)
        except ValueError as exc:
            raise ImproperlyConfigured(f"SMS_GATEWAY_PAYLOAD is not JSON: {exc}") from exc

    def send(self, message: OutgoingMessage) -> SendResult:
        payload = fill_payload(
            self.payload_template,
            {
                "to": message.to,
                "to_digits": message.to.lstrip("+"),
                "text": message.body,
                "sender": settings.SMS_SENDER_ID,
                "reference": message.reference,
                "language": message.language,
                "username": settings.SMS_GATEWAY_USERNAME,
                "password": settings.SMS_GATEWAY_PASSWORD,
            },
        )
        auth = None
        if settings.SMS_GATEWAY_USERNAME:
            auth = httpx.BasicAuth(settings.SMS_GATEWAY_USERNAME, settings.SMS_GATEWAY_PASSWORD)
        try:
            response = httpx.post(
                settings.SMS_GATEWAY_URL,
                json=payload,
                auth=auth,
                timeout=settings.SMS_GATEWAY_TIMEOUT,
                headers={"Idempotency-Key": message.reference},
            )
        except httpx.TransportError as exc:
            # Connect and read timeouts, refused or dropped connections. A read timeout may hide
            # an accepted message; gateways that honour the reference (or Idempotency-Key)
            # drop the repeat. See docs/notifications.md.
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status >= 500 or status in self.RETRY_STATUSES:
            raise TemporaryFailure(_http_detail(response), response_code=status)
        if status >= 300:
            raise PermanentFailure(_http_detail(response), response_code=status)
        try:
            body = response.json()
        except ValueError:
            # Accepted (2xx) but not JSON: sent, without a provider id to match receipts to.
            logger.warning("SMS gateway answered %s without JSON for %s", status, message.reference)
            body = {}
        return SendResult(
            provider_id=_dig(body, settings.SMS_GATEWAY_PROVIDER_ID_FIELD)[:200],
            response_code=status,
        )


def _http_detail(response: httpx.Response) -> str:
    text = " ".join(response.text.split())[:300]
    return f"HTTP {response.status_code} {response.reason_phrase}: {text}".strip(": ")


CHANNEL_ALIASES = {
    "console": ConsoleChannel,
    "file": FileChannel,
    "email": EmailChannel,
    "gateway": SmsGatewayChannel,
}
_SETTING_FOR_KIND = {"sms": "NOTIFY_SMS_CHANNEL", "email": "NOTIFY_EMAIL_CHANNEL"}


def channel_for(kind: str) -> Channel:
    """The channel configured for "sms" or "email"."""
    setting = _SETTING_FOR_KIND[kind]
    return _build(getattr(settings, setting))


@cache
def _channel_class(name: str) -> type[Channel]:
    cls = CHANNEL_ALIASES.get(name) or import_string(name)
    if not (isinstance(cls, type) and issubclass(cls, Channel)):
        raise ImproperlyConfigured(f"{name} is not a notification channel.")
    return cls


def _build(name: str) -> Channel:
    # Built per message (cheap) so settings overridden in tests and admin changes apply.
    return _channel_class(name)()
