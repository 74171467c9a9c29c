"""The care pages: the worklist (due today, overdue, mine; by branch and priority; claim) and the
callback page (masked customer unless revealed, script, attempts, record an attempt, complete
with the outcome and satisfaction, links to the other stages' "new" pages; the care team lead
cancels with a reason and gives an absent agent's callback back, from the page or the "team"
tab). Roles, branch scope (403 / 404), form errors and pinned query counts."""

# The fixtures imported from callback_fixtures reappear as test arguments.
# ruff: noqa: F811

import re

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.branches.services import membership_grant
from bankservice.events.models import Event
from care.models import Callback, CallbackStatus, Priority
from care.services import callback_attempt, callback_claim
from tests.factories import BranchFactory, CustomerFactory

from .callback_fixtures import (  # noqa: F401 (fixtures)
    _care_registered,
    agent,
    agent_2,
    at,
    customer,
    make_callback,
    manager,
    now,
)

WORKLIST = reverse("care:worklist")


def page_of(callback) -> str:
    return reverse("care:callback", args=[callback.pk])


def listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-callback="(\d+)"', html)]


def post(client, name: str, callback, data=None):
    return client.post(reverse(f"care:{name}", args=[callback.pk]), data or {})


@pytest.fixture
def another(make_callback, branch_a):
    """another(**overrides): a callback for a new customer (one customer is capped at three)."""

    def make(**overrides):
        branch = overrides.get("branch", branch_a)
        fresh = CustomerFactory(home_branch=branch, consent_phone=True)
        return make_callback(**{"customer": fresh, **overrides})

    return make


@pytest.fixture
def agent_b(make_staff, branch_b):
    return make_staff(Role.CARE_AGENT, branch=branch_b, username="agent-b")


# --- Who may open the pages.


def test_the_pages_need_the_role(client, teller, make_callback):
    callback = make_callback()
    assert client.get(WORKLIST).status_code == 302  # sign in first
    client.force_login(teller)
    assert client.get(WORKLIST).status_code == 403
    assert client.get(page_of(callback)).status_code == 403
    assert post(client, "claim", callback).status_code == 403


def test_the_navigation_shows_care_to_care_agents_only(client, agent, teller):
    client.force_login(agent)
    assert f'href="{WORKLIST}"' in client.get(reverse("home")).content.decode()
    client.force_login(teller)
    assert f'href="{WORKLIST}"' not in client.get(reverse("home")).content.decode()


def test_another_branchs_callback_is_not_found(client, agent_b, make_callback):
    callback = make_callback(due_at=at(11))
    client.force_login(agent_b)
    assert listed(client.get(WORKLIST).content.decode()) == []
    assert client.get(page_of(callback)).status_code == 404
    assert post(client, "claim", callback).status_code == 404
    assert Callback.objects.get(pk=callback.pk).status == CallbackStatus.OPEN


def test_a_regional_manager_reads_but_does_not_work_callbacks(
    client, make_staff, region, make_callback
):
    callback = make_callback(due_at=at(11))
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    client.force_login(regional)
    html = client.get(WORKLIST).content.decode()
    assert listed(html) == [callback.pk]
    assert "data-claim" not in html
    html = client.get(page_of(callback)).content.decode()
    assert "data-claim" not in html and "data-attempt-form" not in html
    assert post(client, "claim", callback).status_code == 403


# --- The worklist.


def test_the_worklist_tabs_due_today_overdue_and_mine(client, agent, another):
    today = another(due_at=at(11))
    late = another(due_at=at(8, 30))
    yesterday = another(due_at=at(15, day=1))
    tomorrow = another(due_at=at(10, day=3))
    callback_claim(actor=agent, callback=tomorrow)
    client.force_login(agent)
    assert set(listed(client.get(WORKLIST).content.decode())) == {today.pk, late.pk}
    html = client.get(WORKLIST, {"list": "overdue"}).content.decode()
    assert set(listed(html)) == {late.pk, yesterday.pk}
    assert html.count("data-overdue") == 2
    assert listed(client.get(WORKLIST, {"list": "mine"}).content.decode()) == [tomorrow.pk]
    # An unknown tab is the first one, never an error.
    assert client.get(WORKLIST, {"list": "nope"}).status_code == 200


def test_the_worklist_puts_high_priority_first_and_filters(client, agent, another, branch_b):
    normal = another(due_at=at(10))
    high = another(due_at=at(11), priority=Priority.HIGH)
    elsewhere = another(due_at=at(10, 30), branch=branch_b)
    membership_grant(user=agent, role=Role.CARE_AGENT, branch=branch_b)
    client.force_login(agent)
    assert listed(client.get(WORKLIST).content.decode()) == [high.pk, normal.pk, elsewhere.pk]
    by_branch = client.get(WORKLIST, {"branch": branch_b.pk}).content.decode()
    assert listed(by_branch) == [elsewhere.pk]
    by_priority = client.get(WORKLIST, {"priority": Priority.HIGH}).content.decode()
    assert listed(by_priority) == [high.pk]
    # A branch outside the user's is a form error, not someone else's list.
    other = BranchFactory(code="z99")
    response = client.get(WORKLIST, {"branch": other.pk})
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()


def test_claim_from_the_worklist(client, agent, agent_2, make_callback):
    callback = make_callback(due_at=at(11))
    client.force_login(agent)
    assert "data-claim" in client.get(WORKLIST).content.decode()
    response = post(client, "claim", callback, {"next": "worklist"})
    assert response.status_code == 302 and response.url == page_of(callback)
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CLAIMED and callback.claimed_by == agent
    # The second agent was too late: told so, back on the worklist, nothing changed.
    client.force_login(agent_2)
    response = post(client, "claim", callback, {"next": "worklist"})
    assert response.status_code == 302 and response.url == WORKLIST
    messages = client.get(WORKLIST).content.decode()
    assert "Another agent has already claimed this callback." in messages
    callback.refresh_from_db()
    assert callback.claimed_by == agent


def test_the_worklist_costs_the_same_queries_for_more_rows(
    client, agent, another, django_assert_num_queries
):
    another(due_at=at(11))
    client.force_login(agent)
    client.get(WORKLIST)
    # user, scope, count, page (customer, branch, rule, agent), the filter's branches
    with django_assert_num_queries(5):
        client.get(WORKLIST)
    for _n in range(5):
        another(due_at=at(11))
    with django_assert_num_queries(5):
        html = client.get(WORKLIST).content.decode()
    assert len(listed(html)) == 6


# --- The callback page.


def test_the_page_shows_the_masked_customer_the_script_and_the_links(
    client, agent, customer, make_callback
):
    callback = make_callback(script="Ask whether the card arrived.")
    client.force_login(agent)
    html = client.get(page_of(callback)).content.decode()
    assert customer.phone_masked in html and customer.phone not in html
    assert customer.full_name in html
    assert "Ask whether the card arrived." in html
    # Masked until the agent reveals it to dial (audited: see the next test); they take
    # complaints and consultations, not requests.
    assert "data-reveal" in html
    # The customer's core-banking ID goes along, for pages that prefill their lookup with it.
    query = f"?customer_query={customer.core_banking_id}"
    assert f'href="/complaints/new/{query}" data-follow-on="complaint"' in html
    assert f'href="/consultation/new/{query}" data-follow-on="consultation"' in html
    assert 'data-follow-on="request"' not in html


def test_the_branch_manager_reveals_the_phone_and_the_look_is_audited(
    client, manager, customer, make_callback
):
    callback = make_callback()
    client.force_login(manager)
    html = client.get(page_of(callback)).content.decode()
    assert "data-reveal" in html and customer.phone not in html
    response = post(client, "reveal", callback)
    assert response.status_code == 200
    assert customer.phone in response.content.decode()
    event = Event.objects.get(type="customer.pii_revealed")
    assert event.actor_user == manager and event.customer_id == customer.pk
    assert 'data-follow-on="request"' in response.content.decode()


def test_no_answer_puts_the_callback_back_due_later(client, agent, make_callback):
    callback = make_callback(due_at=at(11))
    callback_claim(actor=agent, callback=callback)
    client.force_login(agent)
    html = client.get(page_of(callback)).content.decode()
    assert "data-attempt-form" in html and "data-complete-form" not in html
    response = post(
        client, "attempt", callback, {"channel": "phone", "result": "no_answer", "note": ""}
    )
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.OPEN and callback.attempts == 1
    assert callback.due_at > at(11)
    html = client.get(page_of(callback)).content.decode()
    assert 'data-result="no_answer"' in html and "data-claim" in html
    assert "data-attempt-form" not in html  # claim it again to try again


def test_reached_then_completed_with_outcome_and_satisfaction(client, agent, make_callback):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    client.force_login(agent)
    post(client, "attempt", callback, {"channel": "phone", "result": "reached", "note": "OK"})
    html = client.get(page_of(callback)).content.decode()
    assert "data-complete-form" in html
    response = post(
        client, "complete", callback, {"outcome": "Happy with the resolution.", "satisfaction": 4}
    )
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE
    assert (callback.outcome, callback.satisfaction) == ("Happy with the resolution.", 4)
    html = client.get(page_of(callback)).content.decode()
    assert "data-attempt-form" not in html and "data-complete-form" not in html
    assert "4 / 5" in html


def test_form_errors_come_back_at_their_fields(client, agent, make_callback):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    client.force_login(agent)
    response = post(client, "attempt", callback, {"channel": "pigeon", "note": "x" * 1001})
    assert response.status_code == 400
    errors = response.context["attempt_form"].errors
    assert set(errors) == {"channel", "result", "note"}
    assert callback.attempt_log.count() == 0
    # Completing before the customer was reached: the service's refusal, on the form.
    response = post(client, "complete", callback, {"outcome": "Done", "satisfaction": 5})
    assert response.status_code == 302
    assert "reached before completing" in client.get(page_of(callback)).content.decode()
    callback_attempt(actor=agent, callback=callback, channel="phone", result="reached")
    response = post(client, "complete", callback, {"outcome": "  ", "satisfaction": 9})
    assert response.status_code == 400
    assert set(response.context["complete_form"].errors) == {"outcome", "satisfaction"}
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CLAIMED


def test_only_the_claiming_agent_records_attempts(client, agent, agent_2, make_callback):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    client.force_login(agent_2)
    html = client.get(page_of(callback)).content.decode()
    assert "data-attempt-form" not in html and "data-claim" not in html
    response = post(client, "attempt", callback, {"channel": "phone", "result": "reached"})
    assert response.status_code == 403
    assert callback.attempt_log.count() == 0


def test_the_page_costs_the_same_queries_with_more_attempts(
    client, agent, make_callback, django_assert_num_queries
):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    callback_attempt(actor=agent, callback=callback, channel="phone", result="reached")
    client.force_login(agent)
    client.get(page_of(callback))
    # user, scope, callback (customer, branch, rule, agent), attempts (with who)
    with django_assert_num_queries(4):
        client.get(page_of(callback))
    callback_attempt(actor=agent, callback=callback, channel="sms", result="reached")
    callback_attempt(actor=agent, callback=callback, channel="email", result="reached")
    with django_assert_num_queries(4):
        html = client.get(page_of(callback)).content.decode()
    assert html.count('data-result="reached"') == 3


# --- The care team lead: cancel, give back, the team tab.


@pytest.fixture
def lead(make_staff, branch_a):
    return make_staff(Role.CARE_LEAD, branch=branch_a, username="lead")


def test_the_lead_cancels_from_the_page_with_a_reason(client, lead, agent, make_callback):
    callback = make_callback()
    client.force_login(agent)
    assert "data-cancel-form" not in client.get(page_of(callback)).content.decode()
    client.force_login(lead)
    assert "data-cancel-form" in client.get(page_of(callback)).content.decode()

    empty = post(client, "cancel", callback, {"reason": "   "})
    assert empty.status_code == 400
    assert set(empty.context["cancel_form"].errors) == {"reason"}
    assert Callback.objects.get(pk=callback.pk).status == CallbackStatus.OPEN

    response = post(client, "cancel", callback, {"reason": "Customer moved abroad"})
    assert response.status_code == 302
    callback.refresh_from_db()
    assert (callback.status, callback.outcome) == (
        CallbackStatus.CANCELLED,
        "Customer moved abroad",
    )
    html = client.get(page_of(callback)).content.decode()
    assert "data-cancel-form" not in html and "Customer moved abroad" in html
    # A second POST (a double click) is not an error and changes nothing.
    assert post(client, "cancel", callback, {"reason": "Again"}).status_code == 302
    assert Callback.objects.get(pk=callback.pk).outcome == "Customer moved abroad"


def test_cancelling_a_closed_callback_is_a_message_not_an_error(client, lead, agent, make_callback):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    callback_attempt(actor=agent, callback=callback, channel="phone", result="wrong_number")
    client.force_login(lead)

    response = post(client, "cancel", callback, {"reason": "Not needed"})

    assert response.status_code == 302
    assert "cannot be cancelled" in client.get(page_of(callback)).content.decode()
    assert Callback.objects.get(pk=callback.pk).status == CallbackStatus.UNREACHABLE


def test_agents_may_not_cancel_or_give_back_and_other_branches_are_not_found(
    client, agent, agent_2, make_staff, branch_b, make_callback
):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    client.force_login(agent_2)
    assert post(client, "cancel", callback, {"reason": "x"}).status_code == 403
    assert post(client, "release", callback).status_code == 403
    client.force_login(make_staff(Role.CARE_LEAD, branch=branch_b, username="lead-b"))
    assert post(client, "cancel", callback, {"reason": "x"}).status_code == 404
    assert post(client, "release", callback).status_code == 404
    callback.refresh_from_db()
    assert (callback.status, callback.claimed_by_id) == (CallbackStatus.CLAIMED, agent.pk)


def test_the_team_tab_shows_what_others_claimed_and_the_lead_gives_it_back(
    client, lead, agent, agent_b, another, branch_b
):
    theirs = another(due_at=at(11))
    callback_claim(actor=agent, callback=theirs)
    another(due_at=at(11))  # open: on the other tabs, not this one
    mine = another(due_at=at(12))
    callback_claim(actor=lead, callback=mine)
    elsewhere = another(due_at=at(11), branch=branch_b)
    callback_claim(actor=agent_b, callback=elsewhere)
    client.force_login(agent)
    assert 'data-list="team"' not in client.get(WORKLIST).content.decode()
    # Not a lead: the tab is not there and asking for it gives the first list.
    assert 'data-worklist="today"' in client.get(WORKLIST, {"list": "team"}).content.decode()

    client.force_login(lead)
    html = client.get(WORKLIST, {"list": "team"}).content.decode()
    assert 'data-list="team"' in html
    assert listed(html) == [theirs.pk]
    assert html.count("data-release") == 1

    response = post(client, "release", theirs, {"next": "team"})
    assert response.status_code == 302 and response.url == f"{WORKLIST}?list=team"
    theirs.refresh_from_db()
    assert (theirs.status, theirs.claimed_by_id) == (CallbackStatus.OPEN, None)
    assert listed(client.get(WORKLIST, {"list": "team"}).content.decode()) == []
    assert Event.objects.get(type="care.callback_released").payload["released_from"] == agent.pk


def test_the_lead_gives_back_from_the_callback_page(client, lead, agent, make_callback):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    client.force_login(lead)
    assert "data-release" in client.get(page_of(callback)).content.decode()

    assert post(client, "release", callback).status_code == 302

    html = client.get(page_of(callback)).content.decode()
    assert "data-release" not in html and 'data-status="open"' in html


def test_the_team_tab_costs_the_same_queries_for_more_rows(
    client, lead, agent, another, django_assert_num_queries
):
    callback_claim(actor=agent, callback=another(due_at=at(11)))
    client.force_login(lead)
    client.get(WORKLIST, {"list": "team"})
    # user, scope, count, page (customer, branch, rule, agent), the filter's branches
    with django_assert_num_queries(5):
        client.get(WORKLIST, {"list": "team"})
    for _n in range(4):
        callback_claim(actor=agent, callback=another(due_at=at(11)))
    with django_assert_num_queries(5):
        html = client.get(WORKLIST, {"list": "team"}).content.decode()
    assert len(listed(html)) == 5


def test_the_lead_s_callback_page_costs_fixed_queries(
    client, lead, agent, make_callback, django_assert_num_queries
):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    client.force_login(lead)
    client.get(page_of(callback))
    # user, scope, callback (customer, branch, rule, agent), attempts (with who)
    with django_assert_num_queries(4):
        html = client.get(page_of(callback)).content.decode()
    assert "data-cancel-form" in html and "data-release" in html


def test_the_lead_s_pages_render_in_chinese(client, lead, agent, make_callback):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    client.force_login(lead)
    headers = {"Accept-Language": "zh-hans"}

    page = client.get(page_of(callback), headers=headers)
    team = client.get(WORKLIST, {"list": "team"}, headers=headers)

    assert page.status_code == team.status_code == 200
    assert page["Content-Language"] == team["Content-Language"] == "zh-hans"
    assert "data-cancel-form" in page.content.decode()
    assert listed(team.content.decode()) == [callback.pk]
