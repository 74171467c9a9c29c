"""API-key authentication: what it costs per request and what the principal carries."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from bankservice.core.api_auth import ApiKeyAuthentication
from bankservice.core.services import apiclient_create, apiclient_revoke, apiclient_rotate_key


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


@pytest.mark.django_db
def test_the_previous_key_costs_the_same_one_query_during_its_overlap(django_assert_num_queries):
    client, old_key = apiclient_create(name="kiosks", scopes=["reception:read"], all_branches=True)
    new_key = apiclient_rotate_key(client=client, overlap=timedelta(hours=1))
    authenticate(f"Api-Key {new_key}")
    with django_assert_num_queries(1):
        principal, auth = authenticate(f"Api-Key {old_key}")
    assert auth.pk == client.pk and principal.has_perm("reception.view_ticket")
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        with pytest.raises(exceptions.AuthenticationFailed):
            authenticate(f"Api-Key {old_key}")
        assert authenticate(f"Api-Key {new_key}")[1].pk == client.pk


@pytest.mark.django_db
def test_a_revoked_client_is_refused(django_assert_num_queries):
    client, raw_key = apiclient_create(name="kiosks", scopes=[], all_branches=True)
    apiclient_revoke(actor=None, client=client)
    with django_assert_num_queries(1), pytest.raises(exceptions.AuthenticationFailed):
        authenticate(f"Api-Key {raw_key}")
