"""The dashboards' measures of customer care (issue 9), counted in SQL by
`bankservice.core.measures`.

- Surveys, at `answered_at` (answered ones only), under the survey's `service_code` (the service,
  request type or category it asks about) and the member of staff who served (`staff`):
  ``csat_answers``, ``csat_sum``, ``csat_satisfied`` (CSAT 4-5), ``nps_answers``,
  ``nps_promoters`` (9-10), ``nps_detractors`` (0-6): the thresholds of the survey results page
  (care/survey_responses.py). A survey answered with one score counts in that score's measures
  only.
- Callbacks, at `closed_at`, under the code of the follow-up rule that made them (the reason
  code for one made by hand, a hand-off or a campaign) and the agent who claimed them (none for
  a callback cancelled before anyone claimed it): ``callbacks_closed`` (done, unreachable or
  cancelled) and ``callbacks_done`` (done: the customer was reached, or refused on the phone).
"""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from bankservice.core.measures import Fact, stage_measures

from .models import Callback, CallbackStatus, Survey, SurveyStatus
from .survey_responses import DETRACTOR_NPS, PROMOTER_NPS, SATISFIED_CSAT

CLOSED_CALLBACK_STATES = (
    CallbackStatus.DONE,
    CallbackStatus.UNREACHABLE,
    CallbackStatus.CANCELLED,
)


def facts() -> list[Fact]:
    surveys = Survey.objects.filter(status=SurveyStatus.ANSWERED)
    callbacks = Callback.objects.filter(status__in=CLOSED_CALLBACK_STATES).annotate(
        service_code=Coalesce("rule__code", "reason_code")
    )
    return [
        Fact(
            queryset=surveys,
            at="answered_at",
            service="service_code",
            staff="staff_id",
            sums={
                "csat_answers": Count("csat"),
                "csat_sum": Sum("csat"),
                "csat_satisfied": Count("pk", filter=Q(csat__gte=SATISFIED_CSAT)),
                "nps_answers": Count("nps"),
                "nps_promoters": Count("pk", filter=Q(nps__gte=PROMOTER_NPS)),
                "nps_detractors": Count("pk", filter=Q(nps__lte=DETRACTOR_NPS)),
            },
        ),
        Fact(
            queryset=callbacks,
            at="closed_at",
            service="service_code",
            staff="claimed_by_id",
            sums={
                "callbacks_closed": Count("pk"),
                "callbacks_done": Count("pk", filter=Q(status=CallbackStatus.DONE)),
            },
        ),
    ]


# What the dashboards call (bankservice.core.measures.stage_measures).
measure_rows = stage_measures(facts)
