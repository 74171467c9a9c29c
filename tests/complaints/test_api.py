"""The complaints API: configuration reads, intake, the lifecycle's steps as POST actions (400 per
field, 403, 404, 409), scopes of API keys, branch scope, masking of the complainant's contact,
Idempotency-Key, and fixed query counts."""

import datetime as dt

import pytest
from django.utils import timezone

from bankservice.branches.models import Role
from bankservice.events.models import Event
from complaints.models import (
    ComplaintExtension,
    ComplaintStatus,
    Letter,
    RootCause,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

COMPLAINTS = "/api/v1/complaints"


def at(complaint, step=""):
    return f"{COMPLAINTS}/{complaint.pk}" + (f"/{step}" if step else "")


@pytest.fixture
def as_user(api):
    def sign_in(user):
        api.force_authenticate(user)
        return api

    return sign_in


@pytest.fixture
def complaint(make_complaint):
    return make_complaint()


def body(branch, category_, **extra):
    values = {
        "branch": branch.code,
        "channel": "phone",
        "category": category_.code,
        "description": "Charged twice for one card payment.",
        "contact_name": "Wang Fang",
        "contact_phone": "+8613912345678",
    }
    values.update(extra)
    return values


def investigating(api, complaint, officer):
    """Assigned to `officer`, acknowledged and under investigation, through the API."""
    assert api.post(at(complaint, "assign"), {"officer": officer.pk}).status_code == 200
    assert api.post(at(complaint, "acknowledge"), {"send_letter": False}).status_code == 200
    answer = api.post(at(complaint, "investigate"))
    assert answer.status_code == 200, answer.json()
    return answer.json()


# --- Configuration.


def test_rule_packs_categories_and_root_causes_are_read_with_the_read_scope(
    make_api_client, cn_pack
):
    reader = make_api_client(["complaints:read"], all_branches=True)
    packs = reader.get("/api/v1/rule-packs").json()["results"]
    assert {p["code"] for p in packs} >= {"cn", "uk", "us"}
    cn = reader.get("/api/v1/rule-packs/cn").json()
    clocks = {c["code"]: c for c in cn["clocks"]}
    assert clocks["decision"]["duration"] == 15
    assert clocks["further_extension"]["extends"] == "extension"
    assert clocks["further_extension"]["requires_approval"] is True
    assert clocks["review_request_window"]["is_window"] is True
    chinese = reader.get("/api/v1/rule-packs/cn", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert chinese["name"] == "中国银保监会消费投诉时限"

    categories = {c["code"]: c for c in reader.get("/api/v1/complaint-categories").json()}
    assert categories["card"]["parent"] is None
    assert any(c["parent"] == "card" for c in categories.values())
    causes = reader.get("/api/v1/root-causes").json()
    assert {c["code"] for c in causes} == set(
        RootCause.objects.filter(is_active=True).values_list("code", flat=True)
    )
    assert reader.get("/api/v1/rule-packs/nope").status_code == 404

    outsider = make_api_client(["transactions:read"], all_branches=True)
    for url in ("/api/v1/rule-packs", "/api/v1/complaint-categories", "/api/v1/root-causes"):
        assert outsider.get(url).status_code == 403


# --- Intake.


def test_a_teller_records_a_complaint_and_its_clocks_start(as_user, teller, branch_a, category):
    answer = as_user(teller).post(COMPLAINTS, body(branch_a, category, language="en"))
    assert answer.status_code == 201, answer.json()
    created = answer.json()
    assert created["reference"].startswith("CP")
    assert created["status"] == "received"
    assert created["branch"] == branch_a.code
    assert created["pack"] == "cn"
    assert created["complainant"] == "Wang Fang"
    assert created["contact_phone"] == "+8613912345678"  # a teller may see personal data
    assert [c["code"] for c in created["clocks"]] == ["decision"]
    assert created["clocks"][0]["state"] == "open"
    assert created["clocks"][0]["nature"] == "regulatory"


def test_an_intake_system_records_complaints_with_the_write_scope(
    make_api_client, branch_a, branch_b, category
):
    intake = make_api_client(["complaints:read", "complaints:write"], branches=[branch_a])
    answer = intake.post(COMPLAINTS, body(branch_a, category, channel="online_form"))
    assert answer.status_code == 201, answer.json()
    assert answer.json()["contact_phone"] != "+8613912345678"  # no customers:reveal_pii
    elsewhere = intake.post(COMPLAINTS, body(branch_b, category))
    assert elsewhere.status_code == 400
    assert set(elsewhere.json()) == {"branch"}

    reader = make_api_client(["complaints:read"], branches=[branch_a])
    assert reader.post(COMPLAINTS, body(branch_a, category)).status_code == 403


def test_bad_intake_is_a_400_with_messages_per_field(
    as_user, teller, branch_a, category, complainant
):
    api = as_user(teller)
    wrong = api.post(
        COMPLAINTS,
        body(branch_a, category, channel="pigeon", category="nope", amount="-3"),
    )
    assert wrong.status_code == 400
    assert set(wrong.json()) == {"channel", "category", "amount"}

    no_contact = api.post(COMPLAINTS, body(branch_a, category, contact_phone=""))
    assert no_contact.status_code == 400
    assert no_contact.json() == {
        "contact_phone": ["Give a phone number or an e-mail address to reach the complainant."]
    }

    both = api.post(COMPLAINTS, body(branch_a, category, customer=complainant.pk))
    assert both.status_code == 400
    assert set(both.json()) == {"contact_name"}

    future = timezone.now() + dt.timedelta(days=1)
    later = api.post(COMPLAINTS, body(branch_a, category, received_at=future.isoformat()))
    assert later.status_code == 400
    assert set(later.json()) == {"received_at"}


def test_creating_is_idempotent(as_user, teller, branch_a, category):
    api = as_user(teller)
    first = api.post(COMPLAINTS, body(branch_a, category), HTTP_IDEMPOTENCY_KEY="intake-1")
    again = api.post(COMPLAINTS, body(branch_a, category), HTTP_IDEMPOTENCY_KEY="intake-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Event.objects.filter(type="complaints.complaint_received").count() == 1
    other = api.post(
        COMPLAINTS, body(branch_a, category, channel="letter"), HTTP_IDEMPOTENCY_KEY="intake-1"
    )
    assert other.status_code == 422


# --- Lists, scope, masking.


def test_the_list_is_scoped_filtered_and_costs_fixed_queries(
    as_user,
    make_api_client,
    make_complaint,
    make_staff,
    officer,
    branch_a,
    branch_b,
    category,
    django_assert_num_queries,
):
    from complaints.models import Category

    fees = Category.objects.get(code="charges")
    first = make_complaint()
    second = make_complaint(channel="phone", category=fees)
    other = make_staff(Role.TELLER, branch=branch_b, username="teller-b")
    elsewhere = make_complaint(actor=other, branch=branch_b, customer=CustomerFactory())

    api = as_user(officer)
    api.get(COMPLAINTS)  # the user's scope is read once (cached on the signed-in user)
    with django_assert_num_queries(2):  # the page; the complainant shown in full, audited
        listed = api.get(COMPLAINTS).json()
    assert [c["id"] for c in listed["results"]] == [second.pk, first.pk]
    assert elsewhere.pk not in {c["id"] for c in listed["results"]}
    assert api.get(at(elsewhere)).status_code == 404

    def ids(**query):
        answer = api.get(COMPLAINTS, query)
        assert answer.status_code == 200, answer.json()
        return {c["id"] for c in answer.json()["results"]}

    assert ids(channel="phone") == {second.pk}
    assert ids(category="card") == {first.pk}
    assert ids(status="received") == {first.pk, second.pk}
    assert api.get(COMPLAINTS, {"status": "decided"}).status_code == 400
    assert ids(branch=branch_a.code) == {first.pk, second.pk}
    assert ids(branch="no-such-branch") == set()
    assert ids(repeat="true") == set()  # repeats need the same product: see the next test
    assert ids(overdue="true") == set()
    assert ids(received_after=(timezone.now() + dt.timedelta(hours=1)).isoformat()) == set()
    assert ids(assigned_to=officer.pk) == set()
    bad = api.get(COMPLAINTS, {"received_after": "yesterday"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"received_after"}

    # An API key of every branch, without customers:reveal_pii: contacts masked.
    key = make_api_client(["complaints:read"], all_branches=True)
    key.get(COMPLAINTS)
    with django_assert_num_queries(2):  # key, page
        rows = {c["id"]: c for c in key.get(COMPLAINTS).json()["results"]}
    assert set(rows) == {first.pk, second.pk, elsewhere.pk}
    assert rows[first.pk]["contact_email"] != first.customer.email
    assert "@" in rows[first.pk]["contact_email"]
    revealed = make_api_client(["complaints:read", "customers:reveal_pii"], all_branches=True)
    row = revealed.get(at(first)).json()
    assert row["contact_email"] == first.customer.email
    assert row["contact_phone"] == first.customer.phone


def test_repeat_and_overdue_filters(as_user, make_complaint, officer, complainant, db):
    from bankservice.customers.models import Product

    product = Product.objects.create(
        code="debit-card", family="cards", name_zh="借记卡", name_en="Debit card"
    )
    long_ago = timezone.now() - dt.timedelta(days=40)
    old = make_complaint(product=product, received_at=long_ago)
    repeat = make_complaint(product=product)
    api = as_user(officer)
    listed = {c["id"]: c for c in api.get(COMPLAINTS, {"repeat": "true"}).json()["results"]}
    assert set(listed) == {repeat.pk}
    assert listed[repeat.pk]["repeat_of"] == old.pk
    assert {c["id"] for c in api.get(COMPLAINTS, {"product": "debit-card"}).json()["results"]} == {
        old.pk,
        repeat.pk,
    }
    # Received 40 days ago: its 15-day decision clock is past and unmet.
    assert {c["id"] for c in api.get(COMPLAINTS, {"overdue": "true"}).json()["results"]} == {old.pk}
    assert {c["id"] for c in api.get(COMPLAINTS, {"overdue": "false"}).json()["results"]} == {
        repeat.pk
    }


def test_one_complaint_shows_its_clocks_extensions_and_letters_in_fixed_queries(
    as_user, complaint, officer, branch_manager, django_assert_num_queries
):
    api = as_user(branch_manager)
    investigating(api, complaint, officer)
    api.post(
        at(complaint, "extensions"), {"clock": "extension", "reason": "Needs the card scheme."}
    )
    api.get(at(complaint))
    # complaint, pack clocks, extensions, letters, notes, its clocks (deadlines)
    with django_assert_num_queries(7):  # with the audit of the complainant shown in full
        detail = api.get(at(complaint)).json()
    assert detail["status"] == "investigating"
    assert detail["assigned_to"] == officer.pk
    assert [e["clock"] for e in detail["extensions"]] == ["extension"]
    assert detail["extensions"][0]["status"] == "approved"
    assert {letter["kind"] for letter in detail["letters"]} == {"extension_notice"}
    assert "body" not in detail["letters"][0]
    decision = next(c for c in detail["clocks"] if c["code"] == "decision")
    assert decision["extended_count"] == 1
    assert decision["name"] == "Decision and notice"


# --- The lifecycle.


def test_notes_and_a_corrected_category(as_user, complaint, officer, branch_manager, teller):
    api = as_user(branch_manager)
    investigating(api, complaint, officer)
    api = as_user(officer)
    assert api.post(at(complaint, "notes"), {"text": " "}).status_code == 400
    noted = api.post(at(complaint, "notes"), {"text": "Called the card scheme."})
    assert noted.status_code == 200
    assert [(n["kind"], n["text"], n["author"]) for n in noted.json()["notes"]] == [
        ("note", "Called the card scheme.", officer.pk)
    ]
    wrong = api.post(at(complaint, "classify"), {"category": "loan", "subcategory": "card-credit"})
    assert wrong.status_code == 400 and "subcategory" in wrong.json()
    fixed = api.post(
        at(complaint, "classify"), {"category": "loan", "subcategory": "loan-mortgage"}
    )
    assert fixed.status_code == 200
    assert (fixed.json()["category"], fixed.json()["subcategory"]) == ("loan", "loan-mortgage")
    # Intake staff read the case but do not handle it.
    assert as_user(teller).post(at(complaint, "notes"), {"text": "x"}).status_code == 403


def test_the_whole_lifecycle_through_the_api(as_user, complaint, officer, branch_manager):
    api = as_user(branch_manager)
    investigating(api, complaint, officer)
    api = as_user(officer)
    waiting = api.post(at(complaint, "wait"), {"note": "Asked for the card statement."})
    assert waiting.json()["status"] == "waiting_on_customer"
    assert api.post(at(complaint, "resume"), {}).json()["status"] == "investigating"
    proposed = api.post(at(complaint, "propose"), {"proposal": "Refund the fee of 25 CNY."})
    assert proposed.json()["status"] == "resolution_proposed"
    accepted = api.post(at(complaint, "accept"))
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "resolved"
    assert accepted.json()["decided_at"] is not None
    decision = next(c for c in accepted.json()["clocks"] if c["code"] == "decision")
    assert decision["state"] == "met"

    cause = RootCause.objects.filter(is_active=True).first()
    analysed = api.post(
        at(complaint, "root-cause"), {"root_cause": cause.code, "note": "ATM fault."}
    )
    assert analysed.json()["root_cause"] == cause.code

    # Reopening is for managers.
    assert api.post(at(complaint, "reopen"), {"reason": "New facts."}).status_code == 403
    reopened = as_user(branch_manager).post(at(complaint, "reopen"), {"reason": "New facts."})
    assert reopened.json()["status"] == "investigating"
    assert reopened.json()["reopened_count"] == 1

    decided = as_user(officer).post(
        at(complaint, "decide"),
        {"outcome": "partially_upheld", "reasons": "Half the fee.", "redress_amount": "12.50"},
    )
    assert decided.status_code == 200, decided.json()
    assert decided.json()["status"] == "partially_upheld"
    assert decided.json()["redress_amount"] == "12.50"
    letters = api.get("/api/v1/letters", {"complaint": complaint.pk}).json()["results"]
    assert "final_response" in {letter["kind"] for letter in letters}
    one = api.get(f"/api/v1/letters/{letters[-1]['id']}").json()
    assert one["body"] == Letter.objects.get(pk=one["id"]).body
    assert api.get("/api/v1/letters").status_code == 400  # which complaint?

    review = api.post(at(complaint, "review"), {"reason": "I disagree with the decision."})
    assert review.status_code == 201, review.json()
    assert review.json()["review_of"] == complaint.pk
    assert review.json()["id"] != complaint.pk


def test_a_step_the_state_does_not_allow_is_a_409_and_bad_bodies_a_400(
    as_user, complaint, officer, branch_manager
):
    api = as_user(branch_manager)
    assert api.post(at(complaint, "accept")).status_code == 409
    assert api.post(at(complaint, "assign"), {"officer": 999999}).json() == {
        "officer": ["No such member of staff."]
    }
    investigating(api, complaint, officer)
    api = as_user(officer)
    no_reasons = api.post(at(complaint, "decide"), {"outcome": "won"})
    assert no_reasons.status_code == 400
    assert set(no_reasons.json()) == {"outcome", "reasons"}
    negative = api.post(
        at(complaint, "decide"), {"outcome": "upheld", "reasons": "x", "redress_amount": "-1"}
    )
    assert set(negative.json()) == {"redress_amount"}
    assert api.post(at(complaint, "wait"), {}).json() == {"note": ["This field is required."]}
    unknown_clock = api.post(at(complaint, "extensions"), {"clock": "decision", "reason": "x"})
    assert unknown_clock.json() == {"clock": ["The complaint's rule pack has no such extension."]}
    assert api.post(at(complaint, "reopen"), {"reason": "x"}).status_code == 403


def test_steps_are_for_staff_and_by_role_and_branch(
    make_api_client, as_user, complaint, teller, make_staff, branch_b
):
    key = make_api_client(["complaints:read", "complaints:write"], all_branches=True)
    refused = key.post(at(complaint, "acknowledge"))
    assert refused.status_code == 403
    assert as_user(teller).post(at(complaint, "acknowledge")).status_code == 403
    officer_b = make_staff(Role.COMPLAINT_OFFICER, branch=branch_b, username="officer-b")
    assert as_user(officer_b).post(at(complaint, "acknowledge")).status_code == 404


def test_the_staff_member_complained_about_may_not_act(as_user, make_complaint, officer, officer_2):
    about_officer = make_complaint(staff_complained_about=officer)
    assert as_user(officer).post(at(about_officer, "acknowledge")).status_code == 403
    assert as_user(officer_2).post(at(about_officer, "acknowledge")).status_code == 200


def test_withdraw_and_merge(as_user, make_complaint, officer, complainant):
    earlier = make_complaint()
    later = make_complaint()
    api = as_user(officer)
    assert api.post(at(later, "merge"), {"into": 999999}).json() == {
        "into": ["No such complaint at your branches."]
    }
    merged = api.post(at(later, "merge"), {"into": earlier.pk})
    assert merged.status_code == 200, merged.json()
    assert merged.json()["status"] == "merged"
    assert merged.json()["merged_into"] == earlier.pk
    withdrawn = api.post(at(earlier, "withdraw"), {"note": "Sorted out at the counter."})
    assert withdrawn.json()["status"] == "withdrawn"
    assert all(c["state"] == "cancelled" for c in withdrawn.json()["clocks"])


def test_a_further_extension_waits_for_a_higher_level(
    as_user, complaint, officer, branch_manager, regional_manager, django_assert_num_queries
):
    api = as_user(branch_manager)
    investigating(api, complaint, officer)
    api = as_user(officer)
    first = api.post(at(complaint, "extensions"), {"clock": "extension", "reason": "Complex."})
    assert first.status_code == 201
    assert first.json()["status"] == "approved"
    further = api.post(
        at(complaint, "extensions"), {"clock": "further_extension", "reason": "Very complex."}
    )
    assert further.status_code == 201, further.json()
    assert further.json()["status"] == "requested"
    extension = ComplaintExtension.objects.get(pk=further.json()["id"])
    decide = f"/api/v1/complaint-extensions/{extension.pk}/decide"
    # The branch manager does not approve extensions; the regional manager does.
    assert as_user(branch_manager).post(decide, {"approve": True}).status_code == 403
    assert as_user(regional_manager).post(decide, {}).json() == {
        "approve": ["This field is required."]
    }
    approved = as_user(regional_manager).post(decide, {"approve": True, "note": "Agreed."})
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == regional_manager.pk
    assert as_user(regional_manager).post(decide, {"approve": False}).status_code == 409
    listed = as_user(officer).get("/api/v1/complaint-extensions", {"complaint": complaint.pk})
    assert [e["clock"] for e in listed.json()["results"]] == ["further_extension", "extension"]


def test_a_higher_level_refuses_an_extension(
    as_user, complaint, officer, branch_manager, regional_manager
):
    investigating(as_user(branch_manager), complaint, officer)
    api = as_user(officer)
    api.post(at(complaint, "extensions"), {"clock": "extension", "reason": "Complex."})
    further = api.post(
        at(complaint, "extensions"), {"clock": "further_extension", "reason": "Very complex."}
    ).json()
    decide = f"/api/v1/complaint-extensions/{further['id']}/decide"
    assert api.post(decide, {"approve": True}).status_code == 403  # not a higher level
    refused = as_user(regional_manager).post(decide, {"approve": False, "note": "Decide now."})
    assert refused.status_code == 200, refused.json()
    assert refused.json()["status"] == "refused"
    detail = api.get(at(complaint)).json()
    decision = next(c for c in detail["clocks"] if c["code"] == "decision")
    assert decision["extended_count"] == 1  # the first extension only


def test_an_api_key_of_one_branch_reads_that_branch_only(
    make_api_client, make_complaint, make_staff, branch_a, branch_b
):
    here = make_complaint()
    teller_b = make_staff(Role.TELLER, branch=branch_b, username="teller-b")
    there = make_complaint(actor=teller_b, branch=branch_b, customer=CustomerFactory())
    key = make_api_client(["complaints:read"], branches=[branch_b])
    assert [c["id"] for c in key.get(COMPLAINTS).json()["results"]] == [there.pk]
    assert key.get(at(here)).status_code == 404
    assert key.get(at(there)).status_code == 200
    assert key.get("/api/v1/letters", {"complaint": here.pk}).json()["results"] == []


def test_steps_are_idempotent(as_user, complaint, officer):
    api = as_user(officer)
    first = api.post(at(complaint, "acknowledge"), {}, HTTP_IDEMPOTENCY_KEY="ack-1")
    again = api.post(at(complaint, "acknowledge"), {}, HTTP_IDEMPOTENCY_KEY="ack-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.filter(type="complaints.complaint_acknowledged").count() == 1
    # Without the key the second acknowledgement is refused by the state.
    assert api.post(at(complaint, "acknowledge"), {}).status_code == 409


def test_status_filter_takes_several_values(as_user, make_complaint, officer):
    first, second = make_complaint(), make_complaint()
    as_user(officer).post(at(second, "acknowledge"), {"send_letter": False})
    listed = as_user(officer).get(COMPLAINTS + "?status=received&status=acknowledged").json()
    assert {c["id"] for c in listed["results"]} == {first.pk, second.pk}
    acknowledged = as_user(officer).get(COMPLAINTS, {"status": ComplaintStatus.ACKNOWLEDGED})
    assert {c["id"] for c in acknowledged.json()["results"]} == {second.pk}


# --- Corrective actions.


def test_corrective_actions_are_created_completed_and_cancelled(
    as_user, complaint, officer, branch_manager, django_assert_num_queries
):
    cause = RootCause.objects.filter(is_active=True).first()
    api = as_user(officer)
    due = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    bad = api.post(
        "/api/v1/corrective-actions",
        {"complaint": complaint.pk, "root_cause": "nope", "description": "", "owner": 0},
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"root_cause", "description", "owner", "due_date"}
    created = api.post(
        "/api/v1/corrective-actions",
        {
            "complaint": complaint.pk,
            "root_cause": cause.code,
            "description": "Service the ATM's card reader.",
            "owner": officer.pk,
            "due_date": due,
        },
    )
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "open"
    assert created.json()["branch"] == complaint.branch.code
    action_id = created.json()["id"]
    done = api.post(
        f"/api/v1/corrective-actions/{action_id}/complete", {"note": "Reader replaced."}
    )
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "done"
    assert done.json()["completion_note"] == "Reader replaced."
    assert (
        api.post(f"/api/v1/corrective-actions/{action_id}/complete", {"note": "x"}).status_code
        == 409
    )

    second = api.post(
        "/api/v1/corrective-actions",
        {
            "complaint": complaint.pk,
            "root_cause": cause.code,
            "description": "Retrain the staff.",
            "owner": officer.pk,
            "due_date": due,
        },
    ).json()
    cancel = f"/api/v1/corrective-actions/{second['id']}/cancel"
    assert api.post(cancel, {"reason": "Not needed."}).status_code == 403  # managers cancel
    assert as_user(branch_manager).post(cancel, {}).json() == {
        "reason": ["This field is required."]
    }
    cancelled = as_user(branch_manager).post(
        f"/api/v1/corrective-actions/{second['id']}/cancel", {"reason": "Covered by the first."}
    )
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled"

    api = as_user(branch_manager)
    api.get("/api/v1/corrective-actions")
    with django_assert_num_queries(1):  # the page
        listed = api.get("/api/v1/corrective-actions", {"status": "done"}).json()
    assert [a["id"] for a in listed["results"]] == [action_id]
