"""The complainant's pages: the public complaint form (no login, both languages, files in the
same transaction, errors at their fields, rate-limited) and the progress page behind its
unguessable link (status in plain words, the decision's due date, letters, accepting a proposal,
asking for a review while the window is open, nothing personal the complainant did not give)."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints.models import Category, Channel, Complaint, ComplaintStatus
from complaints.public_views import PROGRESS_VIEWS_PER_WINDOW, SUBMISSIONS_PER_WINDOW
from complaints.selectors import complaint_clocks
from complaints.services import (
    complaint_acknowledge,
    complaint_assign,
    complaint_decide,
    complaint_investigate,
    complaint_propose,
)

from .conftest import SHANGHAI

pytestmark = pytest.mark.django_db

FORM = reverse("complaints_public:form")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def progress(complaint, lang=None):
    url = reverse("complaints_public:progress", args=[complaint.public_token])
    return f"{url}?lang={lang}" if lang else url


def pdf(name="receipt.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def form_data(cn_pack, branch_a):
    return {
        "branch": branch_a.pk,
        "name": "Zhou Min",
        "phone": "139 0000 1111",
        "email": "",
        "category": Category.objects.get(code="service").pk,
        "description": "I waited an hour and nobody helped.",
        "desired_outcome": "An apology.",
    }


@pytest.fixture
def decided(make_complaint, officer):
    complaint = make_complaint()
    complaint_assign(actor=officer, complaint=complaint, officer=officer)
    complaint_acknowledge(actor=officer, complaint=complaint)
    complaint_investigate(actor=officer, complaint=complaint)
    return complaint_decide(
        actor=officer, complaint=complaint, outcome="rejected", reasons="The fee is in the tariff."
    )


# --- The complaint form.


def test_a_customer_sends_a_complaint_with_files_and_gets_the_link(client, form_data, branch_a):
    response = client.get(FORM)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert branch_a.name in response.content.decode()

    response = client.post(FORM, {**form_data, "files": [pdf("a.pdf"), pdf("b.pdf")]})

    complaint = Complaint.objects.get()
    received = reverse("complaints_public:received", args=[complaint.public_token])
    assert response.status_code == 302 and response["Location"] == received
    assert complaint.channel == Channel.ONLINE_FORM and complaint.created_by is None
    assert (complaint.contact_name, complaint.contact_phone) == ("Zhou Min", "+8613900001111")
    assert complaint.language == "en"
    assert complaint.attachments.filter(uploaded_by__isnull=True).count() == 2
    page = client.get(received).content.decode()
    assert complaint.reference in page
    assert f"http://testserver{progress(complaint)}" in page


def test_the_form_speaks_chinese_and_keeps_the_language(client, form_data):
    response = client.get(FORM + "?lang=zh-hans")
    assert response["Content-Language"] == "zh-hans"

    response = client.post(FORM, {**form_data, "lang": "zh-hans"})
    complaint = Complaint.objects.get()
    assert complaint.language == "zh-hans"
    assert response["Location"].endswith("?lang=zh-hans")


def test_form_errors_are_shown_at_their_fields(client, form_data):
    response = client.post(FORM, {**form_data, "phone": "", "email": ""})
    assert response.status_code == 400
    assert "phone" in response.context["form"].errors

    response = client.post(FORM, {**form_data, "phone": "12"})
    assert response.status_code == 400 and "phone" in response.context["form"].errors

    response = client.post(FORM, {**form_data, "branch": "999999", "description": ""})
    assert response.status_code == 400
    assert {"branch", "description"} <= set(response.context["form"].errors)
    assert not Complaint.objects.exists()


def test_files_are_checked_and_nothing_is_kept_when_one_is_refused(client, form_data, settings):
    script = SimpleUploadedFile("photo.png", b"<script>alert(1)</script>", content_type="image/png")
    response = client.post(FORM, {**form_data, "files": [pdf(), script]})
    assert response.status_code == 400 and "files" in response.context["form"].errors
    assert not Complaint.objects.exists()

    too_many = [pdf(f"{n}.pdf") for n in range(settings.COMPLAINTS_PUBLIC_MAX_FILES + 1)]
    response = client.post(FORM, {**form_data, "files": too_many})
    assert response.status_code == 400 and "files" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_a_branch_without_a_rule_pack_is_an_error_not_a_500(client, form_data):
    from complaints.models import PackAssignment

    PackAssignment.objects.all().delete()
    response = client.post(FORM, form_data)
    assert response.status_code == 400 and "branch" in response.context["form"].errors


def test_the_form_is_rate_limited_per_address(client, form_data):
    for _n in range(SUBMISSIONS_PER_WINDOW):
        assert client.post(FORM, form_data).status_code == 302
    response = client.post(FORM, form_data)
    assert response.status_code == 429
    assert Complaint.objects.count() == SUBMISSIONS_PER_WINDOW


# --- The progress page.


def test_tokens_are_unguessable_and_a_wrong_one_is_not_found(client, make_complaint):
    first, second = make_complaint(), make_complaint()
    assert len(first.public_token) >= 22 and first.public_token != second.public_token
    assert client.get(progress(first)).status_code == 200
    assert client.get("/c/not-a-token/").status_code == 404
    assert client.get(f"/c/{first.public_token[:-1]}/").status_code == 404
    assert client.post(f"/c/{first.public_token[:-1]}/accept/").status_code == 404


def test_the_page_shows_status_due_date_and_nothing_personal(client, make_complaint, complainant):
    complaint = make_complaint(amount="120.00", currency="CNY")
    response = client.get(progress(complaint))
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "noindex" in response["X-Robots-Tag"]
    assert complaint.reference in page
    assert "We have received your complaint." in page
    assert "data-decision-due" in page
    decision = complaint_clocks(complaint).get(kind="complaint.decision")
    assert f"{decision.due_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" in page
    for personal in (
        complainant.full_name,
        complainant.phone,
        complainant.email,
        complainant.national_id,
        "120.00",
    ):
        assert personal not in page


def test_the_progress_page_speaks_chinese(client, make_complaint):
    complaint = make_complaint()
    response = client.get(progress(complaint, "zh-hans"))
    assert response["Content-Language"] == "zh-hans"
    assert Category.objects.get(code="card").name_zh in response.content.decode()


def test_the_letters_are_on_the_page(client, decided):
    page = client.get(progress(decided)).content.decode()
    assert 'data-letter="acknowledgement"' in page
    assert 'data-letter="final_response"' in page
    assert "The fee is in the tariff." in page
    assert "Decided: we do not agree with your complaint." in page
    assert "data-decision-due" not in page


def test_the_complainant_accepts_a_proposal(client, make_complaint, officer):
    complaint = make_complaint()
    complaint_assign(actor=officer, complaint=complaint, officer=officer)
    complaint_investigate(actor=officer, complaint=complaint)
    complaint_propose(actor=officer, complaint=complaint, proposal="We refund the 20 CNY fee.")
    page = client.get(progress(complaint)).content.decode()
    assert "We refund the 20 CNY fee." in page and "data-accept" in page

    response = client.post(reverse("complaints_public:accept", args=[complaint.public_token]))
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED
    page = client.get(progress(complaint)).content.decode()
    assert "data-accept" not in page
    # Accepting twice is a message, not an error page.
    response = client.post(reverse("complaints_public:accept", args=[complaint.public_token]))
    assert response.status_code == 302


def test_a_review_is_asked_while_the_window_is_open(client, decided, time_machine):
    review_url = reverse("complaints_public:review", args=[decided.public_token])
    page = client.get(progress(decided)).content.decode()
    assert "data-ask-review" in page

    client.post(review_url, {"reason": ""})
    assert not Complaint.objects.filter(review_of=decided).exists()
    response = client.post(review_url, {"reason": "The fee was never explained to me."})
    review = Complaint.objects.get(review_of=decided)
    assert response.status_code == 302 and response["Location"] == progress(review)
    assert review.status == ComplaintStatus.RECEIVED
    assert "data-ask-review" not in client.get(progress(decided)).content.decode()


def test_no_review_after_the_window(client, decided, time_machine):
    time_machine.move_to(timezone.now() + dt.timedelta(days=40))
    page = client.get(progress(decided)).content.decode()
    assert "data-ask-review" not in page
    review_url = reverse("complaints_public:review", args=[decided.public_token])
    assert client.post(review_url, {"reason": "Too late?"}).status_code == 302
    assert not Complaint.objects.filter(review_of=decided).exists()


def test_the_progress_page_costs_fixed_queries(client, decided, django_assert_num_queries):
    # complaint, its clocks, the pack's clocks, the letters
    with django_assert_num_queries(4):
        assert client.get(progress(decided)).status_code == 200


def test_the_progress_page_is_rate_limited_per_address(client, make_complaint):
    complaint = make_complaint()
    for _n in range(PROGRESS_VIEWS_PER_WINDOW):
        client.get("/c/guess/")
    assert client.get(progress(complaint)).status_code == 429
