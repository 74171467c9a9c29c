"""What the customer sees: the progress page (no login, both languages, no personal data,
rate-limited) and the receipt (printable page and PDF, for staff of the branch)."""

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from tests.transactions.flow import drafted, submitted
from transactions.public_views import PROGRESS_VIEWS_PER_WINDOW
from transactions.services import request_return

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_(withdrawal_type, customer, maker, valid_data):
    return submitted(withdrawal_type, customer, maker, valid_data(withdrawal_type, customer))


def _progress(request):
    return reverse("transactions_public:progress", args=[request.public_token])


def test_the_progress_page_shows_where_the_request_stands_without_login(client, request_, customer):
    response = client.get(_progress(request_))

    assert response.status_code == 200
    page = response.content.decode()
    assert request_.reference in page
    assert "Large cash withdrawal" in page or request_.request_type.name_en in page
    assert "Waiting for approval" in page
    assert 'data-step="submitted" data-done' in page
    assert 'data-step="approved" data-done' not in page
    # Nothing personal: not the name, not the ID, not the account.
    assert customer.full_name not in page
    assert customer.national_id not in page
    assert request_.data["account_number"] not in page
    assert response["Cache-Control"] == "no-store"
    assert "noindex" in response["X-Robots-Tag"]


def test_the_progress_page_speaks_chinese(client, request_):
    response = client.get(_progress(request_) + "?lang=zh-hans")

    assert response["Content-Language"] == "zh-hans"
    assert request_.request_type.name_zh in response.content.decode()


def test_a_returned_request_shows_its_reason(client, request_, approver):
    request_return(actor=approver, request=request_, reason="Bring your passport")

    page = client.get(_progress(request_)).content.decode()
    assert "Bring your passport" in page
    assert 'data-status="returned"' in page


def test_the_progress_page_costs_one_query(client, request_, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert client.get(_progress(request_)).status_code == 200


def test_unknown_tokens_and_drafts_are_not_found(client, open_account_type, customer, maker):
    draft = drafted(open_account_type, customer, maker, {})

    assert client.get(_progress(draft)).status_code == 404
    assert client.get("/r/not-a-token/").status_code == 404


def test_the_progress_page_is_rate_limited_per_address(client, request_):
    for _n in range(PROGRESS_VIEWS_PER_WINDOW):
        client.get("/r/guess/")

    assert client.get(_progress(request_)).status_code == 429


def test_the_receipt_page_lists_what_was_requested_masked(client, request_, customer, maker):
    client.force_login(maker)

    response = client.get(reverse("transactions:receipt", args=[request_.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert request_.reference in page
    assert customer.full_name in page
    assert customer.national_id not in page  # masked on paper
    assert customer.national_id[-4:] in page
    assert "20,000.00 CNY" in page
    assert request_.public_token in page  # the progress link
    assert "<svg" in page  # its QR code


def test_the_receipt_is_in_the_customer_s_language(client, request_, customer, maker):
    customer.preferred_language = "zh-hans"
    customer.save()
    request_.language = "zh-hans"
    request_.save(update_fields=["language"])
    client.force_login(maker)

    response = client.get(reverse("transactions:receipt", args=[request_.pk]))

    assert response["Content-Language"] == "zh-hans"
    assert request_.request_type.name_zh in response.content.decode()
    english = client.get(reverse("transactions:receipt", args=[request_.pk]) + "?lang=en")
    assert request_.request_type.name_en in english.content.decode()


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_receipt_pdf(client, request_, maker, lang):
    client.force_login(maker)

    response = client.get(reverse("transactions:receipt-pdf", args=[request_.pk]) + f"?lang={lang}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert request_.reference in response["Content-Disposition"]
    # The built-in CJK font is embedded by name (the Chinese text needs it).
    assert b"STSong-Light" in response.content


def test_the_receipt_is_for_staff_of_the_branch_only(
    client, request_, make_staff, branch_b, open_account_type, customer, maker
):
    url = reverse("transactions:receipt", args=[request_.pk])
    assert client.get(url).status_code == 302  # to the login page

    client.force_login(make_staff(Role.TELLER, branch=branch_b))
    assert client.get(url).status_code == 404
    assert client.get(reverse("transactions:receipt-pdf", args=[request_.pk])).status_code == 404

    client.force_login(maker)
    draft = drafted(open_account_type, customer, maker, {})
    assert client.get(reverse("transactions:receipt", args=[draft.pk])).status_code == 404


def test_the_receipt_costs_a_fixed_number_of_queries(
    client, request_, maker, django_assert_max_num_queries
):
    client.force_login(maker)
    url = reverse("transactions:receipt", args=[request_.pk])
    client.get(url)

    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200
