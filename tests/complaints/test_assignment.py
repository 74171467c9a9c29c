"""Who may handle a complaint (eligible_officers, with recusal) and who assigns it to whom."""

# The fixtures imported from lifecycle_fixtures reappear as test arguments.
# ruff: noqa: F811

import pytest
from django.core.exceptions import PermissionDenied

from bankservice.core.errors import BadInput, Conflict
from complaints.models import ComplaintStatus
from complaints.services import (
    complaint_acknowledge,
    complaint_assign,
    complaint_withdraw,
    eligible_officers,
    pack_assign,
    pack_copy,
)

from .lifecycle_fixtures import (  # noqa: F401 (fixtures)
    complaint,
    events,
    hq_manager,
    now,
    other_branch_officer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(
    officer, officer_2, branch_manager, regional_manager, teller, other_branch_officer, hq_manager
):
    return {
        "officer": officer,
        "officer_2": officer_2,
        "manager": branch_manager,
        "regional": regional_manager,
        "teller": teller,
        "officer_b": other_branch_officer,
        "hq": hq_manager,
    }


def names(users) -> list[str]:
    return [user.username for user in users]


def test_eligible_are_those_who_may_handle_at_the_branch_ordered_by_name(
    complaint, people, make_staff, branch_other_region
):
    make_staff("complaint_officer", region=branch_other_region.region, username="west")
    retired = make_staff("complaint_officer", branch=complaint.branch, username="retired")
    retired.is_active = False
    retired.save()
    for first, username in enumerate(["regional", "officer-2", "hq", "officer", "manager"]):
        people_by_name = {user.username: user for user in people.values()}
        people_by_name[username].first_name = f"N{first}"
        people_by_name[username].save()

    # Not the teller (intake only), not branch B's officer, nor another region's, nor a retired
    # officer; by first name.
    assert names(eligible_officers(complaint)) == [
        "regional",
        "officer-2",
        "hq",
        "officer",
        "manager",
    ]


def test_recusal_excludes_the_staff_member_and_the_managers_above_them(make_complaint, now, people):
    about_officer_2 = make_complaint(staff_complained_about=people["officer_2"])

    # The CN pack recuses the role chain: branch A's manager and the east region's manager.
    assert set(names(eligible_officers(about_officer_2))) == {"officer", "hq"}


def test_without_the_role_chain_rule_only_the_staff_member_is_recused(
    cn_pack, branch_a, make_complaint, now, people
):
    lenient = pack_copy(pack=cn_pack, actor=None, code="cn-lenient")
    lenient.recuse_role_chain = False
    lenient.save()
    pack_assign(pack=lenient, branch=branch_a, actor=None)

    complaint = make_complaint(staff_complained_about=people["officer_2"])

    assert complaint.pack == lenient
    assert set(names(eligible_officers(complaint))) == {"officer", "manager", "regional", "hq"}


def test_a_regional_manager_complained_about_is_recused_but_the_branch_manager_is_not(
    make_complaint, now, people
):
    complaint = make_complaint(staff_complained_about=people["regional"])
    assert set(names(eligible_officers(complaint))) == {"officer", "officer-2", "manager", "hq"}


def test_a_manager_assigns_anyone_eligible_and_reassigns(complaint, people, now):
    manager, officer, officer_2 = people["manager"], people["officer"], people["officer_2"]

    complaint = complaint_assign(actor=manager, complaint=complaint, officer=officer)
    assert (complaint.assigned_to, complaint.assigned_at) == (officer, complaint.received_at)
    complaint = complaint_assign(actor=manager, complaint=complaint, officer=officer_2)

    complaint.refresh_from_db()
    assert complaint.assigned_to == officer_2
    assigned = events("complaints.complaint_assigned")
    assert [e.payload["officer_id"] for e in assigned] == [officer.pk, officer_2.pk]
    assert assigned[1].payload["previous_id"] == officer.pk
    # Assigning the same officer again changes nothing and records nothing.
    complaint_assign(actor=manager, complaint=complaint, officer=officer_2)
    assert len(events("complaints.complaint_assigned")) == 2


def test_an_officer_takes_an_unassigned_complaint_but_assigns_nobody_else(complaint, people):
    officer, officer_2 = people["officer"], people["officer_2"]
    with pytest.raises(PermissionDenied):
        complaint_assign(actor=officer, complaint=complaint, officer=officer_2)

    complaint = complaint_assign(actor=officer, complaint=complaint, officer=officer)
    assert complaint.assigned_to == officer

    # Taken: a colleague who still saw it unassigned is told it moved on.
    with pytest.raises(Conflict):
        complaint_assign(actor=officer_2, complaint=complaint, officer=officer_2)
    complaint.refresh_from_db()
    assert complaint.assigned_to == officer


def test_assignment_refused_to_the_wrong_people_and_to_the_ineligible(make_complaint, now, people):
    complaint = make_complaint(staff_complained_about=people["officer_2"])
    for actor in ("teller", "officer_b", "officer_2", "manager"):
        # Intake only; another branch; the staff member complained about; their manager.
        with pytest.raises(PermissionDenied):
            complaint_assign(actor=people[actor], complaint=complaint, officer=people["officer"])
    # Nobody may give it to the staff member complained about, nor to their manager.
    for officer in ("officer_2", "manager", "teller"):
        with pytest.raises(BadInput) as refused:
            complaint_assign(actor=people["hq"], complaint=complaint, officer=people[officer])
        assert refused.value.field == "officer"
    complaint.refresh_from_db()
    assert complaint.assigned_to is None


def test_an_ended_complaint_is_not_assigned(complaint, people):
    complaint = complaint_withdraw(actor=people["officer"], complaint=complaint)
    with pytest.raises(Conflict):
        complaint_assign(actor=people["manager"], complaint=complaint, officer=people["officer"])


def test_an_assigned_complaint_is_handled_by_its_officer_or_a_manager(complaint, people):
    complaint_assign(actor=people["manager"], complaint=complaint, officer=people["officer"])
    with pytest.raises(PermissionDenied):
        complaint_acknowledge(actor=people["officer_2"], complaint=complaint)
    complaint = complaint_acknowledge(actor=people["regional"], complaint=complaint)
    assert complaint.status == ComplaintStatus.ACKNOWLEDGED


def test_query_budget_of_an_assignment(complaint, people, django_assert_max_num_queries):
    manager = people["manager"]
    complaint_acknowledge(actor=manager, complaint=complaint, send_letter=False)  # scope cached
    # Savepoint, lock, the eligibility check (one query), save, event, release.
    with django_assert_max_num_queries(6):
        complaint_assign(actor=manager, complaint=complaint, officer=people["officer"])
