"""API-key authentication: what it costs per request and what the principal carries."""

import pytest
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from bankservice.core.api_auth import ApiKeyAuthentication
from bankservice.core.services import apiclient_create


def authenticate(raw_key: str):
    request = Request(APIRequestFactory().get("/api/v1/tickets", HTTP_AUTHORIZATION=raw_key))
    return ApiKeyAuthentication().authenticate(request)


@pytest.mark.django_db
def test_an_all_branch_key_costs_one_query(django_assert_num_queries):
    _client, raw_key = apiclient_create(name="kiosks", scopes=["reception:read"], all_branches=True)
    authenticate(f"Api-Key {raw_key}")  # the first use also notes last_used_at
    with django_assert_num_queries(1):
        principal, _auth = authenticate(f"Api-Key {raw_key}")
    assert principal.branch_ids is None
    assert principal.has_perm("reception.view_ticket")
    assert not principal.has_perm("reception.add_ticket")


@pytest.mark.django_db
def test_a_branch_limited_key_reads_its_branch_ids(branch_a, branch_b, django_assert_num_queries):
    _client, raw_key = apiclient_create(
        name="branch-a kiosks", scopes=["reception:read"], branches=[branch_a]
    )
    authenticate(f"Api-Key {raw_key}")
    with django_assert_num_queries(2):
        principal, _auth = authenticate(f"Api-Key {raw_key}")
    assert principal.branch_ids == frozenset({branch_a.pk})
    assert principal.branch_ids_for("reception.view_ticket") == frozenset({branch_a.pk})
    assert principal.branch_ids_for("reception.add_ticket") == frozenset()


@pytest.mark.django_db
def test_a_wrong_secret_is_refused_before_the_branches_are_read(
    branch_a, django_assert_num_queries
):
    _client, raw_key = apiclient_create(
        name="branch-a kiosks", scopes=["reception:read"], branches=[branch_a]
    )
    with django_assert_num_queries(1), pytest.raises(exceptions.AuthenticationFailed):
        authenticate(f"Api-Key {raw_key}x")
