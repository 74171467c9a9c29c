"""The care API: callbacks (list, retrieve, claim, attempt, complete; cancel and release by the
care team lead) and follow-up rules (read).
Roles and API scopes, branch scope (403 / 404), errors (400 / 409), masking, query counts."""

# The fixtures imported from callback_fixtures reappear as test arguments.
# ruff: noqa: F811

import pytest
from django.core.management import call_command

from bankservice.branches.models import Role
from bankservice.events.models import Event
from care.models import Callback, CallbackStatus, DelayUnit, FollowUpRule, Trigger
from care.services import callback_attempt, callback_claim
from tests.factories import CustomerFactory

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

CALLBACKS = "/api/v1/callbacks"
RULES = "/api/v1/follow-up-rules"


def one(callback) -> str:
    return f"{CALLBACKS}/{callback.pk}"


@pytest.fixture
def signed_in(api):
    def sign_in(user):
        api.force_authenticate(user)
        return api

    return sign_in


@pytest.fixture
def another(make_callback, branch_a):
    def make(**overrides):
        branch = overrides.get("branch", branch_a)
        fresh = CustomerFactory(home_branch=branch, consent_phone=True)
        return make_callback(**{"customer": fresh, **overrides})

    return make


def test_the_list_is_scoped_to_the_callers_branches(
    signed_in, make_staff, branch_b, another, customer, make_callback
):
    mine = make_callback()
    another(branch=branch_b)
    agent_b = make_staff(Role.CARE_AGENT, branch=branch_b, username="agent-b")
    api = signed_in(agent_b)
    body = api.get(CALLBACKS).json()
    assert [row["branch"] for row in body["results"]] == ["b01"]
    assert api.get(one(mine)).status_code == 404
    assert api.post(f"{one(mine)}/claim").status_code == 404


def test_the_list_filters_by_status_branch_and_due_time(
    signed_in, make_staff, region, branch_b, another
):
    early = another(due_at=at(10))
    late = another(due_at=at(15))
    elsewhere = another(due_at=at(10), branch=branch_b)
    claimed = another(due_at=at(11))
    agent = make_staff(Role.CARE_AGENT, region=region, username="agent-east")
    callback_claim(actor=agent, callback=claimed)
    api = signed_in(agent)

    def ids(**params):
        return [row["id"] for row in api.get(CALLBACKS, params).json()["results"]]

    assert ids() == [early.pk, elsewhere.pk, claimed.pk, late.pk]
    assert ids(status="claimed") == [claimed.pk]
    assert ids(branch="b01") == [elsewhere.pk]
    assert ids(due_before=at(10, 30).isoformat()) == [early.pk, elsewhere.pk]
    assert api.get(CALLBACKS, {"status": "lost"}).status_code == 400


def test_the_phone_is_masked_unless_the_caller_may_see_it(
    signed_in, agent, make_staff, region, customer, make_callback
):
    callback = make_callback()
    # A regional manager reads callbacks but may not reveal personal data.
    regional = make_staff("regional_manager", region=region, username="regional")
    row = signed_in(regional).get(CALLBACKS).json()["results"][0]
    assert row["customer_phone"] == customer.phone_masked != customer.phone
    assert row["customer_name"] == customer.full_name
    # Care agents dial the customer: they may see the number.
    assert signed_in(agent).get(one(callback)).json()["customer_phone"] == customer.phone


def test_roles_without_care_get_403(signed_in, teller, make_callback):
    callback = make_callback()
    api = signed_in(teller)
    assert api.get(CALLBACKS).status_code == 403
    assert api.get(one(callback)).status_code == 403
    assert api.get(RULES).status_code == 403


def test_a_regional_manager_reads_but_may_not_claim(signed_in, make_staff, region, make_callback):
    callback = make_callback()
    api = signed_in(make_staff(Role.REGIONAL_MANAGER, region=region))
    assert api.get(one(callback)).status_code == 200
    assert api.post(f"{one(callback)}/claim").status_code == 403


def test_an_api_key_reads_with_care_read_and_never_works_callbacks(
    make_api_client, branch_a, branch_b, make_callback
):
    callback = make_callback()
    reader = make_api_client(["care:read"], branches=[branch_a])
    assert len(reader.get(CALLBACKS).json()["results"]) == 1
    assert reader.get(one(callback)).json()["status"] == "open"
    assert reader.post(f"{one(callback)}/claim").status_code == 403
    assert reader.get(one(callback)).json()["status"] == "open"
    elsewhere = make_api_client(["care:read"], branches=[branch_b], name="elsewhere")
    assert elsewhere.get(one(callback)).status_code == 404
    no_scope = make_api_client(["customers:read"], branches=[branch_a], name="no-scope")
    assert no_scope.get(CALLBACKS).status_code == 403


def test_claim_then_a_second_claim_conflicts(signed_in, agent, agent_2, make_callback):
    callback = make_callback()
    response = signed_in(agent).post(f"{one(callback)}/claim")
    assert response.status_code == 200
    assert response.json()["status"] == "claimed" and response.json()["claimed_by"] == agent.pk
    response = signed_in(agent_2).post(f"{one(callback)}/claim")
    assert response.status_code == 409
    assert "already claimed" in response.json()["detail"]


def test_attempts_no_answer_then_reached_then_complete(signed_in, agent, make_callback):
    callback = make_callback(due_at=at(11))
    api = signed_in(agent)
    api.post(f"{one(callback)}/claim")
    response = api.post(f"{one(callback)}/attempt", {"channel": "phone", "result": "no_answer"})
    assert response.status_code == 201 and response.json()["result"] == "no_answer"
    after = api.get(one(callback)).json()
    assert after["status"] == "open" and after["attempts"] == 1
    assert after["due_at"] > at(11).isoformat()
    api.post(f"{one(callback)}/claim")
    api.post(f"{one(callback)}/attempt", {"channel": "phone", "result": "reached", "note": "ok"})
    response = api.post(f"{one(callback)}/complete", {"outcome": "All good", "satisfaction": 5})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["satisfaction"], body["outcome"]) == ("done", 5, "All good")
    assert [a["result"] for a in body["attempt_log"]] == ["no_answer", "reached"]


def test_bad_input_is_400_and_a_wrong_state_409(signed_in, agent, make_callback):
    callback = make_callback()
    api = signed_in(agent)
    # Not claimed yet: the state refuses.
    response = api.post(f"{one(callback)}/attempt", {"channel": "phone", "result": "reached"})
    assert response.status_code == 409
    api.post(f"{one(callback)}/claim")
    response = api.post(f"{one(callback)}/attempt", {"channel": "fax", "note": "x" * 1001})
    assert response.status_code == 400
    assert set(response.json()) == {"channel", "result", "note"}
    response = api.post(f"{one(callback)}/complete", {"outcome": "Done"})
    assert response.status_code == 409  # not reached yet
    callback_attempt(actor=agent, callback=callback, channel="phone", result="reached")
    response = api.post(f"{one(callback)}/complete", {"outcome": "", "satisfaction": 6})
    assert response.status_code == 400
    assert set(response.json()) == {"outcome", "satisfaction"}
    assert api.get(one(callback)).json()["status"] == CallbackStatus.CLAIMED


def test_someone_elses_claimed_callback_is_403(signed_in, agent, agent_2, make_callback):
    callback = make_callback()
    callback_claim(actor=agent, callback=callback)
    response = signed_in(agent_2).post(
        f"{one(callback)}/attempt", {"channel": "phone", "result": "reached"}
    )
    assert response.status_code == 403
    assert callback.attempt_log.count() == 0


def test_rules_are_read_by_code(make_api_client, signed_in, agent):
    FollowUpRule.objects.create(
        code="zz-test-rule",
        name_zh="测试回访",
        name_en="Test follow-up",
        trigger=Trigger.REQUEST_EXECUTED,
        delay=2,
        delay_unit=DelayUnit.BUSINESS_DAYS,
        reason_code="test",
    )
    reader = make_api_client(["care:read"], all_branches=True)
    codes = [rule["code"] for rule in reader.get(RULES).json()]
    assert "zz-test-rule" in codes
    rule = signed_in(agent).get(f"{RULES}/zz-test-rule").json()
    assert (rule["name"], rule["trigger"], rule["delay"]) == (
        "Test follow-up",
        "request_executed",
        2,
    )


def test_the_list_and_one_callback_cost_fixed_queries(
    signed_in, agent, another, django_assert_num_queries
):
    first = another()
    api = signed_in(agent)
    api.get(CALLBACKS)
    # the page (customer, branch, rule, agent); the scope is kept on the signed-in user; and,
    # the agent seeing full phone numbers, an audit insert per customer shown
    with django_assert_num_queries(1 + 1):
        api.get(CALLBACKS)
    for _n in range(4):
        another()
    with django_assert_num_queries(1 + 5):
        assert len(api.get(CALLBACKS).json()["results"]) == 5
    callback_claim(actor=agent, callback=first)
    callback_attempt(actor=agent, callback=first, channel="phone", result="reached")
    # callback (customer, branch, rule, agent), attempts, the audit of the full phone number
    with django_assert_num_queries(3):
        api.get(one(first))
    callback_attempt(actor=agent, callback=first, channel="sms", result="reached")
    with django_assert_num_queries(3):
        assert len(api.get(one(first)).json()["attempt_log"]) == 2


@pytest.mark.django_db
def test_the_schema_describes_the_care_api(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/callbacks:",
        "/api/v1/callbacks/{id}:",
        "/api/v1/callbacks/{id}/claim:",
        "/api/v1/callbacks/{id}/attempt:",
        "/api/v1/callbacks/{id}/complete:",
        "/api/v1/callbacks/{id}/cancel:",
        "/api/v1/callbacks/{id}/release:",
        "/api/v1/follow-up-rules:",
        "/api/v1/follow-up-rules/{code}:",
    ):
        assert path in text, path


# --- The care team lead: cancel and release.


@pytest.fixture
def lead(make_staff, branch_a):
    return make_staff(Role.CARE_LEAD, branch=branch_a, username="lead")


def test_the_lead_cancels_with_a_reason_and_a_repeat_changes_nothing(
    signed_in, lead, agent, make_callback
):
    callback = callback_claim(actor=agent, callback=make_callback())
    api = signed_in(lead)

    missing = api.post(f"{one(callback)}/cancel", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    response = api.post(f"{one(callback)}/cancel", {"reason": "Moved abroad"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["outcome"]) == ("cancelled", "Moved abroad")
    again = api.post(f"{one(callback)}/cancel", {"reason": "Other"}, format="json")
    assert again.status_code == 200 and again.json()["outcome"] == "Moved abroad"
    assert Event.objects.filter(type="care.callback_cancelled").count() == 1


def test_cancel_honours_the_idempotency_key(signed_in, lead, make_callback):
    callback = make_callback()
    api = signed_in(lead)
    body = {"reason": "Not needed"}

    first = api.post(f"{one(callback)}/cancel", body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    again = api.post(f"{one(callback)}/cancel", body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_cancel_and_release_refusals(
    signed_in, make_api_client, lead, agent, make_staff, branch_a, branch_b, make_callback
):
    callback = callback_claim(actor=agent, callback=make_callback())
    body = {"reason": "Not needed"}
    assert signed_in(agent).post(f"{one(callback)}/cancel", body).status_code == 403
    assert signed_in(agent).post(f"{one(callback)}/release").status_code == 403
    other_lead = make_staff(Role.CARE_LEAD, branch=branch_b, username="lead-b")
    assert signed_in(other_lead).post(f"{one(callback)}/cancel", body).status_code == 404
    key = make_api_client(["care:read", "care:write"], branches=[branch_a])
    assert key.post(f"{one(callback)}/cancel", body).status_code == 403
    assert key.post(f"{one(callback)}/release").status_code == 403
    assert Callback.objects.get(pk=callback.pk).status == CallbackStatus.CLAIMED
    # A closed callback cannot be cancelled: 409.
    callback_attempt(actor=agent, callback=callback, channel="phone", result="wrong_number")
    conflict = signed_in(lead).post(f"{one(callback)}/cancel", body)
    assert conflict.status_code == 409
    assert signed_in(lead).post(f"{one(callback)}/release").status_code == 409


def test_the_lead_releases_an_absent_agent_s_callback(
    signed_in, lead, agent, agent_2, make_callback
):
    callback = callback_claim(actor=agent, callback=make_callback())

    response = signed_in(lead).post(f"{one(callback)}/release")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["claimed_by"]) == ("open", None)
    assert signed_in(agent_2).post(f"{one(callback)}/claim").json()["claimed_by"] == agent_2.pk
