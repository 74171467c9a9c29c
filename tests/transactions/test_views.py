"""Staff pages of transaction processing: worklists (scope, roles, four eyes, SLA marks, fixed
queries), a new request from the counter console, the e-form's errors at their fields in both
languages, documents, decisions, cancelling, and a bundle with one customer confirmation."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from bankservice.branches.models import Role
from bankservice.sla.models import Deadline
from reception.services import ticket_call_next, ticket_start
from tests.factories import CustomerFactory, UserFactory
from transactions.eforms import FormErrors, validate
from transactions.models import BundleRun, RequestStatus, ServiceRequest
from transactions.services import document_attach, request_create, request_submit

pytestmark = pytest.mark.django_db

WORKLIST = reverse("transactions:worklist")
NEW = reverse("transactions:new")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def page_of(service_request):
    return reverse("transactions:request", args=[service_request.pk])


def as_post(data: dict) -> dict:
    """Form data as the browser posts the e-form (_eform.html): money as two inputs, a ticked
    checkbox "on", an unticked one absent."""
    post = {}
    for name, value in data.items():
        if isinstance(value, dict):
            post[f"{name}.amount"], post[f"{name}.currency"] = value["amount"], value["currency"]
        elif value is True:
            post[name] = "on"
        elif value is not False:
            post[name] = str(value)
    return post


def rows(html: str, name: str) -> set[int]:
    table = html.split(f'data-worklist="{name}"')[1].split("</table>")[0]
    return {int(pk) for pk in re.findall(r'data-request="(\d+)"', table)}


@pytest.fixture
def customer(branch_a):
    return CustomerFactory(full_name="王小明", home_branch=branch_a)


@pytest.fixture
def approver(make_staff, branch_a):
    return make_staff(Role.APPROVER, branch=branch_a, username="approver-a")


@pytest.fixture
def make_request(teller, customer, branch_a, valid_data, open_account_type):
    """make_request(submit=True, maker=teller, branch=branch_a) -> an open-account request with
    its ID copy attached (submitted: waiting for the approver)."""

    def make(*, submit=True, maker=teller, branch=branch_a, request_type=open_account_type, **data):
        made = request_create(
            actor=maker,
            customer=customer,
            request_type=request_type,
            branch=branch,
            data=valid_data(request_type, customer, **data),
        )
        document_attach(
            actor=maker,
            request=made,
            doc_type="id_copy",
            uploaded_file=SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf"),
        )
        return request_submit(actor=maker, request=made) if submit else made

    return make


# --- Roles and scope.


def test_pages_need_a_role_and_hide_other_branches(client, make_request, make_staff, branch_b):
    submitted = make_request()
    assert client.get(WORKLIST).status_code == 302  # to the sign-in page

    client.force_login(UserFactory(username="nobody"))
    assert client.get(WORKLIST).status_code == 403
    assert client.get(page_of(submitted)).status_code == 403
    assert client.get(NEW).status_code == 403

    client.force_login(make_staff(Role.AUDITOR, branch=branch_b))  # reads, has no worklist
    assert client.get(WORKLIST).status_code == 403

    client.force_login(make_staff(Role.APPROVER, branch=branch_b))
    assert client.get(page_of(submitted)).status_code == 404
    decide = reverse("transactions:decide", args=[submitted.pk])
    assert client.post(decide, {"level": 1, "decision": "approved"}).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == RequestStatus.SUBMITTED


def test_worklists_by_role_branch_and_four_eyes(
    client, make_request, teller, approver, make_staff, branch_a, branch_b
):
    mine = make_request()
    draft = make_request(submit=False)
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)
    managers = make_request(maker=manager)
    make_staff(Role.TELLER, branch=branch_b, username="teller-b")
    elsewhere_approver = make_staff(Role.APPROVER, branch=branch_b)

    client.force_login(teller)
    html = client.get(WORKLIST).content.decode()
    assert rows(html, "mine") == {mine.pk, draft.pk}
    assert 'data-list="approve"' not in html  # tellers make, they do not approve

    client.force_login(approver)
    html = client.get(WORKLIST, {"list": "approve"}).content.decode()
    assert rows(html, "approve") == {mine.pk, managers.pk}

    # A manager may approve, but never a request of their own making.
    client.force_login(manager)
    assert client.get(WORKLIST, {"list": "approve"}).status_code == 200
    html = client.get(WORKLIST, {"list": "approve"}).content.decode()
    assert "data-request" not in html.split('data-list="approve"')[1]  # level 1 is the approver's

    client.force_login(elsewhere_approver)
    html = client.get(WORKLIST, {"list": "approve"}).content.decode()
    assert 'data-request="' not in html


def test_worklist_orders_by_due_time_and_marks_the_sla(client, make_request, approver):
    later, sooner = make_request(), make_request()
    now = timezone.now()
    ServiceRequest.objects.filter(pk=later.pk).update(due_at=now + dt.timedelta(hours=5))
    ServiceRequest.objects.filter(pk=sooner.pk).update(due_at=now - dt.timedelta(minutes=1))
    Deadline.objects.filter(subject_id=str(later.pk)).update(
        due_at=now + dt.timedelta(hours=5), warn_at=now - dt.timedelta(minutes=1)
    )
    client.force_login(approver)
    html = client.get(WORKLIST, {"list": "approve"}).content.decode()
    order = [int(pk) for pk in re.findall(r'data-request="(\d+)"', html)]
    assert order == [sooner.pk, later.pk]
    assert re.search(rf'data-request="{sooner.pk}"[^>]*class="rx-over"', html)
    row = html.split(f'data-request="{later.pk}"')[1].split("</tr>")[0]
    assert 'data-sla="due-soon"' in row and "Due soon" in row
    page = client.get(page_of(later)).content.decode()
    assert 'data-sla="due-soon"' in page
    assert 'data-sla="breached"' in client.get(page_of(sooner)).content.decode()


def test_worklist_costs_the_same_queries_for_more_rows(
    client, make_request, approver, django_assert_max_num_queries
):
    for _n in range(2):
        make_request()
    client.force_login(approver)
    client.get(WORKLIST, {"list": "approve"})  # warm the session
    with django_assert_max_num_queries(6) as few:
        client.get(WORKLIST, {"list": "approve"})
    budget = len(few.captured_queries)
    for _n in range(12):
        make_request()
    with django_assert_max_num_queries(budget):
        html = client.get(WORKLIST, {"list": "approve"}).content.decode()
    assert len(rows(html, "approve")) == 14


def test_request_page_costs_the_same_queries_with_more_history(
    client, make_request, teller, approver, django_assert_max_num_queries
):
    submitted = make_request()
    client.force_login(approver)
    client.get(page_of(submitted))
    with django_assert_max_num_queries(10) as few:
        client.get(page_of(submitted))
    budget = len(few.captured_queries)  # read now: the next request resets the query log
    client.post(
        reverse("transactions:decide", args=[submitted.pk]),
        {"level": 1, "decision": "returned", "note": "The address is incomplete."},
    )
    for name in ("a.pdf", "b.pdf"):
        document_attach(
            actor=teller,
            request=submitted,
            doc_type="id_copy",
            uploaded_file=SimpleUploadedFile(name, PDF),
        )
    request_submit(actor=teller, request=submitted)
    client.get(page_of(submitted))  # shows (and so drops) the message of the decision
    with django_assert_max_num_queries(budget):
        assert client.get(page_of(submitted)).status_code == 200


# --- From the counter to a draft, errors at their fields, submit.


@pytest.fixture
def serving_ticket(teller, open_counter, issue_tickets, customer, reception_clock):
    (ticket,) = issue_tickets(1, customer=customer)
    ticket_call_next(actor=teller, counter=open_counter)
    return ticket_start(actor=teller, ticket=ticket)


def test_console_opens_a_draft_for_the_customer_being_served(
    client, teller, serving_ticket, customer, open_account_type
):
    client.force_login(teller)
    console = client.get(reverse("reception:console")).content.decode()
    link = f"{NEW}?ticket={serving_ticket.pk}"
    assert link in console

    page = client.get(link).content.decode()
    assert "王小明" in page.split("data-served")[1].split("</dl>")[0]
    response = client.post(NEW, {"ticket": serving_ticket.pk, "what": "type:open_account"})
    draft = ServiceRequest.objects.get()
    assert response.status_code == 302 and response.url == page_of(draft)
    assert (draft.customer, draft.ticket_id, draft.maker) == (customer, serving_ticket.pk, teller)
    assert draft.data["national_id"] == customer.national_id  # prefilled: not asked again


def test_new_request_for_a_customer_found_by_lookup(
    client, teller, customer, branch_a, open_account_type
):
    client.force_login(teller)
    response = client.post(
        NEW,
        {
            "branch": branch_a.pk,
            "customer_query": customer.core_banking_id,
            "what": "type:open_account",
        },
    )
    draft = ServiceRequest.objects.get()
    assert response.url == page_of(draft)
    assert (draft.customer, draft.branch, draft.ticket_id) == (customer, branch_a, None)
    page = client.get(page_of(draft)).content.decode()
    assert 'id="ef-national_id"' in page and "data-submit" in page


def test_staff_of_one_branch_are_not_asked_which(
    client, teller, customer, branch_a, open_account_type
):
    client.force_login(teller)  # a teller at branch A only
    page = client.get(NEW).content.decode()
    assert re.search(rf'<option value="{branch_a.pk}" selected>', page)
    response = client.post(
        NEW, {"customer_query": customer.core_banking_id, "what": "type:open_account"}
    )
    assert ServiceRequest.objects.get().branch == branch_a
    assert response.status_code == 302


def test_new_request_needs_a_customer_and_a_choice(client, teller, branch_a, open_account_type):
    client.force_login(teller)
    response = client.post(NEW, {"branch": branch_a.pk, "customer_query": "", "what": ""})
    html = response.content.decode()
    assert "Find the customer the request is for." in html
    assert "This field is required." in html
    assert not ServiceRequest.objects.exists()


def field_errors(html: str, name: str) -> str:
    """The markup of one e-form field, with its error messages."""
    match = re.search(rf'<div[^>]*data-field="{name}".*?</div>', html, re.S)
    assert match, f"no field {name} on the page"
    return match.group(0)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_form_errors_are_shown_at_their_fields(client, make_request, teller, language):
    draft = make_request(submit=False)
    client.force_login(teller)
    client.post(reverse("set_language"), {"language": language})
    response = client.post(
        reverse("transactions:save", args=[draft.pk]),
        {
            **as_post(draft.data),
            "address": "x",
            "initial_deposit.amount": "-5",
            "initial_deposit.currency": "CNY",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    with translation.override(language), pytest.raises(FormErrors) as refused:
        validate(
            draft.version,
            {"address": "x", "initial_deposit": {"amount": "-5", "currency": "CNY"}},
            partial=True,
        )
    for name in ("address", "initial_deposit"):
        shown = field_errors(html, name)
        assert 'class="error"' in shown
        for message in refused.value.errors[name]:
            assert escape(message) in shown
    draft.refresh_from_db()
    assert draft.data["address"] == "1 Nanjing Road, Shanghai"  # nothing half-written


def test_maker_submits_and_a_second_user_approves(
    client, make_request, teller, approver, customer, valid_data, open_account_type
):
    draft = make_request(submit=False)
    client.force_login(teller)
    data = valid_data(open_account_type, customer, address="2 Nanjing Road, Shanghai")
    response = client.post(
        reverse("transactions:save", args=[draft.pk]), {**as_post(data), "submit": "1"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == RequestStatus.SUBMITTED
    assert "data-decide" not in client.get(page_of(draft)).content.decode()  # the maker

    client.force_login(approver)
    assert "data-decide" in client.get(page_of(draft)).content.decode()
    client.post(
        reverse("transactions:decide", args=[draft.pk]), {"level": 1, "decision": "approved"}
    )
    draft.refresh_from_db()
    assert draft.status in (RequestStatus.APPROVED, RequestStatus.SENT)
    html = client.get(page_of(draft)).content.decode()
    assert 'data-decision="approved"' in html and "data-decide" not in html


def test_returning_needs_a_reason_and_the_maker_resubmits(client, make_request, teller, approver):
    submitted = make_request()
    decide = reverse("transactions:decide", args=[submitted.pk])
    client.force_login(approver)
    response = client.post(decide, {"level": 1, "decision": "returned"})
    assert response.status_code == 400
    assert "Give the reason" in response.content.decode()

    client.post(decide, {"level": 1, "decision": "returned", "note": "Wrong address."})
    submitted.refresh_from_db()
    assert (submitted.status, submitted.rework_count) == (RequestStatus.RETURNED, 1)

    client.force_login(teller)
    html = client.get(page_of(submitted)).content.decode()
    assert "Wrong address." in html and "Resubmit" in html
    client.post(
        reverse("transactions:save", args=[submitted.pk]),
        {**as_post(submitted.data), "address": "3 Nanjing Road, Shanghai", "submit": "1"},
    )
    submitted.refresh_from_db()
    assert (submitted.status, submitted.round) == (RequestStatus.SUBMITTED, 2)


def test_a_level_decided_meanwhile_is_a_message_not_a_second_decision(
    client, make_request, approver, make_staff, branch_a, withdrawal_type
):
    # Two levels (approver, then branch manager) from 50,000 up.
    big = {"amount": "60000.00", "currency": "CNY"}
    submitted = make_request(request_type=withdrawal_type, amount=big)
    other = make_staff(Role.APPROVER, branch=branch_a, username="approver-a2")
    decide = reverse("transactions:decide", args=[submitted.pk])
    client.force_login(approver)
    assert 'name="level" value="1"' in client.get(page_of(submitted)).content.decode()
    client.force_login(other)  # meanwhile, another approver decides level 1
    client.post(decide, {"level": 1, "decision": "approved"})
    client.force_login(approver)
    response = client.post(decide, {"level": 1, "decision": "rejected", "note": "No."}, follow=True)
    assert "has been decided already" in response.content.decode()
    submitted.refresh_from_db()
    assert (submitted.status, submitted.current_level) == (RequestStatus.SUBMITTED, 2)


def test_documents_upload_preview_and_refuse_other_types(client, make_request, teller):
    draft = make_request(submit=False)
    upload = reverse("transactions:document-upload", args=[draft.pk])
    client.force_login(teller)
    response = client.post(
        upload, {"doc_type": "id_copy", "file": SimpleUploadedFile("x.pdf", b"<html>hi</html>")}
    )
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode().split('name="file"')[1][:400]

    document = draft.documents.get()
    preview = client.get(
        reverse("transactions:document", args=[draft.pk, document.pk]), {"inline": "1"}
    )
    assert preview["Content-Type"] == "application/pdf"
    assert preview["Content-Disposition"].startswith("inline")
    assert "sandbox" in preview["Content-Security-Policy"]

    client.post(reverse("transactions:document-remove", args=[draft.pk, document.pk]))
    assert f'data-document="{document.pk}"' not in client.get(page_of(draft)).content.decode()


def test_the_maker_cancels_a_draft(client, make_request, teller, approver):
    draft = make_request(submit=False)
    client.force_login(approver)
    assert "data-cancel" not in client.get(page_of(draft)).content.decode()
    client.force_login(teller)
    client.post(reverse("transactions:cancel", args=[draft.pk]), {"reason": "Changed her mind"})
    draft.refresh_from_db()
    assert draft.status == RequestStatus.CANCELLED


# --- A bundle: shared fields once, each form, one confirmation.


def test_bundle_shared_fields_once_then_one_confirmation(
    client, teller, customer, branch_a, new_customer_bundle, valid_data
):
    client.force_login(teller)
    choose = {"branch": branch_a.pk, "customer": customer.pk, "what": "bundle:new_customer"}
    step = client.post(NEW, choose)
    assert step.status_code == 200
    html = step.content.decode()
    assert "data-bundle-shared" in html
    assert html.count('name="national_id"') == 1  # entered once for the three forms

    refused = client.post(NEW, {**choose, "shared": "1", "email": "not an address"})
    assert refused.status_code == 400
    assert 'class="error"' in field_errors(refused.content.decode(), "email")
    assert not BundleRun.objects.exists()

    response = client.post(NEW, {**choose, "shared": "1", "email": "wang@example.cn"})
    run = BundleRun.objects.get()
    assert response.url == reverse("transactions:bundle-run", args=[run.pk])
    requests = list(run.requests.order_by("id"))
    assert [r.request_type.code for r in requests] == [
        "open_account",
        "activate_card",
        "mobile_banking",
    ]
    assert requests[0].data["email"] == "wang@example.cn"
    assert {r.data["national_id"] for r in requests} == {customer.national_id}
    assert "data-submit" not in client.get(page_of(requests[0])).content.decode()

    run_page = reverse("transactions:bundle-run", args=[run.pk])
    left = client.get(run_page).content.decode().split(f'data-request="{requests[0].pk}"')[1]
    left = left.split("</tr>")[0]
    assert "Home address" in left and "Copy of the ID document" in left

    for made in requests:
        data = as_post(valid_data(made.request_type, customer))
        assert client.post(reverse("transactions:save", args=[made.pk]), data).status_code == 302
    document_attach(
        actor=teller,
        request=requests[0],
        doc_type="id_copy",
        uploaded_file=SimpleUploadedFile("id.pdf", PDF),
    )
    assert client.get(run_page).content.decode().count("Ready") == 3
    confirm = reverse("transactions:bundle-confirm", args=[run.pk])
    client.post(confirm, {})  # the customer has not confirmed yet
    assert not BundleRun.objects.filter(confirmed_at__isnull=False).exists()
    client.post(confirm, {"customer_confirmed": "1"})
    run.refresh_from_db()
    assert run.confirmed_at is not None
    assert {r.status for r in run.requests.all()} <= {
        RequestStatus.SUBMITTED,
        RequestStatus.APPROVED,
        RequestStatus.SENT,
    }
