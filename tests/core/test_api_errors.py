"""One error body across the API (bankservice/core/api_errors.py): `{"detail": "…"}`, or
messages keyed by field for bad input, for every status a client can meet; also for what fails
outside DRF (no such URL, a request Django refuses, an unhandled error).

429 is in test_api_limits.py, 422 (a reused Idempotency-Key) in test_idempotency.py."""

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory
from django.urls import path
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from bankservice.core.api_errors import server_error
from bankservice.urls import handler400, handler404, handler500  # noqa: F401 (this urlconf's)
from bankservice.urls import urlpatterns as project_urlpatterns
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers"


def broken(request):
    raise RuntimeError("a bug")


# The project's URLs and handlers, and a view with a bug (`@pytest.mark.urls(__name__)`).
urlpatterns = [
    path("api/v1/broken", broken),
    path("broken", broken),
    *project_urlpatterns,
]


def assert_detail(response, status: int) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"]
    return body["detail"]


def test_unauthenticated_and_forbidden(api, make_api_client):
    detail = assert_detail(api.get(CUSTOMERS), 401)
    assert detail == "Authentication credentials were not provided."
    assert api.get(CUSTOMERS)["WWW-Authenticate"] == "Api-Key"
    api.credentials(HTTP_AUTHORIZATION="Api-Key bsk_nope_nope")
    assert assert_detail(api.get(CUSTOMERS), 401) == "Invalid or revoked API key."
    branches_only = make_api_client(["branches:read"], all_branches=True)
    assert_detail(branches_only.get(CUSTOMERS), 403)


def test_bad_requests(api, teller, branch_a):
    api.force_login(teller)
    assert_detail(api.get(f"{CUSTOMERS}/999999"), 404)
    assert_detail(api.put(CUSTOMERS, {}), 405)
    assert_detail(api.post(CUSTOMERS, "name=x", content_type="text/plain"), 415)
    assert_detail(api.post(CUSTOMERS, "{not json", content_type="application/json"), 400)
    assert_detail(api.get(CUSTOMERS, HTTP_ACCEPT="text/html"), 406)
    # Bad input: the messages keyed by field.
    invalid = api.post(CUSTOMERS, {"home_branch": branch_a.code, "email": "not-mail"})
    assert invalid.status_code == 400
    assert all(isinstance(messages, list) for messages in invalid.json().values())
    assert "email" in invalid.json()


def test_a_conflict_is_409_keyed_like_bad_input(api, teller, branch_a):
    CustomerFactory(home_branch=branch_a, core_banking_id="CB1")
    api.force_login(teller)
    response = api.post(
        CUSTOMERS, {"home_branch": branch_a.code, "full_name": "李雷", "core_banking_id": "CB1"}
    )
    assert response.status_code == 409
    assert list(response.json()) == ["core_banking_id"]


def test_an_unknown_api_url_is_a_json_404_and_a_page_elsewhere(api, teller):
    api.force_login(teller)
    assert assert_detail(api.get("/api/v1/no-such-thing"), 404) == "Not found."
    assert_detail(api.post("/api/v2/customers", {}), 404)
    page = api.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_a_request_django_refuses_is_a_json_400_under_the_api(api):
    assert_detail(api.get(CUSTOMERS, HTTP_HOST="evil.example"), 400)
    assert api.get("/accounts/login/", HTTP_HOST="evil.example")["Content-Type"].startswith(
        "text/html"
    )


@pytest.mark.urls(__name__)
def test_an_unhandled_error_is_a_json_500_under_the_api():
    client = Client(raise_request_exception=False)
    assert assert_detail(client.get("/api/v1/broken"), 500) == "A server error occurred."
    page = client.get("/broken")
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


class LockedView(APIView):
    """A read that meets the database away or a lock wait timed out."""

    def get(self, request):
        raise OperationalError("canceling statement due to lock timeout")

    def get_permissions(self):
        return []


def test_an_unavailable_database_is_a_503_worth_a_retry(teller):
    request = APIRequestFactory().get("/api/v1/locked")
    force_authenticate(request, user=teller)
    response = LockedView.as_view()(request)
    response.render()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.data == {"detail": "The service is briefly unavailable; try again shortly."}


class OutOfRangeView(APIView):
    """A value validation let by that the database cannot hold."""

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 32768::smallint")
        return None

    def get_permissions(self):
        return []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite holds any integer")
def test_a_value_the_database_refuses_is_a_400_not_a_500(teller):
    request = APIRequestFactory().get("/api/v1/out-of-range")
    force_authenticate(request, user=teller)
    response = OutOfRangeView.as_view()(request)
    response.render()
    assert response.status_code == 400
    assert response.data == {"detail": ["A value is out of range."]}


@pytest.mark.parametrize("path", ["/api/v1/customers", "/customers/"])
def test_the_database_failing_outside_a_view_is_a_503_too(path):
    """E.g. while the session middleware loads the session: Django's handler500 answers."""
    try:
        raise InterfaceError("connection already closed")
    except InterfaceError:
        response = server_error(RequestFactory().get(path))
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert "briefly unavailable" in response.content.decode()


def test_a_zh_client_reads_the_detail_in_chinese(api):
    response = api.get(CUSTOMERS, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 401
    assert response.json()["detail"] == "身份认证信息未提供。"
