"""ETags on API reads (bankservice/core/api_renderers.py): every successful GET carries one, a
matching If-None-Match answers 304 without a body, and a change gives a new one."""

import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers"


@pytest.fixture
def staff_api(api, teller):
    api.force_login(teller)
    return api


@pytest.fixture
def customer(branch_a):
    return CustomerFactory(home_branch=branch_a, phone="+8613900000001")


def test_a_read_carries_an_etag_and_stays_out_of_shared_caches(staff_api, customer):
    response = staff_api.get(f"{CUSTOMERS}/{customer.pk}")
    assert response.status_code == 200
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response["Cache-Control"] == "no-store, private"
    # The same representation, the same tag.
    assert staff_api.get(f"{CUSTOMERS}/{customer.pk}")["ETag"] == response["ETag"]


def test_a_matching_if_none_match_answers_304_without_a_body(
    staff_api, customer, django_assert_num_queries
):
    staff_api.get(f"{CUSTOMERS}/{customer.pk}")  # the session's first request saves it
    # The session, the user and the customer: a 304 is built as a 200, to compare.
    with django_assert_num_queries(3):
        etag = staff_api.get(f"{CUSTOMERS}/{customer.pk}")["ETag"]
    with django_assert_num_queries(3):
        response = staff_api.get(f"{CUSTOMERS}/{customer.pk}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert "Content-Type" not in response
    assert response["Cache-Control"] == "no-store, private"
    # Weak comparison, a list of tags, and "*".
    for header in (f"W/{etag}", f'"other", {etag}', "*"):
        assert (
            staff_api.get(f"{CUSTOMERS}/{customer.pk}", HTTP_IF_NONE_MATCH=header).status_code
            == 304
        )
    assert (
        staff_api.get(f"{CUSTOMERS}/{customer.pk}", HTTP_IF_NONE_MATCH='"other"').status_code == 200
    )


def test_a_change_gives_a_new_etag(staff_api, customer):
    old = staff_api.get(f"{CUSTOMERS}/{customer.pk}")["ETag"]
    old_list = staff_api.get(CUSTOMERS)["ETag"]
    patched = staff_api.patch(f"{CUSTOMERS}/{customer.pk}", {"phone": "13900000002"})
    assert patched.status_code == 200
    assert "ETag" not in patched  # only reads are tagged
    fresh = staff_api.get(f"{CUSTOMERS}/{customer.pk}", HTTP_IF_NONE_MATCH=old)
    assert fresh.status_code == 200
    assert fresh.json()["phone"] == "+86139****0002"
    assert fresh["ETag"] != old
    assert staff_api.get(CUSTOMERS, HTTP_IF_NONE_MATCH=old_list).status_code == 200


def test_errors_carry_no_etag(staff_api, customer):
    missing = staff_api.get(f"{CUSTOMERS}/999999", HTTP_IF_NONE_MATCH="*")
    assert missing.status_code == 404
    assert "ETag" not in missing
    assert missing.json() == {"detail": "No Customer matches the given query."}


def test_api_clients_get_etags_too(make_api_client, customer):
    kiosks = make_api_client(["customers:read"], all_branches=True)
    etag = kiosks.get(f"{CUSTOMERS}/{customer.pk}")["ETag"]
    assert kiosks.get(f"{CUSTOMERS}/{customer.pk}", HTTP_IF_NONE_MATCH=etag).status_code == 304
