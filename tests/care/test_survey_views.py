"""The survey pages. The customer's (/s/<token>/, no login): in the survey's language with a
switch, one answer per link, 410 when expired, 404 for an unknown token, the thanks page, the
opt-out page, errors at their fields, rate limits, pinned queries. The staff's (/care/surveys/):
roles and branch scope (403 / 404), filters, the summary, masked names, the recovery callback
link, pinned queries, both languages."""

# The fixtures imported from other test modules reappear as test arguments.
# ruff: noqa: F811

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation

from bankservice.branches.models import Role
from bankservice.events.models import Event
from care.models import CareOptOut, FollowUpRule, Survey, SurveyStatus, Trigger
from care.services import callback_create
from care.survey_responses import ANSWERED_EVENT, survey_answer
from care.survey_views import PAGE_VIEWS_PER_WINDOW, SUBMITS_PER_WINDOW
from tests.factories import CustomerFactory

from .callback_fixtures import (  # noqa: F401 (fixtures)
    MONDAY_9,
    _care_registered,
    agent,
    customer,
    manager,
    now,
)
from .test_survey_answers import after_service, make_survey  # noqa: F401 (fixtures)

SURVEYS = reverse("care:surveys")


def link(survey, name="survey") -> str:
    return reverse(f"care_survey:{name}", args=[survey.public_token])


def detail(survey) -> str:
    return reverse("care:survey", args=[survey.pk])


def listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-survey="(\d+)"', html)]


# --- The customer's survey page.


def test_the_survey_opens_in_the_surveys_language_with_a_switch(client, make_survey):
    survey = make_survey(language="zh-hans")

    response = client.get(link(survey))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert response["Content-Language"] == "zh-hans"
    assert response["Cache-Control"] == "no-store"
    assert "noindex" in response["X-Robots-Tag"]
    assert f'href="{link(survey)}?lang=en"' in html
    assert html.count('name="csat"') == 5 and html.count('name="nps"') == 11
    english = client.get(link(survey), {"lang": "en"})
    assert '<html lang="en">' in english.content.decode()
    assert 'name="lang" value="en"' in english.content.decode()  # the form keeps the choice
    assert "How did we do?" in english.content.decode()


def test_an_unknown_link_is_not_found(client, make_survey):
    make_survey()
    assert client.get("/s/not-a-token/").status_code == 404
    assert client.post("/s/not-a-token/", {"csat": "5"}).status_code == 404
    assert client.get("/s/not-a-token/opt-out/").status_code == 404


def test_answering_leads_to_the_thanks_page_and_only_once(client, make_survey):
    survey = make_survey()

    response = client.post(link(survey), {"csat": "4", "nps": "9", "comment": "Nice staff"})

    assert response.status_code == 302 and response["Location"] == link(survey, "thanks")
    stored = Survey.objects.get(pk=survey.pk)
    assert (stored.status, stored.csat, stored.nps, stored.comment) == (
        "answered",
        4,
        9,
        "Nice staff",
    )
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200 and "data-thanks" in thanks.content.decode()
    # A second visit, and a second submit, say it was answered and change nothing.
    again = client.get(link(survey))
    assert again.status_code == 200 and "data-already-answered" in again.content.decode()
    assert "data-survey-form" not in again.content.decode()
    resubmit = client.post(link(survey), {"csat": "1"})
    assert "data-already-answered" in resubmit.content.decode()
    assert Survey.objects.get(pk=survey.pk).csat == 4
    assert Event.objects.filter(type=ANSWERED_EVENT).count() == 1


def test_the_language_chosen_is_kept_to_the_thanks_page(client, make_survey):
    survey = make_survey(language="en")
    response = client.post(f"{link(survey)}", {"csat": "5", "lang": "zh-hans"})
    assert response["Location"] == f"{link(survey, 'thanks')}?lang=zh-hans"
    thanks = client.get(response["Location"])
    assert '<html lang="zh-hans">' in thanks.content.decode()


def test_the_thanks_page_of_an_unanswered_survey_leads_to_the_survey(client, make_survey):
    survey = make_survey()
    response = client.get(link(survey, "thanks"))
    assert response.status_code == 302 and response["Location"] == link(survey)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "csat"),
        ({"comment": "no scores"}, "csat"),
        ({"csat": "6"}, "csat"),
        ({"csat": "five"}, "csat"),
        ({"nps": "11"}, "nps"),
        ({"csat": "5", "comment": "x" * 2001}, "comment"),
    ],
)
def test_bad_answers_come_back_with_errors_at_their_fields(client, make_survey, data, field):
    survey = make_survey()
    response = client.post(link(survey), data)
    assert response.status_code == 400
    assert f'data-error="{field}"' in response.content.decode()
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.SENT


def test_the_answer_typed_is_kept_after_an_error(client, make_survey):
    survey = make_survey()
    html = client.post(link(survey), {"nps": "12", "csat": "3", "comment": "Slow"}).content.decode()
    assert 'name="csat" value="3" checked' in html
    assert ">Slow</textarea>" in html


def test_an_expired_link_is_gone(client, make_survey, now, time_machine):
    marked = make_survey(status=SurveyStatus.EXPIRED)
    late = make_survey()
    time_machine.move_to(now + dt.timedelta(days=8), tick=False)
    for survey in (marked, late):
        response = client.get(link(survey))
        assert response.status_code == 410
        assert "data-expired" in response.content.decode()
        assert "data-opt-out" in response.content.decode()  # one may still stop surveys
        assert client.post(link(survey), {"csat": "5"}).status_code == 410
        assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_the_survey_page_costs_fixed_queries(client, make_survey, django_assert_num_queries):
    survey = make_survey()
    client.get(link(survey))
    # the survey (branch, rule)
    with django_assert_num_queries(1):
        assert client.get(link(survey)).status_code == 200


def test_the_survey_page_is_rate_limited_per_address(client, make_survey):
    survey = make_survey()
    for _n in range(PAGE_VIEWS_PER_WINDOW):
        client.get("/s/guess/")
    response = client.get(link(survey))
    assert response.status_code == 429 and "data-limited" in response.content.decode()


def test_answers_are_rate_limited_per_address(client, make_survey):
    for _n in range(SUBMITS_PER_WINDOW):
        client.post(link(make_survey()), {"csat": "5"})
    survey = make_survey()
    response = client.post(link(survey), {"csat": "5"})
    assert response.status_code == 429
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.SENT


# --- Opting out from the link.


def test_opting_out_of_surveys_then_of_everything(client, make_survey, customer):
    survey = make_survey()
    page = client.get(link(survey, "opt-out"))
    assert page.status_code == 200 and "data-opt-out-form" in page.content.decode()
    assert not CareOptOut.objects.exists()  # a GET changes nothing

    response = client.post(link(survey, "opt-out"), {"scope": "surveys"})

    assert response.status_code == 302 and response["Location"] == link(survey, "opt-out")
    html = client.get(link(survey, "opt-out")).content.decode()
    assert 'data-stopped="surveys"' in html and 'value="surveys"' not in html
    assert CareOptOut.objects.get().source == f"survey:{survey.pk}"
    client.post(link(survey, "opt-out"), {"scope": "all"})
    html = client.get(link(survey, "opt-out")).content.decode()
    assert 'data-stopped="all"' in html and "data-opt-out-form" not in html
    assert set(CareOptOut.objects.values_list("scope", flat=True)) == {"surveys", "all"}


@pytest.mark.parametrize("scope", ["", "campaigns", "everything"])
def test_an_opt_out_needs_a_valid_choice(client, make_survey, scope):
    survey = make_survey()
    response = client.post(link(survey, "opt-out"), {"scope": scope})
    assert response.status_code == 400 and 'data-error="scope"' in response.content.decode()
    assert not CareOptOut.objects.exists()


def test_the_opt_out_page_speaks_the_surveys_language(client, make_survey):
    survey = make_survey(language="zh-hans")
    response = client.get(link(survey, "opt-out"))
    assert '<html lang="zh-hans">' in response.content.decode()


# --- The staff's results page.


@pytest.fixture
def results(make_survey, make_staff, branch_a, branch_b, customer, now):
    """At branch A: a happy answer, a low one with its recovery callback, one unanswered, one
    from a customer of branch B. At branch B: one answer."""
    elsewhere_customer = CustomerFactory(home_branch=branch_b, full_name="Chen Yi")
    happy = survey_answer(survey=make_survey(), csat=5, nps=10, comment="Very quick")
    low = survey_answer(survey=make_survey(), csat=1, nps=3, comment="Waited an hour")
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
        "happy": happy,
        "low": low,
        "recovery": recovery,
        "waiting": make_survey(trigger=Trigger.REQUEST_EXECUTED, service_code="open-account"),
        "visitor": survey_answer(survey=make_survey(customer=elsewhere_customer), csat=4),
        "at_b": survey_answer(survey=make_survey(branch=branch_b), csat=2),
    }


def test_the_results_need_the_role(client, teller, results):
    assert client.get(SURVEYS).status_code == 302  # sign in first
    client.force_login(teller)
    assert client.get(SURVEYS).status_code == 403
    assert client.get(detail(results["happy"])).status_code == 403


def test_the_results_show_the_users_branches_with_a_summary(client, agent, results):
    client.force_login(agent)

    html = client.get(SURVEYS).content.decode()

    mine = {results[name].pk for name in ("happy", "low", "waiting", "visitor")}
    assert set(listed(html)) == mine
    assert "data-summary-sent>4<" in html and "data-summary-answered>3<" in html
    assert "data-summary-rate>75 %<" in html
    assert "data-summary-csat>3.33<" in html  # (5 + 1 + 4) / 3
    assert "data-summary-nps>0<" in html  # one promoter, one detractor
    assert "Waited an hour" in html and "Very quick" in html
    assert client.get(detail(results["at_b"])).status_code == 404


def test_names_are_masked_unless_the_user_may_see_the_customer(client, agent, results, customer):
    client.force_login(agent)
    html = client.get(SURVEYS).content.decode()
    assert "Chen Yi" not in html and "C*** **" in html  # a customer of branch B
    assert customer.full_name in html
    assert f'href="{reverse("customers:detail", args=[customer.pk])}"' in html
    page = client.get(detail(results["visitor"])).content.decode()
    assert "Chen Yi" not in page and "C*** **" in page


def test_a_low_score_links_to_its_recovery_callback(client, agent, results):
    client.force_login(agent)
    callback = results["recovery"]
    html = client.get(SURVEYS, {"low_only": "on"}).content.decode()
    assert listed(html) == [results["low"].pk]
    assert f'href="{reverse("care:callback", args=[callback.pk])}"' in html
    page = client.get(detail(results["low"])).content.decode()
    assert f'data-recovery="{callback.pk}"' in page and "Waited an hour" in page


def test_the_results_filter(client, make_staff, region, results, branch_b):
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    client.force_login(regional)
    assert listed(client.get(SURVEYS, {"branch": branch_b.pk}).content.decode()) == [
        results["at_b"].pk
    ]
    html = client.get(SURVEYS, {"trigger": "request_executed"}).content.decode()
    assert listed(html) == [results["waiting"].pk]
    assert "data-summary-sent>1<" in html
    html = client.get(SURVEYS, {"service": "open-account"}).content.decode()
    assert listed(html) == [results["waiting"].pk]
    assert len(listed(client.get(SURVEYS, {"low_only": "on"}).content.decode())) == 2


def test_the_results_filter_by_period_and_staff(
    client, agent, make_survey, make_staff, now, branch_a
):
    teller = make_staff(Role.TELLER, branch=branch_a, username="wang.teller")
    served = make_survey(staff=teller)
    old = make_survey(sent_at=now - dt.timedelta(days=40))
    client.force_login(agent)
    assert listed(client.get(SURVEYS, {"staff": "wang.teller"}).content.decode()) == [served.pk]
    day = (now - dt.timedelta(days=40)).date().isoformat()
    assert listed(client.get(SURVEYS, {"since": day, "until": day}).content.decode()) == [old.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-03-05", "until": "2026-03-01"}, "until"),
        ({"staff": "nobody-here"}, "staff"),
        ({"since": "yesterday"}, "since"),
        ({"trigger": "survey_low_score"}, "trigger"),
    ],
)
def test_bad_filters_are_errors_on_the_form(client, agent, results, params, field):
    client.force_login(agent)
    response = client.get(SURVEYS, params)
    assert response.status_code == 400
    assert field in response.context["filters"].errors


def test_the_results_page_costs_the_same_queries_for_more_rows(
    client, agent, results, make_survey, django_assert_num_queries
):
    client.force_login(agent)
    client.get(SURVEYS)
    # user (the session is in the cache), scope, summary, count, page (branch, customer, staff,
    # rule), recovery callbacks, the filter's branches
    with django_assert_num_queries(7):
        client.get(SURVEYS)
    for _n in range(5):
        survey_answer(survey=make_survey(), csat=1)
    with django_assert_num_queries(7):
        assert len(listed(client.get(SURVEYS).content.decode())) == 9


def test_one_surveys_staff_page_costs_fixed_queries(
    client, agent, results, django_assert_num_queries
):
    client.force_login(agent)
    client.get(detail(results["low"]))
    # user, scope, survey (branch, customer, staff, rule), recovery callback
    with django_assert_num_queries(4):
        assert client.get(detail(results["low"])).status_code == 200


def test_the_unanswered_and_expired_surveys_say_so(client, agent, make_survey, now):
    waiting = make_survey()
    expired = make_survey(status=SurveyStatus.EXPIRED)
    client.force_login(agent)
    assert "Not answered yet." in client.get(detail(waiting)).content.decode()
    assert "the link has expired" in client.get(detail(expired)).content.decode()


def test_the_results_render_in_chinese(client, agent, results):
    client.force_login(agent)
    with translation.override("zh-hans"):
        client.cookies["django_language"] = "zh-hans"
        response = client.get(SURVEYS, HTTP_ACCEPT_LANGUAGE="zh-hans")
        page = client.get(detail(results["low"]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and '<html lang="zh-hans">' in response.content.decode()
    assert page.status_code == 200 and '<html lang="zh-hans">' in page.content.decode()


@pytest.mark.parametrize("role", [Role.CARE_LEAD, Role.BRANCH_MANAGER, Role.AUDITOR])
def test_leads_managers_and_auditors_read_the_results(client, make_staff, branch_a, results, role):
    client.force_login(make_staff(role, branch=branch_a, username=f"{role}-a"))
    response = client.get(SURVEYS)
    assert response.status_code == 200
    assert results["low"].pk in listed(response.content.decode())
    assert client.get(detail(results["low"])).status_code == 200


def test_a_survey_left_open_too_long_is_sent_back_to_try_again(settings, make_survey):
    # With "/s/" among CSRF_RETRY_PATH_PREFIXES (asked of the lead): an expired CSRF token
    # sends the customer back to the survey, in its language, with a note; nothing is stored.
    from django.test import Client

    settings.CSRF_RETRY_PATH_PREFIXES = [*settings.CSRF_RETRY_PATH_PREFIXES, "/s/"]
    survey = make_survey(language="zh-hans")
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(link(survey), {"csat": "5", "lang": "en"})
    assert (response.status_code, response["Location"]) == (302, f"{link(survey)}?lang=en")
    assert 'data-message="warning"' in browser.get(response["Location"]).content.decode()
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.SENT
