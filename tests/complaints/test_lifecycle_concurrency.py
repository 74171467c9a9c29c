"""Two people acting on one complaint at the same moment on PostgreSQL: the complaint's row lock
lets one in at a time, and the guard under the lock turns the other into a 409."""

# The fixtures imported from lifecycle_fixtures reappear as test arguments.
# ruff: noqa: F811

import pytest

from bankservice.core.errors import Conflict
from bankservice.events.models import Event
from bankservice.sla.selectors import deadlines_for
from complaints.models import Complaint, ComplaintExtension, ExtensionStatus, PackClock
from complaints.services import (
    complaint_assign,
    complaint_decide,
    extension_decide,
    extension_request,
)
from tests.concurrency import run_together
from tests.conftest import requires_postgres

from .lifecycle_fixtures import clock, complaint, now  # noqa: F401 (fixtures)

# serialized_rollback: the flush between transactional tests would drop the role groups and
# packs that data migrations created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _fresh(complaint):
    # Each thread reads the complaint on its own connection, as two browsers would.
    return Complaint.objects.get(pk=complaint.pk)


def test_two_officers_deciding_at_once_one_decision_stands(complaint, officer, officer_2):
    def decide(actor, outcome):
        return lambda: complaint_decide(
            actor=actor, complaint=_fresh(complaint), outcome=outcome, reasons="Checked."
        )

    results = run_together(decide(officer, "upheld"), decide(officer_2, "rejected"))

    won = [r for r in results if isinstance(r, Complaint)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert (len(won), len(lost)) == (1, 1), results
    assert _fresh(complaint).status == won[0].status
    assert Event.objects.filter(type="complaints.complaint_decided").count() == 1
    assert complaint.letters.count() == 1
    # The decision's clocks started once.
    windows = deadlines_for(complaint, kind="complaint.review_request_window")
    assert [d.state for d in windows] == ["open"]


def test_two_officers_taking_the_same_complaint_one_gets_it(complaint, officer, officer_2):
    def take(actor):
        return lambda: complaint_assign(actor=actor, complaint=_fresh(complaint), officer=actor)

    results = run_together(take(officer), take(officer_2))

    won = [r for r in results if isinstance(r, Complaint)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert (len(won), len(lost)) == (1, 1), results
    assert _fresh(complaint).assigned_to == won[0].assigned_to
    assert Event.objects.filter(type="complaints.complaint_assigned").count() == 1


def test_two_approvers_deciding_one_extension_one_decision_stands(
    complaint, officer, regional_manager, make_staff
):
    other_regional = make_staff("regional_manager", region=complaint.branch.region, username="r2")
    for code in ("extension", "further_extension"):
        extension = extension_request(
            actor=officer,
            complaint=complaint,
            clock=PackClock.objects.get(pack=complaint.pack, code=code),
            reason="Complex.",
        )

    def decide(actor, approve):
        return lambda: extension_decide(
            actor=actor,
            extension=ComplaintExtension.objects.get(pk=extension.pk),
            approve=approve,
        )

    results = run_together(decide(regional_manager, True), decide(other_regional, False))

    assert sum(isinstance(r, ComplaintExtension) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1
    extension.refresh_from_db()
    decision = clock(complaint, "decision")
    if extension.status == ExtensionStatus.APPROVED:
        assert (decision.due_at, decision.extended_count) == (extension.new_due_at, 2)
    else:
        assert (decision.due_at, decision.extended_count) == (extension.old_due_at, 1)
