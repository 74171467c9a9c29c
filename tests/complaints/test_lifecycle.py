"""The lifecycle: each transition allowed from its statuses and refused from the others, by role
and branch; what a decision, withdrawal and reopening do to the clocks; pauses only of internal
clocks; intake's permission and language."""

# The fixtures imported from lifecycle_fixtures reappear as test arguments.
# ruff: noqa: F811

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.core.errors import BadInput, Conflict
from bankservice.events.models import Event
from bankservice.sla.models import DeadlineState
from bankservice.sla.services import deadline_sweep
from complaints.models import (
    Category,
    ComplaintStatus,
    LetterKind,
    RootCause,
)
from complaints.services import (
    complaint_accept,
    complaint_acknowledge,
    complaint_assign,
    complaint_create,
    complaint_customer_replied,
    complaint_decide,
    complaint_investigate,
    complaint_propose,
    complaint_reopen,
    complaint_set_root_cause,
    complaint_wait_on_customer,
    complaint_withdraw,
    pack_assign,
)

from .conftest import LONDON, SHANGHAI, at
from .lifecycle_fixtures import (  # noqa: F401 (fixtures)
    RECEIVED,
    clock,
    complaint,
    events,
    hq_manager,
    internal_pack,
    investigating,
    now,
    other_branch_officer,
    utc,
)

pytestmark = pytest.mark.django_db

DECISION_DUE = utc(2026, 10, 8, 16)  # end of Thursday 8 October (day 15 is a holiday), Shanghai


def test_the_happy_path_from_receipt_to_acceptance(complaint, officer, branch_manager, now):
    assert complaint.status == ComplaintStatus.RECEIVED
    assert clock(complaint, "decision").due_at == DECISION_DUE

    complaint = complaint_acknowledge(actor=officer, complaint=complaint)
    assert complaint.status == ComplaintStatus.ACKNOWLEDGED
    assert complaint.acknowledged_at == RECEIVED
    assert list(complaint.letters.values_list("kind", flat=True)) == [LetterKind.ACKNOWLEDGEMENT]

    complaint = complaint_assign(actor=branch_manager, complaint=complaint, officer=officer)
    complaint = complaint_investigate(actor=officer, complaint=complaint)
    assert complaint.status == ComplaintStatus.INVESTIGATING
    complaint = complaint_wait_on_customer(
        actor=officer, complaint=complaint, note="Asked for the ATM receipt."
    )
    assert complaint.status == ComplaintStatus.WAITING_ON_CUSTOMER
    complaint = complaint_customer_replied(actor=officer, complaint=complaint)
    assert complaint.status == ComplaintStatus.INVESTIGATING
    complaint = complaint_propose(
        actor=officer, complaint=complaint, proposal="Refund the fee of 50 yuan."
    )
    assert complaint.status == ComplaintStatus.RESOLUTION_PROPOSED
    assert complaint.resolution_proposal == "Refund the fee of 50 yuan."

    now.move(at(SHANGHAI, 2026, 9, 18, 15))
    complaint = complaint_accept(actor=None, complaint=complaint)  # on the progress page

    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED
    assert complaint.decided_at == at(SHANGHAI, 2026, 9, 18, 15)
    assert clock(complaint, "decision").state == DeadlineState.MET
    # The review window runs from the decision: day 30 is Sunday 18 October → Monday 19th.
    window = clock(complaint, "review_request_window")
    assert (window.state, window.due_at) == (DeadlineState.OPEN, utc(2026, 10, 19, 16))
    assert list(complaint.letters.values_list("kind", flat=True)) == [
        LetterKind.ACKNOWLEDGEMENT,
        LetterKind.FINAL_RESPONSE,
    ]
    types = [e.type for e in Event.objects.filter(type__startswith="complaints.complaint_")]
    assert "complaints.complaint_decided" in types
    decided = events("complaints.complaint_decided")[0]
    assert decided.actor_user is None
    assert decided.payload["status"] == "resolved"
    # Ids only: nothing the officer or complainant wrote.
    assert "Refund" not in str(decided.payload)


def test_acknowledging_without_a_letter_meets_the_acknowledgement_clock(
    uk_pack, london_branch, make_staff, now
):
    pack_assign(pack=uk_pack, branch=london_branch, actor=None)
    officer = make_staff("complaint_officer", branch=london_branch)
    now.move(at(LONDON, 2026, 3, 2, 11))
    complaint = complaint_create(
        actor=officer,
        branch=london_branch,
        channel="counter",
        category=Category.objects.get(code="card"),
        description="Charged twice.",
        contact_name="Jane Doe",
        contact_email="jane@example.co.uk",
    )
    complaint = complaint_acknowledge(actor=officer, complaint=complaint, send_letter=False)

    assert clock(complaint, "acknowledge").state == DeadlineState.MET
    assert clock(complaint, "final_response").state == DeadlineState.OPEN
    assert not complaint.letters.exists()


def decide(actor, complaint, **kwargs):
    values = {"outcome": "rejected", "reasons": "The fee is in the tariff.", **kwargs}
    return complaint_decide(actor=actor, complaint=complaint, **values)


# Each transition from a status it does not start from: a 409 naming the status.
REFUSED = [
    ("acknowledge", ComplaintStatus.INVESTIGATING),
    ("investigate", ComplaintStatus.WAITING_ON_CUSTOMER),
    ("investigate", ComplaintStatus.INVESTIGATING),
    ("wait", ComplaintStatus.RECEIVED),
    ("wait", ComplaintStatus.WAITING_ON_CUSTOMER),
    ("replied", ComplaintStatus.INVESTIGATING),
    ("propose", ComplaintStatus.RESOLUTION_PROPOSED),
    ("accept", ComplaintStatus.INVESTIGATING),
    ("decide", ComplaintStatus.REJECTED),
    ("withdraw", ComplaintStatus.REJECTED),
    ("withdraw", ComplaintStatus.WITHDRAWN),
    ("reopen", ComplaintStatus.INVESTIGATING),
    ("reopen", ComplaintStatus.WITHDRAWN),
    ("root_cause", ComplaintStatus.WITHDRAWN),
]


def transition(name, actor, complaint):
    calls = {
        "acknowledge": lambda: complaint_acknowledge(actor=actor, complaint=complaint),
        "investigate": lambda: complaint_investigate(actor=actor, complaint=complaint),
        "wait": lambda: complaint_wait_on_customer(actor=actor, complaint=complaint, note="?"),
        "replied": lambda: complaint_customer_replied(actor=actor, complaint=complaint),
        "propose": lambda: complaint_propose(actor=actor, complaint=complaint, proposal="A"),
        "accept": lambda: complaint_accept(actor=actor, complaint=complaint),
        "decide": lambda: decide(actor, complaint),
        "withdraw": lambda: complaint_withdraw(actor=actor, complaint=complaint),
        "reopen": lambda: complaint_reopen(actor=actor, complaint=complaint, reason="New facts"),
        "root_cause": lambda: complaint_set_root_cause(
            actor=actor,
            complaint=complaint,
            root_cause=RootCause.objects.get(code="process"),
            note="The fee waiver was not recorded.",
        ),
    }
    return calls[name]()


def bring_to(status, complaint, officer, manager):
    """Move a received complaint, assigned to ``officer``, to ``status`` through the services."""
    complaint = complaint_assign(actor=manager, complaint=complaint, officer=officer)
    if status == ComplaintStatus.RECEIVED:
        return complaint
    if status == ComplaintStatus.WITHDRAWN:
        return complaint_withdraw(actor=officer, complaint=complaint)
    complaint = complaint_investigate(actor=officer, complaint=complaint)
    if status == ComplaintStatus.WAITING_ON_CUSTOMER:
        return complaint_wait_on_customer(actor=officer, complaint=complaint, note="Receipt?")
    if status == ComplaintStatus.RESOLUTION_PROPOSED:
        return complaint_propose(actor=officer, complaint=complaint, proposal="Refund")
    if status == ComplaintStatus.REJECTED:
        return decide(officer, complaint)
    return complaint


@pytest.mark.parametrize(("name", "status"), REFUSED)
def test_a_transition_from_the_wrong_status_is_a_conflict(
    name, status, complaint, officer, branch_manager
):
    complaint = bring_to(status, complaint, officer, branch_manager)
    assert complaint.status == status
    before = Event.objects.count()

    with pytest.raises(Conflict) as refused:
        transition(name, branch_manager, complaint)

    assert complaint.reference in refused.value.message
    complaint.refresh_from_db()
    assert complaint.status == status
    assert Event.objects.count() == before


def test_investigating_needs_an_assigned_officer(complaint, officer):
    with pytest.raises(Conflict):
        complaint_investigate(actor=officer, complaint=complaint)
    complaint_assign(actor=officer, complaint=complaint, officer=officer)  # takes it
    assert complaint_investigate(actor=officer, complaint=complaint).status == "investigating"


@pytest.mark.parametrize("name", ["wait", "propose", "decide", "withdraw", "root_cause"])
def test_wrong_role_other_branch_and_other_officer_are_refused(
    name, investigating, teller, other_branch_officer, officer_2
):
    # The complaint is assigned to `officer`: officer_2 may handle complaints, not this one.
    for actor in (teller, other_branch_officer, officer_2):
        with pytest.raises(PermissionDenied):
            transition(name, actor, investigating)
    investigating.refresh_from_db()
    assert investigating.status == ComplaintStatus.INVESTIGATING


def test_acknowledging_is_refused_to_the_wrong_people(
    complaint, officer, officer_2, teller, other_branch_officer, branch_manager
):
    complaint_assign(actor=branch_manager, complaint=complaint, officer=officer)
    for actor in (teller, other_branch_officer, officer_2):
        with pytest.raises(PermissionDenied):
            complaint_acknowledge(actor=actor, complaint=complaint)
    # The branch manager may act on an assigned complaint.
    assert complaint_acknowledge(actor=branch_manager, complaint=complaint).status == (
        ComplaintStatus.ACKNOWLEDGED
    )


def test_the_staff_member_complained_about_never_acts_on_it(
    make_complaint, now, officer, officer_2, branch_manager, hq_manager
):
    complaint = make_complaint(staff_complained_about=officer_2)

    with pytest.raises(PermissionDenied):
        complaint_acknowledge(actor=officer_2, complaint=complaint)
    with pytest.raises(PermissionDenied):
        decide(officer_2, complaint)
    # The CN pack recuses the role chain: their branch manager may not decide either.
    with pytest.raises(PermissionDenied):
        decide(branch_manager, complaint)
    # Anybody else who may handle it does.
    assert decide(officer, complaint).status == ComplaintStatus.REJECTED
    with pytest.raises(PermissionDenied):
        complaint_reopen(actor=branch_manager, complaint=complaint, reason="Appeal")
    assert complaint_reopen(actor=hq_manager, complaint=complaint, reason="Appeal").status == (
        ComplaintStatus.INVESTIGATING
    )


def test_a_decision_checks_its_values(investigating, officer):
    with pytest.raises(BadInput) as refused:
        decide(officer, investigating, outcome="resolved")
    assert refused.value.field == "outcome"
    with pytest.raises(BadInput) as refused:
        decide(officer, investigating, reasons="  ")
    assert refused.value.field == "reasons"
    for bad in ("-1", "1.001", "abc"):
        with pytest.raises(BadInput) as refused:
            decide(officer, investigating, redress_amount=bad)
        assert refused.value.field == "redress_amount"
    with pytest.raises(BadInput) as refused:
        complaint_propose(actor=officer, complaint=investigating, proposal="")
    assert refused.value.field == "proposal"
    with pytest.raises(BadInput) as refused:
        complaint_wait_on_customer(actor=officer, complaint=investigating, note=" ")
    assert refused.value.field == "note"
    investigating.refresh_from_db()
    assert investigating.status == ComplaintStatus.INVESTIGATING


def test_a_decision_meets_the_clocks_starts_the_review_window_and_sends_the_final_response(
    investigating, officer, now
):
    now.move(at(SHANGHAI, 2026, 9, 30, 9))
    complaint = decide(officer, investigating, outcome="partially_upheld", redress_amount="50.00")

    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.PARTIALLY_UPHELD
    assert (complaint.decided_at, complaint.redress_amount) == (
        at(SHANGHAI, 2026, 9, 30, 9),
        Decimal("50.00"),
    )
    assert complaint.decision_reasons == "The fee is in the tariff."
    assert clock(complaint, "decision").state == DeadlineState.MET
    # 30 days after 30 September: 30 October, a Friday.
    assert clock(complaint, "review_request_window").due_at == utc(2026, 10, 30, 16)
    assert [letter.kind for letter in complaint.letters.all()] == [LetterKind.FINAL_RESPONSE]
    payload = events("complaints.complaint_decided")[0].payload
    assert payload["redress"] == "50.00"
    assert payload["letter_id"] == complaint.letters.get().pk


def test_a_late_decision_records_the_late_meet_and_ends_the_escalation(investigating, officer, now):
    now.move(at(SHANGHAI, 2026, 10, 9, 9))
    deadline_sweep()  # the decision clock passes: escalation level 1 (complaints/deadlines.py)
    investigating.refresh_from_db()
    assert investigating.escalation_level == 1
    escalation = _escalation(investigating)
    assert escalation.state == DeadlineState.OPEN

    complaint = decide(officer, investigating, send_letter=False)

    decision = clock(complaint, "decision")
    assert decision.state == DeadlineState.BREACHED
    assert decision.met_at == at(SHANGHAI, 2026, 10, 9, 9)
    escalation.refresh_from_db()
    assert escalation.state == DeadlineState.MET
    assert not complaint.letters.exists()


def _escalation(complaint):
    from bankservice.sla.selectors import deadlines_for

    return deadlines_for(complaint, kind="complaints.escalation").get()


def test_summary_resolution_inside_the_uk_window_final_response_after(
    uk_pack, london_branch, make_staff, now
):
    pack_assign(pack=uk_pack, branch=london_branch, actor=None)
    officer = make_staff("complaint_officer", branch=london_branch)

    def received():
        return complaint_create(
            actor=officer,
            branch=london_branch,
            channel="phone",
            category=Category.objects.get(code="card"),
            description="Card declined abroad.",
            contact_name="Jane Doe",
            contact_email="jane@example.co.uk",
            language="en",
            is_payment_services=True,
        )

    now.move(at(LONDON, 2026, 4, 1, 11))  # Wednesday 1 April: window to the end of 8 April
    quick, slow = received(), received()
    assert clock(quick, "summary_resolution").due_at == utc(2026, 4, 8, 23)

    now.move(at(LONDON, 2026, 4, 8, 16))
    decide(officer, quick, outcome="upheld", reasons="Our error.")
    now.move(at(LONDON, 2026, 4, 9, 10))
    decide(officer, slow, outcome="upheld", reasons="Our error.")

    assert quick.letters.get().kind == LetterKind.SUMMARY_RESOLUTION
    assert quick.letters.get().language == "en"
    assert clock(quick, "summary_resolution").state == DeadlineState.MET
    assert slow.letters.get().kind == LetterKind.FINAL_RESPONSE
    # The passed window is not met late: windows are no obligation (the sweep records them).
    assert clock(slow, "summary_resolution").state == DeadlineState.OPEN
    assert clock(slow, "psd_final_response").state == DeadlineState.MET


def test_waiting_on_the_customer_pauses_only_internal_clocks(
    internal_pack, make_complaint, officer, branch_manager, now
):
    complaint = make_complaint()
    assert complaint.pack == internal_pack
    internal = clock(complaint, "internal_target")
    assert internal.due_at == utc(2026, 9, 18, 2)  # 24 hours after 10:00 Shanghai
    complaint_assign(actor=branch_manager, complaint=complaint, officer=officer)
    complaint_investigate(actor=officer, complaint=complaint)

    now.move(at(SHANGHAI, 2026, 9, 17, 12))
    complaint_wait_on_customer(actor=officer, complaint=complaint, note="Receipt?")
    internal.refresh_from_db()
    regulatory = clock(complaint, "decision")
    assert internal.paused_at == at(SHANGHAI, 2026, 9, 17, 12)
    assert regulatory.paused_at is None
    assert events("complaints.complaint_waiting")[0].payload["paused_deadline_ids"] == [internal.pk]

    # Past the internal target's original due time: paused, it is not breached.
    now.move(at(SHANGHAI, 2026, 9, 18, 15))
    deadline_sweep()
    internal.refresh_from_db()
    assert internal.state == DeadlineState.OPEN

    complaint_customer_replied(actor=officer, complaint=complaint, note="Receipt sent.")
    internal.refresh_from_db()
    regulatory.refresh_from_db()
    # Paused for 27 hours: due 27 hours later; the regulator's clock never moved.
    assert (internal.paused_at, internal.due_at) == (None, utc(2026, 9, 19, 5))
    assert regulatory.due_at == DECISION_DUE
    assert regulatory.paused_total == dt.timedelta(0)


def test_an_overdue_internal_clock_is_not_paused(
    internal_pack, make_complaint, officer, branch_manager, now
):
    complaint = make_complaint()
    complaint_assign(actor=branch_manager, complaint=complaint, officer=officer)
    complaint_investigate(actor=officer, complaint=complaint)
    now.move(at(SHANGHAI, 2026, 9, 18, 11))  # the 24 hours are over, not yet swept

    complaint = complaint_wait_on_customer(actor=officer, complaint=complaint, note="Receipt?")

    assert clock(complaint, "internal_target").paused_at is None
    assert complaint.status == ComplaintStatus.WAITING_ON_CUSTOMER


def test_withdrawal_cancels_every_open_clock_and_ends_on_the_given_day(
    internal_pack, make_complaint, officer, now
):
    complaint = make_complaint()
    with pytest.raises(BadInput) as refused:
        complaint_withdraw(
            actor=officer, complaint=complaint, withdrawn_at=at(SHANGHAI, 2026, 9, 17, 9)
        )
    assert refused.value.field == "withdrawn_at"
    with pytest.raises(BadInput):
        complaint_withdraw(
            actor=officer, complaint=complaint, withdrawn_at=at(SHANGHAI, 2026, 9, 18, 9)
        )

    now.move(at(SHANGHAI, 2026, 9, 20, 9))
    withdrawn_at = at(SHANGHAI, 2026, 9, 17, 16)  # said on the phone on the day of receipt
    complaint = complaint_withdraw(
        actor=officer, complaint=complaint, note="Found the card.", withdrawn_at=withdrawn_at
    )

    complaint.refresh_from_db()
    assert (complaint.status, complaint.ended_at) == (ComplaintStatus.WITHDRAWN, withdrawn_at)
    states = {d.kind: d.state for d in complaint_clocks(complaint)}
    assert states == {
        "complaint.decision": DeadlineState.CANCELLED,
        "complaint.internal_target": DeadlineState.CANCELLED,
    }
    payload = events("complaints.complaint_withdrawn")[0].payload
    assert len(payload["cancelled_deadline_ids"]) == 2


def complaint_clocks(complaint):
    from complaints.selectors import complaint_clocks as read

    return read(complaint)


def test_reopening_needs_a_manager_and_restarts_the_decisions_clocks_at_the_next_decision(
    investigating, officer, branch_manager, now
):
    complaint = decide(officer, investigating)
    first_window = clock(complaint, "review_request_window")
    with pytest.raises(PermissionDenied):
        complaint_reopen(actor=officer, complaint=complaint, reason="New evidence")
    with pytest.raises(BadInput):
        complaint_reopen(actor=branch_manager, complaint=complaint, reason="")

    now.move(at(SHANGHAI, 2026, 9, 21, 10))
    complaint = complaint_reopen(
        actor=branch_manager, complaint=complaint, reason="The customer sent new evidence."
    )

    complaint.refresh_from_db()
    assert (complaint.status, complaint.reopened_count, complaint.decided_at) == (
        ComplaintStatus.INVESTIGATING,
        1,
        None,
    )
    first_window.refresh_from_db()
    assert first_window.state == DeadlineState.CANCELLED

    now.move(at(SHANGHAI, 2026, 9, 22, 10))
    complaint = decide(officer, complaint, outcome="upheld", reasons="The evidence shows it.")
    second_window = clock(complaint, "review_request_window")
    assert second_window.pk != first_window.pk
    assert (second_window.state, second_window.due_at) == (
        DeadlineState.OPEN,
        utc(2026, 10, 22, 16),
    )
    assert complaint.letters.filter(kind=LetterKind.FINAL_RESPONSE).count() == 2


def test_the_root_cause_is_an_active_one_with_its_analysis(investigating, officer):
    process = RootCause.objects.get(code="process")
    with pytest.raises(BadInput) as refused:
        complaint_set_root_cause(
            actor=officer, complaint=investigating, root_cause=process, note=""
        )
    assert refused.value.field == "note"
    retired = RootCause.objects.get(code="other")
    retired.is_active = False
    retired.save()
    with pytest.raises(BadInput) as refused:
        complaint_set_root_cause(
            actor=officer, complaint=investigating, root_cause=retired, note="n/a"
        )
    assert refused.value.field == "root_cause"

    complaint = complaint_set_root_cause(
        actor=officer,
        complaint=investigating,
        root_cause=process,
        note="The waiver is not recorded in the system.",
    )

    complaint.refresh_from_db()
    assert (complaint.root_cause, complaint.root_cause_note) == (
        process,
        "The waiver is not recorded in the system.",
    )
    assert events("complaints.root_cause_set")[0].payload["root_cause_id"] == process.pk


def test_intake_needs_add_complaint_at_the_branch(
    cn_pack, branch_a, branch_b, make_staff, category, now
):
    greeter_b = make_staff("greeter", branch=branch_b)
    auditor = make_staff("auditor", branch=branch_a)
    values = {
        "branch": branch_a,
        "channel": "counter",
        "category": category,
        "description": "Long wait.",
        "contact_name": "Wang Fang",
        "contact_phone": "+8613900000000",
    }
    for actor in (greeter_b, auditor):
        with pytest.raises(PermissionDenied):
            complaint_create(actor=actor, **values)
    # actor=None: the complainant on the public form.
    complaint = complaint_create(actor=None, language="en", **values)
    assert (complaint.language, complaint.created_by) == ("en", None)


def test_a_contacts_language_is_kept_a_customers_is_read_later(
    make_complaint, teller, now, complainant
):
    with pytest.raises(BadInput) as refused:
        make_complaint(
            customer=None, contact_name="Wang", contact_phone="+8613900000000", language="fr"
        )
    assert refused.value.field == "language"
    contact = make_complaint(
        customer=None, contact_name="Wang", contact_phone="+8613900000000", language="zh-hans"
    )
    customer = make_complaint(language="en")
    assert (contact.language, customer.language) == ("zh-hans", "")


def test_query_budget_of_a_decision(investigating, officer, django_assert_max_num_queries):
    # Lock and save (4 with the savepoint), the pack's clocks and the deadlines (2), the decision
    # clock met (5), the escalation and waiting extensions (2), the review window started
    # (calendar, clocks, days, insert, event: 8), the letter and its notification, the event.
    with django_assert_max_num_queries(31):
        decide(officer, investigating)
