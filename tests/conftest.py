"""Fixtures for the whole suite: branches, staff by role, API clients."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from bankservice import celery_app
from bankservice.branches.models import Role
from bankservice.branches.services import membership_grant
from bankservice.core.services import apiclient_create

from .factories import BranchFactory, RegionFactory, UserFactory

# The reception fixtures (services, counters, a queue clock, tickets) serve the other stages'
# tests too: consultations start from a ticket, requests from the customer being served.
pytest_plugins = ["tests.reception.fixtures"]


def pytest_configure(config):
    # Without Redis the product caches in var/cache, shared by every process on the machine;
    # a test run keeps its cache to itself.
    from django.conf import settings

    if "filebased" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (row locks, concurrent transactions); set DATABASE_URL",
)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests serve static files from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def use_broker(url: str, transport_options: dict | None = None) -> None:
    """Point the Celery app at another broker, dropping the pooled connections to the old one."""
    celery_app.conf.broker_url = url
    if transport_options is not None:
        celery_app.conf.broker_transport_options = transport_options
    # Celery caches a connection pool and a producer pool per app; both must go (what the app
    # itself does after a fork).
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _memory_broker():
    # Nothing a test queues may reach the developer's SQLite broker or the shared Redis (a worker
    # there would run it); tests call the task functions themselves.
    old_url = celery_app.conf.broker_url
    old_options = dict(celery_app.conf.broker_transport_options or {})
    use_broker("memory://", {})
    yield
    use_broker(old_url, old_options)


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    # The product defaults to Simplified Chinese; tests read English messages unless they ask
    # for Chinese (tests/core/test_i18n.py, the browser tests).
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def region(db):
    return RegionFactory(code="east", name="East")


@pytest.fixture
def branch_a(region):
    return BranchFactory(code="a01", name="Branch A", region=region)


@pytest.fixture
def branch_b(region):
    return BranchFactory(code="b01", name="Branch B", region=region)


@pytest.fixture
def branch_other_region(db):
    return BranchFactory(code="w01", name="Branch West", region=RegionFactory(code="west"))


@pytest.fixture
def make_staff(db):
    """make_staff(role, branch=None, region=None) -> a user holding that role there."""

    def make(role: str, *, branch=None, region=None, username=None):
        user = UserFactory(username=username or f"{role}-{branch or region or 'bank'}")
        membership_grant(user=user, role=role, branch=branch, region=region)
        return user

    return make


@pytest.fixture
def teller(make_staff, branch_a):
    return make_staff(Role.TELLER, branch=branch_a)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make_api_client(db):
    """make_api_client(scopes, branches=(), all_branches=False) -> APIClient with its key."""

    def make(scopes, *, branches=(), all_branches=False, name=None):
        client, raw_key = apiclient_create(
            name=name or f"client-{'-'.join(scopes)}-{len(branches)}",
            scopes=scopes,
            branches=branches,
            all_branches=all_branches,
        )
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
        http.api_client = client
        return http

    return make
