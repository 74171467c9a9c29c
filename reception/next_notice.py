"""The "you're next" SMS: a customer who asked for it is texted when few people are ahead.

After a call-next commits, `ticket_call_next` queues `reception.next_notices` for the called
ticket's service (`next_notices_enqueue`). The task looks at the front of that queue (the same
order as `selectors.ticket_position`: priority_at, id) and texts each ticket with at most
RECEPTION_NEXT_SMS_AHEAD people ahead whose visit asked for it (`Visit.sms_when_next`): to the
customer's record when identified (notify checks their SMS consent), else to the visit's
contact phone (consent given on the check-in form for this ticket only).

Once per ticket: `Ticket.next_notified_at` is set by a conditional UPDATE in the transaction that
queues the notification, so two workers (or a task run twice) never send twice; the notification's
dedupe key is a second guard. Only a call moves people forward, so the call is the only trigger;
a lost task only means no SMS for that call (the next call looks again).

The link: a worker has no request to take a host from, so the status link is built from
RECEPTION_PUBLIC_BASE_URL. Without it the SMS goes out without a link (a guessed host would be
wrong for a phone outside the bank's network).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bankservice.notify.services import ENQUEUE_RETRY_POLICY, Contact, notification_send

from .models import Ticket, TicketStatus

logger = logging.getLogger(__name__)

MESSAGE = "reception.ticket_next"


def public_status_url(ticket: Ticket) -> str:
    """The status page's absolute address outside a request; "" without a public base URL."""
    base = settings.RECEPTION_PUBLIC_BASE_URL
    path = reverse("reception_public:status", args=[ticket.public_token])
    return base.rstrip("/") + path if base else ""


def next_notices_enqueue(service_type_id: int) -> bool:
    """Queue the look at a service's queue front; a broker outage only logs (optional SMS)."""
    from .tasks import send_next_notices

    try:
        send_next_notices.apply_async(
            args=[service_type_id], retry=True, retry_policy=ENQUEUE_RETRY_POLICY
        )
    except Exception:
        # Any broker or transport error: the call itself stands; the next call looks again.
        logger.warning(
            "next-notices for service %s not queued (broker unavailable)",
            service_type_id,
            exc_info=True,
        )
        return False
    return True


def ticket_next_notices(*, service_type_id: int) -> list[Ticket]:
    """Text the customers who asked for it and are now nearly next; returns the tickets texted."""
    limit = settings.RECEPTION_NEXT_SMS_AHEAD
    if limit <= 0:
        return []
    front = list(
        Ticket.objects.filter(service_type_id=service_type_id, status=TicketStatus.WAITING)
        .select_related("visit__customer", "branch", "service_type")
        .order_by("priority_at", "id")[: limit + 1]
    )
    texted = []
    for ahead, ticket in enumerate(front):
        wanted = ticket.visit.sms_when_next and ticket.next_notified_at is None
        if wanted and _notify(ticket, ahead=ahead):
            texted.append(ticket)
    return texted


def _notify(ticket: Ticket, *, ahead: int) -> bool:
    visit = ticket.visit
    with transaction.atomic():
        # The claim: only one worker sets it (PostgreSQL makes a second UPDATE wait for the
        # first to commit, then finds the row no longer matching; SQLite writes one at a time).
        claimed = Ticket.objects.filter(
            pk=ticket.pk, status=TicketStatus.WAITING, next_notified_at__isnull=True
        ).update(next_notified_at=timezone.now())
        if not claimed:
            return False
        recipient = (
            {"customer": visit.customer}
            if visit.customer is not None
            else {
                # A walk-in's language is the check-in page's (the greeter's desk leaves it empty).
                "contact": Contact(
                    phone=visit.contact_phone,
                    language=visit.language or settings.LANGUAGE_CODE,
                    consent_sms=True,
                )
            }
        )
        notification_send(
            **recipient,
            branch=ticket.branch,
            channel="sms",
            template=MESSAGE,
            context={
                "number": ticket.number,
                "ahead": ahead,
                "service": ticket.service_type.name_en,
                "service_zh": ticket.service_type.name_zh,
                "status_url": public_status_url(ticket),
            },
            dedupe_key=f"{MESSAGE}:{ticket.pk}",
        )
    return True
