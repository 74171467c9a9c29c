"""Deadline services: start, pause and resume, meet, cancel, extend; guards, events, history."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction

from bankservice.events.models import Event
from bankservice.sla.errors import DeadlineAlreadyOpen, DeadlineStateError, InvalidExtension
from bankservice.sla.models import Deadline, DeadlineExtension
from bankservice.sla.policies import DeadlinePolicy, UnknownPolicy, register_policy
from bankservice.sla.selectors import deadlines_for, open_deadline_for
from bankservice.sla.services import (
    deadline_cancel,
    deadline_extend,
    deadline_meet,
    deadline_pause,
    deadline_resume,
    deadline_start,
)
from tests.factories import CustomerFactory, UserFactory

from .conftest import SHANGHAI, at

pytestmark = pytest.mark.django_db

State = Deadline.State


@pytest.fixture
def officer(db):
    return UserFactory(username="officer")


@pytest.fixture
def hours_policy():
    return register_policy(
        DeadlinePolicy(name="test.reply", business_hours=8, warn_before=dt.timedelta(hours=2))
    )


@pytest.fixture
def days_policy():
    return register_policy(DeadlinePolicy(name="test.decision", business_days=5, warn_before=0.2))


@pytest.fixture
def week_policy():
    return register_policy(
        DeadlinePolicy(name="test.callback", calendar_days=7, roll_forward_to_working_day=True)
    )


def start(subject, branch, policy, when, kind="test.reply", **kwargs):
    return deadline_start(
        subject=subject, kind=kind, policy=policy, branch=branch, started_at=when, **kwargs
    )


def events(type_):
    return list(Event.objects.filter(type=type_).order_by("id"))


# --- Start ----------------------------------------------------------------------------------------


def test_start_computes_due_and_warning_and_records_an_event(
    subject, cn_branch, hours_policy, officer
):
    monday_9 = at(SHANGHAI, 2026, 3, 9, 9)
    deadline = start(subject, cn_branch, "test.reply", monday_9, actor=officer)

    deadline.refresh_from_db()
    assert deadline.state == State.OPEN
    assert deadline.subject == subject
    assert (deadline.kind, deadline.policy, deadline.clock) == (
        "test.reply",
        "test.reply",
        "business_hours",
    )
    assert deadline.started_at == monday_9
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 9, 17)
    assert deadline.warn_at == at(SHANGHAI, 2026, 3, 9, 15)
    (event,) = events("deadline.started")
    assert event.actor_user == officer
    assert event.branch == cn_branch
    assert (event.subject_type.model, event.subject_id) == ("deadline", str(deadline.pk))
    # Ids, kinds and times only: nothing about the customer beyond the owner's id.
    assert event.payload == {
        "deadline_id": deadline.pk,
        "kind": "test.reply",
        "policy": "test.reply",
        "subject_type": "customers.customer",
        "subject_id": str(subject.pk),
        "due_at": "2026-03-09T09:00:00+00:00",
        "warn_at": "2026-03-09T07:00:00+00:00",
    }


def test_start_defaults_to_now(subject, cn_branch, hours_policy, time_machine):
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 16), tick=False)
    deadline = deadline_start(
        subject=subject, kind="test.reply", policy=hours_policy, branch=cn_branch
    )
    assert deadline.started_at == at(SHANGHAI, 2026, 3, 9, 16)
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 10, 16)


def test_one_open_deadline_per_kind_and_object(subject, cn_branch, hours_policy, days_policy):
    first = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    with pytest.raises(DeadlineAlreadyOpen):
        start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 10))
    # Another kind on the same object, or the same kind on another object, is fine.
    start(subject, cn_branch, "test.decision", at(SHANGHAI, 2026, 3, 9, 9), kind="test.decision")
    start(
        CustomerFactory(home_branch=cn_branch), cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9)
    )
    # Once the first is met, the kind may start again on the object.
    deadline_meet(deadline=first)
    start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 10, 9))
    assert deadlines_for(subject, kind="test.reply").count() == 2
    assert len(events("deadline.started")) == 4


def test_start_with_given_times_uses_them_and_keeps_the_policys_clock(
    subject, cn_branch, hours_policy
):
    # A stage counting on another calendar gives its own times; the policy only names the clock.
    monday_9 = at(SHANGHAI, 2026, 3, 9, 9)
    due, warn = at(SHANGHAI, 2026, 3, 20), at(SHANGHAI, 2026, 3, 18)
    deadline = start(subject, cn_branch, "test.reply", monday_9, due_at=due, warn_at=warn)

    deadline.refresh_from_db()
    assert (deadline.due_at, deadline.warn_at) == (due, warn)
    assert deadline.clock == "business_hours"
    # Without warn_at there is no warning (not the policy's).
    other = start(
        CustomerFactory(home_branch=cn_branch), cn_branch, "test.reply", monday_9, due_at=due
    )
    assert (other.due_at, other.warn_at) == (due, None)


@pytest.mark.parametrize(
    "given",
    [
        {"warn_at": at(SHANGHAI, 2026, 3, 9, 12)},  # a warning without a due time
        {"due_at": at(SHANGHAI, 2026, 3, 8)},  # due before the start
        {"due_at": at(SHANGHAI, 2026, 3, 20), "warn_at": at(SHANGHAI, 2026, 3, 21)},
        {"due_at": dt.datetime(2026, 3, 20)},  # naive  # noqa: DTZ001
    ],
)
def test_start_refuses_impossible_given_times(subject, cn_branch, hours_policy, given):
    with pytest.raises(ValueError):
        start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9), **given)
    assert not Deadline.objects.exists()


def test_start_needs_a_registered_policy(subject, cn_branch):
    with pytest.raises(UnknownPolicy):
        start(subject, cn_branch, "test.nowhere", at(SHANGHAI, 2026, 3, 9, 9))
    assert not Deadline.objects.exists()


def test_an_event_and_its_deadline_roll_back_with_the_transaction(subject, cn_branch, hours_policy):
    with pytest.raises(RuntimeError), transaction.atomic():
        start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
        assert Event.objects.filter(type="deadline.started").count() == 1
        raise RuntimeError("the owner's change failed after the deadline started")
    assert not Deadline.objects.exists()
    assert not Event.objects.filter(type__startswith="deadline.").exists()


# --- Pause and resume ----------------------------------------------------------------------------


def test_resume_pushes_by_the_business_hours_the_pause_covered(
    subject, cn_branch, hours_policy, officer, time_machine
):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 11), tick=False)  # 6 business hours left
    deadline = deadline_pause(deadline=deadline, actor=officer)
    assert deadline.paused_at == at(SHANGHAI, 2026, 3, 9, 11)

    time_machine.move_to(at(SHANGHAI, 2026, 3, 10, 10), tick=False)
    deadline = deadline_resume(deadline=deadline, actor=officer)

    deadline.refresh_from_db()
    # Tue 10:00 + the 6 hours left = Tue 16:00 (the pause covered Mon 11–17 and Tue 09–10).
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 10, 16)
    assert deadline.warn_at == at(SHANGHAI, 2026, 3, 10, 14)
    assert deadline.paused_at is None
    assert deadline.paused_total == dt.timedelta(hours=23)
    assert [e.actor_user for e in events("deadline.paused") + events("deadline.resumed")] == [
        officer,
        officer,
    ]
    assert events("deadline.resumed")[0].payload["due_at"] == "2026-03-10T08:00:00+00:00"


def test_a_pause_outside_opening_hours_moves_nothing(
    subject, cn_branch, hours_policy, time_machine
):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 6, 15))  # Friday
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 9, 15)
    time_machine.move_to(at(SHANGHAI, 2026, 3, 6, 18), tick=False)  # after closing
    deadline = deadline_pause(deadline=deadline)
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 8, 30), tick=False)  # Monday before opening
    deadline = deadline_resume(deadline=deadline)
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 9, 15)
    assert deadline.paused_total == dt.timedelta(days=2, hours=14, minutes=30)


def test_resume_pushes_a_calendar_day_deadline_by_wall_time_then_rolls_forward(
    subject, cn_branch, week_policy, time_machine
):
    deadline = start(subject, cn_branch, "test.callback", at(SHANGHAI, 2026, 3, 2, 10), kind="cb")
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 9, 10)
    time_machine.move_to(at(SHANGHAI, 2026, 3, 3, 10), tick=False)
    deadline = deadline_pause(deadline=deadline)
    time_machine.move_to(at(SHANGHAI, 2026, 3, 4, 12), tick=False)
    deadline = deadline_resume(deadline=deadline)
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 10, 12)  # 26 hours later
    time_machine.move_to(at(SHANGHAI, 2026, 3, 5, 10), tick=False)
    deadline = deadline_pause(deadline=deadline)
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 10), tick=False)
    deadline = deadline_resume(deadline=deadline)
    # Four more days: Saturday 14 March 12:00, not a working day, so Monday 16 March 12:00.
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 16, 12)
    assert deadline.paused_total == dt.timedelta(days=5, hours=2)


def test_pause_and_resume_guards(subject, cn_branch, hours_policy, time_machine):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 10), tick=False)
    with pytest.raises(DeadlineStateError, match="not paused"):
        deadline_resume(deadline=deadline)
    deadline_pause(deadline=deadline)
    with pytest.raises(DeadlineStateError, match="already paused"):
        deadline_pause(deadline=deadline)
    deadline_resume(deadline=deadline)
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 18), tick=False)
    with pytest.raises(DeadlineStateError, match="overdue"):
        deadline_pause(deadline=deadline)
    assert len(events("deadline.paused")) == 1


# --- Meet and cancel -----------------------------------------------------------------------------


def test_meet_closes_an_open_deadline_once(subject, cn_branch, hours_policy, officer, time_machine):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 12), tick=False)
    deadline = deadline_meet(deadline=deadline, actor=officer)
    deadline.refresh_from_db()
    assert (deadline.state, deadline.met_at) == (State.MET, at(SHANGHAI, 2026, 3, 9, 12))
    (event,) = events("deadline.met")
    assert event.payload["late"] is False
    for change in (deadline_meet, deadline_cancel, deadline_pause, deadline_resume):
        with pytest.raises(DeadlineStateError, match="Met"):
            change(deadline=deadline)
    with pytest.raises(DeadlineStateError):
        deadline_extend(deadline=deadline, by=dt.timedelta(hours=1), reason="x", actor=officer)
    assert len(events("deadline.met")) == 1


def test_meet_while_paused_ends_the_pause_first(subject, cn_branch, hours_policy, time_machine):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 16), tick=False)
    deadline = deadline_pause(deadline=deadline)
    time_machine.move_to(at(SHANGHAI, 2026, 3, 10, 10), tick=False)
    deadline = deadline_meet(deadline=deadline)
    deadline.refresh_from_db()
    assert deadline.state == State.MET
    assert deadline.paused_at is None
    # Pushed by the two business hours the pause covered (Mon 16–17, Tue 09–10): met on time.
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 10, 11)
    assert events("deadline.met")[0].payload["late"] is False


def test_a_breached_deadline_may_still_be_met_late_once(
    subject, cn_branch, hours_policy, time_machine
):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    Deadline.objects.filter(pk=deadline.pk).update(
        state=State.BREACHED, breached_at=at(SHANGHAI, 2026, 3, 9, 17)
    )
    time_machine.move_to(at(SHANGHAI, 2026, 3, 10, 11), tick=False)
    deadline = deadline_meet(deadline=deadline)
    assert (deadline.state, deadline.met_at) == (State.BREACHED, at(SHANGHAI, 2026, 3, 10, 11))
    assert events("deadline.met")[0].payload["late"] is True
    with pytest.raises(DeadlineStateError, match="Breached"):
        deadline_meet(deadline=deadline)
    with pytest.raises(DeadlineStateError, match="Breached"):
        deadline_cancel(deadline=deadline)


def test_cancel(subject, cn_branch, hours_policy, officer, time_machine):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 10), tick=False)
    deadline = deadline_pause(deadline=deadline)
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 12), tick=False)
    deadline = deadline_cancel(deadline=deadline, actor=officer)
    deadline.refresh_from_db()
    assert deadline.state == State.CANCELLED
    assert deadline.cancelled_at == at(SHANGHAI, 2026, 3, 9, 12)
    assert (deadline.paused_at, deadline.paused_total) == (None, dt.timedelta(hours=2))
    assert events("deadline.cancelled")[0].actor_user == officer
    with pytest.raises(DeadlineStateError, match="Cancelled"):
        deadline_cancel(deadline=deadline)
    with pytest.raises(DeadlineStateError, match="Cancelled"):
        deadline_meet(deadline=deadline)


# --- Extend ---------------------------------------------------------------------------------------


def test_extend_by_business_time_keeps_history_and_records_an_event(
    subject, cn_branch, days_policy, officer, time_machine
):
    deadline = start(
        subject, cn_branch, "test.decision", at(SHANGHAI, 2026, 2, 12, 10), kind="test.decision"
    )
    assert (deadline.due_at, deadline.warn_at) == (
        at(SHANGHAI, 2026, 2, 26, 10),
        at(SHANGHAI, 2026, 2, 25, 10),
    )
    time_machine.move_to(at(SHANGHAI, 2026, 2, 24, 9), tick=False)
    deadline = deadline_extend(
        deadline=deadline,
        by=dt.timedelta(days=2),  # two business days: Fri 27 and the make-up Saturday 28
        reason="  Waiting for the branch's CCTV footage.  ",
        actor=officer,
    )
    deadline.refresh_from_db()
    assert deadline.due_at == at(SHANGHAI, 2026, 2, 28, 10)
    assert deadline.warn_at == at(SHANGHAI, 2026, 2, 27, 10)
    assert deadline.extended_count == 1
    (extension,) = deadline.extensions.all()
    assert (extension.old_due_at, extension.new_due_at) == (
        at(SHANGHAI, 2026, 2, 26, 10),
        at(SHANGHAI, 2026, 2, 28, 10),
    )
    assert extension.reason == "Waiting for the branch's CCTV footage."
    assert (extension.actor_user, extension.at) == (officer, at(SHANGHAI, 2026, 2, 24, 9))
    (event,) = events("deadline.extended")
    assert event.actor_user == officer
    assert event.payload["old_due_at"] == "2026-02-26T02:00:00+00:00"
    assert event.payload["due_at"] == "2026-02-28T02:00:00+00:00"
    assert event.payload["extension_id"] == extension.pk
    assert "reason" not in event.payload  # free text stays out of the event stream


def test_extend_to_a_given_time_and_twice(subject, cn_branch, hours_policy, officer):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    deadline = deadline_extend(
        deadline=deadline,
        new_due_at=at(SHANGHAI, 2026, 3, 11, 12),
        reason="Complex case",
        actor=officer,
    )
    deadline = deadline_extend(
        deadline=deadline, by=dt.timedelta(hours=6), reason="Customer asked", actor=None
    )
    assert deadline.due_at == at(SHANGHAI, 2026, 3, 12, 10)  # Wed 12–17, Thu 09–10
    assert deadline.extended_count == 2
    assert list(
        DeadlineExtension.objects.filter(deadline=deadline).values_list("new_due_at", "actor_user")
    ) == [(at(SHANGHAI, 2026, 3, 11, 12), officer.pk), (at(SHANGHAI, 2026, 3, 12, 10), None)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"by": dt.timedelta(hours=1), "reason": "   "}, "reason"),
        ({"by": dt.timedelta(hours=1), "reason": ""}, "reason"),
        ({"reason": "x"}, None),
        (
            {"by": dt.timedelta(hours=1), "new_due_at": at(SHANGHAI, 2026, 4, 1), "reason": "x"},
            None,
        ),
        ({"by": -dt.timedelta(hours=1), "reason": "x"}, "by"),
        ({"new_due_at": at(SHANGHAI, 2026, 3, 9, 16), "reason": "x"}, "new_due_at"),
        ({"new_due_at": at(SHANGHAI, 2026, 3, 9, 17), "reason": "x"}, "new_due_at"),
        ({"new_due_at": dt.datetime(2026, 4, 1), "reason": "x"}, "new_due_at"),  # noqa: DTZ001
    ],
)
def test_extend_refuses_bad_input(subject, cn_branch, hours_policy, officer, kwargs, field):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    with pytest.raises(InvalidExtension) as refused:
        deadline_extend(deadline=deadline, actor=officer, **kwargs)
    assert refused.value.field == field
    assert refused.value.status_code == 400
    deadline.refresh_from_db()
    assert (deadline.due_at, deadline.extended_count) == (at(SHANGHAI, 2026, 3, 9, 17), 0)
    assert not DeadlineExtension.objects.exists()
    assert not events("deadline.extended")


def test_an_extension_after_the_warning_does_not_warn_again(
    subject, cn_branch, hours_policy, officer
):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    Deadline.objects.filter(pk=deadline.pk).update(warned_at=at(SHANGHAI, 2026, 3, 9, 15))
    deadline = deadline_extend(
        deadline=deadline, by=dt.timedelta(hours=8), reason="More time", actor=officer
    )
    assert deadline.warn_at == at(SHANGHAI, 2026, 3, 9, 15)
    assert deadline.warned_at == at(SHANGHAI, 2026, 3, 9, 15)


# --- Selectors and the database's own guards -----------------------------------------------------


def test_selectors(subject, cn_branch, hours_policy, days_policy):
    reply = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    decision = start(
        subject, cn_branch, "test.decision", at(SHANGHAI, 2026, 3, 9, 10), kind="test.decision"
    )
    start(
        CustomerFactory(home_branch=cn_branch), cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9)
    )
    assert list(deadlines_for(subject)) == [reply, decision]
    assert open_deadline_for(subject, kind="test.decision") == decision
    deadline_meet(deadline=decision)
    assert open_deadline_for(subject, kind="test.decision") is None


@pytest.mark.parametrize(
    "change",
    [
        {"state": "lost"},
        {"state": "breached"},  # without breached_at
        {"state": "met"},  # without met_at
        {"breached_at": at(SHANGHAI, 2026, 3, 9, 17)},  # open with a breach time
        {"due_at": at(SHANGHAI, 2026, 3, 8)},  # due before it started
        {
            "state": "cancelled",
            "cancelled_at": at(SHANGHAI, 2026, 3, 9),
            "paused_at": at(SHANGHAI, 2026, 3, 9),
        },
    ],
)
def test_the_database_refuses_impossible_rows(subject, cn_branch, hours_policy, change):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    with pytest.raises(IntegrityError), transaction.atomic():
        Deadline.objects.filter(pk=deadline.pk).update(**change)


def test_any_model_can_own_a_deadline(cn_branch, hours_policy):
    deadline = start(cn_branch, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    assert deadline.subject_type == ContentType.objects.get_for_model(cn_branch)
    assert Deadline.objects.get(pk=deadline.pk).subject == cn_branch


def test_meeting_an_overdue_deadline_before_the_sweep_is_met_late(
    subject, cn_branch, hours_policy, time_machine
):
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    time_machine.move_to(at(SHANGHAI, 2026, 3, 9, 17, 1), tick=False)  # before the next sweep
    deadline = deadline_meet(deadline=deadline)
    assert deadline.state == State.MET
    assert deadline.met_at > deadline.due_at
    assert events("deadline.met")[0].payload["late"] is True


def test_a_policy_object_must_match_the_registered_one(subject, cn_branch, hours_policy):
    impostor = DeadlinePolicy(name="test.reply", business_hours=80)
    with pytest.raises(ImproperlyConfigured, match="differs"):
        start(subject, cn_branch, impostor, at(SHANGHAI, 2026, 3, 9, 9))
    assert (
        start(subject, cn_branch, hours_policy, at(SHANGHAI, 2026, 3, 9, 9)).policy == "test.reply"
    )


def test_an_api_client_can_extend(subject, cn_branch, hours_policy, make_api_client):
    principal = make_api_client(["sla:write"]).api_client
    actor = type("Principal", (), {"is_api_client": True, "client": principal})()
    deadline = start(subject, cn_branch, "test.reply", at(SHANGHAI, 2026, 3, 9, 9))
    deadline_extend(deadline=deadline, by=dt.timedelta(hours=1), reason="Core banking", actor=actor)
    extension = DeadlineExtension.objects.get()
    assert (extension.actor_user, extension.actor_client) == (None, principal)
    assert Event.objects.get(type="deadline.extended").actor_client == principal
