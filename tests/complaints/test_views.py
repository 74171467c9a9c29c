"""Staff pages for complaints: the list (scope, filters, fixed queries), intake at the counter
(errors at their fields, files in the same transaction), the complaint page (masking, clocks,
fixed queries) and every action its status and the user's roles allow, extensions waiting for
approval, corrective actions, attachments served as downloads."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from bankservice.branches.models import Role
from bankservice.customers.models import Product
from bankservice.events.models import Event
from bankservice.sla.services import deadline_sweep
from complaints.models import (
    Category,
    Complaint,
    ComplaintExtension,
    ComplaintStatus,
    CorrectiveAction,
    ExtensionStatus,
    Letter,
    PackClock,
    RootCause,
)
from complaints.services import (
    attachment_add,
    complaint_acknowledge,
    complaint_assign,
    complaint_decide,
    complaint_investigate,
    extension_request,
)
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("complaints:list")
NEW = reverse("complaints:new")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def page_of(complaint):
    return reverse("complaints:detail", args=[complaint.pk])


def act(complaint, action):
    return reverse("complaints:action", args=[complaint.pk, action])


def listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-complaint="(\d+)"', html)}


def pdf(name="statement.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def greeter(make_staff, branch_a):
    # Takes complaints at the door; may not see full phone numbers (no customers.reveal_pii).
    return make_staff(Role.GREETER, branch=branch_a, username="greeter")


@pytest.fixture
def investigating(make_complaint, officer):
    complaint = make_complaint()
    complaint_assign(actor=officer, complaint=complaint, officer=officer)
    complaint_acknowledge(actor=officer, complaint=complaint)
    return complaint_investigate(actor=officer, complaint=complaint)


# --- Roles and scope.


def test_pages_need_a_role_and_hide_other_branches(client, make_complaint, make_staff, branch_b):
    complaint = make_complaint()
    assert client.get(LIST).status_code == 302  # to the sign-in page

    client.force_login(UserFactory(username="nobody"))
    assert client.get(LIST).status_code == 403
    assert client.get(page_of(complaint)).status_code == 403
    assert client.get(NEW).status_code == 403

    elsewhere = make_staff(Role.COMPLAINT_OFFICER, branch=branch_b, username="officer-b")
    client.force_login(elsewhere)
    assert listed(client.get(LIST).content.decode()) == set()
    assert client.get(page_of(complaint)).status_code == 404
    response = client.post(act(complaint, "assign"), {"assign-officer": elsewhere.pk})
    assert response.status_code == 404
    complaint.refresh_from_db()
    assert complaint.assigned_to_id is None


def test_a_teller_sees_the_branch_complaints_but_no_handling_actions(
    client, make_complaint, teller, officer
):
    complaint = make_complaint()
    client.force_login(teller)
    assert listed(client.get(LIST).content.decode()) == {complaint.pk}
    html = client.get(page_of(complaint)).content.decode()
    assert 'data-action="acknowledge"' not in html
    assert 'data-action="assign"' not in html

    # The service refuses a teller: 403, nothing changed.
    assert client.post(act(complaint, "acknowledge")).status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED


def test_unknown_actions_are_not_found(client, make_complaint, officer):
    complaint = make_complaint()
    client.force_login(officer)
    assert client.post(act(complaint, "explode")).status_code == 404
    assert client.get(act(complaint, "acknowledge")).status_code == 405


# --- The list: filters and queries.


def test_the_list_filters(client, make_complaint, officer, officer_2, complainant, branch_manager):
    card = Category.objects.get(code="card")
    loans = Category.objects.get(code="loan")
    product = Product.objects.create(code="debit", family="card", name_zh="借记卡", name_en="Debit")
    first = make_complaint(product=product)
    repeat = make_complaint(product=product, channel="phone")
    other = make_complaint(category=loans, customer=CustomerFactory(), channel="letter")
    complaint_assign(actor=officer, complaint=first, officer=officer)
    complaint_assign(actor=branch_manager, complaint=other, officer=officer_2)
    decided = complaint_decide(
        actor=officer, complaint=first, outcome="rejected", reasons="No error found."
    )
    assert repeat.is_repeat and decided.status == ComplaintStatus.REJECTED

    client.force_login(officer)

    def rows(**params):
        response = client.get(LIST, params)
        assert response.status_code == 200
        return listed(response.content.decode())

    assert rows() == {first.pk, repeat.pk, other.pk}
    assert rows(status="open") == {repeat.pk, other.pk}
    assert rows(status="decided") == {first.pk}
    assert rows(status="rejected") == {first.pk}
    assert rows(category=loans.pk) == {other.pk}
    assert rows(category=card.pk) == {first.pk, repeat.pk}
    assert rows(channel="phone") == {repeat.pk}
    assert rows(assigned="me") == {first.pk}
    assert rows(assigned="none") == {repeat.pk}
    assert rows(repeat="true") == {repeat.pk}
    assert rows(q=other.reference) == {other.pk}
    assert rows(q=other.reference.lower()) == {other.pk}
    assert rows(branch=first.branch_id) == {first.pk, repeat.pk, other.pk}
    # A bad filter value is an error shown on the page, not a 500 and not everything.
    response = client.get(LIST, {"status": "nonsense"})
    assert response.status_code == 200 and listed(response.content.decode()) == set()


def test_overdue_and_at_risk(client, make_complaint, officer, time_machine):
    now = timezone.now()
    old = make_complaint(received_at=now - dt.timedelta(days=20))  # CN decision: 15 days
    warned = make_complaint(received_at=now - dt.timedelta(days=13))  # past 80 %
    fresh = make_complaint()
    client.force_login(officer)

    html = client.get(LIST, {"timing": "overdue"}).content.decode()
    assert listed(html) == {old.pk}
    assert 'data-sla="breached"' in html
    deadline_sweep()  # breached now (and escalated): still overdue
    assert listed(client.get(LIST, {"timing": "overdue"}).content.decode()) == {old.pk}
    assert listed(client.get(LIST, {"timing": "at_risk"}).content.decode()) == {warned.pk}
    html = client.get(LIST).content.decode()
    assert listed(html) == {old.pk, warned.pk, fresh.pk}
    assert 'data-sla="due-soon"' in html


def test_the_list_costs_the_same_queries_for_more_rows(
    client, make_complaint, officer, django_assert_num_queries
):
    make_complaint()
    client.force_login(officer)
    client.get(LIST)
    # user, scope, count, page, window clocks, the page's deadlines, categories, branches
    with django_assert_num_queries(8):
        client.get(LIST, {"status": "open"})
    for _n in range(6):
        make_complaint(customer=CustomerFactory(), contact_name="")
    with django_assert_num_queries(8):
        html = client.get(LIST, {"status": "open"}).content.decode()
    assert len(listed(html)) == 7


# --- Intake at the counter.


def test_a_teller_records_a_customer_complaint_with_files(
    client, teller, complainant, cn_pack, branch_a
):
    client.force_login(teller)
    assert client.get(NEW).status_code == 200
    response = client.post(
        NEW,
        {
            "customer_query": complainant.core_banking_id,
            "channel": "counter",
            "category": Category.objects.get(code="card").pk,
            "subcategory": Category.objects.get(code="card-debit").pk,
            "description": "The ATM kept my card.",
            "desired_outcome": "My card back.",
            "amount": "200.00",
            "currency": "cny",
            "attachments": [pdf("a.pdf"), pdf("b.pdf")],
        },
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == page_of(complaint)
    assert complaint.customer == complainant and complaint.branch == branch_a
    assert complaint.created_by == teller and complaint.currency == "CNY"
    assert complaint.subcategory.code == "card-debit"
    assert complaint.attachments.count() == 2
    html = client.get(page_of(complaint)).content.decode()
    assert 'data-clock="decision" data-state="running"' in html


def test_intake_errors_come_back_at_their_fields(client, teller, cn_pack):
    client.force_login(teller)
    card = Category.objects.get(code="card")
    base = {"channel": "phone", "category": card.pk, "description": "Rude on the phone."}

    response = client.post(NEW, {**base, "description": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["description"]

    # Nobody to reach: the service's rule, shown at its field.
    response = client.post(NEW, {**base, "contact_name": "Chen Yi"})
    assert response.status_code == 400
    assert "contact_phone" in response.context["form"].errors

    response = client.post(NEW, {**base, "contact_name": "Chen Yi", "contact_phone": "12"})
    assert response.status_code == 400 and "contact_phone" in response.context["form"].errors

    response = client.post(
        NEW, {**base, "contact_name": "Chen Yi", "contact_email": "c@example.cn", "amount": "5"}
    )
    assert response.status_code == 400 and "currency" in response.context["form"].errors

    future = (timezone.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        NEW,
        {**base, "contact_name": "Chen Yi", "contact_email": "c@example.cn", "received_at": future},
    )
    assert response.status_code == 400 and "received_at" in response.context["form"].errors

    # A sub-category of another category.
    response = client.post(
        NEW,
        {
            **base,
            "contact_name": "Chen Yi",
            "contact_email": "c@example.cn",
            "subcategory": Category.objects.get(code="loan-mortgage").pk,
        },
    )
    assert response.status_code == 400 and "subcategory" in response.context["form"].errors

    # A file that is not what it says: nothing is kept, the complaint neither.
    html_file = SimpleUploadedFile("x.pdf", b"<html><script>1</script>", content_type="text/html")
    response = client.post(
        NEW,
        {
            **base,
            "contact_name": "Chen Yi",
            "contact_email": "c@example.cn",
            "attachments": [html_file],
        },
    )
    assert response.status_code == 400 and "attachments" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_received_at_is_read_on_the_branch_clock(client, teller, cn_pack, branch_a):
    client.force_login(teller)
    client.post(
        NEW,
        {
            "channel": "letter",
            "category": Category.objects.get(code="card").pk,
            "description": "By letter.",
            "contact_name": "Chen Yi",
            "contact_phone": "13800138000",
            "received_at": "2026-01-05T09:30",
        },
    )
    complaint = Complaint.objects.get()
    assert complaint.contact_phone == "+8613800138000"
    assert complaint.received_at == dt.datetime(2026, 1, 5, 1, 30, tzinfo=dt.UTC)  # Shanghai


# --- The complaint page.


def test_personal_data_is_masked_without_reveal(client, make_complaint, greeter, officer):
    complaint = make_complaint()
    client.force_login(greeter)
    html = client.get(page_of(complaint)).content.decode()
    assert "+8613800138000" not in html and "li.na@example.cn" not in html
    assert "+86138****8000" in html

    client.force_login(officer)
    html = client.get(page_of(complaint)).content.decode()
    assert "+8613800138000" in html and "li.na@example.cn" in html


def test_the_page_costs_the_same_queries_with_more_history(
    client, make_complaint, officer, django_assert_num_queries
):
    product = Product.objects.create(code="debit", family="card", name_zh="借记卡", name_en="Debit")
    complaint = make_complaint(product=product)
    complaint_assign(actor=officer, complaint=complaint, officer=officer)
    complaint_acknowledge(actor=officer, complaint=complaint)
    complaint_investigate(actor=officer, complaint=complaint)
    attachment_add(actor=officer, complaint=complaint, uploaded_file=pdf("a.pdf"))
    client.force_login(officer)
    client.get(page_of(complaint))
    # user, scope, complaint, pack clocks, clocks, extensions, linked, corrective actions,
    # letters, attachments, extension clocks (the form), root causes (the form), history
    with django_assert_num_queries(18):  # with the audit of the complainant shown in full
        client.get(page_of(complaint))
    attachment_add(actor=officer, complaint=complaint, uploaded_file=pdf("b.pdf"))
    extension_request(
        actor=officer,
        complaint=complaint,
        clock=PackClock.objects.get(pack=complaint.pack, code="extension"),
        reason="Card network records",
    )
    make_complaint(product=product)  # a repeat, linked
    with django_assert_num_queries(18):  # with the audit of the complainant shown in full
        html = client.get(page_of(complaint)).content.decode()
    assert html.count('data-attachment="') == 2
    assert 'data-letter="acknowledgement"' in html and 'data-letter="extension_notice"' in html
    assert 'data-link="repeat"' in html


# --- The lifecycle through the page.


def test_an_officer_takes_a_complaint_through_to_a_decision(
    client, make_complaint, officer, complainant
):
    complaint = make_complaint()
    client.force_login(officer)
    response = client.get(page_of(complaint))
    html = response.content.decode()
    assert 'data-action="assign"' in html and 'data-action="investigate"' not in html
    # An officer takes the complaint; only a manager gives it to someone else.
    assign = next(f["form"] for f in response.context["forms"] if f["key"] == "assign")
    assert list(assign.fields["officer"].queryset) == [officer]

    assert client.post(act(complaint, "assign"), {"assign-officer": officer.pk}).status_code == 302
    assert client.post(act(complaint, "acknowledge")).status_code == 302
    assert client.post(act(complaint, "investigate")).status_code == 302
    complaint.refresh_from_db()
    assert (complaint.assigned_to, complaint.status) == (officer, ComplaintStatus.INVESTIGATING)

    # Waiting on the customer needs to say what for.
    response = client.post(act(complaint, "wait"), {"wait-note": ""})
    assert response.status_code == 400 and response.context["forms"]
    client.post(act(complaint, "wait"), {"wait-note": "Send the ATM receipt."})
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.WAITING_ON_CUSTOMER
    client.post(act(complaint, "replied"), {"replied-note": ""})
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.INVESTIGATING

    # A decision gives reasons.
    response = client.post(act(complaint, "decide"), {"decide-outcome": "upheld"})
    assert response.status_code == 400
    assert (
        "reasons"
        in next(f["form"] for f in response.context["forms"] if f["key"] == "decide").errors
    )
    response = client.post(
        act(complaint, "decide"),
        {
            "decide-outcome": "upheld",
            "decide-reasons": "The ATM failed.",
            "decide-redress_amount": "50",
        },
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.UPHELD and complaint.redress_amount == 50
    html = client.get(page_of(complaint)).content.decode()
    assert 'data-letter="final_response"' in html
    assert 'data-clock="decision" data-state="met"' in html
    assert 'data-action="decide"' not in html
    assert 'data-action="reopen"' not in html  # a manager reopens


def test_propose_and_accept(client, investigating, officer):
    client.force_login(officer)
    client.post(act(investigating, "propose"), {"propose-proposal": "A refund of the fee."})
    investigating.refresh_from_db()
    assert investigating.status == ComplaintStatus.RESOLUTION_PROPOSED
    client.post(act(investigating, "accept"))
    investigating.refresh_from_db()
    assert investigating.status == ComplaintStatus.RESOLVED


def test_another_officer_cannot_act_on_an_assigned_complaint(client, investigating, officer_2):
    client.force_login(officer_2)
    html = client.get(page_of(investigating)).content.decode()
    assert 'data-action="decide"' not in html
    response = client.post(
        act(investigating, "decide"), {"decide-outcome": "rejected", "decide-reasons": "No."}
    )
    assert response.status_code == 403
    investigating.refresh_from_db()
    assert investigating.status == ComplaintStatus.INVESTIGATING


def test_the_staff_member_complained_about_never_acts(
    client, make_complaint, officer, branch_manager
):
    complaint = make_complaint(staff_complained_about=officer)
    client.force_login(officer)
    html = client.get(page_of(complaint)).content.decode()
    assert 'data-action="' not in html
    response = client.post(act(complaint, "assign"), {"assign-officer": officer.pk})
    assert response.status_code in (400, 403)
    complaint.refresh_from_db()
    assert complaint.assigned_to_id is None

    # The manager's list of officers leaves them out.
    client.force_login(branch_manager)
    form = next(
        f["form"] for f in client.get(page_of(complaint)).context["forms"] if f["key"] == "assign"
    )
    assert officer not in form.fields["officer"].queryset


def test_withdraw_reopen_and_review(client, investigating, officer, branch_manager, teller):
    client.force_login(officer)
    client.post(
        act(investigating, "decide"), {"decide-outcome": "rejected", "decide-reasons": "No fault."}
    )
    assert client.post(act(investigating, "reopen"), {"reopen-reason": "x"}).status_code == 403

    client.force_login(branch_manager)
    response = client.post(act(investigating, "reopen"), {"reopen-reason": ""})
    assert response.status_code == 400
    client.post(act(investigating, "reopen"), {"reopen-reason": "New evidence."})
    investigating.refresh_from_db()
    assert investigating.status == ComplaintStatus.INVESTIGATING
    assert investigating.reopened_count == 1

    client.force_login(officer)
    client.post(
        act(investigating, "decide"), {"decide-outcome": "rejected", "decide-reasons": "Still."}
    )
    # The complainant asks for a review at the counter: the teller records it.
    client.force_login(teller)
    response = client.post(act(investigating, "review"), {"review-reason": "I disagree."})
    review = Complaint.objects.get(review_of=investigating)
    assert response.status_code == 302 and response["Location"] == page_of(review)
    html = client.get(page_of(investigating)).content.decode()
    assert 'data-link="review"' in html

    client.force_login(officer)
    client.post(act(review, "withdraw"), {"withdraw-note": ""})
    review.refresh_from_db()
    assert review.status == ComplaintStatus.WITHDRAWN


def test_notes_are_kept_on_the_case_and_shown(client, investigating, officer, teller):
    client.force_login(officer)
    assert client.post(act(investigating, "note"), {"note-note": "  "}).status_code == 400
    client.post(act(investigating, "note"), {"note-note": "Called the ATM vendor."})
    client.post(act(investigating, "wait"), {"wait-note": "Asked for the card statement."})
    client.post(act(investigating, "replied"), {"replied-note": "Statement received."})

    kept = list(investigating.notes.values_list("kind", "text", "author"))
    assert kept == [
        ("note", "Called the ATM vendor.", officer.pk),
        ("waiting", "Asked for the card statement.", officer.pk),
        ("replied", "Statement received.", officer.pk),
    ]
    html = client.get(page_of(investigating)).content.decode()
    assert html.count("data-note=") == 3 and "Asked for the card statement." in html
    # Events carry no free text.
    assert "ATM vendor" not in str(
        list(Event.objects.filter(type="complaints.note_added").values_list("payload", flat=True))
    )
    # Someone who only takes complaints reads the notes but cannot write one.
    client.force_login(teller)
    assert client.post(act(investigating, "note"), {"note-note": "x"}).status_code == 403


def test_the_handler_corrects_the_category_and_the_clocks_stay(client, investigating, officer):
    from complaints.models import Category
    from complaints.selectors import complaint_clocks

    due_before = [d.due_at for d in complaint_clocks(investigating)]
    loan = Category.objects.get(code="loan")
    mortgage = Category.objects.get(code="loan-mortgage")
    client.force_login(officer)
    # A sub-category of another category is refused at its field.
    card_sub = Category.objects.filter(parent__code="card").first()
    response = client.post(
        act(investigating, "classify"),
        {"classify-category": loan.pk, "classify-subcategory": card_sub.pk},
    )
    assert response.status_code == 400
    investigating.refresh_from_db()
    assert investigating.category.code == "card"

    client.post(
        act(investigating, "classify"),
        {"classify-category": loan.pk, "classify-subcategory": mortgage.pk},
    )
    investigating.refresh_from_db()
    assert (investigating.category, investigating.subcategory) == (loan, mortgage)
    assert [d.due_at for d in complaint_clocks(investigating)] == due_before
    event = Event.objects.get(type="complaints.complaint_classified")
    assert event.payload["previous_category_id"] != loan.pk


def test_a_repeat_is_merged_into_the_earlier_complaint(client, make_complaint, officer):
    product = Product.objects.create(code="debit", family="card", name_zh="借记卡", name_en="Debit")
    first = make_complaint(product=product)
    repeat = make_complaint(product=product)
    client.force_login(officer)
    assert 'data-action="merge"' in client.get(page_of(repeat)).content.decode()
    response = client.post(act(repeat, "merge"))
    assert response.status_code == 302 and response["Location"] == page_of(first)
    repeat.refresh_from_db()
    assert repeat.status == ComplaintStatus.MERGED and repeat.merged_into == first


def test_extension_requested_then_approved_by_a_higher_level(
    client, investigating, officer, regional_manager, branch_manager
):
    pack = investigating.pack
    extension = PackClock.objects.get(pack=pack, code="extension")
    further = PackClock.objects.get(pack=pack, code="further_extension")
    client.force_login(officer)
    form = next(
        f["form"]
        for f in client.get(page_of(investigating)).context["forms"]
        if f["key"] == "extend"
    )
    assert list(form.fields["clock"].queryset) == [extension]  # the next step of the chain
    response = client.post(
        act(investigating, "extend"), {"extend-clock": further.pk, "extend-reason": "x"}
    )
    assert response.status_code == 400  # not offered yet

    client.post(
        act(investigating, "extend"), {"extend-clock": extension.pk, "extend-reason": "Complex."}
    )
    applied = ComplaintExtension.objects.get()
    assert applied.status == ExtensionStatus.APPROVED  # the first needs no approval
    assert Letter.objects.filter(complaint=investigating, kind="extension_notice").exists()

    client.post(
        act(investigating, "extend"), {"extend-clock": further.pk, "extend-reason": "More."}
    )
    waiting = ComplaintExtension.objects.get(status=ExtensionStatus.REQUESTED)

    # The officer and the branch manager do not approve; the regional manager does.
    assert client.get(reverse("complaints:extensions")).status_code == 403
    client.force_login(branch_manager)
    assert client.get(reverse("complaints:extensions")).status_code == 403
    client.force_login(regional_manager)
    html = client.get(reverse("complaints:extensions")).content.decode()
    assert f'data-extension="{waiting.pk}"' in html
    decide = reverse("complaints:extension-decide", args=[waiting.pk])
    response = client.post(decide, {"decision": "approve", "next": "waiting"})
    assert response.status_code == 302 and response["Location"] == reverse("complaints:extensions")
    waiting.refresh_from_db()
    assert waiting.status == ExtensionStatus.APPROVED and waiting.decided_by == regional_manager
    html = client.get(page_of(investigating)).content.decode()
    assert 'data-clock="decision" data-state="running"' in html
    assert "data-extended" in html


def test_an_approver_does_not_approve_their_own_request(
    client, make_complaint, regional_manager, make_staff, region
):
    complaint = make_complaint()
    complaint_assign(actor=regional_manager, complaint=complaint, officer=regional_manager)
    extension_request(
        actor=regional_manager,
        complaint=complaint,
        clock=PackClock.objects.get(pack=complaint.pack, code="extension"),
        reason="Complex.",
    )
    waiting = extension_request(
        actor=regional_manager,
        complaint=complaint,
        clock=PackClock.objects.get(pack=complaint.pack, code="further_extension"),
        reason="More.",
    )
    client.force_login(regional_manager)
    html = client.get(reverse("complaints:extensions")).content.decode()
    assert "data-approve" not in html
    response = client.post(
        reverse("complaints:extension-decide", args=[waiting.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == ExtensionStatus.REQUESTED


def test_root_cause_and_corrective_actions(
    client, investigating, officer, officer_2, branch_manager
):
    cause = RootCause.objects.filter(is_active=True).first()
    client.force_login(officer)
    html = client.get(page_of(investigating)).content.decode()
    assert 'data-action="corrective"' not in html  # needs a root cause first
    response = client.post(act(investigating, "root_cause"), {"root_cause-root_cause": cause.pk})
    assert response.status_code == 400
    client.post(
        act(investigating, "root_cause"),
        {"root_cause-root_cause": cause.pk, "root_cause-note": "The ATM's firmware."},
    )
    investigating.refresh_from_db()
    assert investigating.root_cause == cause

    due = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    response = client.post(
        act(investigating, "corrective"),
        {
            "corrective-root_cause": cause.pk,
            "corrective-description": "Update the firmware.",
            "corrective-owner": officer_2.pk,
            "corrective-due_date": due,
        },
    )
    assert response.status_code == 302
    action = CorrectiveAction.objects.get()
    assert action.owner == officer_2

    actions = reverse("complaints:actions")
    client.force_login(officer_2)
    assert (
        f'data-corrective-action="{action.pk}"'
        in client.get(actions, {"list": "mine"}).content.decode()
    )
    assert (
        'data-corrective-action="' not in client.get(actions, {"list": "overdue"}).content.decode()
    )
    complete = reverse("complaints:action-complete", args=[action.pk])
    response = client.post(complete, {"note": "", "next": "actions"})
    action.refresh_from_db()
    assert action.status == "open"
    client.post(complete, {"note": "Firmware 2.1 installed.", "next": "actions"})
    action.refresh_from_db()
    assert action.status == "done"


def test_attachments_are_downloads_for_those_who_may_see_them(
    client, investigating, officer, make_staff, branch_b
):
    client.force_login(officer)
    upload = reverse("complaints:attachment-upload", args=[investigating.pk])
    response = client.post(upload, {"file": SimpleUploadedFile("x.png", b"not a png")})
    assert response.status_code == 400
    assert client.post(upload, {"file": pdf()}).status_code == 302
    attachment = investigating.attachments.get()
    url = reverse("complaints:attachment", args=[investigating.pk, attachment.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF

    client.force_login(make_staff(Role.COMPLAINT_OFFICER, branch=branch_b, username="o-b"))
    assert client.get(url).status_code == 404

    client.force_login(officer)
    client.post(reverse("complaints:attachment-remove", args=[investigating.pk, attachment.pk]))
    assert client.get(url).status_code == 404


def test_an_extension_is_refused_from_the_complaint_page(
    client, investigating, officer, regional_manager
):
    pack = investigating.pack
    extension_request(
        actor=officer,
        complaint=investigating,
        clock=PackClock.objects.get(pack=pack, code="extension"),
        reason="Complex.",
    )
    waiting = extension_request(
        actor=officer,
        complaint=investigating,
        clock=PackClock.objects.get(pack=pack, code="further_extension"),
        reason="More.",
    )
    decide = reverse("complaints:extension-decide", args=[waiting.pk])
    client.force_login(officer)
    html = client.get(page_of(investigating)).content.decode()
    assert f'data-extension-decide="{waiting.pk}"' not in html
    assert 'data-action="extend"' not in html  # one waiting at a time
    assert client.post(decide, {"decision": "refuse"}).status_code == 403

    client.force_login(regional_manager)
    assert (
        f'data-extension-decide="{waiting.pk}"'
        in client.get(page_of(investigating)).content.decode()
    )
    assert client.post(decide, {"decision": ""}).status_code == 400
    response = client.post(decide, {"decision": "refuse", "note": "Decide within 30 days."})
    assert response.status_code == 302 and response["Location"] == page_of(investigating)
    waiting.refresh_from_db()
    assert waiting.status == ExtensionStatus.REFUSED and waiting.decision_note


def test_a_merged_complaint_points_the_complainant_to_the_earlier_one(
    client, make_complaint, officer
):
    from complaints.services import complaint_merge

    product = Product.objects.create(code="debit", family="card", name_zh="借记卡", name_en="Debit")
    first = make_complaint(product=product)
    repeat = make_complaint(product=product)
    complaint_merge(actor=officer, complaint=repeat, into=first)
    url = reverse("complaints_public:progress", args=[repeat.public_token])
    html = client.get(url).content.decode()
    assert reverse("complaints_public:progress", args=[first.public_token]) in html
    assert "data-decision-due" not in html


def test_clock_states_as_the_page_names_them():
    from types import SimpleNamespace

    from complaints.views import clock_state

    now = timezone.now()
    hour = dt.timedelta(hours=1)

    def deadline(state, due, **extra):
        return SimpleNamespace(state=state, due_at=due, paused_at=None, met_at=None, **extra)

    assert clock_state(deadline("open", now + hour), is_window=False, now=now) == "running"
    paused = deadline("open", now + hour)
    paused.paused_at = now
    assert clock_state(paused, is_window=False, now=now) == "paused"
    assert clock_state(deadline("open", now - hour), is_window=False, now=now) == "late"
    met = deadline("met", now)
    met.met_at = now - hour
    assert clock_state(met, is_window=False, now=now) == "met"
    met.met_at = now + hour
    assert clock_state(met, is_window=False, now=now) == "late"
    assert clock_state(deadline("breached", now), is_window=False, now=now) == "late"
    assert clock_state(deadline("breached", now), is_window=True, now=now) == "window"
    assert clock_state(deadline("cancelled", now), is_window=False, now=now) == "cancelled"


def test_garbage_input_is_a_form_error_never_a_500(client, teller, investigating, officer):
    client.force_login(teller)
    response = client.post(
        NEW,
        {
            "channel": "fax",
            "category": "abc",
            "amount": "1e999",
            "received_at": "yesterday",
            "customer": "999999",
            "description": "x",
        },
    )
    assert response.status_code == 400
    assert {"channel", "category", "amount", "received_at", "customer"} <= set(
        response.context["form"].errors
    )
    client.force_login(officer)
    response = client.post(act(investigating, "decide"), {"decide-outcome": "maybe"})
    assert response.status_code == 400
    response = client.post(act(investigating, "assign"), {"assign-officer": "x"})
    assert response.status_code == 400
    response = client.post(act(investigating, "extend"), {"extend-clock": "-1"})
    assert response.status_code == 400


def test_the_intake_form_takes_the_customer_named_in_the_link(client, teller, cn_pack):
    # A care callback links here with the customer's number to look up.
    client.force_login(teller)
    html = client.get(NEW, {"customer_query": "110101199003074578"}).content.decode()
    assert 'value="110101199003074578"' in html
