"""The REST API of transaction processing: request types and bundles, the request's steps with
their status codes (400 per field, 403, 404, 409, 422), Idempotency-Key on create and actions,
scopes of API keys, branch scope, masking, and fixed query counts."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bankservice.branches.models import Role
from bankservice.core.models import IdempotencyKey
from tests.factories import UserFactory
from tests.transactions.flow import PNG_BYTES, drafted, png, submitted
from transactions.models import BundleRun, RequestStatus, ServiceRequest

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/requests"


def at(request, step=""):
    return f"{REQUESTS}/{request.pk}" + (f"/{step}" if step else "")


@pytest.fixture
def as_user(api):
    """as_user(user) -> the API client signed in as that member of staff."""

    def sign_in(user):
        api.force_authenticate(user)
        return api

    return sign_in


@pytest.fixture
def core_banking(make_api_client):
    return make_api_client(
        ["transactions:read", "transactions:core_banking"], all_branches=True, name="core"
    )


@pytest.fixture
def draft(open_account_type, customer, maker, valid_data):
    return drafted(open_account_type, customer, maker, valid_data(open_account_type, customer))


@pytest.fixture
def waiting(open_account_type, customer, maker, valid_data):
    """An open-account request waiting for the approver (one level)."""
    return submitted(open_account_type, customer, maker, valid_data(open_account_type, customer))


def create_body(request_type, customer, branch, **data):
    return {
        "request_type": request_type.code,
        "customer": customer.pk,
        "branch": branch.code,
        "data": data,
    }


# --- Request types and bundles.


def test_request_types_carry_their_current_form_in_the_callers_language(
    make_api_client, open_account_type, withdrawal_type, django_assert_max_num_queries
):
    reader = make_api_client(["transactions:read"], all_branches=True)
    reader.get("/api/v1/request-types")  # the key's first use notes the time (a write)
    with django_assert_max_num_queries(4):  # key, count, types, current versions
        answer = reader.get("/api/v1/request-types").json()
    by_code = {t["code"]: t for t in answer["results"]}
    assert set(by_code) == {"open_account", "large_withdrawal"}
    form = by_code["open_account"]["form"]
    assert form["version"] == 1
    assert "national_id" in form["form_schema"]["properties"]
    fields = {f["name"]: f for s in form["layout"] for f in s["fields"]}
    assert fields["full_name"]["label"] == "Full name"
    assert fields["purpose_other"]["show_if"] == "purpose"
    assert fields["purpose_other"]["show_values"] == ["other"]
    assert fields["address"]["attrs"]["maxlength"] == "200"

    chinese = reader.get("/api/v1/request-types/open_account", HTTP_ACCEPT_LANGUAGE="zh-hans")
    layout = chinese.json()["form"]["layout"]
    assert {f["name"]: f["label"] for s in layout for f in s["fields"]}["full_name"] == "姓名"
    assert reader.get("/api/v1/request-types/no_such_type").status_code == 404
    assert make_api_client(["reception:read"]).get("/api/v1/request-types").status_code == 403


def test_bundles_list_their_request_types_in_order(make_api_client, new_customer_bundle):
    reader = make_api_client(["transactions:read"], all_branches=True)
    bundle = reader.get(f"/api/v1/bundles/{new_customer_bundle.code}").json()
    assert bundle["request_types"] == ["open_account", "activate_card", "mobile_banking"]
    assert set(bundle["shared_fields"]) == set(new_customer_bundle.shared_fields)


# --- Drafts.


def test_a_maker_creates_a_prefilled_draft_and_changes_it(
    as_user, maker, customer, branch_a, open_account_type
):
    api = as_user(maker)
    created = api.post(
        REQUESTS, create_body(open_account_type, customer, branch_a, purpose="salary")
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft"
    assert body["reference"].startswith("SR")
    assert body["data"]["full_name"] == customer.full_name  # from the customer's record
    assert body["data"]["purpose"] == "salary"

    request = ServiceRequest.objects.get(pk=body["id"])
    changed = api.patch(at(request), {"data": {"purpose": "savings", "address": "1 Bund Road"}})
    assert changed.status_code == 200
    assert changed.json()["data"]["purpose"] == "savings"
    request.refresh_from_db()
    assert request.data["address"] == "1 Bund Road"


def test_bad_input_is_a_400_with_messages_per_field(
    as_user, maker, customer, branch_a, branch_b, open_account_type, draft
):
    api = as_user(maker)
    wrong_value = api.post(
        REQUESTS, create_body(open_account_type, customer, branch_a, purpose="gambling")
    )
    assert wrong_value.status_code == 400
    assert wrong_value.json()["data"] == {"purpose": ["Choose one of the options."]}
    assert "detail" in wrong_value.json()

    unknown = api.post(
        REQUESTS,
        {"request_type": "no_such", "customer": customer.pk, "branch": branch_b.code},
    )
    assert unknown.status_code == 400
    assert set(unknown.json()) == {"request_type", "branch"}

    no_data = api.patch(at(draft), {"data": {"phone": "12"}})
    assert no_data.status_code == 400
    assert set(no_data.json()["data"]) == {"phone"}
    assert api.patch(at(draft), {}).json() == {"data": ["This field is required."]}
    assert ServiceRequest.objects.count() == 1


def test_create_with_an_idempotency_key_makes_one_draft(
    as_user, maker, customer, branch_a, open_account_type
):
    api = as_user(maker)
    body = create_body(open_account_type, customer, branch_a, purpose="salary")
    first = api.post(REQUESTS, body, HTTP_IDEMPOTENCY_KEY="new-draft-1")
    again = api.post(REQUESTS, body, HTTP_IDEMPOTENCY_KEY="new-draft-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ServiceRequest.objects.count() == 1

    other = {**body, "data": {"purpose": "savings"}}
    refused = api.post(REQUESTS, other, HTTP_IDEMPOTENCY_KEY="new-draft-1")
    assert refused.status_code == 422
    assert ServiceRequest.objects.count() == 1


# --- Documents and submission.


def test_documents_are_checked_and_required_before_submission(as_user, maker, draft):
    api = as_user(maker)
    missing = api.post(at(draft, "submit"))
    assert missing.status_code == 400
    assert list(missing.json()) == ["documents"]

    text = SimpleUploadedFile("id.png", b"just text, not an image", content_type="image/png")
    refused = api.post(
        at(draft, "documents"), {"doc_type": "id_copy", "file": text}, format="multipart"
    )
    assert refused.status_code == 400
    assert "file" in refused.json()
    wrong_type = api.post(
        at(draft, "documents"), {"doc_type": "payslip", "file": png()}, format="multipart"
    )
    assert wrong_type.json() == {"doc_type": ["This form takes no document of that type."]}

    upload = {"doc_type": "id_copy", "file": png()}
    attached = api.post(
        at(draft, "documents"), upload, format="multipart", HTTP_IDEMPOTENCY_KEY="d1"
    )
    assert attached.status_code == 201
    assert attached.json()["content_type"] == "image/png"
    assert attached.json()["size"] == len(PNG_BYTES)
    retried = api.post(
        at(draft, "documents"),
        {"doc_type": "id_copy", "file": png()},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="d1",
    )
    assert retried["Idempotent-Replayed"] == "true"
    assert draft.documents.count() == 1

    sent = api.post(at(draft, "submit"))
    assert sent.status_code == 200
    assert sent.json()["status"] == "submitted"
    assert sent.json()["approval_levels"] == ["approver"]
    assert [d["doc_type"] for d in sent.json()["documents"]] == ["id_copy"]
    changed = api.patch(at(draft), {"data": {"purpose": "savings"}})
    assert changed.status_code == 409
    assert changed.json()["status"] == "submitted"


def test_submitting_an_incomplete_form_lists_the_missing_fields(as_user, maker, draft):
    draft.data.pop("address")
    draft.save(update_fields=["data"])
    draft.documents.create(
        doc_type="id_copy",
        file="x",
        name="id.png",
        content_type="image/png",
        size=1,
        sha256="0" * 64,
        uploaded_by=maker,
    )
    answer = as_user(maker).post(at(draft, "submit"))
    assert answer.status_code == 400
    assert answer.json()["data"] == {"address": ["This field is required."]}
    draft.refresh_from_db()
    assert draft.status == RequestStatus.DRAFT


# --- Decisions.


def test_four_eyes_and_a_decided_level(
    as_user, manager, approver, approver_2, open_account_type, customer, valid_data, waiting
):
    # A branch manager may approve, never a request of their own making.
    own = submitted(open_account_type, customer, manager, valid_data(open_account_type, customer))
    refused = as_user(manager).post(at(own, "approve"))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "You made this request: someone else must decide it."

    approved = as_user(approver).post(at(waiting, "approve"), {"note": "ok", "level": 1})
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "sent"  # one level: approved and handed to core banking
    assert [(a["level"], a["decision"], a["approver"]) for a in body["approvals"]] == [
        (1, "approved", approver.pk)
    ]
    late = as_user(approver_2).post(at(waiting, "approve"), {"level": 1})
    assert late.status_code == 409
    assert late.json()["status"] == "sent"


def test_a_retried_approval_answers_the_approval_not_a_conflict(as_user, approver, waiting):
    api = as_user(approver)
    first = api.post(at(waiting, "approve"), {"level": 1}, HTTP_IDEMPOTENCY_KEY="approve-1")
    retry = api.post(at(waiting, "approve"), {"level": 1}, HTTP_IDEMPOTENCY_KEY="approve-1")
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert waiting.approvals.count() == 1
    # Without the key, the second approval is what it is: a conflict.
    assert api.post(at(waiting, "approve"), {"level": 1}).status_code == 409


def test_return_resubmit_reject_and_cancel(as_user, maker, approver, approver_2, waiting, draft):
    no_reason = as_user(approver).post(at(waiting, "return"), {"reason": " "})
    assert no_reason.status_code == 400
    assert no_reason.json() == {"reason": ["Give a reason."]}

    returned = as_user(approver).post(at(waiting, "return"), {"reason": "Address is unclear"})
    assert returned.json()["status"] == "returned"
    assert returned.json()["rework_count"] == 1
    resubmitted = as_user(maker).post(at(waiting, "submit"))
    assert resubmitted.json()["status"] == "submitted"
    assert resubmitted.json()["round"] == 2

    rejected = as_user(approver_2).post(at(waiting, "reject"), {"reason": "Not eligible"})
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["status_reason"] == "Not eligible"

    cancelled = as_user(maker).post(at(draft, "cancel"))
    assert cancelled.json()["status"] == "cancelled"
    again = as_user(maker).post(at(draft, "cancel"))
    assert again.status_code == 409
    assert again.json()["status"] == "cancelled"


# --- Scope.


def test_roles_branches_and_api_keys(
    as_user, api, make_staff, make_api_client, waiting, branch_a, branch_b, customer
):
    assert api.get(REQUESTS).status_code in {401, 403}
    assert as_user(UserFactory(username="nobody")).get(REQUESTS).status_code == 403

    elsewhere = make_staff(Role.APPROVER, branch=branch_b, username="approver-b")
    assert as_user(elsewhere).get(REQUESTS).json()["results"] == []
    assert as_user(elsewhere).get(at(waiting)).status_code == 404
    assert as_user(elsewhere).post(at(waiting, "approve")).status_code == 404
    # A teller reads but does not decide.
    teller_b = make_staff(Role.TELLER, branch=branch_a, username="teller-2")
    assert as_user(teller_b).post(at(waiting, "approve")).status_code == 403

    reader_a = make_api_client(["transactions:read"], branches=[branch_a], name="reader-a")
    reader_b = make_api_client(["transactions:read"], branches=[branch_b], name="reader-b")
    assert [r["id"] for r in reader_a.get(REQUESTS).json()["results"]] == [waiting.pk]
    assert reader_b.get(at(waiting)).status_code == 404
    assert reader_a.post(at(waiting, "approve")).status_code == 403
    # Requests are made and decided by people: a key may not, whatever its scopes say.
    writer = make_api_client(["transactions:read", "transactions:write"], all_branches=True)
    made = writer.post(REQUESTS, {"request_type": "open_account", "customer": customer.pk})
    assert made.status_code == 403
    assert "members of staff" in made.json()["detail"]
    assert writer.post(at(waiting, "cancel")).status_code == 403


def test_form_data_is_masked_without_the_right_to_see_personal_data(
    make_api_client, as_user, make_staff, branch_a, waiting, customer
):
    masked = make_api_client(["transactions:read"], all_branches=True).get(at(waiting)).json()
    assert masked["data"]["national_id"] != customer.national_id
    assert masked["data"]["national_id"].endswith(customer.national_id[-4:])
    assert "*" in masked["data"]["phone"]
    greeter = make_staff(Role.GREETER, branch=branch_a)
    assert "*" in as_user(greeter).get(at(waiting)).json()["data"]["national_id"]

    reveal = make_api_client(
        ["transactions:read", "customers:reveal_pii"], all_branches=True, name="reveal"
    )
    assert reveal.get(at(waiting)).json()["data"]["national_id"] == customer.national_id


# --- Core banking's callback.


@pytest.fixture
def sent(as_user, approver, waiting):
    as_user(approver).post(at(waiting, "approve"))
    waiting.refresh_from_db()
    assert waiting.status == RequestStatus.SENT
    return waiting


def test_core_banking_reports_a_result_once(core_banking, sent):
    result = {"result": "executed", "reference": "CB-778812"}
    done = core_banking.post(at(sent, "core-result"), result)
    assert done.status_code == 200
    assert done.json()["status"] == "executed"
    assert done.json()["core_reference"] == "CB-778812"
    # The same result again changes nothing and answers the same; another result is a conflict.
    assert core_banking.post(at(sent, "core-result"), result).json() == done.json()
    other = core_banking.post(at(sent, "core-result"), {"result": "failed", "reason": "x"})
    assert other.status_code == 409
    assert other.json()["status"] == "executed"


def test_core_banking_bad_input_unknown_request_and_scope(
    core_banking, make_api_client, as_user, maker, sent, waiting, draft
):
    assert (
        core_banking.post(f"{REQUESTS}/999999/core-result", {"result": "executed"}).status_code
        == 404
    )
    no_reference = core_banking.post(at(sent, "core-result"), {"result": "executed"})
    assert no_reference.json() == {"reference": ["Give core banking's reference."]}
    assert core_banking.post(at(sent, "core-result"), {"result": "done"}).status_code == 400
    not_sent = core_banking.post(at(draft, "core-result"), {"result": "failed", "reason": "x"})
    assert not_sent.status_code == 409
    assert not_sent.json()["status"] == "draft"

    reader = make_api_client(["transactions:read"], all_branches=True)
    assert reader.post(at(sent, "core-result"), {"result": "failed"}).status_code == 403
    assert as_user(maker).post(at(sent, "core-result"), {"result": "failed"}).status_code == 403
    sent.refresh_from_db()
    assert sent.status == RequestStatus.SENT


def test_a_callback_retried_with_its_key_is_replayed(core_banking, sent):
    result = {"result": "failed", "reason": "Account frozen"}
    first = core_banking.post(at(sent, "core-result"), result, HTTP_IDEMPOTENCY_KEY="cb-1")
    retry = core_banking.post(at(sent, "core-result"), result, HTTP_IDEMPOTENCY_KEY="cb-1")
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert IdempotencyKey.objects.get().principal == f"client:{core_banking.api_client.pk}"


# --- Bundles.


def test_a_bundle_run_from_shared_fields_to_one_confirmation(
    as_user, maker, customer, branch_a, new_customer_bundle, valid_data
):
    api = as_user(maker)
    start = {
        "bundle": new_customer_bundle.code,
        "customer": customer.pk,
        "branch": branch_a.code,
        "shared_data": {"email": "wang.fang@example.cn"},
    }
    bad = api.post("/api/v1/bundle-runs", {**start, "shared_data": {"email": "not-an-email"}})
    assert bad.status_code == 400
    assert set(bad.json()["shared_data"]) == {"email"}
    assert not BundleRun.objects.exists()

    created = api.post("/api/v1/bundle-runs", start, HTTP_IDEMPOTENCY_KEY="run-1")
    assert created.status_code == 201, created.json()
    run = created.json()
    assert [r["request_type"] for r in run["requests"]] == [
        "open_account",
        "activate_card",
        "mobile_banking",
    ]
    assert run["shared_fields"] == ["email"]
    assert api.post("/api/v1/bundle-runs", start, HTTP_IDEMPOTENCY_KEY="run-1").json() == run
    assert BundleRun.objects.count() == 1

    # The open-account form misses its fields and document: nothing is submitted.
    confirm = f"/api/v1/bundle-runs/{run['id']}/confirm"
    incomplete = api.post(confirm)
    assert incomplete.status_code == 400
    assert incomplete.json()["detail"].startswith("Open a personal account:")
    assert set(ServiceRequest.objects.values_list("status", flat=True)) == {"draft"}

    for summary in run["requests"]:
        request = ServiceRequest.objects.get(pk=summary["id"])
        api.patch(at(request), {"data": valid_data(request.request_type, customer)})
        if request.request_type.code == "open_account":
            api.post(
                at(request, "documents"), {"doc_type": "id_copy", "file": png()}, format="multipart"
            )
    confirmed = api.post(confirm, HTTP_IDEMPOTENCY_KEY="confirm-1")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["confirmed_at"]
    assert api.post(confirm, HTTP_IDEMPOTENCY_KEY="confirm-1").json() == confirmed.json()
    assert api.post(confirm).status_code == 409
    assert ServiceRequest.objects.filter(status=RequestStatus.DRAFT).count() == 0


# --- Query counts.


def test_list_and_retrieve_cost_a_fixed_number_of_queries(
    as_user, approver, open_account_type, customer, maker, valid_data, django_assert_max_num_queries
):
    data = valid_data(open_account_type, customer)
    requests = [submitted(open_account_type, customer, maker, data) for _ in range(6)]
    as_user(approver).post(at(requests[0], "approve"), {"note": "checked"})
    # A fresh user object per call, as each real request has (it caches its branch scope).
    approver = type(approver).objects.get(pk=approver.pk)
    with django_assert_max_num_queries(2):  # branch scope, page
        listed = as_user(approver).get(REQUESTS, {"status": ["submitted", "sent"]})
    assert len(listed.json()["results"]) == 6
    approver = type(approver).objects.get(pk=approver.pk)
    # Branch scope, the request with its version, approvals, documents; and the audit of the
    # ID and phone numbers the approver sees in full.
    with django_assert_max_num_queries(5):
        detail = as_user(approver).get(at(requests[0])).json()
    assert len(detail["approvals"]) == 1
    assert len(detail["documents"]) == 1
