"""Corrective actions: created by a handler with an owner and a due date that runs as a kernel
deadline; completed by the owner or a manager, cancelled by a manager; nearly due and overdue
e-mails to the owner and the branch managers."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.core.errors import BadInput, Conflict
from bankservice.events.models import Event
from bankservice.notify.models import Notification
from bankservice.sla.models import Deadline
from bankservice.sla.services import deadline_sweep
from complaints.corrective import action_cancel, action_complete, action_create
from complaints.models import RootCause
from complaints.services import complaint_assign

from .conftest import SHANGHAI, at

pytestmark = pytest.mark.django_db

NOW = at(SHANGHAI, 2026, 3, 2, 10)
DUE = dt.date(2026, 3, 31)


@pytest.fixture
def root_cause(db):
    return RootCause.objects.filter(is_active=True).first()  # a shipped one


@pytest.fixture
def people(officer, officer_2, branch_manager, teller):
    for user in (officer, officer_2, branch_manager, teller):
        user.email = f"user{user.pk}@bank.example"
        user.save(update_fields=["email"])
    return officer, officer_2, branch_manager, teller


@pytest.fixture
def complaint(make_complaint, people, time_machine):
    time_machine.move_to(NOW, tick=False)
    return make_complaint()


def create(complaint, actor, owner, root_cause, **values):
    values = {
        "description": "Train the ATM team to call back within a day.",
        "due_date": DUE,
        **values,
    }
    return action_create(
        actor=actor, complaint=complaint, root_cause=root_cause, owner=owner, **values
    )


def action_deadline(action):
    return Deadline.objects.get(kind="complaints.corrective_action", subject_id=str(action.pk))


def test_an_action_runs_a_deadline_to_the_end_of_its_due_date(
    complaint, officer, officer_2, root_cause
):
    action = create(complaint, officer, officer_2, root_cause)

    assert (action.status, action.branch, action.created_by) == ("open", complaint.branch, officer)
    deadline = action_deadline(action)
    assert deadline.state == "open"
    assert deadline.due_at == at(SHANGHAI, 2026, 4, 1)  # 24:00 on 31 March, Shanghai
    assert NOW < deadline.warn_at < deadline.due_at
    event = Event.objects.get(type="complaints.action_created")
    assert event.payload["owner_id"] == officer_2.pk
    assert "ATM" not in str(event.payload)


def test_only_a_handler_creates_and_the_input_is_checked(
    complaint, officer, officer_2, teller, branch_manager, root_cause
):
    with pytest.raises(PermissionDenied):
        create(complaint, teller, officer_2, root_cause)
    complaint_assign(actor=branch_manager, complaint=complaint, officer=officer)
    with pytest.raises(PermissionDenied):  # assigned to someone else
        create(complaint, officer_2, officer_2, root_cause)
    with pytest.raises(BadInput) as error:
        create(complaint, officer, officer_2, root_cause, description="  ")
    assert error.value.field == "description"
    with pytest.raises(BadInput) as error:
        create(complaint, officer, officer_2, root_cause, due_date=dt.date(2026, 3, 1))
    assert error.value.field == "due_date"
    outsider = type(officer).objects.create(username="outsider", email="o@bank.example")
    with pytest.raises(BadInput) as error:
        create(complaint, officer, outsider, root_cause)
    assert error.value.field == "owner"
    root_cause.is_active = False
    root_cause.save()
    with pytest.raises(BadInput) as error:
        create(complaint, officer, officer_2, root_cause)
    assert error.value.field == "root_cause"
    assert not Deadline.objects.filter(kind="complaints.corrective_action").exists()


def test_the_owner_completes_it_in_time(complaint, officer, officer_2, root_cause, time_machine):
    action = create(complaint, officer, officer_2, root_cause)
    time_machine.move_to(at(SHANGHAI, 2026, 3, 20, 10), tick=False)
    with pytest.raises(BadInput):
        action_complete(actor=officer_2, action=action, note="")
    action = action_complete(actor=officer_2, action=action, note="Trained all six staff.")

    assert (action.status, action.completion_note) == ("done", "Trained all six staff.")
    deadline = action_deadline(action)
    assert deadline.state == "met" and deadline.met_at <= deadline.due_at
    with pytest.raises(Conflict):
        action_complete(actor=officer_2, action=action, note="Again.")
    deadline_sweep(now=at(SHANGHAI, 2026, 4, 5))
    assert not Notification.objects.filter(template="complaints.action_due").exists()


def test_only_the_owner_or_a_manager_completes(
    complaint, officer, officer_2, branch_manager, root_cause
):
    action = create(complaint, officer, officer_2, root_cause)
    with pytest.raises(PermissionDenied):
        action_complete(actor=officer, action=action, note="Done by the creator.")
    action = action_complete(actor=branch_manager, action=action, note="Checked and closed.")
    assert action.status == "done"


def test_a_manager_cancels_and_the_deadline_stops(
    complaint, officer, officer_2, branch_manager, root_cause
):
    action = create(complaint, officer, officer_2, root_cause)
    with pytest.raises(PermissionDenied):
        action_cancel(actor=officer, action=action, reason="Not needed.")
    with pytest.raises(BadInput) as error:
        action_cancel(actor=branch_manager, action=action, reason="")
    assert error.value.field == "reason"
    action = action_cancel(actor=branch_manager, action=action, reason="The ATM was replaced.")

    assert action.status == "cancelled"
    assert action_deadline(action).state == "cancelled"
    with pytest.raises(Conflict):
        action_complete(actor=officer_2, action=action, note="Too late.")
    event = Event.objects.get(type="complaints.action_cancelled")
    assert "replaced" not in str(event.payload)


def test_nearly_due_and_overdue_e_mails_go_to_the_owner_and_the_managers_once(
    complaint, officer, officer_2, branch_manager, root_cause, time_machine
):
    action = create(complaint, officer, officer_2, root_cause)
    deadline = action_deadline(action)

    deadline_sweep(now=deadline.warn_at + dt.timedelta(minutes=1))
    deadline_sweep(now=deadline.due_at + dt.timedelta(minutes=1))
    deadline_sweep(now=deadline.due_at + dt.timedelta(days=2))

    mails = Notification.objects.filter(template="complaints.action_due")
    expected = sorted(u.get_full_name() for u in (officer_2, branch_manager))
    due_soon = mails.filter(context__overdue=False)
    overdue = mails.filter(context__overdue=True)
    assert sorted(due_soon.values_list("contact_name", flat=True)) == expected
    assert sorted(overdue.values_list("contact_name", flat=True)) == expected
    assert overdue.first().context["due_date"] == "2026-03-31"
    assert Event.objects.filter(type="complaints.action_overdue").count() == 1

    # Done late: the breached deadline records the late meet.
    time_machine.move_to(at(SHANGHAI, 2026, 4, 3, 10), tick=False)
    action_complete(actor=officer_2, action=action, note="Done at last.")
    deadline.refresh_from_db()
    assert deadline.state == "breached" and deadline.met_at > deadline.due_at
    assert Event.objects.get(type="complaints.action_completed").payload["late"] is True
