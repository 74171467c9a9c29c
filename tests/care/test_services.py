"""Callback services: scheduling and its guards, claim, attempts (reschedule, unreachable,
refusal), completion, cancellation; the deadline follows every step; events carry ids only."""

# The fixtures imported from callback_fixtures reappear as test arguments.
# ruff: noqa: F811

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.branches.models import Role
from bankservice.core.errors import BadInput, Conflict
from bankservice.events.models import Event
from bankservice.sla.models import Deadline, DeadlineState
from bankservice.sla.selectors import deadlines_for, open_deadline_for
from bankservice.sla.services import deadline_sweep
from care.models import Callback, CallbackStatus, FollowUpRule
from care.services import (
    DEADLINE_KIND,
    callback_attempt,
    callback_cancel,
    callback_claim,
    callback_complete,
    callback_release,
)
from tests.care.callback_fixtures import (  # noqa: F401 (fixtures)
    _care_registered,
    agent,
    agent_2,
    at,
    customer,
    make_callback,
    manager,
    now,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _events(type_):
    return Event.objects.filter(type=f"care.{type_}")


def _claimed(make_callback, agent):
    callback = make_callback()
    return callback_claim(actor=agent, callback=callback)


def _reached(make_callback, agent):
    callback = _claimed(make_callback, agent)
    callback_attempt(actor=agent, callback=callback, channel="phone", result="reached")
    return Callback.objects.get(pk=callback.pk)


# --- Scheduling and its guards.


def test_create_schedules_an_open_callback_with_its_deadline_and_event(make_callback, now):
    callback = make_callback(priority=1, script="Ask about the fee refund.")

    assert callback.status == CallbackStatus.OPEN
    assert (callback.priority, callback.role) == (1, Role.CARE_AGENT)
    deadline = open_deadline_for(callback, kind=DEADLINE_KIND)
    assert deadline.started_at == now
    assert deadline.due_at == at(10, day=3)
    assert deadline.warn_at == at(8, day=3)
    event = _events("callback_created").get()
    assert event.customer_id == callback.customer_id
    assert event.payload["callback_id"] == callback.pk
    assert event.payload["reason_code"] == "complaint-satisfaction"
    assert "Ask about" not in str(event.payload)


def test_a_callback_due_sooner_than_the_warning_lead_is_warned_at_once(make_callback, now):
    callback = make_callback(due_at=at(10))

    assert open_deadline_for(callback, kind=DEADLINE_KIND).warn_at == now


def test_a_callback_made_after_its_due_time_starts_overdue(make_callback, now):
    callback = make_callback(due_at=at(8))

    deadline = open_deadline_for(callback, kind=DEADLINE_KIND)
    assert deadline.started_at == deadline.due_at == at(8)
    assert deadline_sweep(now=now).breached == 1


def test_no_callback_without_phone_consent(make_callback, customer):
    customer.consent_phone = False
    customer.save(update_fields=["consent_phone"])

    assert make_callback() is None
    assert not Callback.objects.exists()
    assert not Deadline.objects.exists()


def test_one_open_callback_per_customer_and_reason(make_callback, agent):
    first = make_callback()

    assert make_callback() is None
    assert make_callback(reason_code="request-executed") is not None
    callback_claim(actor=agent, callback=first)
    assert make_callback() is None  # claimed is still open
    callback_attempt(actor=agent, callback=first, channel="phone", result="wrong_number")
    assert make_callback() is not None  # closed: a new one may be scheduled


def test_a_rule_acts_on_an_event_once(make_callback, customer, branch_a):
    rule = FollowUpRule.objects.create(
        code="f-test",
        name_zh="测试",
        name_en="Test",
        trigger="request_executed",
        delay=2,
        delay_unit="business_days",
        reason_code="f-test",
    )
    event = Event.objects.create(
        type="transactions.request_executed",
        occurred_at=at(8),
        branch=branch_a,
        customer=customer,
        payload={},
    )
    first = make_callback(rule=rule, source_event=event, reason_code="f-test")
    # Closed, so the one-open-per-reason guard no longer stands in the way: only the rule's.
    Callback.objects.filter(pk=first.pk).update(status="done", closed_at=at(9))

    assert make_callback(rule=rule, source_event=event, reason_code="f-test") is None
    assert Callback.objects.count() == 1


def test_the_contact_cap_counts_every_rule_within_the_period(make_callback, settings, time_machine):
    settings.CARE_CONTACT_CAP = 2
    settings.CARE_CONTACT_CAP_DAYS = 30
    assert make_callback(reason_code="one") is not None
    cancelled = make_callback(reason_code="gone")
    Callback.objects.filter(pk=cancelled.pk).update(status="cancelled", closed_at=at(9))
    assert make_callback(reason_code="two") is not None

    assert make_callback(reason_code="three") is None
    time_machine.move_to(at(9, day=2) + dt.timedelta(days=31), tick=False)
    assert make_callback(reason_code="three", due_at=at(10, day=5) + dt.timedelta(days=31))


def test_staff_creating_by_hand_need_the_role_at_the_branch(make_callback, agent, branch_b):
    assert make_callback(actor=agent) is not None
    with pytest.raises(PermissionDenied):
        make_callback(actor=agent, branch=branch_b, reason_code="other")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reason_code", " "),
        ("priority", 7),
        ("role", "pilot"),
        ("due_at", dt.datetime(2026, 3, 3)),  # noqa: DTZ001 (a naive time is the bad input)
    ],
)
def test_bad_input_names_the_field(make_callback, field, value):
    with pytest.raises(BadInput) as refused:
        make_callback(**{field: value})

    assert refused.value.field == field


# --- Claim.


def test_claim_takes_an_open_callback(make_callback, agent):
    callback = _claimed(make_callback, agent)

    assert callback.status == CallbackStatus.CLAIMED
    assert callback.claimed_by == agent
    assert _events("callback_claimed").get().actor_user_id == agent.pk
    assert callback_claim(actor=agent, callback=callback).claimed_by == agent  # again: no-op
    assert _events("callback_claimed").count() == 1


def test_claim_of_a_claimed_callback_is_a_conflict(make_callback, agent, agent_2):
    callback = _claimed(make_callback, agent)

    with pytest.raises(Conflict):
        callback_claim(actor=agent_2, callback=callback)


def test_claim_needs_the_role_at_the_callback_s_branch(make_callback, make_staff, branch_b):
    callback = make_callback()
    elsewhere = make_staff(Role.CARE_AGENT, branch=branch_b)
    regional = make_staff(Role.REGIONAL_MANAGER, region=branch_b.region)

    for actor in (elsewhere, regional):
        with pytest.raises(PermissionDenied):
            callback_claim(actor=actor, callback=callback)


# --- Attempts.


def test_reached_keeps_it_claimed_for_the_outcome(make_callback, agent):
    callback = _reached(make_callback, agent)

    assert callback.status == CallbackStatus.CLAIMED
    assert callback.attempts == 1
    attempt = callback.attempt_log.get()
    assert (attempt.channel, attempt.result, attempt.by) == ("phone", "reached", agent)


def test_no_answer_reschedules_and_moves_the_deadline(make_callback, agent, now, settings):
    settings.CARE_RETRY_HOURS = 4
    callback = _claimed(make_callback, agent)
    old = open_deadline_for(callback, kind=DEADLINE_KIND)

    callback_attempt(
        actor=agent, callback=callback, channel="phone", result="no_answer", note="Voicemail"
    )

    callback.refresh_from_db()
    assert callback.status == CallbackStatus.OPEN
    assert callback.claimed_by is None
    assert callback.due_at == now + dt.timedelta(hours=4)
    old.refresh_from_db()
    assert old.state == DeadlineState.CANCELLED
    assert open_deadline_for(callback, kind=DEADLINE_KIND).due_at == callback.due_at
    event = _events("callback_attempted").get()
    assert event.payload["result"] == "no_answer"
    assert "Voicemail" not in str(event.payload)


def test_a_retry_is_never_due_in_quiet_hours(make_callback, agent, settings, time_machine):
    settings.NOTIFY_QUIET_HOURS = "21:00-08:00"
    settings.CARE_RETRY_HOURS = 4
    time_machine.move_to(at(19), tick=False)
    callback = _claimed(make_callback, agent)

    callback_attempt(actor=agent, callback=callback, channel="phone", result="busy")

    callback.refresh_from_db()
    assert callback.due_at == at(8, day=3)


def test_after_the_last_try_it_closes_unreachable(make_callback, agent, agent_2, settings):
    settings.CARE_MAX_ATTEMPTS = 2
    callback = _claimed(make_callback, agent)
    callback_attempt(actor=agent, callback=callback, channel="phone", result="no_answer")
    callback_claim(actor=agent_2, callback=callback)

    callback_attempt(actor=agent_2, callback=callback, channel="sms", result="busy")

    callback.refresh_from_db()
    assert (callback.status, callback.attempts) == (CallbackStatus.UNREACHABLE, 2)
    assert callback.closed_at is not None
    assert deadlines_for(callback, kind=DEADLINE_KIND).last().state == DeadlineState.MET


def test_wrong_number_closes_unreachable(make_callback, agent):
    callback = _claimed(make_callback, agent)

    callback_attempt(actor=agent, callback=callback, channel="phone", result="wrong_number")

    callback.refresh_from_db()
    assert callback.status == CallbackStatus.UNREACHABLE


def test_a_refusal_closes_it_done_with_the_note(make_callback, agent):
    callback = _claimed(make_callback, agent)

    callback_attempt(
        actor=agent, callback=callback, channel="phone", result="refused", note="No more calls"
    )

    callback.refresh_from_db()
    assert (callback.status, callback.outcome) == (CallbackStatus.DONE, "No more calls")


def test_only_the_claimant_records_attempts(make_callback, agent, agent_2):
    callback = make_callback()
    with pytest.raises(Conflict):
        callback_attempt(actor=agent, callback=callback, channel="phone", result="reached")
    callback_claim(actor=agent, callback=callback)

    with pytest.raises(PermissionDenied):
        callback_attempt(actor=agent_2, callback=callback, channel="phone", result="reached")
    assert not callback.attempt_log.exists()


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("channel", {"channel": "fax", "result": "reached"}),
        ("result", {"channel": "phone", "result": "maybe"}),
        ("note", {"channel": "phone", "result": "reached", "note": "x" * 2001}),
    ],
)
def test_attempt_bad_input(make_callback, agent, field, kwargs):
    callback = _claimed(make_callback, agent)

    with pytest.raises(BadInput) as refused:
        callback_attempt(actor=agent, callback=callback, **kwargs)

    assert refused.value.field == field


# --- Completion.


def test_complete_after_reaching_meets_the_deadline(make_callback, agent):
    callback = _reached(make_callback, agent)

    callback_complete(
        actor=agent, callback=callback, outcome="Happy with the refund", satisfaction=4
    )

    callback.refresh_from_db()
    assert (callback.status, callback.satisfaction) == (CallbackStatus.DONE, 4)
    assert callback.outcome == "Happy with the refund"
    deadline = deadlines_for(callback, kind=DEADLINE_KIND).get()
    assert deadline.state == DeadlineState.MET
    event = _events("callback_completed").get()
    assert event.payload == {"callback_id": callback.pk, "status": "done", "satisfaction": 4}


def test_complete_after_the_breach_records_a_late_meet(make_callback, agent):
    callback = _reached(make_callback, agent)
    deadline_sweep(now=at(11, day=3))

    callback_complete(actor=agent, callback=callback, outcome="Fine")

    deadline = deadlines_for(callback, kind=DEADLINE_KIND).get()
    assert deadline.state == DeadlineState.BREACHED
    assert deadline.met_at is not None


def test_complete_needs_the_customer_reached(make_callback, agent):
    callback = _claimed(make_callback, agent)

    with pytest.raises(Conflict):
        callback_complete(actor=agent, callback=callback, outcome="Fine")


def test_complete_by_someone_else_is_refused(make_callback, agent, agent_2):
    callback = _reached(make_callback, agent)

    with pytest.raises(PermissionDenied):
        callback_complete(actor=agent_2, callback=callback, outcome="Fine")


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("outcome", {"outcome": "  "}),
        ("satisfaction", {"outcome": "Fine", "satisfaction": 6}),
        ("satisfaction", {"outcome": "Fine", "satisfaction": "5"}),
    ],
)
def test_complete_bad_input(make_callback, agent, field, kwargs):
    callback = _reached(make_callback, agent)

    with pytest.raises(BadInput) as refused:
        callback_complete(actor=agent, callback=callback, **kwargs)

    assert refused.value.field == field
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CLAIMED


# --- Cancellation.


def test_the_branch_manager_cancels_an_open_callback(make_callback, manager):
    callback = make_callback()

    callback_cancel(actor=manager, callback=callback, reason="Customer moved abroad")

    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CANCELLED
    assert deadlines_for(callback, kind=DEADLINE_KIND).get().state == DeadlineState.CANCELLED
    assert "moved" not in str(_events("callback_cancelled").get().payload)


def test_an_agent_may_not_cancel(make_callback, agent):
    with pytest.raises(PermissionDenied):
        callback_cancel(actor=agent, callback=make_callback(), reason="Not needed")


def test_a_closed_callback_cannot_be_cancelled_and_a_reason_is_needed(
    make_callback, agent, manager
):
    callback = _claimed(make_callback, agent)
    with pytest.raises(BadInput):
        callback_cancel(actor=manager, callback=callback, reason="")
    callback_attempt(actor=agent, callback=callback, channel="phone", result="wrong_number")

    with pytest.raises(Conflict):
        callback_cancel(actor=manager, callback=callback, reason="Not needed")


@pytest.fixture
def lead(make_staff, branch_a):
    return make_staff(Role.CARE_LEAD, branch=branch_a, username="lead")


def test_the_care_team_lead_cancels_a_claimed_callback(make_callback, agent, lead):
    callback = _claimed(make_callback, agent)

    callback_cancel(actor=lead, callback=callback, reason="Customer asked not to be called")

    callback.refresh_from_db()
    assert (callback.status, callback.outcome) == (
        CallbackStatus.CANCELLED,
        "Customer asked not to be called",
    )
    assert callback.closed_at is not None
    event = _events("callback_cancelled").get()
    assert event.actor_user_id == lead.pk


def test_cancelling_twice_changes_nothing_the_second_time(make_callback, lead):
    callback = make_callback()
    callback_cancel(actor=lead, callback=callback, reason="Duplicate")

    again = callback_cancel(actor=lead, callback=callback, reason="Another reason")

    assert (again.status, again.outcome) == (CallbackStatus.CANCELLED, "Duplicate")
    assert _events("callback_cancelled").count() == 1


def test_a_regional_manager_cancels_in_the_region(make_callback, make_staff, region):
    callback = make_callback()

    callback_cancel(
        actor=make_staff(Role.REGIONAL_MANAGER, region=region),
        callback=callback,
        reason="Branch closing",
    )

    assert Callback.objects.get(pk=callback.pk).status == CallbackStatus.CANCELLED


def test_a_lead_of_another_branch_may_not_cancel_or_release(
    make_callback, agent, make_staff, branch_b
):
    other_lead = make_staff(Role.CARE_LEAD, branch=branch_b, username="lead-b")
    callback = _claimed(make_callback, agent)

    with pytest.raises(PermissionDenied):
        callback_cancel(actor=other_lead, callback=callback, reason="Not needed")
    with pytest.raises(PermissionDenied):
        callback_release(actor=other_lead, callback=callback)
    assert Callback.objects.get(pk=callback.pk).status == CallbackStatus.CLAIMED


# --- Release (the agent who claimed it is absent).


def test_the_lead_gives_a_claimed_callback_back_to_the_worklist(
    make_callback, agent, agent_2, lead
):
    callback = _claimed(make_callback, agent)
    deadline = open_deadline_for(callback, kind=DEADLINE_KIND)

    released = callback_release(actor=lead, callback=callback)

    assert (released.status, released.claimed_by_id, released.claimed_at) == (
        CallbackStatus.OPEN,
        None,
        None,
    )
    # The due time and its deadline stay: the work is still owed by then.
    assert open_deadline_for(callback, kind=DEADLINE_KIND) == deadline
    event = _events("callback_released").get()
    assert (event.actor_user_id, event.payload["released_from"]) == (lead.pk, agent.pk)
    # Anyone may now take it.
    assert callback_claim(actor=agent_2, callback=callback).claimed_by_id == agent_2.pk


def test_an_agent_may_not_release_even_their_own(make_callback, agent):
    callback = _claimed(make_callback, agent)

    with pytest.raises(PermissionDenied):
        callback_release(actor=agent, callback=callback)


def test_releasing_an_open_callback_changes_nothing_and_a_closed_one_conflicts(
    make_callback, agent, lead
):
    callback = make_callback()
    assert callback_release(actor=lead, callback=callback).status == CallbackStatus.OPEN
    assert not _events("callback_released").exists()

    claimed = callback_claim(actor=agent, callback=make_callback(reason_code="fee-refund"))
    callback_attempt(actor=agent, callback=claimed, channel="phone", result="wrong_number")
    with pytest.raises(Conflict):
        callback_release(actor=lead, callback=claimed)


def test_another_customer_is_not_touched(make_callback, branch_a):
    other = CustomerFactory(home_branch=branch_a, consent_phone=True)
    make_callback()

    assert make_callback(customer=other) is not None
