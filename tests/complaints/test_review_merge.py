"""Reviews (核查) within the window and refused after it, and merging repeat complaints."""

# The fixtures imported from lifecycle_fixtures reappear as test arguments.
# ruff: noqa: F811

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.core.errors import BadInput, Conflict
from bankservice.customers.models import Product
from bankservice.sla.models import DeadlineState
from bankservice.sla.services import deadline_sweep
from complaints.models import Complaint, ComplaintStatus, LetterKind
from complaints.selectors import complaint_clocks
from complaints.services import (
    complaint_decide,
    complaint_merge,
    complaint_reopen,
    complaint_request_review,
    complaint_withdraw,
)
from tests.factories import CustomerFactory

from .conftest import SHANGHAI, at
from .lifecycle_fixtures import (  # noqa: F401 (fixtures)
    RECEIVED,
    clock,
    complaint,
    events,
    now,
    utc,
)

pytestmark = pytest.mark.django_db

DECIDED = at(SHANGHAI, 2026, 9, 18, 15)
# 30 days after Friday 18 September: Sunday 18 October → the end of Monday 19 October.
WINDOW_DUE = utc(2026, 10, 19, 16)


@pytest.fixture
def decided(complaint, officer, now):
    now.move(DECIDED)
    return complaint_decide(
        actor=officer, complaint=complaint, outcome="rejected", reasons="The fee is in the tariff."
    )


def request_review(actor, complaint, received_at, reason="I disagree with the decision."):
    return complaint_request_review(
        actor=actor, complaint=complaint, reason=reason, received_at=received_at
    )


def test_a_review_within_the_window_is_a_linked_case_with_its_own_clock(decided, teller, now):
    assert clock(decided, "review_request_window").due_at == WINDOW_DUE
    now.move(at(SHANGHAI, 2026, 10, 25, 9))
    received_at = at(SHANGHAI, 2026, 10, 19, 20)  # a letter received on the last day

    review = request_review(teller, decided, received_at)

    assert review.pk != decided.pk
    assert (review.review_of, review.status, review.received_at) == (
        decided,
        ComplaintStatus.RECEIVED,
        received_at,
    )
    assert (review.customer, review.branch, review.category, review.pack) == (
        decided.customer,
        decided.branch,
        decided.category,
        decided.pack,
    )
    assert review.description == "I disagree with the decision."
    assert review.reference.startswith("CP261019")
    window = clock(decided, "review_request_window")
    assert window.state == DeadlineState.MET
    # Only the review's own clock: 30 days after 19 October, the end of 18 November.
    clocks = [(d.kind, d.due_at) for d in complaint_clocks(review)]
    assert clocks == [("complaint.review_decision", utc(2026, 11, 18, 16))]
    requested = events("complaints.review_requested")[0]
    assert requested.payload["review_id"] == review.pk
    assert requested.payload["window_deadline_id"] == window.pk
    received = events("complaints.complaint_received")[-1]
    assert received.payload["review_of_id"] == decided.pk


def test_a_review_after_the_window_is_refused(decided, teller, now):
    now.move(at(SHANGHAI, 2026, 11, 2, 9))
    deadline_sweep()  # records that the window passed

    with pytest.raises(BadInput) as refused:
        request_review(teller, decided, at(SHANGHAI, 2026, 10, 20, 0, 30))

    assert refused.value.field == "received_at"
    assert Complaint.objects.count() == 1
    assert clock(decided, "review_request_window").state == DeadlineState.BREACHED


def test_a_request_received_in_time_counts_even_after_the_sweep_passed_the_window(decided, now):
    now.move(at(SHANGHAI, 2026, 10, 21, 9))
    deadline_sweep()
    assert clock(decided, "review_request_window").state == DeadlineState.BREACHED

    # From the progress page (actor=None), dated when it reached the bank.
    review = request_review(None, decided, at(SHANGHAI, 2026, 10, 19, 9))

    assert review.channel == "online_form"
    assert review.created_by is None
    assert clock(decided, "review_request_window").met_at == at(SHANGHAI, 2026, 10, 21, 9)


def test_one_review_per_decision_of_decided_complaints_only(
    decided, make_complaint, teller, officer, branch_manager, now
):
    now.move(at(SHANGHAI, 2026, 9, 20, 9))
    with pytest.raises(Conflict):
        request_review(teller, make_complaint(), None)  # not decided
    with pytest.raises(BadInput) as refused:
        request_review(teller, decided, at(SHANGHAI, 2026, 9, 18, 9))  # before the decision
    assert refused.value.field == "received_at"
    with pytest.raises(BadInput) as refused:
        request_review(teller, decided, None, reason="")
    assert refused.value.field == "reason"

    review = request_review(teller, decided, None)
    with pytest.raises(Conflict):
        request_review(teller, decided, None)
    # A review's decision is final: its letter is the review decision and no window opens.
    review = complaint_decide(
        actor=officer, complaint=review, outcome="rejected", reasons="The tariff applies."
    )
    assert review.letters.get().kind == LetterKind.REVIEW_DECISION
    assert clock(review, "review_request_window") is None
    assert clock(review, "review_decision").state == DeadlineState.MET
    with pytest.raises(Conflict):
        request_review(teller, review, None)

    # Reopened and decided again: a new decision, a new window.
    complaint_reopen(actor=branch_manager, complaint=decided, reason="New evidence.")
    decided = complaint_decide(
        actor=officer, complaint=decided, outcome="upheld", reasons="Evidence accepted."
    )
    assert request_review(teller, decided, None).review_of == decided


def test_a_review_is_asked_for_by_intake_staff_at_the_branch(decided, make_staff, branch_b, now):
    with pytest.raises(PermissionDenied):
        request_review(make_staff("teller", branch=branch_b), decided, None)
    with pytest.raises(PermissionDenied):
        request_review(make_staff("auditor", branch=decided.branch), decided, None)


# --- Merging repeats -------------------------------------------------------------------------


@pytest.fixture
def card(db):
    return Product.objects.create(code="debit", family="card", name_zh="借记卡", name_en="Debit")


@pytest.fixture
def repeat_pair(make_complaint, card, now):
    first = make_complaint(product=card)
    now.move(at(SHANGHAI, 2026, 9, 22, 11))
    second = make_complaint(product=card)
    assert (second.is_repeat, second.repeat_of) == (True, first)
    return first, second


def test_merging_a_repeat_cancels_its_clocks_and_keeps_the_earlier_ones(repeat_pair, officer):
    first, second = repeat_pair
    first_due = clock(first, "decision").due_at
    assert clock(second, "decision").due_at == utc(2026, 10, 8, 16)  # day 15 after 22 Sept

    merged = complaint_merge(actor=officer, complaint=second, into=first)

    merged.refresh_from_db()
    assert (merged.status, merged.merged_into, merged.ended_at) == (
        ComplaintStatus.MERGED,
        first,
        at(SHANGHAI, 2026, 9, 22, 11),
    )
    assert clock(second, "decision").state == DeadlineState.CANCELLED
    survivor = clock(first, "decision")
    assert (survivor.state, survivor.due_at) == (DeadlineState.OPEN, first_due)
    payload = events("complaints.complaint_merged")[0].payload
    assert payload == {
        "complaint_id": second.pk,
        "status": "merged",
        "merged_into_id": first.pk,
        "cancelled_deadline_ids": [clock(second, "decision").pk],
    }


def test_only_a_later_complaint_of_the_same_customer_merges_into_an_open_one(
    repeat_pair, make_complaint, officer, teller, now
):
    first, second = repeat_pair
    with pytest.raises(BadInput) as refused:
        complaint_merge(actor=officer, complaint=first, into=second)
    assert refused.value.field == "into"
    with pytest.raises(BadInput):
        complaint_merge(actor=officer, complaint=first, into=first)
    stranger = make_complaint(customer=CustomerFactory(home_branch=first.branch))
    with pytest.raises(BadInput):
        complaint_merge(actor=officer, complaint=stranger, into=first)
    with pytest.raises(PermissionDenied):
        complaint_merge(actor=teller, complaint=second, into=first)

    complaint_withdraw(actor=officer, complaint=first)
    with pytest.raises(Conflict):
        complaint_merge(actor=officer, complaint=second, into=first)
    second.refresh_from_db()
    assert second.status == ComplaintStatus.RECEIVED
    assert clock(second, "decision").state == DeadlineState.OPEN
