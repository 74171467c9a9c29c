"""SLA deadlines of requests: started at submission on the version's policy, met by the
decision, stopped while returned, warned before and escalated on breach (through the SLA sweep).

Branch A works Monday to Friday, 09:00–17:00 Shanghai (no opening hours configured). The large
withdrawal's policy is four business hours, warned one business hour ahead.
"""

import datetime as dt
import zoneinfo

import pytest

from bankservice.events.models import Event
from bankservice.notify.models import Notification
from bankservice.sla.models import Deadline
from bankservice.sla.selectors import open_deadline_for
from bankservice.sla.services import deadline_sweep
from tests.transactions.flow import submitted
from transactions.services import (
    CORE_KIND,
    DECISION_KIND,
    request_approve,
    request_return,
    request_submit,
)

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def at(hour, minute=0, day=2):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def withdrawal(withdrawal_type, customer, maker, approver, valid_data, time_machine):
    approver.email = "approver@bank.example"
    approver.save(update_fields=["email"])
    time_machine.move_to(MONDAY_10, tick=False)
    return submitted(withdrawal_type, customer, maker, valid_data(withdrawal_type, customer))


def _escalations(request):
    return Event.objects.filter(type="transactions.request_escalated", subject_id=str(request.pk))


def test_submission_starts_the_decision_deadline_on_the_version_s_policy(withdrawal):
    deadline = open_deadline_for(withdrawal, kind=DECISION_KIND)

    assert deadline.policy == "transactions.4h"
    assert deadline.started_at == MONDAY_10
    assert deadline.due_at == at(14)
    assert deadline.warn_at == at(13)
    assert withdrawal.due_at == at(14)


def test_the_approvers_are_warned_before_the_breach(withdrawal, manager):
    result = deadline_sweep(now=at(13, 5))

    assert result.warned == 1
    warning = Event.objects.get(type="transactions.request_due_soon")
    assert warning.payload["role"] == "approver"
    email = Notification.objects.get(template="transactions.due_soon")
    assert email.channel == "email"
    assert email.recipient_masked.endswith("@bank.example")
    assert email.context["request_reference"] == withdrawal.reference
    assert not _escalations(withdrawal).exists()


def test_a_breach_escalates_to_the_branch_manager_once(withdrawal, manager):
    deadline_sweep(now=at(14, 1))
    deadline_sweep(now=at(15))

    escalation = _escalations(withdrawal).get()
    assert escalation.payload["role"] == "branch_manager"
    assert escalation.payload["told"] == 1
    email = Notification.objects.get(template="transactions.escalated")
    assert email.contact_name == manager.get_full_name()
    assert Deadline.objects.get(kind=DECISION_KIND).state == "breached"


def test_a_late_decision_is_recorded_on_the_breached_deadline(
    withdrawal, approver, manager, time_machine
):
    deadline_sweep(now=at(14, 1))
    time_machine.move_to(at(15), tick=False)
    request_approve(actor=approver, request=withdrawal)

    decision = Deadline.objects.get(kind=DECISION_KIND)
    assert (decision.state, decision.met_at) == ("breached", at(15))  # met, late


def test_a_decision_in_time_meets_the_deadline(withdrawal, approver, manager, time_machine):
    time_machine.move_to(at(11), tick=False)
    request_approve(actor=approver, request=withdrawal)

    decision = Deadline.objects.get(kind=DECISION_KIND)
    assert decision.state == "met"
    assert decision.met_at <= decision.due_at
    deadline_sweep(now=at(14, 30))
    assert not _escalations(withdrawal).exists()


def test_the_clock_stops_while_the_request_is_returned(
    withdrawal, approver, maker, manager, time_machine
):
    time_machine.move_to(at(11), tick=False)
    request_return(actor=approver, request=withdrawal, reason="Wrong account")
    # The maker takes until Tuesday: no breach meanwhile.
    deadline_sweep(now=at(16, day=3))
    assert not _escalations(withdrawal).exists()

    time_machine.move_to(at(10, day=3), tick=False)
    withdrawal = request_submit(actor=maker, request=withdrawal)
    # Three business hours were left when it was returned.
    assert withdrawal.due_at == at(13, day=3)
    deadline_sweep(now=at(13, 1, day=3))
    assert _escalations(withdrawal).count() == 1


def test_core_banking_has_its_own_deadline_from_the_send(
    activate_card_type, customer, maker, manager, valid_data, time_machine
):
    time_machine.move_to(MONDAY_10, tick=False)
    request = submitted(
        activate_card_type, customer, maker, valid_data(activate_card_type, customer)
    )

    core = open_deadline_for(request, kind=CORE_KIND)
    assert core.due_at == at(14)
    assert request.due_at == at(14)
    deadline_sweep(now=at(14, 1))
    assert _escalations(request).get().payload["kind"] == CORE_KIND
