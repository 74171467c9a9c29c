"""Webhooks: managing subscriptions, re-sending deliveries, and the relay that sends events.

The relay is a transactional outbox reader. Services write `Event` rows in their own
transactions; the relay, run by Celery beat, follows the event log by id for each subscription
(its `last_event_id` cursor), creates a `WebhookDelivery` per matching event and sends them
in event order. A request never waits for a receiver, and a receiver or broker outage loses
nothing: deliveries stay pending and the cursor stays put until the relay can go on.

Concurrency. A relay claims one subscription at a time with a short transaction: the row is
locked with `select_for_update(skip_locked=True)` (PostgreSQL: a second relay skips it instead
of waiting) and a lease (`lease_until`, `lease_token`) is set with a conditional UPDATE (the
guard that also works on SQLite, which ignores row locks). The HTTP requests are then made with
no transaction open and no row lock held: a slow receiver must not keep a pooled connection
idle in a transaction, and on SQLite an open write transaction would stop every other writer
of the whole application. The lease serialises one subscription (so its order holds) and
outlives the relay task's hard time limit, so a killed worker delays that subscription by at
most one lease. Each attempt is saved in its own short transaction with a conditional UPDATE
(status still pending, attempt count unchanged), so a count is never lost or doubled.

Delivery is at least once: a worker killed between the receiver's answer and the save re-sends
that event later. Receivers de-duplicate on `X-Event-Id`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import uuid
from urllib.parse import urlsplit

import httpx
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bankservice.core.errors import Conflict

from .models import (
    DELIVERY_TERMINAL_STATES,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from .services import record
from .signing import signature_header
from .stream import events_after, stream_position
from .webhooks import event_body, event_type_matches, retry_delay, webhook_secret_generate

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = ("name", "url", "event_types", "all_branches")
USER_AGENT = "bankservice-webhooks/1"
# How much of a failing receiver's answer the delivery log keeps.
ERROR_SNIPPET = 500
# The relay's time budget per run; it stops starting requests after this long.
RELAY_BUDGET_SECONDS = 60
# At least the relay task's hard time limit (tasks.py), so a lease never ends under a live relay.
LEASE_MIN_SECONDS = 180
# Event batches one relay run may scan per subscription (filtered-out events cost a scan too).
SCAN_BATCHES = 10


class LeaseLost(RuntimeError):
    """Another relay took this subscription over (our lease ran out): stop touching it."""


# --- Subscriptions -----------------------------------------------------------------------------


def _url_for_log(url: str) -> str:
    # A query string may carry a receiver's token: the audit trail keeps scheme, host and path.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _audit_payload(subscription: WebhookSubscription, branches) -> dict:
    return {
        "name": subscription.name,
        "url": _url_for_log(subscription.url),
        "event_types": subscription.event_types,
        "all_branches": subscription.all_branches,
        "branches": sorted(b.code for b in branches),
    }


def _validate(subscription: WebhookSubscription, branches) -> None:
    subscription.full_clean(exclude=["secret"])
    if not subscription.all_branches and not branches:
        raise ValidationError(
            {"branches": _("Choose at least one branch, or all branches.")}, code="no_branches"
        )


def webhook_subscription_create(*, actor, data: dict) -> tuple[WebhookSubscription, str]:
    """Create a subscription for events from now on; return it and its secret (shown once)."""
    branches = list(data.get("branches") or [])
    subscription = WebhookSubscription(
        **{f: data[f] for f in EDITABLE_FIELDS if f in data}, secret=webhook_secret_generate()
    )
    _validate(subscription, branches)
    with transaction.atomic():
        subscription.save()
        subscription.branches.set(branches)
        record(
            type="webhook.subscription_created",
            actor=actor,
            subject=subscription,
            payload=_audit_payload(subscription, branches),
        )
        # Start after every event recorded so far, its own creation included.
        subscription.last_event_id = stream_position()
        subscription.save(update_fields=["last_event_id"])
    return subscription, subscription.secret


def access_webhook_subscription(pk: int, *, lock: bool = False) -> WebhookSubscription:
    """The subscription, locked for a change when asked (the relay's claim locks it briefly
    too and skips it while locked, so a change never waits for a relay)."""
    queryset = WebhookSubscription.objects.all()
    if lock:
        queryset = queryset.select_for_update()
    return queryset.get(pk=pk)


def webhook_subscription_update(
    *, actor, subscription: WebhookSubscription, data: dict
) -> WebhookSubscription:
    """Change name, URL, patterns or branches; they apply to events not yet queued for it."""
    with transaction.atomic():
        locked = access_webhook_subscription(subscription.pk, lock=True)
        before = {f: getattr(locked, f) for f in EDITABLE_FIELDS}
        branches_before = list(locked.branches.all())
        for field in EDITABLE_FIELDS:
            if field in data:
                setattr(locked, field, data[field])
        branches = list(data["branches"]) if "branches" in data else branches_before
        _validate(locked, branches)
        changed = [f for f in EDITABLE_FIELDS if getattr(locked, f) != before[f]]
        branches_changed = {b.pk for b in branches} != {b.pk for b in branches_before}
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
        if branches_changed:
            locked.branches.set(branches)
        if changed or branches_changed:
            record(
                type="webhook.subscription_updated",
                actor=actor,
                subject=locked,
                payload={
                    "changed": [*changed, *(["branches"] if branches_changed else [])],
                    **_audit_payload(locked, branches),
                },
            )
    return locked


def _set_active(*, actor, subscription: WebhookSubscription, active: bool) -> WebhookSubscription:
    with transaction.atomic():
        locked = access_webhook_subscription(subscription.pk, lock=True)
        if locked.is_active == active:
            raise Conflict(
                _("The subscription is already active.")
                if active
                else _("The subscription is already inactive.")
            )
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        record(
            type="webhook.subscription_activated" if active else "webhook.subscription_deactivated",
            actor=actor,
            subject=locked,
            payload={"name": locked.name},
        )
    return locked


def webhook_subscription_deactivate(
    *, actor, subscription: WebhookSubscription
) -> WebhookSubscription:
    """Pause a subscription: nothing is sent; its cursor and pending deliveries wait."""
    return _set_active(actor=actor, subscription=subscription, active=False)


def webhook_subscription_activate(
    *, actor, subscription: WebhookSubscription
) -> WebhookSubscription:
    """Resume a paused subscription: it catches up on the events recorded while paused."""
    return _set_active(actor=actor, subscription=subscription, active=True)


def webhook_subscription_rotate_secret(*, actor, subscription: WebhookSubscription) -> str:
    """Give the subscription a new signing secret and return it (shown once); every request
    from now on, retries included, is signed with it."""
    with transaction.atomic():
        locked = access_webhook_subscription(subscription.pk, lock=True)
        locked.secret = webhook_secret_generate()
        locked.save(update_fields=["secret", "updated_at"])
        record(
            type="webhook.secret_rotated",
            actor=actor,
            subject=locked,
            payload={"name": locked.name},
        )
    return locked.secret


# --- Deliveries --------------------------------------------------------------------------------


def webhook_delivery_list():
    """Deliveries with their subscription, event and attempt log (a fixed number of queries)."""
    return WebhookDelivery.objects.select_related("subscription", "event").prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("attempted_at", "id"))
    )


def webhook_delivery_resend(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a delivered or dead-lettered delivery again, due now, with a fresh attempt count.

    It is then the subscription's pending delivery for the oldest event, so later events wait
    for it as for any other.
    """
    with transaction.atomic():
        # The relay changes only pending deliveries (conditional UPDATE): no lock to contend.
        locked = (
            WebhookDelivery.objects.select_for_update()
            .select_related("subscription")
            .get(pk=delivery.pk)
        )
        if locked.status not in DELIVERY_TERMINAL_STATES:
            raise Conflict(_("This delivery is still pending: the relay will send it."))
        if not locked.subscription.is_active:
            raise Conflict(_("The subscription is inactive: activate it before re-sending."))
        previous = locked.status
        locked.status = DeliveryStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.delivered_at = None
        locked.save(
            update_fields=["status", "attempts", "next_attempt_at", "delivered_at", "updated_at"]
        )
        record(
            type="webhook.delivery_resent",
            actor=actor,
            subject=locked,
            payload={
                "subscription": locked.subscription_id,
                "event": locked.event_id,
                "previous_status": previous,
            },
        )
    return locked


# --- The relay ---------------------------------------------------------------------------------


@dataclasses.dataclass
class RelayReport:
    """What one relay run did, for the task's log line and for tests."""

    subscriptions: int = 0
    skipped: int = 0
    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0


def _lease_length() -> dt.timedelta:
    worst_request = 4 * settings.WEBHOOK_TIMEOUT_SECONDS  # connect + write + read + pool
    return dt.timedelta(seconds=max(LEASE_MIN_SECONDS, RELAY_BUDGET_SECONDS + worst_request + 60))


def _subscription_claim(*, subscription_id: int, token: str) -> WebhookSubscription | None:
    """Take the subscription's lease, or None if another relay holds it or it was paused."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    with transaction.atomic():
        # PostgreSQL: a row another relay is claiming right now is skipped, not waited for.
        subscription = (
            WebhookSubscription.objects.select_for_update(skip_locked=True)
            .filter(free, pk=subscription_id, is_active=True)
            .first()
        )
        if subscription is None:
            return None
        # The guard on every database (SQLite ignores row locks): only one UPDATE can match.
        claimed = WebhookSubscription.objects.filter(
            free, pk=subscription_id, is_active=True
        ).update(lease_until=now + _lease_length(), lease_token=token)
    if not claimed:
        return None
    subscription.lease_token = token
    return subscription


def _subscription_release(*, subscription_id: int, token: str) -> None:
    WebhookSubscription.objects.filter(pk=subscription_id, lease_token=token).update(
        lease_until=None, lease_token=""
    )


def _queue_new_events(subscription: WebhookSubscription) -> int:
    """Create deliveries for the matching events after the cursor and move the cursor on (over
    consecutive ids only, waiting on a gap: bankservice/events/stream.py)."""
    batch = settings.WEBHOOK_BATCH_SIZE
    grace = dt.timedelta(seconds=settings.WEBHOOK_GAP_GRACE_SECONDS)
    patterns = subscription.event_types
    branch_ids = (
        None
        if subscription.all_branches
        else set(subscription.branches.values_list("id", flat=True))
    )
    queued = 0
    for _scan in range(SCAN_BATCHES):
        step = events_after(
            subscription.last_event_id,
            fields=("type", "branch_id"),
            batch=batch,
            grace=grace,
            reader=f"webhooks: subscription {subscription.pk}",
        )
        if step.position == subscription.last_event_id:
            break
        matched = [
            event_id
            for event_id, event_type, branch_id in step.rows
            if event_type_matches(event_type, patterns)
            and (branch_ids is None or (branch_id is not None and branch_id in branch_ids))
        ]
        now = timezone.now()
        with transaction.atomic():
            moved = WebhookSubscription.objects.filter(
                pk=subscription.pk, lease_token=subscription.lease_token
            ).update(last_event_id=step.position)
            if not moved:
                raise LeaseLost(subscription.pk)
            WebhookDelivery.objects.bulk_create(
                [
                    WebhookDelivery(
                        subscription=subscription, event_id=event_id, next_attempt_at=now
                    )
                    for event_id in matched
                ],
                ignore_conflicts=True,
            )
        subscription.last_event_id = step.position
        queued += len(matched)
        if step.waiting_on_gap or step.caught_up or queued >= batch:
            break
    return queued


def _read_snippet(response: httpx.Response) -> str:
    text = bytearray()
    try:
        for chunk in response.iter_bytes():
            text += chunk
            if len(text) >= ERROR_SNIPPET:
                break
    except httpx.HTTPError:
        pass
    return text[:ERROR_SNIPPET].decode(errors="replace")


def _post(client: httpx.Client, subscription: WebhookSubscription, delivery: WebhookDelivery):
    """Make one signed request; return (status code or None, error text, latency, timestamp)."""
    event = delivery.event
    body = event_body(event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Event-Id": str(event.pk),
        "X-Event-Type": event.type,
        "X-Delivery-Attempt": str(delivery.attempts + 1),
        "X-Signature": signature_header(subscription.secret, body, timestamp),
    }
    status_code = None
    error = ""
    started = time.monotonic()
    try:
        with client.stream("POST", subscription.url, content=body, headers=headers) as response:
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}: {_read_snippet(response)}".strip()
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError, ValueError) as exc:
        # Whatever the receiver or the network did counts as a failed attempt.
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = round((time.monotonic() - started) * 1000)
    return status_code, error[:ERROR_SNIPPET], latency_ms, timestamp


def _attempt_save(
    delivery: WebhookDelivery,
    *,
    attempted_at: dt.datetime,
    status_code: int | None,
    error: str,
    latency_ms: int,
    timestamp: int,
) -> str:
    """Log the attempt and move the delivery on; return its new status."""
    attempts = delivery.attempts + 1
    now = timezone.now()
    changes = {
        "attempts": attempts,
        "last_status_code": status_code,
        "last_error": error,
        "updated_at": now,
    }
    if status_code is not None and 200 <= status_code < 300:
        changes.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        changes.update(status=DeliveryStatus.DEAD, next_attempt_at=None)
    else:
        changes.update(next_attempt_at=now + retry_delay(attempts))
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=attempted_at,
            status_code=status_code,
            latency_ms=latency_ms,
            error=error,
            signature_timestamp=timestamp,
        )
        saved = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
        ).update(**changes)
    if not saved:
        raise LeaseLost(delivery.subscription_id)
    for field, value in changes.items():
        setattr(delivery, field, value)
    return delivery.status


def _send_due(
    subscription: WebhookSubscription, *, client: httpx.Client, deadline: float, report
) -> None:
    """Send the subscription's pending deliveries in event order, stopping at the first one
    that is not due or fails: a later event never overtakes an earlier one still retried."""
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    pending = (
        WebhookDelivery.objects.filter(subscription=subscription, status=DeliveryStatus.PENDING)
        .select_related("event__branch")
        .order_by("event_id")[: settings.WEBHOOK_BATCH_SIZE]
    )
    for delivery in pending:
        if delivery.next_attempt_at > timezone.now():
            return
        if time.monotonic() + timeout > deadline:
            return
        attempted_at = timezone.now()
        status_code, error, latency_ms, timestamp = _post(client, subscription, delivery)
        status = _attempt_save(
            delivery,
            attempted_at=attempted_at,
            status_code=status_code,
            error=error,
            latency_ms=latency_ms,
            timestamp=timestamp,
        )
        if status == DeliveryStatus.DELIVERED:
            report.delivered += 1
        elif status == DeliveryStatus.DEAD:
            report.dead += 1
            logger.warning(
                "webhooks: event %s to subscription %s dead-lettered after %s attempts: %s",
                delivery.event_id,
                subscription.pk,
                delivery.attempts,
                error,
            )
        else:
            report.failed += 1
            return


def webhooks_relay(
    *, budget_seconds: float = RELAY_BUDGET_SECONDS, transport: httpx.BaseTransport | None = None
) -> RelayReport:
    """Queue and send new events for every active subscription no other relay is serving."""
    report = RelayReport()
    deadline = time.monotonic() + budget_seconds
    subscription_ids = list(
        WebhookSubscription.objects.filter(is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    client = httpx.Client(
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, transport=transport
    )
    with client:
        for subscription_id in subscription_ids:
            if time.monotonic() >= deadline:
                break
            token = uuid.uuid4().hex
            subscription = _subscription_claim(subscription_id=subscription_id, token=token)
            if subscription is None:
                report.skipped += 1
                continue
            report.subscriptions += 1
            try:
                report.queued += _queue_new_events(subscription)
                _send_due(subscription, client=client, deadline=deadline, report=report)
            except LeaseLost:
                logger.warning("webhooks: lost the lease on subscription %s", subscription_id)
            except SoftTimeLimitExceeded:
                raise
            except Exception:
                # One subscription's fault must not hold up the others; the next run retries it.
                logger.exception("webhooks: relaying subscription %s failed", subscription_id)
            finally:
                _subscription_release(subscription_id=subscription_id, token=token)
    return report
