"""Reads for consultations, scoped to the reader's branches, with a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Prefetch

from bankservice.events.selectors import subject_history
from reception.selectors import ticket_list

from .models import Article, Consultation, ConsultationStatus

VIEW_PERM = "consultation.view_consultation"


def consultation_list(*, principal, perm: str = VIEW_PERM):
    """Consultations the principal may see with `perm`, with what a list row shows."""
    return Consultation.objects.visible_to(principal, perm).select_related(
        "branch", "customer", "advisor", "referred_to"
    )


def consultation_detail_list(*, principal, perm: str = VIEW_PERM):
    """As consultation_list, with topics, products and the articles used (titles) prefetched."""
    return consultation_list(principal=principal, perm=perm).prefetch_related(
        "topics",
        "products",
        Prefetch("articles", queryset=Article.objects.select_related("published")),
    )


def my_open_consultations(*, principal):
    return consultation_list(principal=principal).filter(
        advisor=principal, status=ConsultationStatus.OPEN
    )


def consultation_advisors(*, principal):
    """Staff who hold consultations the principal may see (the list's advisor filter)."""
    held = consultation_list(principal=principal).values("advisor_id")
    return (
        get_user_model().objects.filter(pk__in=held).order_by("first_name", "last_name", "username")
    )


def consultation_history(*, consultation: Consultation):
    """Its events, oldest first: the history shown on the page."""
    return subject_history(consultation)


@dataclass(frozen=True)
class Journey:
    """Wait → consultation → outcome, for a consultation that came from the queue."""

    number: str
    service: str
    arrived_at: dt.datetime
    issued_at: dt.datetime
    called_at: dt.datetime | None
    wait_minutes: int | None  # arrival to call


def consultation_journey(*, principal, consultation: Consultation) -> Journey | None:
    """The ticket's side of the journey, read through reception (one query); None without a
    ticket or when the reader may not see the branch's tickets."""
    if consultation.ticket_id is None:
        return None
    ticket = ticket_list(principal=principal).filter(pk=consultation.ticket_id).first()
    if ticket is None:
        return None
    return Journey(
        number=ticket.number,
        service=ticket.service_type.name,
        arrived_at=ticket.arrived_at,
        issued_at=ticket.issued_at,
        called_at=ticket.called_at,
        wait_minutes=(
            int((ticket.called_at - ticket.arrived_at).total_seconds() // 60)
            if ticket.called_at
            else None
        ),
    )
