"""The survey API: /api/v1/surveys (list with filters, retrieve) and /api/v1/survey-rules (read).
Staff by care.view_survey, API keys by care:read; branch scope (404), masking of the customer's
name, bad filters (400), read only, pinned query counts."""

# The fixtures imported from other test modules reappear as test arguments.
# ruff: noqa: F811

import datetime as dt

import pytest

from bankservice.branches.models import Role
from bankservice.events.models import Event
from care.models import FollowUpRule, Survey, SurveyRule, Trigger
from care.services import callback_create
from care.survey_responses import ANSWERED_EVENT, survey_answer
from tests.factories import CustomerFactory

from .callback_fixtures import (  # noqa: F401 (fixtures)
    _care_registered,
    agent,
    customer,
    manager,
    now,
)
from .test_survey_answers import after_service, make_survey  # noqa: F401 (fixtures)

SURVEYS = "/api/v1/surveys"
RULES = "/api/v1/survey-rules"


def one(survey) -> str:
    return f"{SURVEYS}/{survey.pk}"


@pytest.fixture
def signed_in(api):
    def sign_in(user):
        api.force_authenticate(user)
        return api

    return sign_in


@pytest.fixture
def results(make_survey, make_staff, branch_a, branch_b, customer, now):
    teller = make_staff(Role.TELLER, branch=branch_a, username="teller-a")
    happy = survey_answer(survey=make_survey(staff=teller), csat=5, nps=10, comment="Quick")
    low = survey_answer(survey=make_survey(service_code="loans"), csat=1, comment="Rude")
    rule = FollowUpRule.objects.get(code="service-recovery")
    recovery = callback_create(
        actor=None,
        customer=customer,
        branch=branch_a,
        reason_code=rule.reason_code,
        due_at=now + dt.timedelta(days=1),
        rule=rule,
        source_event=Event.objects.get(type=ANSWERED_EVENT, subject_id=str(low.pk)),
    )
    return {
        "teller": teller,
        "happy": happy,
        "low": low,
        "recovery": recovery,
        "old": make_survey(
            sent_at=now - dt.timedelta(days=20),
            trigger=Trigger.COMPLAINT_DECIDED,
            service_code="fees",
        ),
        "at_b": survey_answer(
            survey=make_survey(
                branch=branch_b, customer=CustomerFactory(home_branch=branch_b, full_name="Chen Yi")
            ),
            csat=4,
        ),
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_is_scoped_and_newest_first(signed_in, agent, results):
    api = signed_in(agent)
    assert ids(api.get(SURVEYS)) == [results["low"].pk, results["happy"].pk, results["old"].pk]
    assert api.get(one(results["at_b"])).status_code == 404


def test_a_survey_says_what_it_asked_about_and_the_answer(signed_in, agent, results, customer):
    body = signed_in(agent).get(one(results["low"])).json()
    assert body["status"] == "answered" and body["branch"] == "a01"
    assert body["rule"] == "after-service" and body["trigger"] == "service_completed"
    assert body["service"] == "loans"
    assert (body["csat"], body["nps"], body["comment"]) == (1, None, "Rude")
    assert body["low_score"] is True
    assert body["recovery_callback"] == results["recovery"].pk
    assert body["customer"] == customer.pk and body["customer_name"] == customer.full_name
    assert "public_token" not in body  # the customer's key to the link
    happy = signed_in(agent).get(one(results["happy"])).json()
    assert happy["recovery_callback"] is None and happy["staff"] == results["teller"].pk


def test_the_list_filters(signed_in, make_staff, region, results, now):
    api = signed_in(make_staff(Role.REGIONAL_MANAGER, region=region))

    def found(**params):
        return set(ids(api.get(SURVEYS, params)))

    assert found(branch="b01") == {results["at_b"].pk}
    assert found(branch="zz9") == set()
    assert found(trigger="complaint_decided") == {results["old"].pk}
    assert found(service="loans") == {results["low"].pk}
    assert found(staff=results["teller"].pk) == {results["happy"].pk}
    assert found(low_only="true") == {results["low"].pk}
    assert found(low_only="false") == {results[k].pk for k in ("happy", "low", "old", "at_b")}
    since = (now - dt.timedelta(days=30)).isoformat()
    until = (now - dt.timedelta(days=1)).isoformat()
    assert found(since=since, until=until) == {results["old"].pk}
    assert found(since=now.isoformat()) == {results[k].pk for k in ("happy", "low", "at_b")}


@pytest.mark.parametrize(
    "params",
    [{"since": "not-a-time"}, {"trigger": "survey_low_score"}, {"staff": "abc"}],
)
def test_bad_filters_are_400_at_their_field(signed_in, agent, results, params):
    response = signed_in(agent).get(SURVEYS, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_a_visitors_name_is_masked_for_staff_of_another_branch(
    signed_in, agent, make_survey, branch_b
):
    visitor = CustomerFactory(home_branch=branch_b, full_name="Chen Yi")
    survey = survey_answer(survey=make_survey(customer=visitor), csat=5)
    assert signed_in(agent).get(one(survey)).json()["customer_name"] == "C*** **"


def test_api_keys_read_with_care_read(make_api_client, branch_a, results, customer):
    reader = make_api_client(["care:read"], branches=[branch_a])
    body = reader.get(SURVEYS).json()
    assert {row["id"] for row in body["results"]} == {
        results[k].pk for k in ("happy", "low", "old")
    }
    row = reader.get(one(results["low"])).json()
    assert row["customer_name"] != customer.full_name
    assert row["customer_name"].startswith(customer.full_name[0]) and "*" in row["customer_name"]
    with_customers = make_api_client(["care:read", "customers:read"], branches=[branch_a])
    assert with_customers.get(one(results["low"])).json()["customer_name"] == customer.full_name
    assert reader.get(one(results["at_b"])).status_code == 404
    assert make_api_client(["customers:read"], branches=[branch_a]).get(SURVEYS).status_code == 403


def test_the_api_needs_the_role_and_is_read_only(signed_in, api, teller, agent, results):
    assert api.get(SURVEYS).status_code in (401, 403)
    assert signed_in(teller).get(SURVEYS).status_code == 403
    agent_api = signed_in(agent)
    # No write route: refused (by the permission the method would need, or as not allowed).
    assert agent_api.post(SURVEYS, {"csat": 5}).status_code in (403, 405)
    assert agent_api.patch(one(results["happy"]), {"csat": 1}).status_code in (403, 405)
    assert agent_api.delete(one(results["happy"])).status_code in (403, 405)
    assert Survey.objects.get(pk=results["happy"].pk).csat == 5


def test_the_list_and_one_survey_cost_fixed_queries(
    signed_in, agent, results, make_survey, django_assert_num_queries
):
    api = signed_in(agent)
    api.get(SURVEYS)
    # the page (branch, customer, staff, rule), recovery callbacks; the scope is kept on the
    # signed-in user
    with django_assert_num_queries(2):
        api.get(SURVEYS)
    for _n in range(4):
        survey_answer(survey=make_survey(), csat=2)
    with django_assert_num_queries(2):
        assert len(api.get(SURVEYS).json()["results"]) == 7
    # survey (branch, customer, staff, rule), recovery callback
    with django_assert_num_queries(2):
        api.get(one(results["low"]))


def test_the_survey_rules_are_read_by_code(signed_in, agent, make_api_client, teller):
    api = signed_in(agent)
    rules = api.get(RULES).json()
    assert [rule["code"] for rule in rules] == [
        "after-complaint",
        "after-consultation",
        "after-request",
        "after-service",
    ]
    service = api.get(f"{RULES}/after-service").json()
    assert (service["sample_percent"], service["low_csat"], service["low_nps"]) == (20, 2, 6)
    assert service["name"] == "Survey after a counter service"
    assert api.get(f"{RULES}/nope").status_code == 404
    assert make_api_client(["care:read"], all_branches=True).get(RULES).status_code == 200
    assert signed_in(teller).get(RULES).status_code == 403
    assert api.post(RULES, {"code": "x"}).status_code in (403, 405)
    assert SurveyRule.objects.count() == 4
