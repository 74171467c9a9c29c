"""Extensions on concrete dates: CN to 30 days at once with a notice, a further 30 only with a
higher level's approval (never the requester's); the UK payment-services holding reply; the US
"in progress"."""

# The fixtures imported from lifecycle_fixtures reappear as test arguments.
# ruff: noqa: F811

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.core.errors import BadInput, Conflict
from bankservice.sla.models import DeadlineExtension, DeadlineState
from bankservice.sla.services import deadline_sweep
from complaints.models import (
    Category,
    ComplaintExtension,
    ExtensionStatus,
    LetterKind,
    PackClock,
)
from complaints.services import (
    complaint_create,
    complaint_decide,
    complaint_withdraw,
    extension_decide,
    extension_request,
    pack_assign,
)

from .conftest import LONDON, NEW_YORK, SHANGHAI, at
from .lifecycle_fixtures import (  # noqa: F401 (fixtures)
    clock,
    complaint,
    events,
    hq_manager,
    now,
    utc,
)

pytestmark = pytest.mark.django_db

# Received Thursday 17 September 2026, 10:00 in Shanghai (the fixtures' "now").
DECISION_DUE = utc(2026, 10, 8, 16)  # day 15, 2 October, is National Day → end of 8 October
EXTENSION_DUE = utc(2026, 10, 19, 16)  # day 30, Saturday 17 October → end of Monday 19th
FURTHER_DUE = utc(2026, 11, 16, 16)  # day 60, Monday 16 November


def pack_clock(complaint, code):
    return PackClock.objects.get(pack=complaint.pack, code=code)


def extend(actor, complaint, code, reason="Needs the card network's records."):
    return extension_request(
        actor=actor, complaint=complaint, clock=pack_clock(complaint, code), reason=reason
    )


def test_cn_extension_to_30_days_applies_at_once_with_a_notice(complaint, officer, now):
    now.move(at(SHANGHAI, 2026, 9, 30, 9))

    extension = extend(officer, complaint, "extension")

    assert extension.status == ExtensionStatus.APPROVED
    assert (extension.requested_by, extension.decided_by) == (officer, None)
    assert (extension.old_due_at, extension.new_due_at) == (DECISION_DUE, EXTENSION_DUE)
    deadline = clock(complaint, "decision")  # keeps its kind; only its due time moves
    assert (deadline.state, deadline.due_at, deadline.extended_count) == (
        DeadlineState.OPEN,
        EXTENSION_DUE,
        1,
    )
    assert DeadlineExtension.objects.get(deadline=deadline).reason == (
        "Needs the card network's records."
    )
    letter = complaint.letters.get()
    assert (letter.kind, letter.extension) == (LetterKind.EXTENSION_NOTICE, extension)
    applied = events("complaints.extension_applied")[0].payload
    assert applied["due_at"] == EXTENSION_DUE.isoformat()
    assert applied["letter_id"] == letter.pk
    assert "records" not in str(events("complaints.extension_requested")[0].payload)


def test_cn_further_extension_needs_a_regional_manager_who_did_not_ask(
    complaint, officer, branch_manager, regional_manager, now
):
    with pytest.raises(Conflict):  # the 30 days first
        extend(officer, complaint, "further_extension")
    extend(officer, complaint, "extension")

    extension = extend(regional_manager, complaint, "further_extension")
    assert extension.status == ExtensionStatus.REQUESTED
    assert clock(complaint, "decision").due_at == EXTENSION_DUE
    # The requester may not approve their own; a branch manager or an officer is no higher level.
    for actor in (regional_manager, branch_manager, officer):
        with pytest.raises(PermissionDenied):
            extension_decide(actor=actor, extension=extension, approve=True)
    # One request waiting at a time.
    with pytest.raises(Conflict):
        extend(officer, complaint, "further_extension")
    assert complaint.letters.count() == 1  # the first extension's notice only


def test_cn_further_extension_approved_by_the_region_moves_to_60_days_with_a_notice(
    complaint, officer, regional_manager, now
):
    extend(officer, complaint, "extension")
    extension = extend(officer, complaint, "further_extension", reason="Particularly complex.")

    now.move(at(SHANGHAI, 2026, 10, 12, 9))
    extension = extension_decide(
        actor=regional_manager, extension=extension, approve=True, note="Agreed."
    )

    extension.refresh_from_db()
    assert (extension.status, extension.decided_by, extension.decision_note) == (
        ExtensionStatus.APPROVED,
        regional_manager,
        "Agreed.",
    )
    assert extension.decided_at == at(SHANGHAI, 2026, 10, 12, 9)
    assert (extension.old_due_at, extension.new_due_at) == (EXTENSION_DUE, FURTHER_DUE)
    deadline = clock(complaint, "decision")
    assert (deadline.due_at, deadline.extended_count) == (FURTHER_DUE, 2)
    assert complaint.letters.filter(kind=LetterKind.EXTENSION_NOTICE).count() == 2
    assert complaint.letters.last().extension == extension
    # Nothing further to extend to, and this step cannot be taken twice.
    with pytest.raises(Conflict):
        extend(officer, complaint, "further_extension")


def test_a_refused_extension_leaves_the_clock_and_may_be_asked_again(
    complaint, officer, regional_manager, now
):
    extend(officer, complaint, "extension")
    extension = extend(officer, complaint, "further_extension")

    extension = extension_decide(
        actor=regional_manager, extension=extension, approve=False, note="Not complex enough."
    )

    assert extension.status == ExtensionStatus.REFUSED
    assert clock(complaint, "decision").due_at == EXTENSION_DUE
    assert complaint.letters.count() == 1
    with pytest.raises(Conflict):  # decided already
        extension_decide(actor=regional_manager, extension=extension, approve=True)
    assert extend(officer, complaint, "further_extension").status == ExtensionStatus.REQUESTED


def test_a_recused_regional_manager_may_not_approve_head_office_may(
    make_complaint, officer, officer_2, regional_manager, hq_manager, now
):
    complaint = make_complaint(staff_complained_about=officer_2)
    extend(officer, complaint, "extension")
    extension = extend(officer, complaint, "further_extension")

    with pytest.raises(PermissionDenied):
        extension_decide(actor=regional_manager, extension=extension, approve=True)
    extension_decide(actor=hq_manager, extension=extension, approve=True)
    assert clock(complaint, "decision").due_at == FURTHER_DUE


def test_extensions_only_while_the_clock_runs_and_the_complaint_is_open(
    make_complaint, officer, regional_manager, now
):
    breached = make_complaint()
    now.move(at(SHANGHAI, 2026, 10, 9, 9))
    deadline_sweep()
    assert clock(breached, "decision").state == DeadlineState.BREACHED
    with pytest.raises(Conflict):
        extend(officer, breached, "extension")

    decided = make_complaint()
    complaint_decide(actor=officer, complaint=decided, outcome="rejected", reasons="Tariff.")
    with pytest.raises(Conflict):
        extend(officer, decided, "extension")

    # A request waiting when the complaint ends is closed with it; it cannot be approved.
    waiting = make_complaint()
    extend(officer, waiting, "extension")
    extension = extend(officer, waiting, "further_extension")
    complaint_withdraw(actor=officer, complaint=waiting)
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.REFUSED
    with pytest.raises(Conflict):
        extension_decide(actor=regional_manager, extension=extension, approve=True)


def test_the_extension_must_be_one_of_the_complaints_pack(complaint, officer, uk_pack, now):
    with pytest.raises(BadInput) as refused:
        extension_request(
            actor=officer,
            complaint=complaint,
            clock=PackClock.objects.get(pack=uk_pack, code="psd_extended_final_response"),
            reason="?",
        )
    assert refused.value.field == "clock"
    with pytest.raises(BadInput) as refused:  # not an extension
        extend(officer, complaint, "decision")
    assert refused.value.field == "clock"
    with pytest.raises(BadInput) as refused:
        extend(officer, complaint, "extension", reason=" ")
    assert refused.value.field == "reason"
    assert not ComplaintExtension.objects.exists()


@pytest.fixture
def uk_officer(uk_pack, london_branch, make_staff):
    pack_assign(pack=uk_pack, branch=london_branch, actor=None)
    return make_staff("complaint_officer", branch=london_branch, username="uk-officer")


def uk_complaint(officer, branch, *, payment_services):
    return complaint_create(
        actor=officer,
        branch=branch,
        channel="email",
        category=Category.objects.get(code="card"),
        description="A transfer never arrived.",
        contact_name="Jane Doe",
        contact_email="jane@example.co.uk",
        language="en",
        is_payment_services=payment_services,
    )


def test_uk_payment_services_holding_reply_moves_to_35_business_days(
    uk_officer, london_branch, now
):
    now.move(at(LONDON, 2026, 4, 1, 11))  # Wednesday 1 April, across Easter
    complaint = uk_complaint(uk_officer, london_branch, payment_services=True)
    assert clock(complaint, "psd_final_response").due_at == utc(2026, 4, 24, 23)

    now.move(at(LONDON, 2026, 4, 20, 10))
    extension = extend(uk_officer, complaint, "psd_extended_final_response")

    assert extension.status == ExtensionStatus.APPROVED
    assert clock(complaint, "psd_final_response").due_at == utc(2026, 5, 26, 23)  # Tue 26 May
    letter = complaint.letters.get()
    assert (letter.kind, letter.language, letter.channel) == (
        LetterKind.EXTENSION_NOTICE,
        "en",
        "email",
    )


def test_uk_holding_reply_is_for_payment_services_only(uk_officer, london_branch, now):
    now.move(at(LONDON, 2026, 4, 1, 11))
    complaint = uk_complaint(uk_officer, london_branch, payment_services=False)
    with pytest.raises(BadInput):
        extend(uk_officer, complaint, "psd_extended_final_response")


def test_us_in_progress_moves_the_response_to_60_days(us_pack, new_york_branch, make_staff, now):
    pack_assign(pack=us_pack, branch=new_york_branch, actor=None)
    officer = make_staff("complaint_officer", branch=new_york_branch, username="us-officer")
    now.move(at(NEW_YORK, 2026, 1, 26, 10))  # Monday 26 January, across the month end
    complaint = complaint_create(
        actor=officer,
        branch=new_york_branch,
        channel="phone",
        category=Category.objects.get(code="card"),
        description="Late fee.",
        contact_name="John Roe",
        contact_phone="+12125550100",
        language="en",
    )
    assert clock(complaint, "cfpb_response").due_at == utc(2026, 2, 11, 5)  # end of 10 Feb

    now.move(at(NEW_YORK, 2026, 2, 9, 10))
    extend(officer, complaint, "cfpb_final_response")

    # Day 60 is Friday 27 March, after the change to summer time.
    assert clock(complaint, "cfpb_response").due_at == utc(2026, 3, 28, 4)
    assert complaint.letters.get().kind == LetterKind.EXTENSION_NOTICE
