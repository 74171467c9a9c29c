"""Answering a survey (once, while the link is valid, scores in range, the low score by the rule's
thresholds, the care.survey_answered event the generator reads), opting out from its link, and
the results: scope, filters, the summary (response rate, CSAT, share satisfied, NPS) and the
recovery callback a low score made.

`make_survey(**overrides)` (a fixture the view and API tests import) stores a survey as the
sender would, sent now (Monday 09:00 in Shanghai) and valid for 7 days."""

# The fixtures imported from callback_fixtures reappear as test arguments.
# ruff: noqa: F811

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.http import Http404

from bankservice.branches.models import Role
from bankservice.core.errors import BadInput, Conflict
from bankservice.events.catalogue import event_label
from bankservice.events.models import Event
from care.models import (
    CareOptOut,
    FollowUpRule,
    OptOutScope,
    Survey,
    SurveyRule,
    SurveyStatus,
    Trigger,
)
from care.optouts import opted_out
from care.services import callback_create
from care.survey_responses import (
    ANSWERED_EVENT,
    SurveyAlreadyAnswered,
    SurveyExpired,
    mask_name,
    recovery_callbacks,
    survey_answer,
    survey_get,
    survey_opt_out,
    survey_results,
    survey_summary,
)
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.factories import CustomerFactory

from .callback_fixtures import (  # noqa: F401 (fixtures)
    MONDAY_9,
    _care_registered,
    agent,
    customer,
    manager,
    now,
)


@pytest.fixture
def after_service(db):
    return SurveyRule.objects.get(code="after-service")


@pytest.fixture
def make_survey(now, branch_a, customer, after_service):
    def make(**overrides):
        fields = {
            "rule": after_service,
            "customer": customer,
            "branch": branch_a,
            "trigger": Trigger.SERVICE_COMPLETED,
            "service_code": "cash",
            "channel": "sms",
            "language": "en",
            "sent_at": now,
            "expires_at": now + dt.timedelta(days=7),
        }
        fields.update(overrides)
        return Survey.objects.create(**fields)

    return make


def answered_events(survey):
    return Event.objects.filter(type=ANSWERED_EVENT, subject_id=str(survey.pk))


# --- Answering.


def test_an_answer_is_stored_with_the_event_the_generator_reads(make_survey, now, branch_a):
    survey = make_survey()

    answered = survey_answer(survey=survey, csat=5, nps=9, comment="  Quick and kind.  ")

    stored = Survey.objects.get(pk=survey.pk)
    assert (stored.status, stored.csat, stored.nps) == (SurveyStatus.ANSWERED, 5, 9)
    assert stored.comment == "Quick and kind."
    assert stored.answered_at == now and stored.low_score is False
    assert answered.pk == survey.pk
    (event,) = answered_events(survey)
    assert event.branch_id == branch_a.pk and event.customer_id == survey.customer_id
    assert event.subject_type == ContentType.objects.get_for_model(Survey)
    assert event.payload == {
        "survey_id": survey.pk,
        "rule": "after-service",
        "trigger": "service_completed",
        "service": "cash",
        "csat": 5,
        "nps": 9,
        "low_score": False,
    }
    assert event_label(ANSWERED_EVENT) == "Survey answered"


@pytest.mark.parametrize(
    ("csat", "nps", "low"),
    [
        (2, None, True),  # the rule's low_csat: 2
        (3, None, False),
        (None, 6, True),  # the rule's low_nps: 6
        (None, 7, False),
        (5, 0, True),  # either score low is low
        (1, 10, True),
        (3, 7, False),
    ],
)
def test_a_low_score_follows_the_rules_thresholds(make_survey, csat, nps, low):
    survey = survey_answer(survey=make_survey(), csat=csat, nps=nps)
    assert survey.low_score is low
    assert answered_events(survey).get().payload["low_score"] is low


def test_a_rule_with_its_own_thresholds_and_a_survey_without_a_rule(make_survey, after_service):
    after_service.low_csat, after_service.low_nps = 3, 4
    after_service.save()
    assert survey_answer(survey=make_survey(), csat=3, nps=9).low_score is True
    assert survey_answer(survey=make_survey(), csat=4, nps=5).low_score is False
    # Without a rule: 2 and 6.
    assert survey_answer(survey=make_survey(rule=None), csat=2).low_score is True
    assert survey_answer(survey=make_survey(rule=None), nps=6).low_score is True
    bare = survey_answer(survey=make_survey(rule=None), csat=3, nps=7)
    assert bare.low_score is False
    assert answered_events(bare).get().payload["rule"] == ""


def test_one_answer_per_link(make_survey):
    survey = make_survey()
    survey_answer(survey=survey, csat=4)

    with pytest.raises(SurveyAlreadyAnswered) as refused:
        survey_answer(survey=survey, csat=1, comment="changed my mind")

    assert isinstance(refused.value, Conflict)
    assert "already been answered" in refused.value.message
    stored = Survey.objects.get(pk=survey.pk)
    assert (stored.csat, stored.comment) == (4, "")
    assert answered_events(survey).count() == 1


def test_an_expired_link_takes_no_answer(make_survey, now, time_machine):
    marked = make_survey(status=SurveyStatus.EXPIRED)
    late = make_survey()
    time_machine.move_to(now + dt.timedelta(days=7), tick=False)  # at expires_at: over

    for survey in (marked, late):
        with pytest.raises(SurveyExpired) as refused:
            survey_answer(survey=survey, csat=5)
        assert isinstance(refused.value, Conflict)
        assert "expired" in refused.value.message
        assert Survey.objects.get(pk=survey.pk).answered_at is None
    assert not Event.objects.filter(type=ANSWERED_EVENT).exists()


def test_just_before_expiry_an_answer_is_taken(make_survey, now):
    survey = make_survey()
    answered = survey_answer(survey=survey, csat=4, now=now + dt.timedelta(days=7, seconds=-1))
    assert answered.status == SurveyStatus.ANSWERED


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({}, "csat"),  # no score at all
        ({"comment": "only words"}, "csat"),
        ({"csat": 0}, "csat"),
        ({"csat": 6}, "csat"),
        ({"csat": True}, "csat"),  # a bool is not a score
        ({"csat": "5"}, "csat"),
        ({"csat": 4.0}, "csat"),
        ({"nps": -1}, "nps"),
        ({"nps": 11}, "nps"),
        ({"nps": False}, "nps"),
        ({"csat": 5, "comment": "x" * 2001}, "comment"),
        ({"csat": 5, "comment": 12}, "comment"),
    ],
)
def test_bad_answers_are_refused_at_their_field(make_survey, answer, field):
    survey = make_survey()
    with pytest.raises(BadInput) as refused:
        survey_answer(survey=survey, **answer)
    assert refused.value.field == field
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.SENT
    assert not answered_events(survey).exists()


def test_the_edges_of_the_ranges_are_taken(make_survey):
    assert survey_answer(survey=make_survey(), csat=1, nps=0).low_score is True
    top = survey_answer(survey=make_survey(), csat=5, nps=10, comment="y" * 2000)
    assert (top.csat, top.nps, len(top.comment)) == (5, 10, 2000)


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_submits_at_once_answer_once(make_survey):
    survey = make_survey()

    results = run_together(
        lambda: survey_answer(survey=Survey.objects.get(pk=survey.pk), csat=5),
        lambda: survey_answer(survey=Survey.objects.get(pk=survey.pk), csat=1),
    )

    won = [r for r in results if isinstance(r, Survey)]
    lost = [r for r in results if isinstance(r, SurveyAlreadyAnswered)]
    assert (len(won), len(lost)) == (1, 1), results
    assert Survey.objects.get(pk=survey.pk).csat == won[0].csat
    assert answered_events(survey).count() == 1


# --- Opting out from the link.


def test_opting_out_of_surveys_from_the_link(make_survey, customer):
    survey = make_survey()

    row = survey_opt_out(survey=survey, scope=OptOutScope.SURVEYS)

    assert (row.customer_id, row.scope, row.source) == (
        customer.pk,
        "surveys",
        f"survey:{survey.pk}",
    )
    assert opted_out(customer, "surveys") and not opted_out(customer, "campaigns")
    event = Event.objects.get(type="care.opted_out")
    assert event.branch_id == survey.branch_id and event.payload["scope"] == "surveys"
    # Saying it twice changes nothing.
    assert survey_opt_out(survey=survey, scope=OptOutScope.SURVEYS).pk == row.pk
    assert Event.objects.filter(type="care.opted_out").count() == 1


def test_every_care_contact_can_be_stopped_but_not_campaigns_alone(make_survey, customer):
    survey = make_survey()
    with pytest.raises(BadInput) as refused:
        survey_opt_out(survey=survey, scope=OptOutScope.CAMPAIGNS)
    assert refused.value.field == "scope"
    with pytest.raises(BadInput):
        survey_opt_out(survey=survey, scope="everything")
    assert not CareOptOut.objects.exists()
    survey_opt_out(survey=survey, scope=OptOutScope.ALL)
    assert opted_out(customer, "surveys") and opted_out(customer, "campaigns")


def test_an_opt_out_is_taken_after_answering_and_after_expiry(make_survey, customer):
    answered = survey_answer(survey=make_survey(), csat=5)
    survey_opt_out(survey=answered, scope=OptOutScope.SURVEYS)
    expired = make_survey(status=SurveyStatus.EXPIRED)
    survey_opt_out(survey=expired, scope=OptOutScope.ALL)
    assert set(CareOptOut.objects.values_list("scope", flat=True)) == {"surveys", "all"}


# --- Results.


@pytest.fixture
def spread(make_survey, make_staff, branch_a, branch_b, now):
    """Seven surveys: five answered at branch A (two by the teller's service), one sent and
    unanswered there, one answered at branch B."""
    teller = make_staff(Role.TELLER, branch=branch_a, username="teller-a")

    def answered(csat, nps, **fields):
        return survey_answer(survey=make_survey(**fields), csat=csat, nps=nps)

    return {
        "teller": teller,
        "happy": answered(5, 10, staff=teller),
        "fine": answered(4, 9, staff=teller, sent_at=now - dt.timedelta(days=3)),
        "meh": answered(3, 7, service_code="loans"),
        "sad": answered(1, 2, trigger=Trigger.REQUEST_EXECUTED, service_code="open-account"),
        "csat_only": answered(2, None, sent_at=now - dt.timedelta(days=10)),
        "waiting": make_survey(),
        "elsewhere": answered(5, 10, branch=branch_b),
    }


def ids(surveys):
    return {survey.pk for survey in surveys}


def test_results_are_scoped_to_the_users_branches(spread, agent, make_staff, region, branch_b):
    at_a = ids(survey_results(agent))
    assert spread["elsewhere"].pk not in at_a and spread["happy"].pk in at_a
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    assert spread["elsewhere"].pk in ids(survey_results(regional))
    teller = spread["teller"]  # no care.view_survey
    assert list(survey_results(teller)) == []
    with pytest.raises(Http404):
        survey_get(agent, spread["elsewhere"].pk)
    assert survey_get(agent, str(spread["happy"].pk)).pk == spread["happy"].pk
    with pytest.raises(Http404):
        survey_get(agent, "nope")


def test_results_filter_by_branch_time_trigger_service_staff_and_low_score(
    spread, make_staff, region, branch_b, now
):
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)

    def names(**filters):
        found = ids(survey_results(regional, **filters))
        return {name for name, survey in spread.items() if getattr(survey, "pk", None) in found}

    assert names(branch=branch_b) == {"elsewhere"}
    assert names(branch=branch_b.pk) == {"elsewhere"}
    today = now.date()
    assert names(since=today) == {"happy", "meh", "sad", "waiting", "elsewhere"}
    assert names(until=today - dt.timedelta(days=1)) == {"fine", "csat_only"}  # a date: inclusive
    assert names(since=now - dt.timedelta(days=5), until=now) == {
        "fine"
    }  # datetimes: [since, until)
    assert names(trigger=Trigger.REQUEST_EXECUTED) == {"sad"}
    assert names(service_code="loans") == {"meh"}
    assert names(staff=spread["teller"]) == {"happy", "fine"}
    assert names(low_only=True) == {"sad", "csat_only"}
    assert names(low_only=True, service_code="open-account") == {"sad"}


def test_the_summary_counts_rates_csat_and_nps(spread, agent, django_assert_num_queries):
    surveys = survey_results(agent)  # the user's scope is read here, once
    with django_assert_num_queries(1):
        summary = survey_summary(surveys)
    # Branch A: six sent, five answered; CSAT 5, 4, 3, 1, 2; NPS 10, 9, 7, 2.
    assert (summary.sent, summary.answered) == (6, 5)
    assert summary.response_rate == pytest.approx(5 / 6)
    assert (summary.csat_answers, summary.csat_mean) == (5, 3.0)
    assert summary.satisfied_share == pytest.approx(2 / 5)
    assert (summary.nps_answers, summary.promoters, summary.detractors) == (4, 2, 1)
    assert summary.nps == 25  # 50 % promoters - 25 % detractors


def test_the_summary_of_nothing_has_no_rates(agent):
    summary = survey_summary(survey_results(agent))
    assert (summary.sent, summary.answered) == (0, 0)
    assert summary.response_rate is None and summary.csat_mean is None
    assert summary.satisfied_share is None and summary.nps is None


def test_the_recovery_callback_of_a_low_score_is_found(make_survey, customer, branch_a):
    low = survey_answer(survey=make_survey(), csat=1)
    high = survey_answer(survey=make_survey(), csat=5)
    # What the generator does with the event (care/generator.py): the recovery rule's callback.
    rule = FollowUpRule.objects.get(code="service-recovery")
    callback = callback_create(
        actor=None,
        customer=customer,
        branch=branch_a,
        reason_code=rule.reason_code,
        due_at=MONDAY_9 + dt.timedelta(days=1),
        rule=rule,
        source_event=answered_events(low).get(),
    )

    found = recovery_callbacks([low, high])

    assert found == {low.pk: callback}
    assert recovery_callbacks([high]) == {}


def test_a_name_is_masked_but_for_its_first_letter():
    assert mask_name("王小明") == "王**"
    assert mask_name("Chen Yi") == "C*** **"
    assert mask_name("") == ""


def test_another_customer_of_the_branch_is_surveyed_apart(make_survey, branch_a):
    other = CustomerFactory(home_branch=branch_a)
    mine = survey_answer(survey=make_survey(), csat=5)
    theirs = survey_answer(survey=make_survey(customer=other), csat=1)
    assert mine.low_score is False and theirs.low_score is True
    assert Event.objects.get(subject_id=str(theirs.pk), type=ANSWERED_EVENT).customer_id == other.pk


def test_a_low_score_becomes_a_recovery_callback_through_the_generator(make_survey, customer):
    """The contract with care/generator.py, end to end: the answer's event, read from the
    stream, schedules the service-recovery callback; a high score schedules nothing."""
    from bankservice.events.stream import stream_position
    from care.generator import callbacks_generate
    from care.models import CareCursor

    # The generator follows the events from here on (earlier tests' rolled-back ids are gaps).
    CareCursor.objects.update_or_create(
        name="callbacks", defaults={"last_event_id": stream_position()}
    )
    low = survey_answer(survey=make_survey(), csat=1, comment="Waited an hour")
    high = survey_answer(survey=make_survey(), csat=5)

    callbacks_generate()

    found = recovery_callbacks([low, high])
    assert list(found) == [low.pk]
    callback = found[low.pk]
    assert (callback.customer_id, callback.reason_code) == (customer.pk, "service-recovery")
    # Monday 09:00 + one business day: Tuesday 09:00 in Shanghai.
    assert callback.due_at == MONDAY_9 + dt.timedelta(days=1)


def test_an_opt_out_from_a_merged_duplicates_survey_goes_to_the_record_in_use(
    make_survey, customer, branch_a
):
    survey = make_survey()
    survivor = CustomerFactory(home_branch=branch_a)
    customer.merged_into = survivor
    customer.save(update_fields=["merged_into"])

    row = survey_opt_out(survey=Survey.objects.get(pk=survey.pk), scope=OptOutScope.SURVEYS)

    assert row.customer_id == survivor.pk and opted_out(survivor, "surveys")
