"""API clients: key rotation with an overlap, revoke and reactivate, scope and branch changes,
and the administrators' pages that do all of it (audited, the key shown once)."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bankservice.branches.models import Role
from bankservice.core.errors import BadInput, Conflict
from bankservice.core.models import ApiClient
from bankservice.core.services import (
    apiclient_create,
    apiclient_reactivate,
    apiclient_revoke,
    apiclient_rotate_key,
    apiclient_update,
)
from bankservice.events.models import Event
from tests.factories import UserFactory

START = dt.datetime(2027, 3, 2, 9, 0, tzinfo=dt.UTC)


def api_with(raw_key: str) -> APIClient:
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return http


def status_of(raw_key: str, branch) -> int:
    """What the key gets for one branch: 200 allowed, 404 outside its branches, 401/403 refused."""
    return api_with(raw_key).get(f"/api/v1/branches/{branch.pk}").status_code


@pytest.fixture
def admin(make_staff):
    return make_staff(Role.ADMIN, username="admin-bank")


@pytest.fixture
def kiosk(branch_a):
    """A client limited to branch A that may read branches."""
    return apiclient_create(name="kiosks", scopes=["branches:read"], branches=[branch_a])


# --- Services ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_old_key_works_during_the_overlap_then_stops(kiosk, branch_a, admin):
    client, old_key = kiosk
    with time_machine.travel(START, tick=False) as clock:
        new_key = apiclient_rotate_key(actor=admin, client=client, overlap=dt.timedelta(hours=24))
        assert new_key != old_key
        assert status_of(old_key, branch_a) == 200
        assert status_of(new_key, branch_a) == 200
        clock.move_to(START + dt.timedelta(hours=23, minutes=59))
        assert status_of(old_key, branch_a) == 200
        clock.move_to(START + dt.timedelta(hours=24))
        assert status_of(old_key, branch_a) == 401
        assert status_of(new_key, branch_a) == 200
    client.refresh_from_db()
    assert client.previous_key_expires_at == START + dt.timedelta(hours=24)
    assert old_key not in (client.key_hash, client.previous_key_hash)


@pytest.mark.django_db
def test_no_overlap_stops_the_old_key_at_once(kiosk, branch_a, admin):
    client, old_key = kiosk
    new_key = apiclient_rotate_key(actor=admin, client=client, overlap=dt.timedelta(0))
    assert status_of(old_key, branch_a) == 401
    assert status_of(new_key, branch_a) == 200
    client.refresh_from_db()
    assert (client.previous_key_prefix, client.previous_key_expires_at) == ("", None)


@pytest.mark.django_db
def test_a_second_rotation_ends_the_first_overlap(kiosk, branch_a, admin):
    client, first_key = kiosk
    second_key = apiclient_rotate_key(actor=admin, client=client)
    third_key = apiclient_rotate_key(actor=admin, client=client)
    assert status_of(first_key, branch_a) == 401
    assert status_of(second_key, branch_a) == 200
    assert status_of(third_key, branch_a) == 200


@pytest.mark.django_db
def test_the_old_key_keeps_the_clients_scopes_and_branches(kiosk, branch_a, branch_b, admin):
    client, old_key = kiosk
    new_key = apiclient_rotate_key(actor=admin, client=client)
    for key in (old_key, new_key):
        assert status_of(key, branch_a) == 200
        assert status_of(key, branch_b) == 404
        assert api_with(key).get("/api/v1/customers").status_code == 403


@pytest.mark.django_db
def test_an_overlap_out_of_range_is_refused(kiosk, admin):
    client, _key = kiosk
    for overlap in (dt.timedelta(hours=-1), dt.timedelta(days=31)):
        with pytest.raises(BadInput):
            apiclient_rotate_key(actor=admin, client=client, overlap=overlap)
    assert not Event.objects.filter(type="apiclient.key_rotated").exists()


@pytest.mark.django_db
def test_revoke_refuses_both_keys_and_reactivate_brings_back_only_the_current_one(
    kiosk, branch_a, admin
):
    client, old_key = kiosk
    new_key = apiclient_rotate_key(actor=admin, client=client)
    apiclient_revoke(actor=admin, client=client)
    assert status_of(old_key, branch_a) == 401
    assert status_of(new_key, branch_a) == 401
    with pytest.raises(Conflict):
        apiclient_revoke(actor=admin, client=client)

    apiclient_reactivate(actor=admin, client=client)
    assert status_of(new_key, branch_a) == 200
    assert status_of(old_key, branch_a) == 401
    with pytest.raises(Conflict):
        apiclient_reactivate(actor=admin, client=client)


@pytest.mark.django_db
def test_a_revoked_client_rotates_without_overlap(kiosk, branch_a, admin):
    client, old_key = kiosk
    apiclient_revoke(actor=admin, client=client)
    new_key = apiclient_rotate_key(actor=admin, client=client, overlap=dt.timedelta(days=7))
    apiclient_reactivate(actor=admin, client=client)
    assert status_of(old_key, branch_a) == 401
    assert status_of(new_key, branch_a) == 200


@pytest.mark.django_db
def test_changed_scopes_and_branches_apply_to_the_next_request(kiosk, branch_a, branch_b, admin):
    client, key = kiosk
    apiclient_update(actor=admin, client=client, scopes=["branches:read"], branches=[branch_b])
    assert status_of(key, branch_a) == 404
    assert status_of(key, branch_b) == 200
    apiclient_update(actor=admin, client=client, scopes=["customers:read"], all_branches=True)
    assert status_of(key, branch_b) == 403
    assert api_with(key).get("/api/v1/customers").status_code == 200
    client.refresh_from_db()
    assert client.all_branches and not client.branches.exists()


@pytest.mark.django_db
def test_every_change_is_audited_without_the_key(kiosk, branch_a, branch_b, admin):
    client, first_key = kiosk
    apiclient_update(actor=admin, client=client, scopes=["branches:read"], branches=[branch_b])
    apiclient_update(actor=admin, client=client, scopes=["branches:read"], branches=[branch_b])
    new_key = apiclient_rotate_key(actor=admin, client=client)
    apiclient_revoke(actor=admin, client=client)
    apiclient_reactivate(actor=admin, client=client)
    events = list(Event.objects.filter(subject_id=str(client.pk)).order_by("id"))
    assert [e.type for e in events] == [
        "apiclient.created",
        "apiclient.updated",  # the unchanged second update records nothing
        "apiclient.key_rotated",
        "apiclient.revoked",
        "apiclient.reactivated",
    ]
    assert events[0].actor_user is None  # created by the fixture, as the system
    assert all(e.actor_user == admin for e in events[1:])
    assert events[1].payload["changed"] == ["branches"]
    assert events[1].payload["branches"] == [branch_b.code]
    assert events[2].payload["previous_key_prefix"] == first_key.split("_")[1]
    assert events[2].label == "API client key rotated"
    client.refresh_from_db()
    for event in events:
        text = str(event.payload)
        for secret in (first_key, new_key, client.key_hash, first_key.split("_", 2)[2]):
            assert secret not in text


@pytest.mark.django_db
def test_a_taken_name_is_a_conflict_on_the_name(kiosk):
    with pytest.raises(Conflict) as error:
        apiclient_create(name="kiosks", scopes=[], all_branches=True)
    assert error.value.field == "name"
    assert ApiClient.objects.count() == 1


# --- Pages ------------------------------------------------------------------------------------


def post_new(http, **data):
    return http.post(
        reverse("apiclients:new"),
        {"name": "core banking", "scopes": ["branches:read", "customers:read"], **data},
    )


@pytest.mark.django_db
def test_the_list_costs_a_fixed_number_of_queries(
    client, admin, branch_a, branch_b, django_assert_num_queries
):
    client.force_login(admin)
    apiclient_create(name="one", scopes=["branches:read"], branches=[branch_a])
    # Warm the session and the content types, then count.
    assert client.get(reverse("apiclients:list")).status_code == 200
    # user, memberships (the scope), clients, their branches; the session is in the cache
    with django_assert_num_queries(4):
        response = client.get(reverse("apiclients:list"))
    for n in range(3):
        apiclient_create(name=f"more {n}", scopes=["events:read"], branches=[branch_a, branch_b])
    with django_assert_num_queries(4):
        response = client.get(reverse("apiclients:list"))
    assert response.status_code == 200
    assert [c.name for c in response.context["clients"]] == ["more 0", "more 1", "more 2", "one"]


@pytest.mark.django_db
def test_the_list_shows_a_previous_key_only_while_it_works(client, admin, kiosk, branch_a):
    api_client, old_key = kiosk
    other, other_old_key = apiclient_create(name="other", scopes=[], branches=[branch_a])
    with time_machine.travel(timezone.now() - dt.timedelta(hours=2)):
        apiclient_rotate_key(actor=admin, client=other, overlap=dt.timedelta(hours=1))
    apiclient_rotate_key(actor=admin, client=api_client, overlap=dt.timedelta(hours=1))
    client.force_login(admin)
    page = client.get(reverse("apiclients:list")).content.decode()
    assert old_key.split("_")[1] in page
    assert "works until" in page
    assert other_old_key.split("_")[1] not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [Role.TELLER, Role.BRANCH_MANAGER, Role.AUDITOR, "branch admin"], ids=str
)
def test_only_bank_wide_administrators_may_open_the_pages(
    client, make_staff, branch_a, kiosk, role
):
    api_client, _key = kiosk
    if role == "branch admin":  # the permission at one branch is not enough
        user = make_staff(Role.ADMIN, branch=branch_a)
    else:
        user = make_staff(role, branch=branch_a)
    client.force_login(user)
    pk = api_client.pk
    assert client.get(reverse("apiclients:list")).status_code == 403
    assert client.get(reverse("apiclients:new")).status_code == 403
    assert post_new(client, all_branches="on").status_code == 403
    assert client.get(reverse("apiclients:detail", args=[pk])).status_code == 403
    assert (
        client.post(reverse("apiclients:rotate", args=[pk]), {"overlap_hours": 0}).status_code
        == 403
    )
    assert client.post(reverse("apiclients:revoke", args=[pk])).status_code == 403
    assert ApiClient.objects.get().is_active
    assert not Event.objects.exclude(type="apiclient.created").exists()


@pytest.mark.django_db
def test_signed_out_visitors_go_to_the_login(client):
    response = client.get(reverse("apiclients:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_an_administrator_creates_a_client_and_sees_the_key_once(client, admin, branch_a):
    client.force_login(admin)
    assert client.get(reverse("apiclients:new")).status_code == 200
    response = post_new(client, branches=[branch_a.pk])
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    raw_key = response.context["raw_key"]
    created = ApiClient.objects.get(name="core banking")
    assert created.key_hash == ApiClient.hash_key(raw_key) and raw_key.startswith("bsk_")
    assert created.scopes == ["branches:read", "customers:read"]
    assert list(created.branches.all()) == [branch_a] and not created.all_branches
    assert raw_key in response.content.decode()
    # Not kept anywhere: neither in the session (messages) nor on the next page.
    assert raw_key not in str(dict(client.session))
    assert (
        raw_key not in client.get(reverse("apiclients:detail", args=[created.pk])).content.decode()
    )
    event = Event.objects.get(type="apiclient.created")
    assert event.actor_user == admin and event.payload["branches"] == [branch_a.code]
    assert status_of(raw_key, branch_a) == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"scopes": [], "all_branches": "on"}, "scopes"),
        ({"scopes": ["nope:read"], "all_branches": "on"}, "scopes"),
        ({}, "branches"),
        ({"name": "", "all_branches": "on"}, "name"),
        ({"name": "kiosks", "all_branches": "on"}, "name"),
    ],
    ids=["no scope", "unknown scope", "no branch", "no name", "taken name"],
)
def test_bad_input_on_create_shows_form_errors(client, admin, kiosk, data, field):
    client.force_login(admin)
    response = post_new(client, **data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert ApiClient.objects.count() == 1


@pytest.mark.django_db
def test_an_administrator_changes_scopes_and_branches(client, admin, kiosk, branch_a, branch_b):
    api_client, key = kiosk
    client.force_login(admin)
    url = reverse("apiclients:detail", args=[api_client.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["branches"] == [branch_a]
    response = client.post(url, {"scopes": ["branches:read"], "branches": [branch_b.pk]})
    assert response.status_code == 302
    assert status_of(key, branch_b) == 200 and status_of(key, branch_a) == 404
    bad = client.post(url, {"scopes": ["branches:read"]})
    assert bad.status_code == 400 and "branches" in bad.context["form"].errors
    assert Event.objects.filter(type="apiclient.updated").count() == 1


@pytest.mark.django_db
def test_an_administrator_rotates_with_the_chosen_overlap(client, admin, kiosk, branch_a):
    api_client, old_key = kiosk
    client.force_login(admin)
    url = reverse("apiclients:rotate", args=[api_client.pk])
    assert client.get(url).status_code == 405
    bad = client.post(url, {"overlap_hours": "5"})
    assert bad.status_code == 400 and "overlap_hours" in bad.context["rotate_form"].errors
    before = timezone.now()
    response = client.post(url, {"overlap_hours": "168"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new_key = response.context["raw_key"]
    assert new_key in response.content.decode()
    api_client.refresh_from_db()
    assert api_client.key_hash == ApiClient.hash_key(new_key)
    week = dt.timedelta(days=7)
    assert before + week <= api_client.previous_key_expires_at <= timezone.now() + week
    assert status_of(old_key, branch_a) == 200 and status_of(new_key, branch_a) == 200
    assert Event.objects.get(type="apiclient.key_rotated").actor_user == admin


@pytest.mark.django_db
def test_an_administrator_revokes_and_reactivates(client, admin, kiosk, branch_a):
    api_client, key = kiosk
    client.force_login(admin)
    revoke = reverse("apiclients:revoke", args=[api_client.pk])
    assert client.post(revoke).status_code == 302
    assert status_of(key, branch_a) == 401
    again = client.post(revoke, follow=True)
    assert "already revoked" in again.content.decode()
    assert client.post(reverse("apiclients:reactivate", args=[api_client.pk])).status_code == 302
    assert status_of(key, branch_a) == 200
    assert [e.type for e in Event.objects.exclude(type="apiclient.created").order_by("id")] == [
        "apiclient.revoked",
        "apiclient.reactivated",
    ]


@pytest.mark.django_db
def test_an_unknown_client_is_404(client, admin):
    client.force_login(admin)
    assert client.get(reverse("apiclients:detail", args=[999])).status_code == 404
    assert client.post(reverse("apiclients:revoke", args=[999])).status_code == 404


# --- Django admin: the same services ----------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_creates_changes_rotates_and_revokes_through_the_services(client, branch_a):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/core/apiclient/add/",
        {"name": "kiosks", "scopes": '["branches:read"]', "branches": [branch_a.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    api_client = ApiClient.objects.get()
    response = client.post(
        f"/admin/core/apiclient/{api_client.pk}/change/",
        {"scopes": '["branches:read"]', "all_branches": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(
        "/admin/core/apiclient/",
        {"action": "rotate_keys", "_selected_action": [api_client.pk]},
    )
    assert response.status_code == 302
    api_client.refresh_from_db()
    assert api_client.all_branches and api_client.previous_key_prefix
    assert client.get("/admin/core/apiclient/").status_code == 200
    assert client.get(f"/admin/core/apiclient/{api_client.pk}/change/").status_code == 200
    client.post("/admin/core/apiclient/", {"action": "revoke", "_selected_action": [api_client.pk]})
    api_client.refresh_from_db()
    assert not api_client.is_active
    assert [e.type for e in Event.objects.order_by("id")] == [
        "apiclient.created",
        "apiclient.updated",
        "apiclient.key_rotated",
        "apiclient.revoked",
    ]
