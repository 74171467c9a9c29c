"""Outcome hand-offs through the real registry: pending without a handler, done with one, the
retry sweep, a failing handler that never undoes the close."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from bankservice.core.errors import Conflict
from bankservice.events.models import Event
from bankservice.events.services import record
from consultation.handoffs import handoff_retry, handoffs_retry, register_handoff
from consultation.models import Consultation, ConsultationStatus, HandoffStatus
from consultation.services import consultation_close, consultation_start
from consultation.tasks import retry_handoffs

pytestmark = pytest.mark.django_db

HANDED_OFF = ("processing", "follow_up", "complaint")


class Stage:
    """A later stage's hand-off: records what it was given and creates a row (an event here)."""

    def __init__(self, name: str):
        self.name = name
        self.calls = []

    def __call__(self, consultation, *, actor):
        self.calls.append((consultation.pk, consultation.outcome, actor))
        created = record(
            type=f"{self.name}.created_from_consultation",
            actor=actor,
            branch=consultation.branch,
            customer=consultation.customer,
            payload={"consultation": consultation.pk},
        )
        return f"{self.name}.thing:{created.pk}"


def close(consultation, actor, outcome):
    return consultation_close(actor=actor, consultation=consultation, outcome=outcome)


@pytest.mark.parametrize("outcome", HANDED_OFF)
def test_without_a_handler_the_close_waits_pending(phone_consultation, advisor, outcome):
    closed = close(phone_consultation, advisor, outcome)
    assert closed.status == ConsultationStatus.CLOSED
    assert closed.handoff_status == HandoffStatus.PENDING
    assert closed.handoff_ref == ""


@pytest.mark.parametrize("outcome", HANDED_OFF)
def test_a_registered_handler_creates_the_next_step(phone_consultation, advisor, outcome):
    stage = Stage("care")
    register_handoff(outcome, stage)

    closed = close(phone_consultation, advisor, outcome)

    assert stage.calls == [(closed.pk, outcome, advisor)]
    created = Event.objects.get(type="care.created_from_consultation")
    assert closed.handoff_status == HandoffStatus.DONE
    assert closed.handoff_ref == f"care.thing:{created.pk}"
    assert Consultation.objects.get().handoff_ref == closed.handoff_ref
    handed = Event.objects.get(type="consultation.handed_off")
    assert handed.payload["ref"] == closed.handoff_ref


def test_answered_needs_no_handoff_and_other_outcomes_handlers_are_not_called(
    phone_consultation, advisor
):
    stage = Stage("care")
    register_handoff("follow_up", stage)
    closed = close(phone_consultation, advisor, "answered")
    assert closed.handoff_status == HandoffStatus.NONE
    assert stage.calls == []


def test_the_sweep_hands_on_pending_ones_once_a_handler_is_registered(advisor, branch_a, customer):
    consultations = [
        consultation_start(actor=advisor, channel="phone", branch=branch_a, customer=customer)
        for _n in range(3)
    ]
    close(consultations[0], advisor, "follow_up")
    close(consultations[1], advisor, "complaint")  # its stage is still missing
    close(consultations[2], advisor, "follow_up")
    assert handoffs_retry() == 0  # no handler at all: nothing to do

    stage = Stage("care")
    register_handoff("follow_up", stage)
    assert handoffs_retry(batch_size=1) == 2  # batches of one: every batch is taken
    assert retry_handoffs() == 0  # the task, run again: nothing twice

    assert sorted(call[0] for call in stage.calls) == [consultations[0].pk, consultations[2].pk]
    assert all(call[2] is None for call in stage.calls)  # the sweep acts as the system
    statuses = dict(Consultation.objects.values_list("pk", "handoff_status"))
    assert statuses == {
        consultations[0].pk: HandoffStatus.DONE,
        consultations[1].pk: HandoffStatus.PENDING,
        consultations[2].pk: HandoffStatus.DONE,
    }


def test_a_failing_handler_leaves_it_failed_and_the_close_stands(phone_consultation, advisor):
    def broken(consultation, *, actor):
        record(type="care.half_done", actor=actor, payload={})  # rolled back with the failure
        raise RuntimeError("care is down")

    register_handoff("follow_up", broken)
    closed = close(phone_consultation, advisor, "follow_up")

    stored = Consultation.objects.get()
    assert stored.status == ConsultationStatus.CLOSED
    assert stored.outcome == "follow_up"
    assert stored.handoff_status == HandoffStatus.FAILED == closed.handoff_status
    assert stored.handoff_error == "RuntimeError: care is down"
    assert not Event.objects.filter(type="care.half_done").exists()
    assert Event.objects.filter(type="consultation.closed").exists()
    assert Event.objects.filter(type="consultation.handoff_failed").exists()
    assert handoffs_retry() == 0  # failed ones wait for a person, not the sweep


def test_a_handler_returning_no_reference_counts_as_failed(phone_consultation, advisor):
    register_handoff("complaint", lambda consultation, *, actor: "")
    closed = close(phone_consultation, advisor, "complaint")
    assert closed.handoff_status == HandoffStatus.FAILED
    assert "not 'app.model:pk'" in closed.handoff_error


def test_a_failed_handoff_is_tried_again_by_hand(phone_consultation, advisor):
    attempts = []

    def flaky(consultation, *, actor):
        attempts.append(actor)
        if len(attempts) == 1:
            raise ConnectionError("timeout")
        return "complaints.complaint:7"

    register_handoff("complaint", flaky)
    close(phone_consultation, advisor, "complaint")
    retried = handoff_retry(actor=advisor, consultation=phone_consultation.pk)

    assert retried.handoff_status == HandoffStatus.DONE
    assert retried.handoff_ref == "complaints.complaint:7"
    assert retried.handoff_error == ""
    with pytest.raises(Conflict):  # done: nothing to try again
        handoff_retry(actor=advisor, consultation=phone_consultation.pk)


def test_register_handoff_refuses_unknown_outcomes_and_a_second_handler():
    with pytest.raises(ImproperlyConfigured):
        register_handoff("answered", Stage("x"))
    first = Stage("care")
    register_handoff("follow_up", first)
    register_handoff("follow_up", first)  # the same one again (a reloaded app) is fine
    with pytest.raises(ImproperlyConfigured):
        register_handoff("follow_up", Stage("other"))
