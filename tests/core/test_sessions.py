"""Sessions: a new key at sign-in (no fixation) and signing out everywhere, by the user or an
administrator, in the database and in the cache (sessions are cached_db)."""

from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.events.models import Event

PASSWORD = "correct horse battery staple"


def sign_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client.session.session_key


def cached(key: str):
    return caches[settings.SESSION_CACHE_ALIAS].get(KEY_PREFIX + key)


def test_sign_in_issues_a_new_session_key(client, teller):
    # A key planted before sign-in (session fixation) must not become the signed-in session.
    session = client.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    assert Session.objects.filter(session_key=planted).exists()

    signed_in = sign_in(client, teller)
    assert signed_in != planted
    assert not Session.objects.filter(session_key=planted).exists()
    assert cached(planted) is None
    assert client.session["planted"] is True  # the data moved with it


def test_sign_out_everywhere_ends_every_session_of_the_user(client, teller, make_staff, branch_a):
    phone, colleague = Client(), Client()
    here = sign_in(client, teller)
    there = sign_in(phone, teller)
    other = sign_in(colleague, make_staff(Role.GREETER, branch=branch_a, username="greeter-a01"))
    assert phone.get(reverse("customers:list")).status_code == 200
    assert cached(there) is not None

    response = client.post(reverse("security:sign_out_everywhere"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    # Both of the teller's sessions are gone, from the database and from the cache ...
    assert not Session.objects.filter(session_key__in=[here, there]).exists()
    assert cached(here) is None and cached(there) is None
    # ... so the other device is signed out at its next request.
    assert phone.get(reverse("customers:list")).status_code == 302
    assert client.get(reverse("customers:list")).status_code == 302
    # A colleague is untouched.
    assert colleague.get(reverse("customers:list")).status_code == 200
    assert Session.objects.filter(session_key=other).exists()

    event = Event.objects.get(type="security.sessions_ended")
    assert event.actor_user == teller
    assert event.payload["sessions"] == 2


def test_sign_out_everywhere_needs_post_and_sign_in(client, teller):
    assert client.post(reverse("security:sign_out_everywhere")).status_code == 302  # to login
    sign_in(client, teller)
    assert client.get(reverse("security:sign_out_everywhere")).status_code == 405
    assert client.get(reverse("customers:list")).status_code == 200


def test_administrator_signs_a_user_out_everywhere(client, teller, make_staff):
    admin = make_staff(Role.ADMIN, username="admin-bank")
    teller_client = Client()
    sign_in(teller_client, teller)
    sign_in(client, admin)
    response = client.post(reverse("security:user_sign_out", args=[teller.pk]))
    assert response.status_code == 302
    assert teller_client.get(reverse("customers:list")).status_code == 302
    assert client.get(reverse("security:users")).status_code == 200  # the admin stays in
    event = Event.objects.get(type="security.sessions_ended")
    assert (event.actor_user, event.subject_id) == (admin, str(teller.pk))
    assert event.payload["sessions"] == 1


def test_only_administrators_in_scope_sign_others_out(client, teller, make_staff, branch_b):
    teller_client = Client()
    sign_in(teller_client, teller)
    colleague = make_staff(Role.TELLER, branch=teller.memberships.get().branch, username="t2")
    client.force_login(colleague)
    assert client.post(reverse("security:user_sign_out", args=[teller.pk])).status_code == 403
    client.force_login(make_staff(Role.ADMIN, branch=branch_b, username="admin-b01"))
    assert client.post(reverse("security:user_sign_out", args=[teller.pk])).status_code == 404
    assert teller_client.get(reverse("customers:list")).status_code == 200
    assert not Event.objects.filter(type="security.sessions_ended").exists()
