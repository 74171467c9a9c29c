"""Callback deadlines through the kernel sweep: a warning before the due time to the agent who
claimed it (or, unclaimed, to the branch's care agents), and on breach one e-mail to each care team
lead of the branch (to the branch manager when it has none), exactly once however often the sweep
runs."""

# The fixtures imported from callback_fixtures reappear as test arguments.
# ruff: noqa: F811

import pytest

from bankservice.branches.models import Role
from bankservice.events.models import Event
from bankservice.notify.models import Notification
from bankservice.sla.models import Deadline, DeadlineState
from bankservice.sla.selectors import open_deadline_for
from bankservice.sla.services import deadline_sweep
from care.services import DEADLINE_KIND, callback_attempt, callback_claim, callback_complete
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

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(make_staff, branch_a):
    user = make_staff(Role.CARE_LEAD, branch=branch_a, username="lead")
    user.email = "lead@bank.example"
    user.save(update_fields=["email"])
    return user


def _emails(template):
    return Notification.objects.filter(template=f"care.callback_{template}").order_by(
        "contact_address"
    )


def test_an_unclaimed_callback_warns_every_care_agent_of_the_branch(
    make_callback, agent, agent_2, manager
):
    callback = make_callback()

    result = deadline_sweep(now=at(8, 5, day=3))

    assert result.warned == 1
    emails = _emails("due_soon")
    assert {e.contact_address for e in emails} == {agent.email, agent_2.email}
    assert emails[0].context["callback_id"] == callback.pk
    warning = Event.objects.get(type="care.callback_due_soon")
    assert warning.payload["told"] == 2
    assert not _emails("overdue").exists()


def test_a_claimed_callback_warns_only_the_agent_who_has_it(make_callback, agent, agent_2):
    callback_claim(actor=agent_2, callback=make_callback())

    deadline_sweep(now=at(8, 5, day=3))

    assert [e.contact_address for e in _emails("due_soon")] == [agent_2.email]


def test_without_a_care_team_lead_a_breach_e_mails_the_branch_manager_exactly_once(
    make_callback, agent, manager
):
    callback = make_callback()

    deadline_sweep(now=at(10, 1, day=3))
    deadline_sweep(now=at(11, day=3))
    deadline_sweep(now=at(12, day=4))

    email = _emails("overdue").get()
    assert email.contact_address == manager.email
    assert email.context == {
        "callback_id": callback.pk,
        "reason_code": "complaint-satisfaction",
        "due_at": "2026-03-03 10:00",  # the branch's local time
    }
    escalation = Event.objects.get(type="care.callback_escalated")
    assert (escalation.payload["role"], escalation.payload["told"]) == ("branch_manager", 1)
    assert Deadline.objects.get(kind=DEADLINE_KIND).state == DeadlineState.BREACHED


def test_a_callback_completed_in_time_is_never_escalated(
    make_callback, agent, manager, time_machine
):
    callback = callback_claim(actor=agent, callback=make_callback())
    callback_attempt(actor=agent, callback=callback, channel="phone", result="reached")
    callback_complete(actor=agent, callback=callback, outcome="Fine", satisfaction=5)

    result = deadline_sweep(now=at(12, day=4))

    assert (result.warned, result.breached) == (0, 0)
    assert not _emails("overdue").exists()
    assert not _emails("due_soon").exists()


def test_a_rescheduled_callback_is_warned_and_escalated_on_its_new_due_time(
    make_callback, agent, manager, settings
):
    settings.CARE_RETRY_HOURS = 4
    callback = callback_claim(actor=agent, callback=make_callback(due_at=at(10)))
    callback_attempt(actor=agent, callback=callback, channel="phone", result="no_answer")

    assert deadline_sweep(now=at(10, 30)).breached == 0  # the old due time no longer counts
    deadline = open_deadline_for(callback, kind=DEADLINE_KIND)
    assert (deadline.warn_at, deadline.due_at) == (at(11), at(13))
    assert deadline_sweep(now=at(11, 1)).warned == 1
    assert deadline_sweep(now=at(13, 1)).breached == 1
    assert _emails("overdue").get().contact_address == manager.email


def test_the_breach_is_handled_even_with_nobody_to_tell(make_callback):
    make_callback()

    assert deadline_sweep(now=at(11, day=3)).breached == 1

    assert Event.objects.get(type="care.callback_escalated").payload["told"] == 0


def test_a_breach_e_mails_the_care_team_lead_not_the_branch_manager(
    make_callback, agent, manager, lead, make_staff, branch_a, branch_b
):
    # A second lead without an e-mail address, and a lead of another branch: neither is told.
    make_staff(Role.CARE_LEAD, branch=branch_a, username="lead-no-mail")
    elsewhere = make_staff(Role.CARE_LEAD, branch=branch_b, username="lead-b")
    elsewhere.email = "lead-b@bank.example"
    elsewhere.save(update_fields=["email"])
    make_callback()

    deadline_sweep(now=at(10, 1, day=3))
    deadline_sweep(now=at(12, day=4))

    assert [e.contact_address for e in _emails("overdue")] == [lead.email]
    escalation = Event.objects.get(type="care.callback_escalated")
    assert (escalation.payload["role"], escalation.payload["told"]) == ("care_lead", 1)


def test_the_escalation_is_labelled_for_the_care_team_lead():
    from bankservice.events.catalogue import event_label

    assert event_label("care.callback_escalated") == (
        "Callback overdue: escalated to the care team lead"
    )
    assert "care team lead" in event_label("care.callback_released")


def test_a_lead_without_an_e_mail_address_falls_back_to_the_branch_manager(
    make_callback, manager, make_staff, branch_a
):
    make_staff(Role.CARE_LEAD, branch=branch_a, username="lead-no-mail")
    make_callback()

    deadline_sweep(now=at(10, 1, day=3))

    assert [e.contact_address for e in _emails("overdue")] == [manager.email]
    escalation = Event.objects.get(type="care.callback_escalated")
    assert escalation.payload["role"] == "branch_manager"
