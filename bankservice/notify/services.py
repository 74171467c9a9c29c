"""Queueing and delivering notifications; at most once per notification (docs/notifications.md).

The life of a notification:

    notification_send()   pending (or skipped), in the caller's transaction; after commit the
                          send task is queued (a broker outage only logs: the sweep catches up)
    notification_deliver() claims it (pending -> sending, one conditional UPDATE that only one
                          worker can win), sends outside any transaction, then records the
                          attempt and the result: sent, pending again with a backoff, or failed
    notification_sweep()  every minute: sends due rows (lost tasks, quiet hours over, retries)
                          and flags rows stuck in sending as "outcome unknown" for a person
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bankservice.branches.scope import can_act_at
from bankservice.core.errors import BadInput, Conflict, DomainError
from bankservice.core.masking import mask_email, mask_phone
from bankservice.customers.selectors import customer_in_use
from bankservice.customers.validators import normalize_phone
from bankservice.events.services import record

from .channels import (
    OutgoingMessage,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    channel_for,
)
from .models import (
    RETRYABLE_STATES,
    AttemptStatus,
    Notification,
    NotificationAttempt,
    NotificationChannel,
    NotificationStatus,
    SkipReason,
)
from .quiet import quiet_until, window_for_branch
from .registry import MESSAGE_TYPES, message_type
from .rendering import FALLBACK_LANGUAGE, render_message

logger = logging.getLogger(__name__)

Status = NotificationStatus
MANAGE_PERM = "notify.manage_notification"
# Publishing to the broker from a request: one immediate retry covers a pooled connection that a
# broker restart closed; beyond that the request must not wait (the sweep sends it later).
ENQUEUE_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Context keys that look like credentials are refused: notifications are stored and logged.
_SECRET_KEY = re.compile(r"(^|_)(password|passcode|passwd|secret|token|otp|pin|cvv)(_|$)", re.I)


class InvalidContext(DomainError):
    """The template context is missing a key, is not JSON, or carries something secret."""

    status_code = 400


@dataclass(frozen=True)
class Contact:
    """Someone to message who is not (or not known as) a customer, e.g. from a public booking.

    Consent is what the person gave for this purpose only; nothing is kept beyond the one
    notification (its address for the channel, name and language).
    """

    name: str = ""
    phone: str = ""
    email: str = ""
    language: str = FALLBACK_LANGUAGE
    consent_sms: bool = False
    consent_email: bool = False


@dataclass(frozen=True)
class Delivery:
    """What one call of notification_deliver did."""

    outcome: str  # not_claimed, deferred, skipped, sent, retry, failed, unknown
    retry_at: dt.datetime | None = None


@dataclass(frozen=True)
class SweepReport:
    delivered: int = 0
    flagged_unknown: int = 0


# --- Personal data helpers.


def _address(recipient, channel: str) -> str:
    return recipient.phone if channel == NotificationChannel.SMS else recipient.email


def _mask(channel: str, address: str) -> str:
    return mask_phone(address) if channel == NotificationChannel.SMS else mask_email(address)


def _skip_reason(recipient, channel: str) -> str | None:
    """For a customer or a Contact (both have phone, email, consent_sms, consent_email)."""
    consent = (
        recipient.consent_sms if channel == NotificationChannel.SMS else recipient.consent_email
    )
    if not consent:
        return SkipReason.NO_CONSENT
    if not _address(recipient, channel):
        return SkipReason.NO_ADDRESS
    return None


def _clean_contact(contact: Contact, channel: str) -> Contact:
    """The contact with its address for the channel normalised (E.164 phone, checked e-mail),
    the other address dropped, and a language we have templates for."""
    if not isinstance(contact, Contact):
        raise BadInput(_("The recipient must be a Contact."), field="contact")
    name = " ".join((contact.name or "").split())
    if len(name) > 200:
        raise BadInput(_("The name can have at most 200 characters."), field="name")
    phone = email = ""
    field = "phone" if channel == NotificationChannel.SMS else "email"
    try:
        if field == "phone" and (contact.phone or "").strip():
            phone = normalize_phone(contact.phone)
        elif field == "email" and (contact.email or "").strip():
            email = contact.email.strip()
            validate_email(email)
    except ValidationError as exc:
        raise BadInput(exc.messages[0], field=field) from None
    try:
        language = translation.get_supported_language_variant((contact.language or "").lower())
    except LookupError:
        language = FALLBACK_LANGUAGE
    return Contact(
        name=name,
        phone=phone,
        email=email,
        language=language,
        consent_sms=contact.consent_sms,
        consent_email=contact.consent_email,
    )


def _scrub(text: str, address: str, masked: str) -> str:
    """Provider errors sometimes echo the address ("550 <chen@example.cn>: unknown")."""
    text = text[:2000]
    if address:
        text = text.replace(address, masked)
        if address.startswith("+"):
            text = text.replace(address[1:], masked)
    return text


def _clean_context(key: str, context: dict | None) -> dict:
    """The context as it will be stored and rendered: JSON, required keys, nothing secret."""
    context = context or {}
    try:
        cleaned = json.loads(json.dumps(context, cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise InvalidContext(_("The message context must be JSON."), field="context") from exc
    if not isinstance(cleaned, dict):
        raise InvalidContext(_("The message context must be a mapping."), field="context")
    missing = [name for name in message_type(key).required if name not in cleaned]
    if missing:
        raise InvalidContext(
            _("The message %(key)s needs %(names)s.") % {"key": key, "names": ", ".join(missing)},
            field="context",
        )

    def walk(value):
        if isinstance(value, dict):
            for name, inner in value.items():
                if _SECRET_KEY.search(str(name)):
                    raise InvalidContext(
                        _("Secrets such as %(name)s must not go into a notification.")
                        % {"name": name},
                        field="context",
                    )
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(cleaned)
    return cleaned


def _payload(notification: Notification, **extra) -> dict:
    """Event payload: identifiers and the masked recipient, never the address or the text."""
    return {
        "notification": notification.pk,
        "reference": str(notification.reference),
        "channel": notification.channel,
        "template": notification.template,
        "recipient": notification.recipient_masked,
        **extra,
    }


# --- Queueing.


def notification_send(
    *,
    customer=None,
    contact: Contact | None = None,
    channel: str,
    template: str,
    context: dict | None = None,
    dedupe_key: str | None = None,
    actor=None,
    branch=None,
) -> Notification:
    """Queue a message to a customer or a contact in the caller's transaction; it goes out after
    commit.

    Exactly one of customer and contact; a contact needs the branch (quiet hours and who may see
    the row). Without consent or an address for the channel it is stored as skipped, with the
    reason. With a dedupe_key already used, the existing notification is returned and nothing new
    is queued.
    """
    if (customer is None) == (contact is None):
        raise BadInput(_("Give either a customer or a contact, not both or neither."))
    if contact is not None and branch is None:
        raise BadInput(_("A message to a contact needs a branch."), field="branch")
    kind = message_type(template)
    if channel not in kind.channels:
        raise DomainError(
            _("The message %(key)s cannot be sent by %(channel)s.")
            % {"key": template, "channel": channel},
            field="channel",
        )
    cleaned = _clean_context(template, context)
    if contact is not None:
        recipient = contact = _clean_contact(contact, channel)
        language = contact.language
    else:
        recipient = customer = customer_in_use(customer)
        language = customer.preferred_language
    dedupe_key = (dedupe_key or "").strip()
    if dedupe_key:
        existing = Notification.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    branch = branch or customer.home_branch
    now = timezone.now()
    skip = _skip_reason(recipient, channel)
    not_before = None
    if skip is None and kind.quiet_hours:
        not_before = quiet_until(now, window_for_branch(branch), branch.zone)
    address = _address(recipient, channel)
    notification = Notification(
        customer=customer,
        # A contact's address is kept only when there is something to send.
        contact_address=address if contact is not None and not skip else "",
        contact_name=contact.name if contact is not None else "",
        branch=branch,
        channel=channel,
        template=template,
        context=cleaned,
        language=language,
        recipient_masked=_mask(channel, address),
        status=Status.SKIPPED if skip else Status.PENDING,
        skip_reason=skip or "",
        dedupe_key=dedupe_key,
        not_before=not_before,
        next_attempt_at=not_before or now,
        created_at=now,
    )
    with transaction.atomic():
        try:
            # A savepoint: a concurrent insert of the same dedupe_key must not spoil the
            # caller's transaction (PostgreSQL waits for the other one, then raises here).
            with transaction.atomic():
                notification.save(force_insert=True)
        except IntegrityError:
            if dedupe_key:
                existing = Notification.objects.filter(dedupe_key=dedupe_key).first()
                if existing is not None:
                    return existing
            raise
        if skip:
            record(
                type="notification.skipped",
                actor=actor,
                branch=branch,
                customer=customer,
                subject=notification,
                payload=_payload(notification, reason=skip),
            )
            return notification
        record(
            type="notification.queued",
            actor=actor,
            branch=branch,
            customer=customer,
            subject=notification,
            payload=_payload(
                notification, not_before=not_before.isoformat() if not_before else None
            ),
        )
        if not_before is None:
            # Deferred ones are left to the sweep: a long countdown is fragile on every broker.
            transaction.on_commit(partial(notification_enqueue, notification.pk), robust=True)
    return notification


def email_staff(users, *, template: str, branch, context: dict, dedupe_key: str) -> list[int]:
    """Queue one e-mail per member of staff (to their address as a contact, in the bank's
    language: staff e-mails are internal). The dedupe key gets the user's id appended, so a
    deadline handler that runs again after a rollback queues nothing twice. Returns the ids."""
    for user in users:
        notification_send(
            contact=Contact(
                name=user.get_full_name() or user.get_username(),
                email=user.email,
                language=settings.LANGUAGE_CODE,
                consent_email=True,
            ),
            branch=branch,
            channel=NotificationChannel.EMAIL,
            template=template,
            context=context,
            dedupe_key=f"{dedupe_key}:{user.pk}",
        )
    return [user.pk for user in users]


def notification_enqueue(notification_id: int, *, countdown: float | None = None) -> bool:
    """Ask a worker to deliver it now (or after countdown); if the broker is down, log and
    return False: the row stays pending and due, and the sweep delivers it."""
    from .tasks import send_notification

    try:
        send_notification.apply_async(
            args=[notification_id],
            countdown=countdown,
            retry=True,
            retry_policy=ENQUEUE_RETRY_POLICY,
        )
    except Exception:
        # Any broker or transport error (kombu, redis, SQLAlchemy): optional, the sweep covers.
        logger.warning(
            "notification %s not queued (broker unavailable); the sweep will send it",
            notification_id,
            exc_info=True,
        )
        return False
    return True


# --- Delivering.


def notification_deliver(*, notification_id: int) -> Delivery:
    """Send one notification if it is pending and due, at most once however often it is called.

    Call it outside a transaction (a task does): the claim commits before the provider is called,
    so a second worker sees the row taken, and no transaction stays open during the network call.
    """
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, status=Status.PENDING, next_attempt_at__lte=now
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if claimed != 1:
        return Delivery("not_claimed")
    notification = Notification.objects.select_related("customer", "branch").get(pk=notification_id)
    return _deliver_claimed(notification)


def _release(notification: Notification, **changes) -> None:
    """Give a claimed row back as pending, its attempt not counted (nothing was sent)."""
    Notification.objects.filter(
        pk=notification.pk, status=Status.SENDING, claimed_at=notification.claimed_at
    ).update(status=Status.PENDING, attempts=F("attempts") - 1, claimed_at=None, **changes)


def _recipient(notification: Notification) -> tuple[str, str, str, str | None]:
    """Address, name, language and any skip reason, as of now.

    A customer's are read from the record (a corrected address, a withdrawn consent, a new
    language count); a contact's were stored when it was queued, with the consent given then.
    """
    if notification.customer_id is None:
        return notification.contact_address, notification.contact_name, notification.language, None
    customer = customer_in_use(notification.customer)
    return (
        _address(customer, notification.channel),
        customer.full_name,
        customer.preferred_language,
        _skip_reason(customer, notification.channel),
    )


def _deliver_claimed(notification: Notification) -> Delivery:
    """Deliver a row this worker claimed (status sending, claimed_at is the claim token)."""
    address, name, language, skip = _recipient(notification)
    kind = MESSAGE_TYPES.get(notification.template)

    # Quiet hours again: the row may have waited (broker down, retries) into the night.
    if kind is None or kind.quiet_hours:
        until = quiet_until(
            timezone.now(), window_for_branch(notification.branch), notification.branch.zone
        )
        if until is not None:
            _release(notification, next_attempt_at=until, not_before=until)
            return Delivery("deferred", retry_at=until)

    # Consent again (customers only: a contact has no record to withdraw it in): the customer
    # may have opted out since the message was queued.
    if skip is not None:
        with transaction.atomic():
            done = Notification.objects.filter(
                pk=notification.pk, status=Status.SENDING, claimed_at=notification.claimed_at
            ).update(status=Status.SKIPPED, skip_reason=skip, attempts=F("attempts") - 1)
            if done:
                record(
                    type="notification.skipped",
                    actor=None,
                    branch=notification.branch,
                    customer=notification.customer,
                    subject=notification,
                    payload=_payload(notification, reason=skip, at_send=True),
                )
        return Delivery("skipped")

    masked = _mask(notification.channel, address)
    channel = None
    started = time.monotonic()
    result: SendResult | None = None
    error: Exception | None = None
    try:
        rendered = render_message(
            key=notification.template,
            channel=notification.channel,
            language=language,
            context={
                **notification.context,
                "customer_name": name,
                "branch_name": notification.branch.name,
                "reference": str(notification.reference),
            },
        )
        channel = channel_for(notification.channel)
    except Exception as exc:
        # A missing template or a misconfigured channel: nothing was sent, retrying the same
        # thing will not help until someone fixes it (then they retry it from the admin).
        logger.exception("notification %s cannot be prepared", notification.pk)
        error = PermanentFailure(f"{type(exc).__name__}: {exc}")
    else:
        language = rendered.language
        try:
            result = channel.send(
                OutgoingMessage(
                    reference=str(notification.reference),
                    kind=notification.channel,
                    to=address,
                    subject=rendered.subject,
                    body=rendered.body,
                    language=rendered.language,
                )
            )
        except (TemporaryFailure, PermanentFailure) as exc:
            error = exc
        except Exception as exc:
            # Not a failure the channel vouched for (a bug, a time limit mid-call): it may have
            # gone out. At most once: a person decides.
            logger.exception("notification %s: outcome unknown", notification.pk)
            error = exc
    latency_ms = int((time.monotonic() - started) * 1000)
    channel_label = f"{notification.channel}:{channel.name if channel else '?'}"
    return _record_result(
        notification,
        result=result,
        error=error,
        channel_label=channel_label,
        latency_ms=latency_ms,
        address=address,
        masked=masked,
        language=language,
    )


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1) capped, then 50–100 % of it."""
    delay = min(
        settings.NOTIFY_RETRY_MAX_SECONDS, settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    )
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not a secret


def _record_result(
    notification: Notification,
    *,
    result: SendResult | None,
    error: Exception | None,
    channel_label: str,
    latency_ms: int,
    address: str,
    masked: str,
    language: str,
) -> Delivery:
    now = timezone.now()
    attempt = notification.attempts
    changes: dict = {"recipient_masked": masked, "language": language}
    retry_at = None
    if result is not None:
        outcome, attempt_status, event = "sent", AttemptStatus.SENT, "notification.sent"
        changes.update(
            status=Status.SENT, sent_at=now, provider_id=result.provider_id, last_error=""
        )
        response_code, provider_id, message = result.response_code, result.provider_id, ""
    else:
        message = _scrub(
            getattr(error, "message", None) or f"{type(error).__name__}: {error}", address, masked
        )
        response_code, provider_id = getattr(error, "response_code", None), ""
        changes["last_error"] = message
        if isinstance(error, TemporaryFailure) and attempt < settings.NOTIFY_MAX_ATTEMPTS:
            outcome, attempt_status, event = "retry", AttemptStatus.TEMPORARY_FAILURE, None
            retry_at = now + dt.timedelta(seconds=retry_delay(attempt))
            changes.update(status=Status.PENDING, next_attempt_at=retry_at, claimed_at=None)
        elif isinstance(error, TemporaryFailure | PermanentFailure):
            outcome, event = "failed", "notification.failed"
            attempt_status = (
                AttemptStatus.TEMPORARY_FAILURE
                if isinstance(error, TemporaryFailure)
                else AttemptStatus.PERMANENT_FAILURE
            )
            changes["status"] = Status.FAILED
        else:
            outcome, attempt_status, event = (
                "unknown",
                AttemptStatus.UNKNOWN,
                "notification.unknown",
            )
            changes["status"] = Status.UNKNOWN
    with transaction.atomic():
        NotificationAttempt.objects.create(
            notification=notification,
            number=attempt,
            at=now,
            channel=channel_label,
            status=attempt_status,
            response_code=response_code,
            provider_id=provider_id,
            error=message,
            latency_ms=latency_ms,
        )
        # Fenced by the claim: if the sweep flagged the row unknown meanwhile, the real result
        # still wins; if a person has since re-queued it, this stale worker changes nothing.
        updated = Notification.objects.filter(
            pk=notification.pk,
            status__in=[Status.SENDING, Status.UNKNOWN],
            claimed_at=notification.claimed_at,
        ).update(**changes)
        if updated and event:
            for name, value in changes.items():
                setattr(notification, name, value)
            record(
                type=event,
                actor=None,
                branch=notification.branch,
                customer=notification.customer,
                subject=notification,
                payload=_payload(
                    notification,
                    attempts=attempt,
                    provider_id=provider_id,
                    error=message[:300],
                ),
            )
    if outcome == "retry":
        logger.info(
            "notification %s: attempt %s failed, retry at %s", notification.pk, attempt, retry_at
        )
    return Delivery(outcome, retry_at=retry_at)


# --- The sweep.


def notification_sweep(
    *, batch_size: int | None = None, budget_seconds: float | None = None
) -> SweepReport:
    """Deliver due pending notifications in batches, and flag rows stuck in sending.

    Batches are taken with SELECT … FOR UPDATE SKIP LOCKED and claimed in the same transaction,
    so two sweepers (or a sweeper and a send task) never take the same row; on SQLite, which has
    no row locks, the conditional UPDATE and its IMMEDIATE transactions give the same guarantee.
    """
    batch_size = batch_size or settings.NOTIFY_SWEEP_BATCH_SIZE
    budget = settings.NOTIFY_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    flagged = _flag_stuck(limit=100)
    stop_at = time.monotonic() + budget
    delivered = 0
    while time.monotonic() < stop_at:
        batch = _claim_due(limit=batch_size)
        if not batch:
            break
        done = 0
        try:
            for notification in batch:
                _deliver_claimed(notification)
                done += 1
        finally:
            # Interrupted (time limit, shutdown): give back what was claimed and not yet tried,
            # so it is not later mistaken for a send whose outcome is unknown.
            for notification in batch[done + 1 :]:
                _release(notification)
        delivered += done
    return SweepReport(delivered=delivered, flagged_unknown=flagged)


def _claim_due(*, limit: int) -> list[Notification]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Notification.objects.filter(pk__in=ids, status=Status.PENDING).update(
            status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
        )
        return list(
            Notification.objects.filter(pk__in=ids, status=Status.SENDING, claimed_at=now)
            .select_related("customer", "branch")
            .order_by("next_attempt_at", "id")
        )


def _flag_stuck(*, limit: int) -> int:
    """Rows claimed longer ago than NOTIFY_SENDING_TIMEOUT_SECONDS: the worker died mid-send.

    They are not sent again (the message may have gone out); they become "outcome unknown" for a
    person to check and, if it did not arrive, send again from the admin.
    """
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.NOTIFY_SENDING_TIMEOUT_SECONDS)
    message = (
        f"No result recorded within {settings.NOTIFY_SENDING_TIMEOUT_SECONDS} s of the claim "
        "(worker stopped?): it may or may not have been sent."
    )
    flagged = 0
    with transaction.atomic():
        stuck = list(
            Notification.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("customer", "branch")
            .order_by("claimed_at")[:limit]
        )
        for notification in stuck:
            if not Notification.objects.filter(
                pk=notification.pk, status=Status.SENDING, claimed_at=notification.claimed_at
            ).update(status=Status.UNKNOWN, last_error=message):
                continue
            NotificationAttempt.objects.create(
                notification=notification,
                number=notification.attempts,
                at=now,
                channel=f"{notification.channel}:?",
                status=AttemptStatus.UNKNOWN,
                error=message,
            )
            record(
                type="notification.unknown",
                actor=None,
                branch=notification.branch,
                customer=notification.customer,
                subject=notification,
                payload=_payload(notification, attempts=notification.attempts, error=message),
            )
            flagged += 1
    if flagged:
        logger.warning("%s notifications flagged as outcome unknown", flagged)
    return flagged


# --- What people do.


def _check_manage(actor, notification: Notification) -> None:
    if actor is not None and not can_act_at(actor, MANAGE_PERM, notification.branch_id):
        raise PermissionDenied(_("You may not manage notifications of this branch."))


def notification_retry(*, notification: Notification, actor) -> Notification:
    """Queue a failed (or outcome-unknown, after checking) notification for another try."""
    _check_manage(actor, notification)
    with transaction.atomic():
        # Locks the row against a concurrent retry or cancel; workers only touch sending rows.
        locked = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("customer", "branch")
            .get(pk=notification.pk)
        )
        if locked.status not in RETRYABLE_STATES:
            raise Conflict(
                _("Only a failed notification can be sent again; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        previous = locked.status
        locked.status = Status.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.claimed_at = None
        locked.not_before = None
        locked.save(
            update_fields=["status", "attempts", "next_attempt_at", "claimed_at", "not_before"]
        )
        record(
            type="notification.retried",
            actor=actor,
            branch=locked.branch,
            customer=locked.customer,
            subject=locked,
            payload=_payload(locked, previous_status=previous),
        )
        transaction.on_commit(partial(notification_enqueue, locked.pk), robust=True)
    return locked


def notification_cancel(*, notification: Notification, actor, reason: str = "") -> Notification:
    """Withdraw a notification that has not gone out yet (e.g. the appointment was cancelled)."""
    _check_manage(actor, notification)
    with transaction.atomic():
        locked = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("customer", "branch")
            .get(pk=notification.pk)
        )
        if locked.status != Status.PENDING:
            raise Conflict(
                _("Only a pending notification can be cancelled; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        locked.status = Status.CANCELLED
        locked.save(update_fields=["status"])
        record(
            type="notification.cancelled",
            actor=actor,
            branch=locked.branch,
            customer=locked.customer,
            subject=locked,
            payload=_payload(locked, reason=reason[:200]),
        )
    return locked


# --- Delivery receipts (the SMS gateway says whether the message reached the handset).


class ReceiptStatus:
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    VALUES = (DELIVERED, UNDELIVERED)


class UnknownMessage(DomainError):
    """No SMS we sent carries this provider id (yet: the receipt may overtake our record of the
    send, so the gateway is told 404 and tries again later)."""

    status_code = 404


@dataclass(frozen=True)
class Receipt:
    """What one receipt did: the notification, and whether it changed anything."""

    notification: Notification
    changed: bool


# Provider texts sometimes quote the number ("absent subscriber 8613912345678").
_NUMBER = re.compile(r"\+?\d[\d ()-]{6,}\d")
REASON_MAX = 200


def notification_receipt(
    *, provider_id: str, status: str, at: dt.datetime | None = None, reason: str = ""
) -> Receipt:
    """Record the gateway's delivery receipt for the SMS it knows as `provider_id`.

    delivered: delivered_at is set (the gateway's time, never later than now); undelivered:
    undelivered_reason is set. Idempotent: a repeated receipt changes nothing and records
    nothing. Delivered is final: a later "undelivered" for it is ignored; an "undelivered" may
    be followed by "delivered" (the operator retried), which clears the reason. Records notification.delivered or
    notification.undelivered (ids and the masked recipient only).
    """
    provider_id = (provider_id or "").strip()
    if not provider_id or len(provider_id) > 200:
        raise BadInput(_("Give the provider's message id."), field="provider_id")
    if status not in ReceiptStatus.VALUES:
        raise BadInput(_("The status is delivered or undelivered."), field="status")
    now = timezone.now()
    if at is None:
        at = now
    elif timezone.is_naive(at):
        raise BadInput(_("Give the time with its time zone."), field="at")
    at = min(at, now)
    reason = _NUMBER.sub("***", " ".join((reason or "").split()))[:REASON_MAX]
    if status == ReceiptStatus.UNDELIVERED and not reason:
        reason = _("no reason given")
    with transaction.atomic():
        # Locks the row against a concurrent receipt for the same message (gateways resend);
        # the worker's result update is fenced on status sending, which a receipt never sees.
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("customer", "branch")
            .filter(channel=NotificationChannel.SMS, provider_id=provider_id)
            .order_by("-id")
            .first()
        )
        if notification is None:
            raise UnknownMessage(_("No message has this provider id."), field="provider_id")
        if notification.delivered_at is not None:
            return Receipt(notification, changed=False)
        if status == ReceiptStatus.DELIVERED:
            # A failure reported earlier is superseded: the message arrived after all.
            notification.delivered_at = at
            notification.undelivered_reason = ""
            notification.save(update_fields=["delivered_at", "undelivered_reason"])
            extra = {"delivered_at": at.isoformat()}
        else:
            if notification.undelivered_reason == reason:
                return Receipt(notification, changed=False)
            notification.undelivered_reason = reason
            notification.save(update_fields=["undelivered_reason"])
            extra = {"reason": reason, "at": at.isoformat()}
        record(
            type=f"notification.{status}",
            actor=None,
            branch=notification.branch,
            customer=notification.customer,
            subject=notification,
            payload=_payload(notification, provider_id=provider_id, **extra),
        )
    return Receipt(notification, changed=True)
