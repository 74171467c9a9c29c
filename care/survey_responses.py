"""Answering surveys and reading their results.

Writes (keyword-only, atomic):
- `survey_answer`: the customer's one answer (CSAT 1-5, NPS 0-10, a comment) while the link is
  valid; a low score (the rule's thresholds) is said in the `care.survey_answered` event, and the
  generator (care/generator.py) turns it into a service-recovery callback.
- `survey_opt_out`: "no more surveys" or "no care contact at all" from the survey's link. Allowed
  whatever the survey's state, after expiry too: withdrawing consent must stay as easy as it was
  to give (PIPL), and an opt-out harms nobody.

Reads: `survey_results` (scoped by care.view_survey, with the dashboards' filters),
`survey_summary` (one aggregate query), `survey_get` (404 outside the scope),
`recovery_callbacks` (the callbacks low scores made, for a page of surveys, in one query).
Errors: BadInput(field=...), SurveyExpired / SurveyAlreadyAnswered (Conflict, 409).
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Avg, Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankservice.branches.scope import can_act_at
from bankservice.core.errors import BadInput, Conflict
from bankservice.events.catalogue import register_event_labels
from bankservice.events.services import record

from .models import Callback, CareOptOut, OptOutScope, Survey, SurveyStatus, Trigger
from .optouts import opt_out

VIEW_PERM = "care.view_survey"
CUSTOMER_PERM = "customers.view_customer"
ANSWERED_EVENT = "care.survey_answered"
COMMENT_MAX = 2000
CSAT_RANGE = (1, 5)
NPS_RANGE = (0, 10)
# Without a rule (a survey sent by hand): a CSAT of 2 or less, an NPS of 6 or less is low.
DEFAULT_LOW_CSAT = 2
DEFAULT_LOW_NPS = 6
# A CSAT of 4 or 5 is "satisfied"; NPS promoters answer 9-10, detractors 0-6.
SATISFIED_CSAT = 4
PROMOTER_NPS = 9
DETRACTOR_NPS = 6
# What a customer may stop from a survey's link.
SURVEY_OPT_OUT_SCOPES = (OptOutScope.SURVEYS, OptOutScope.ALL)
# What a survey can be about (the survey rules' triggers).
SURVEY_TRIGGERS = [
    (value, label)
    for value, label in Trigger.choices
    if value not in (Trigger.CONSULTATION_FOLLOW_UP, Trigger.SURVEY_LOW_SCORE)
]

EVENT_LABELS = {
    ANSWERED_EVENT: gettext_lazy("Survey answered"),
}
register_event_labels(EVENT_LABELS)


class SurveyExpired(Conflict):
    """The survey's link is no longer valid (its time ran out)."""


class SurveyAlreadyAnswered(Conflict):
    """The survey was answered already: one answer per link."""


# --- Writes.


def _score(value, field: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    # bool is an int in Python: True must not pass as a score of 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(_("Give a whole number."), field=field)
    if not low <= value <= high:
        raise BadInput(
            _("Give a score from %(low)s to %(high)s.") % {"low": low, "high": high}, field=field
        )
    return value


def is_expired(survey: Survey, now: dt.datetime | None = None) -> bool:
    """Whether the link no longer takes an answer: marked expired, or past expires_at while
    still unanswered (the hourly sweep may not have marked it yet)."""
    if survey.status == SurveyStatus.EXPIRED:
        return True
    return survey.status == SurveyStatus.SENT and survey.expires_at <= (now or timezone.now())


def low_score(survey: Survey, csat: int | None, nps: int | None) -> bool:
    """A CSAT at or below the rule's low_csat, or an NPS at or below its low_nps."""
    rule = survey.rule
    low_csat = rule.low_csat if rule is not None else DEFAULT_LOW_CSAT
    low_nps = rule.low_nps if rule is not None else DEFAULT_LOW_NPS
    return (csat is not None and csat <= low_csat) or (nps is not None and nps <= low_nps)


def survey_answer(*, survey, csat=None, nps=None, comment: str = "", now=None) -> Survey:
    """Record the customer's answer (at least one score) and a `care.survey_answered` event.

    The row is locked first, so two submits of one link (a double tap, two tabs) answer once:
    the second gets SurveyAlreadyAnswered. An expired link gets SurveyExpired."""
    now = now or timezone.now()
    with transaction.atomic():
        # Who else locks this row: the expiry sweep (care/surveys.py), which marks sent surveys
        # past their time expired; whichever comes second sees the other's status.
        survey = (
            Survey.objects.select_for_update(of=("self",))
            .select_related("rule", "branch", "customer")
            .get(pk=survey.pk)
        )
        if survey.status == SurveyStatus.ANSWERED:
            raise SurveyAlreadyAnswered(_("This survey has already been answered. Thank you."))
        if is_expired(survey, now):
            raise SurveyExpired(_("This survey link has expired."))
        csat = _score(csat, "csat", *CSAT_RANGE)
        nps = _score(nps, "nps", *NPS_RANGE)
        if csat is None and nps is None:
            raise BadInput(
                _(
                    "Give at least one score: your satisfaction or how likely you are to "
                    "recommend us."
                ),
                field="csat",
            )
        if not isinstance(comment, str):
            raise BadInput(_("Write the comment as text."), field="comment")
        comment = comment.strip()
        if len(comment) > COMMENT_MAX:
            raise BadInput(
                _("Write at most %(max)s characters.") % {"max": COMMENT_MAX}, field="comment"
            )
        survey.status = SurveyStatus.ANSWERED
        survey.answered_at = now
        survey.csat = csat
        survey.nps = nps
        survey.comment = comment
        survey.low_score = low_score(survey, csat, nps)
        survey.save(update_fields=["status", "answered_at", "csat", "nps", "comment", "low_score"])
        record(
            type=ANSWERED_EVENT,
            actor=None,
            branch=survey.branch,
            customer=survey.customer,
            subject=survey,
            payload={
                "survey_id": survey.pk,
                "rule": survey.rule.code if survey.rule is not None else "",
                "trigger": survey.trigger,
                "service": survey.service_code,
                "csat": csat,
                "nps": nps,
                "low_score": survey.low_score,
            },
        )
    return survey


def survey_opt_out(*, survey, scope: str) -> CareOptOut:
    """The customer stops surveys ("surveys") or every care contact ("all") from the survey's
    link, on the record in use; idempotent (care/optouts.py records `care.opted_out` once)."""
    if scope not in SURVEY_OPT_OUT_SCOPES:
        raise BadInput(_("Choose what to stop."), field="scope")
    return opt_out(
        customer=survey.customer,
        scope=scope,
        source=f"survey:{survey.pk}",
        actor=None,
        branch=survey.branch,
    )


# --- Reads.


def mask_name(name: str) -> str:
    """王小明 -> 王**, Chen Yi -> C*** **: enough to tell rows apart, not to name anyone."""
    words = (name or "").split()
    if not words:
        return ""
    head, *rest = words
    return " ".join([head[0] + "*" * (len(head) - 1), *("*" * len(word) for word in rest)])


def may_see_customer(principal, customer) -> bool:
    """Whether the principal may read the customer's record (else their name is masked)."""
    return can_act_at(principal, CUSTOMER_PERM, customer.home_branch_id)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())


def _moment(value, *, end: bool) -> dt.datetime:
    """A datetime as it is; a date as the start of that local day (`end`: of the next day, so
    `until` includes the day)."""
    if isinstance(value, dt.datetime):
        return value
    return _day_start(value + dt.timedelta(days=1) if end else value)


def survey_results(
    principal,
    *,
    branch=None,
    since=None,
    until=None,
    trigger=None,
    service_code=None,
    staff=None,
    low_only: bool = False,
) -> QuerySet[Survey]:
    """Surveys at the branches where the principal holds care.view_survey, newest first, with
    what a list shows. Narrowed by branch (a Branch or its id), the time they were sent (`since`
    inclusive, `until` exclusive for a datetime, inclusive for a date), the trigger, the service
    code, the member of staff who served (a user or id) and to low scores only."""
    surveys = Survey.objects.visible_to(principal, VIEW_PERM).select_related(
        "branch", "customer", "staff", "rule"
    )
    if branch is not None:
        surveys = surveys.filter(branch_id=getattr(branch, "pk", branch))
    if since is not None:
        surveys = surveys.filter(sent_at__gte=_moment(since, end=False))
    if until is not None:
        surveys = surveys.filter(sent_at__lt=_moment(until, end=True))
    if trigger:
        surveys = surveys.filter(trigger=trigger)
    if service_code:
        surveys = surveys.filter(service_code=service_code)
    if staff is not None:
        surveys = surveys.filter(staff_id=getattr(staff, "pk", staff))
    if low_only:
        surveys = surveys.filter(low_score=True)
    return surveys.order_by("-sent_at", "-id")


@dataclass(frozen=True)
class SurveySummary:
    sent: int
    answered: int
    response_rate: float | None  # answered / sent, 0-1
    csat_answers: int
    csat_mean: float | None
    satisfied_share: float | None  # CSAT 4-5 among CSAT answers, 0-1
    nps_answers: int
    promoters: int
    detractors: int
    nps: int | None  # % promoters - % detractors, -100..100


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def survey_summary(surveys: QuerySet[Survey]) -> SurveySummary:
    """Sent, answered, response rate, CSAT mean, share satisfied (CSAT >= 4) and the NPS of a
    set of surveys, in one query."""
    totals = surveys.order_by().aggregate(
        sent=Count("id"),
        answered=Count("id", filter=Q(status=SurveyStatus.ANSWERED)),
        csat_answers=Count("csat"),
        csat_mean=Avg("csat"),
        satisfied=Count("id", filter=Q(csat__gte=SATISFIED_CSAT)),
        nps_answers=Count("nps"),
        promoters=Count("id", filter=Q(nps__gte=PROMOTER_NPS)),
        detractors=Count("id", filter=Q(nps__lte=DETRACTOR_NPS)),
    )
    nps_answers = totals["nps_answers"]
    nps = None
    if nps_answers:
        nps = round(100 * (totals["promoters"] - totals["detractors"]) / nps_answers)
    mean = totals["csat_mean"]
    return SurveySummary(
        sent=totals["sent"],
        answered=totals["answered"],
        response_rate=_share(totals["answered"], totals["sent"]),
        csat_answers=totals["csat_answers"],
        csat_mean=round(float(mean), 2) if mean is not None else None,
        satisfied_share=_share(totals["satisfied"], totals["csat_answers"]),
        nps_answers=nps_answers,
        promoters=totals["promoters"],
        detractors=totals["detractors"],
        nps=nps,
    )


def survey_get(principal, survey_id) -> Survey:
    """One survey the principal may see; another branch's, or none at all, is a 404."""
    try:
        return survey_results(principal).get(pk=int(survey_id))
    except (Survey.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such survey.")) from None


def recovery_callbacks(surveys) -> dict[int, Callback]:
    """The callback each survey's low score made (by the generator, from its
    care.survey_answered event), by survey id; one query for any number of surveys."""
    ids = [str(survey.pk) for survey in surveys if survey.low_score]
    if not ids:
        return {}
    callbacks = (
        Callback.objects.filter(
            source_event__type=ANSWERED_EVENT,
            source_event__subject_type=ContentType.objects.get_for_model(Survey),
            source_event__subject_id__in=ids,
        )
        .annotate(survey_ref=F("source_event__subject_id"))
        .order_by("created_at", "id")
    )
    return {int(callback.survey_ref): callback for callback in callbacks}
