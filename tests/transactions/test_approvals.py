"""Approval: levels by amount, four eyes, roles at the branch, 409 on what is decided, return
and resubmission counted as rework, rejection with a reason, the worklists."""

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.branches.models import Role
from bankservice.core.errors import BadInput
from bankservice.notify.models import Notification
from bankservice.sla.selectors import open_deadline_for
from tests.transactions.flow import submitted
from transactions.models import Approval, Decision, RequestStatus
from transactions.selectors import request_history, worklist
from transactions.services import (
    DECISION_KIND,
    FourEyes,
    InvalidTransition,
    request_approve,
    request_reject,
    request_return,
    request_submit,
    request_update,
)

pytestmark = pytest.mark.django_db


def _withdrawal(withdrawal_type, customer, maker, valid_data, amount):
    data = valid_data(withdrawal_type, customer, amount={"amount": amount, "currency": "CNY"})
    return submitted(withdrawal_type, customer, maker, data)


@pytest.mark.parametrize(
    ("amount", "levels"),
    [
        ("20000.00", ["approver"]),
        ("49999.99", ["approver"]),
        ("50000.00", ["approver", "branch_manager"]),
        ("120000.00", ["approver", "branch_manager"]),
    ],
)
def test_the_amount_sets_the_approval_levels(
    withdrawal_type, customer, maker, valid_data, amount, levels
):
    request = _withdrawal(withdrawal_type, customer, maker, valid_data, amount)

    assert request.approval_levels == levels
    assert str(request.amount) == amount


def test_two_levels_are_decided_by_two_people_in_order(
    withdrawal_type, customer, maker, approver, manager, valid_data
):
    request = _withdrawal(withdrawal_type, customer, maker, valid_data, "60000.00")

    # The manager cannot take level 1's place: it needs an approver.
    with pytest.raises(PermissionDenied):
        request_approve(actor=manager, request=request)
    request = request_approve(actor=approver, request=request, note="Checked the ID")
    assert (request.status, request.current_level) == (RequestStatus.SUBMITTED, 2)
    request = request_approve(actor=manager, request=request)

    assert request.status == RequestStatus.SENT
    assert list(request.approvals.values_list("level", "role", "approver__username")) == [
        (1, "approver", "approver"),
        (2, "branch_manager", "manager"),
    ]
    assert open_deadline_for(request, kind=DECISION_KIND) is None
    types = list(request_history(request).values_list("type", flat=True))
    assert types[-4:] == [
        "transactions.level_approved",
        "transactions.level_approved",
        "transactions.request_approved",
        "transactions.request_sent",
    ]
    assert Notification.objects.filter(context__status="approved").count() == 1


def test_the_maker_never_decides_their_own_request(
    withdrawal_type, customer, valid_data, make_staff, branch_a
):
    # A branch manager may both make requests and approve them — never their own.
    manager_maker = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="mm")
    make_staff(Role.APPROVER, branch=branch_a, username="mm-approver")
    request = _withdrawal(withdrawal_type, customer, manager_maker, valid_data, "60000.00")

    for decide in (request_approve, request_return, request_reject):
        kwargs = {} if decide is request_approve else {"reason": "no"}
        with pytest.raises(FourEyes):
            decide(actor=manager_maker, request=request, **kwargs)
    assert not Approval.objects.exists()


def test_one_person_decides_one_level_of_a_round(
    withdrawal_type, customer, maker, valid_data, make_staff, branch_a
):
    both = make_staff(Role.APPROVER, branch=branch_a, username="both")
    from bankservice.branches.services import membership_grant

    membership_grant(user=both, role=Role.BRANCH_MANAGER, branch=branch_a)
    request = _withdrawal(withdrawal_type, customer, maker, valid_data, "60000.00")
    request = request_approve(actor=both, request=request)

    with pytest.raises(FourEyes):
        request_approve(actor=both, request=request)
    request.refresh_from_db()
    assert (request.status, request.current_level) == (RequestStatus.SUBMITTED, 2)
    assert list(worklist(both, "approve")) == []


def test_the_role_is_needed_at_the_request_s_branch(
    withdrawal_type, customer, maker, valid_data, make_staff, branch_b, region
):
    elsewhere = make_staff(Role.APPROVER, branch=branch_b, username="elsewhere")
    teller = make_staff(Role.TELLER, branch=customer.home_branch, username="teller-2")
    regional = make_staff(Role.APPROVER, region=region, username="regional")
    request = _withdrawal(withdrawal_type, customer, maker, valid_data, "20000.00")

    for actor in (elsewhere, teller):
        with pytest.raises(PermissionDenied):
            request_approve(actor=actor, request=request)
    # Held over the branch's region is "above" the branch: allowed.
    assert request_approve(actor=regional, request=request).status == RequestStatus.SENT


def test_a_decided_request_is_a_conflict(
    withdrawal_type, customer, maker, approver, approver_2, valid_data
):
    request = _withdrawal(withdrawal_type, customer, maker, valid_data, "20000.00")
    request_approve(actor=approver, request=request)

    with pytest.raises(InvalidTransition) as error:
        request_approve(actor=approver_2, request=request)
    assert error.value.status_code == 409
    with pytest.raises(InvalidTransition):
        request_reject(actor=approver_2, request=request, reason="Too late")
    assert Approval.objects.count() == 1


def test_a_level_decided_meanwhile_is_a_conflict_not_a_decision_on_the_next(
    withdrawal_type, customer, maker, approver, valid_data, make_staff, branch_a
):
    from bankservice.branches.services import membership_grant

    other = make_staff(Role.APPROVER, branch=branch_a, username="other")
    membership_grant(user=other, role=Role.BRANCH_MANAGER, branch=branch_a)
    request = _withdrawal(withdrawal_type, customer, maker, valid_data, "60000.00")
    request_approve(actor=approver, request=request, level=1)

    # `other` looked at level 1; it was decided before their click arrived.
    with pytest.raises(InvalidTransition):
        request_approve(actor=other, request=request, level=1)
    request.refresh_from_db()
    assert request.current_level == 2


def test_return_and_resubmit_is_rework_in_a_new_round(
    withdrawal_type, customer, maker, approver, approver_2, manager, valid_data
):
    request = _withdrawal(withdrawal_type, customer, maker, valid_data, "60000.00")
    request = request_approve(actor=approver, request=request)

    with pytest.raises(BadInput):
        request_return(actor=manager, request=request, reason="")
    request = request_return(actor=manager, request=request, reason="Wrong account number")
    assert request.status == RequestStatus.RETURNED
    assert request.rework_count == 1
    assert request.status_reason == "Wrong account number"
    # The maker's correction time is not the approvers': the clock stops.
    assert open_deadline_for(request, kind=DECISION_KIND).paused_at is not None
    assert Notification.objects.filter(context__status="returned").count() == 1

    with pytest.raises(InvalidTransition):
        request_approve(actor=approver_2, request=request)
    request = request_update(
        actor=maker, request=request, data={"amount": {"amount": "30000.00", "currency": "CNY"}}
    )
    request = request_submit(actor=maker, request=request)

    assert (request.status, request.round, request.current_level) == (RequestStatus.SUBMITTED, 2, 1)
    assert request.approval_levels == ["approver"]  # the new amount, the new levels
    assert open_deadline_for(request, kind=DECISION_KIND).paused_at is None
    # A new round: the approver of round 1 may decide again.
    request = request_approve(actor=approver, request=request)
    assert request.status == RequestStatus.SENT
    assert list(request.approvals.values_list("round", "level", "decision")) == [
        (1, 1, Decision.APPROVED),
        (1, 2, Decision.RETURNED),
        (2, 1, Decision.APPROVED),
    ]
    types = list(request_history(request).values_list("type", flat=True))
    assert "transactions.request_returned" in types
    assert "transactions.request_resubmitted" in types


def test_rejection_needs_a_reason_and_ends_the_request(
    withdrawal_type, customer, maker, approver, valid_data
):
    request = _withdrawal(withdrawal_type, customer, maker, valid_data, "20000.00")

    with pytest.raises(BadInput) as error:
        request_reject(actor=approver, request=request, reason=" ")
    assert error.value.field == "reason"
    request = request_reject(actor=approver, request=request, reason="Signature does not match")

    assert request.status == RequestStatus.REJECTED
    assert request.status_reason == "Signature does not match"
    assert request.finished_at is not None
    assert open_deadline_for(request, kind=DECISION_KIND) is None
    sms = Notification.objects.get(context__status="rejected")
    assert sms.context["reason"] == "Signature does not match"


def test_the_approver_worklist_shows_my_levels_at_my_branches_never_my_own(
    withdrawal_type, customer, maker, approver, manager, valid_data, make_staff, branch_b
):
    small = _withdrawal(withdrawal_type, customer, maker, valid_data, "20000.00")
    large = _withdrawal(withdrawal_type, customer, maker, valid_data, "60000.00")
    own = _withdrawal(withdrawal_type, customer, manager, valid_data, "60000.00")
    make_staff(Role.APPROVER, branch=branch_b, username="b-approver")

    assert set(worklist(approver, "approve")) == {small, large, own}
    # Level 2 of `large` needs a branch manager; not yet.
    assert set(worklist(manager, "approve")) == set()
    request_approve(actor=approver, request=large)
    request_approve(actor=approver, request=own)
    assert list(worklist(manager, "approve")) == [large]  # never their own
    assert list(worklist(approver, "approve")) == [small]


def test_the_worklist_is_ordered_by_due_time(
    withdrawal_type, open_account_type, customer, maker, approver, valid_data
):
    # One business day (open account) falls due after four business hours (withdrawal).
    slow = submitted(open_account_type, customer, maker, valid_data(open_account_type, customer))
    fast = _withdrawal(withdrawal_type, customer, maker, valid_data, "20000.00")

    assert list(worklist(approver, "approve")) == [fast, slow]
