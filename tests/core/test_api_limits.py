"""API rate limits (bankservice/core/api_throttling.py): per API client, per member of staff,
per address without credentials, in fixed windows counted in the shared cache."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from bankservice.branches.models import Role

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers"
# The start of a window: the first refusal says the whole window is left.
WINDOW_START = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(WINDOW_START, tick=False) as traveller:
        yield traveller


def assert_throttled(response, retry_after: int):
    assert response.status_code == 429, response.content
    assert response["Retry-After"] == str(retry_after)
    body = response.json()
    assert set(body) == {"detail"}
    assert str(retry_after) in body["detail"]


def test_an_api_client_is_refused_past_its_rate_until_the_window_ends(
    settings, make_api_client, frozen
):
    settings.API_RATE_CLIENT = "3/min"
    settings.API_RATE_USER = "1/min"  # staff limits do not apply to API clients
    kiosks = make_api_client(["customers:read"], all_branches=True, name="kiosks")
    for _n in range(3):
        assert kiosks.get(CUSTOMERS).status_code == 200
    assert_throttled(kiosks.get(CUSTOMERS), retry_after=60)

    frozen.shift(45)
    assert_throttled(kiosks.get(CUSTOMERS), retry_after=15)

    frozen.shift(15)  # a new window
    assert kiosks.get(CUSTOMERS).status_code == 200


def test_each_api_client_has_its_own_count(settings, make_api_client, frozen):
    settings.API_RATE_CLIENT = "2/min"
    kiosks = make_api_client(["customers:read"], all_branches=True, name="kiosks")
    core = make_api_client(["customers:read"], all_branches=True, name="core banking")
    for _n in range(2):
        assert kiosks.get(CUSTOMERS).status_code == 200
    assert kiosks.get(CUSTOMERS).status_code == 429
    assert core.get(CUSTOMERS).status_code == 200
    assert core.get(CUSTOMERS).status_code == 200
    assert core.get(CUSTOMERS).status_code == 429


def test_staff_are_counted_each_by_their_user(settings, api, make_staff, branch_a, frozen):
    settings.API_RATE_USER = "2/min"
    settings.API_RATE_CLIENT = "1/min"  # API client limits do not apply to staff
    teller = make_staff(Role.TELLER, branch=branch_a, username="teller-one")
    other = make_staff(Role.TELLER, branch=branch_a, username="teller-two")
    api.force_login(teller)
    for _n in range(2):
        assert api.get(CUSTOMERS).status_code == 200
    assert_throttled(api.get(CUSTOMERS), retry_after=60)
    api.force_login(other)
    assert api.get(CUSTOMERS).status_code == 200


def test_the_window_is_counted_in_the_shared_cache(settings, make_api_client, frozen):
    settings.API_RATE_CLIENT = "2/min"
    kiosks = make_api_client(["customers:read"], all_branches=True, name="kiosks")
    assert kiosks.get(CUSTOMERS).status_code == 200
    assert kiosks.get(CUSTOMERS).status_code == 200
    assert kiosks.get(CUSTOMERS).status_code == 429
    cache.clear()  # what every web worker counts in: emptied, the count starts again
    assert kiosks.get(CUSTOMERS).status_code == 200


def test_an_empty_rate_turns_the_limit_off(settings, make_api_client, frozen):
    settings.API_RATE_CLIENT = ""
    kiosks = make_api_client(["customers:read"], all_branches=True, name="kiosks")
    assert all(kiosks.get(CUSTOMERS).status_code == 200 for _n in range(5))


class PublicView(APIView):
    """A view open without credentials, as a public endpoint would be."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


def test_calls_without_credentials_are_counted_by_address(settings, frozen):
    settings.API_RATE_ANON = "2/min"
    factory = APIRequestFactory()
    view = PublicView.as_view()

    def call(address: str):
        return view(factory.get("/api/v1/public", REMOTE_ADDR=address))

    assert call("203.0.113.5").status_code == 200
    assert call("203.0.113.5").status_code == 200
    refused = call("203.0.113.5")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert call("198.51.100.7").status_code == 200


@pytest.mark.parametrize(
    "backend",
    [
        "bankservice.core.cache.KeptClientRedisCache",  # the production backend
        "django.core.cache.backends.redis.RedisCache",  # Django's own, which raises
    ],
)
def test_an_unreachable_cache_lets_requests_through(settings, make_api_client, backend):
    settings.API_RATE_CLIENT = "1/min"
    kiosks = make_api_client(["customers:read"], all_branches=True, name="kiosks")
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "redis://127.0.0.1:1/0"}}
    for _n in range(3):
        assert kiosks.get(CUSTOMERS).status_code == 200
