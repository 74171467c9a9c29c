"""Fixtures for the whole suite: branches, staff by role, API clients."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from bankservice.branches.models import Role
from bankservice.branches.services import membership_grant
from bankservice.core.services import apiclient_create

from .factories import BranchFactory, RegionFactory, UserFactory

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
