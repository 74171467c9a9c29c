"""The dashboards' measures of service requests (issue 9), counted in SQL by
`bankservice.core.measures`.

A request counts once it is *finished* in core banking (executed or failed), at its
`finished_at`, under its request type's code and its maker:

- ``requests_finished``: executed or failed (rejected and cancelled requests never reached core
  banking and are not counted);
- ``turnaround_seconds`` and ``turnaround_histogram``: from the *first* submission to the finish.
  A request returned for correction and resubmitted has its `submitted_at` moved to the latest
  submission; the customer has been waiting since the first one, so that is taken from the
  `transactions.request_submitted` event (recorded once, at the first submission: a
  resubmission records `transactions.request_resubmitted`). A request never returned (round 1)
  reads `submitted_at` and needs no event; one whose event is missing falls back to it;
- ``requests_reworked``: returned for correction at least once. `rework_count` counts the
  returns (request_return adds one in the same transaction as its `Approval` row with the
  decision "returned"), so it is read from the request itself rather than from the approvals.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Cast, Coalesce

from bankservice.core.measures import Fact, Seconds, stage_measures
from bankservice.events.models import Event

from .models import RequestStatus, ServiceRequest

FINISHED_STATES = (RequestStatus.EXECUTED, RequestStatus.FAILED)
FIRST_SUBMISSION_EVENT = "transactions.request_submitted"


def first_submitted_at() -> Case:
    """When the request was first submitted (see the module's docstring), as an expression."""
    submitted = (
        Event.objects.filter(
            type=FIRST_SUBMISSION_EVENT,
            subject_type=ContentType.objects.get_for_model(ServiceRequest),
            subject_id=Cast(OuterRef("pk"), CharField()),
        )
        .order_by("occurred_at", "id")
        .values("occurred_at")[:1]
    )
    return Case(
        When(round__lte=1, then=F("submitted_at")),
        default=Coalesce(Subquery(submitted), F("submitted_at")),
        output_field=DateTimeField(),
    )


def facts() -> list[Fact]:
    finished = ServiceRequest.objects.filter(status__in=FINISHED_STATES).annotate(
        first_submitted_at=first_submitted_at()
    )
    turnaround = Seconds("finished_at", "first_submitted_at")
    return [
        Fact(
            queryset=finished,
            at="finished_at",
            service="request_type__code",
            staff="maker_id",
            sums={
                "requests_finished": Count("pk"),
                "turnaround_seconds": Sum(turnaround),
                "requests_reworked": Count("pk", filter=Q(rework_count__gt=0)),
            },
            histograms={"turnaround_histogram": (turnaround, Q())},
        )
    ]


# What the dashboards call (bankservice.core.measures.stage_measures).
measure_rows = stage_measures(facts)
