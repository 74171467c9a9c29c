"""Consultation's measures for the dashboards (issue 9): consultations and first-contact
resolution, counted in SQL by `bankservice.core.measures` (one query per time zone).

- consultations: closed consultations with a customer record, counted at `ended_at`, under
  their first topic's code (topics in the categories' order; "" without a topic) and their
  advisor. A consultation with only a contact (name, phone) is left out of both measures: with
  no record we cannot tell whether the customer came back, and counting it in one measure but
  not the other would skew the rate.
- first_contact_resolved: of those, the ones answered (outcome "answered": a referral to
  processing, another advisor, a follow-up or a complaint is not a resolution) and not referred
  to anyone, whose customer started no other consultation within FCR_REPEAT_DAYS after this one
  ended (nor between its start and its end). Any channel and branch count as a repeat.

The project has no setting for this window (COMPLAINTS_REPEAT_DAYS is the complaints' own
90-day rule), so it is the module constant FCR_REPEAT_DAYS. Until the window has passed a
resolution is provisional: the dashboards' nightly rollup recomputes the last ROLLUP_DAYS_BACK
days (dashboards/rollups.py), which must stay longer than this window.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from bankservice.core.measures import Fact, stage_measures

from .models import Category, Consultation, ConsultationStatus, Outcome

FCR_REPEAT_DAYS = 7


def _fact() -> Fact:
    repeat = Consultation.objects.filter(
        customer_id=OuterRef("customer_id"),
        started_at__gt=OuterRef("started_at"),
        started_at__lte=OuterRef("repeat_until"),
    ).exclude(pk=OuterRef("pk"))
    topic = Category.objects.filter(consultations=OuterRef("pk")).order_by("sort_order", "code")
    consultations = Consultation.objects.filter(
        status=ConsultationStatus.CLOSED, customer__isnull=False
    ).alias(
        repeat_until=F("ended_at") + dt.timedelta(days=FCR_REPEAT_DAYS),
        topic_code=Coalesce(Subquery(topic.values("code")[:1]), Value("")),
    )
    return Fact(
        queryset=consultations,
        at="ended_at",
        service="topic_code",
        staff="advisor_id",
        sums={
            "consultations": Count("pk"),
            "first_contact_resolved": Count(
                "pk",
                filter=Q(outcome=Outcome.ANSWERED, referred_to__isnull=True) & ~Exists(repeat),
            ),
        },
    )


# What the dashboards call (bankservice.core.measures.stage_measures).
measure_rows = stage_measures(lambda: [_fact()])
