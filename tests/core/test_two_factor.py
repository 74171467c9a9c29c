"""TOTP two-factor sign-in: enrolment, the code after the password, roles that require it,
an administrator's reset, and what a half-signed-in session may reach."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankservice.branches.models import Role, RoleSecurityPolicy
from bankservice.core.security import PENDING_SESSION_KEY, role_policy_set
from bankservice.events.models import Event

PASSWORD = "correct horse battery staple"
STEP = dt.timedelta(seconds=30)


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def wrong_code(device: TOTPDevice) -> str:
    return f"{(totp(device.bin_key) + 1) % 10**6:06d}"


def sign_in(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


@pytest.fixture
def enrolled_teller(teller):
    TOTPDevice.objects.create(user=teller, name="phone", confirmed=True)
    return teller


@pytest.fixture
def admin(make_staff):
    return make_staff(Role.ADMIN, username="admin-bank")


def test_sign_in_without_a_device_needs_no_code(client, teller):
    response = sign_in(client, teller)
    assert response.status_code == 302
    assert PENDING_SESSION_KEY not in client.session
    assert client.get(reverse("customers:list")).status_code == 200


def test_voluntary_enrolment_shows_qr_and_secret_and_confirms_with_a_code(client, teller):
    client.force_login(teller)
    page = client.get(reverse("two_factor:enrol"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=teller, confirmed=False)
    body = page.content.decode()
    assert "<svg" in body
    assert page.context["secret"] in body
    assert "<script" not in body.split("<main", 1)[1]  # CSP: no inline scripts
    # Another visit keeps the same secret (the phone may already have scanned it).
    assert client.get(reverse("two_factor:enrol")).context["secret"] == page.context["secret"]

    wrong = client.post(reverse("two_factor:enrol"), {"token": wrong_code(device)})
    assert wrong.status_code == 400
    assert wrong.context["form"].errors["token"]
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    with time_machine.travel(timezone.now() + STEP * 2, tick=False):
        # After the throttle delay of the wrong attempt has passed.
        response = client.post(reverse("two_factor:enrol"), {"token": code(device)})
    assert response.status_code == 302
    assert response.url == reverse("security:home")
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    event = Event.objects.get(type="security.two_factor_enrolled")
    assert event.actor_user == teller
    assert event.subject_id == str(teller.pk)


def test_malformed_code_is_a_form_error_not_a_crash(client, teller):
    client.force_login(teller)
    response = client.post(reverse("two_factor:enrol"), {"token": "12ab"})
    assert response.status_code == 400
    assert "6-digit" in response.context["form"].errors["token"][0]


def test_sign_in_with_a_device_asks_for_the_code_before_anything_else(
    client, enrolled_teller, make_api_client
):
    response = sign_in(client, enrolled_teller)
    assert response.status_code == 302
    assert client.session[PENDING_SESSION_KEY] == "verify"
    # Every page sends the half-signed-in session to the code, remembering where it was going.
    page = client.get(reverse("customers:list"))
    assert page.status_code == 302
    assert page.url.startswith(reverse("two_factor:verify"))
    assert "next=%2Fcustomers%2F" in page.url
    assert client.get(reverse("two_factor:enrol")).url.startswith(reverse("two_factor:verify"))
    # A session-authenticated API call gets 403; an API key is unaffected.
    api = client.get("/api/v1/customers")
    assert api.status_code == 403
    assert api.json()["detail"]
    key_client = make_api_client(["customers:read"], all_branches=True)
    assert key_client.get("/api/v1/customers").status_code == 200

    device = TOTPDevice.objects.get(user=enrolled_teller)
    key_before = client.session.session_key
    response = client.post(
        reverse("two_factor:verify"), {"token": code(device), "next": "/customers/"}
    )
    assert response.status_code == 302
    assert response.url == "/customers/"
    assert PENDING_SESSION_KEY not in client.session
    assert client.session.session_key != key_before  # a new session once the code is in
    assert client.get(reverse("customers:list")).status_code == 200
    assert client.get("/api/v1/customers").status_code == 200


def test_a_code_cannot_be_used_twice_and_failures_are_throttled(client, enrolled_teller):
    device = TOTPDevice.objects.get(user=enrolled_teller)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        sign_in(client, enrolled_teller)
        wrong = client.post(reverse("two_factor:verify"), {"token": wrong_code(device)})
        assert wrong.status_code == 400
        # Right after a failure even the right code is refused (django-otp's throttle).
        assert client.post(reverse("two_factor:verify"), {"token": code(device)}).status_code == 400
    with time_machine.travel(now + dt.timedelta(seconds=5), tick=False):
        first = code(device)
        assert client.post(reverse("two_factor:verify"), {"token": first}).status_code == 302
    # The same code again, in another sign-in within the same 30 s step: refused (replay).
    other = client.__class__()
    with time_machine.travel(now + dt.timedelta(seconds=6), tick=False):
        sign_in(other, enrolled_teller)
        replay = other.post(reverse("two_factor:verify"), {"token": first})
    assert replay.status_code == 400
    assert other.session[PENDING_SESSION_KEY] == "verify"


def test_next_outside_the_site_is_ignored(client, enrolled_teller):
    sign_in(client, enrolled_teller)
    device = TOTPDevice.objects.get(user=enrolled_teller)
    response = client.post(
        reverse("two_factor:verify"), {"token": code(device), "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_role_that_requires_two_factor_sends_its_staff_to_enrol(client, admin, teller):
    role_policy_set(actor=admin, role=Role.TELLER, require_two_factor=True)
    sign_in(client, teller)
    assert client.session[PENDING_SESSION_KEY] == "enrol"
    response = client.get(reverse("customers:list"))
    assert response.url.startswith(reverse("two_factor:enrol"))
    assert client.get(reverse("two_factor:verify")).status_code == 302  # not this step
    page = client.get(response.url)
    assert page.status_code == 200
    assert page.context["required"] is True
    device = TOTPDevice.objects.get(user=teller, confirmed=False)
    done = client.post(response.url, {"token": code(device), "next": "/customers/"})
    assert done.url == "/customers/"
    assert client.get(reverse("customers:list")).status_code == 200

    # From now on every sign-in asks for the code.
    client.logout()
    with time_machine.travel(timezone.now() + STEP * 2, tick=False):
        sign_in(client, teller)
        assert client.session[PENDING_SESSION_KEY] == "verify"


def test_administrator_sets_the_policy_per_role(client, admin, django_assert_num_queries):
    client.force_login(admin)
    url = reverse("security:roles")
    client.get(url)  # warm the session
    with django_assert_num_queries(3):
        # the user (the session comes from the cache), the scope, the policies
        page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"].fields[Role.TELLER].initial is False

    data = {Role.TELLER: "on", Role.ADMIN: "on"}
    response = client.post(url, data)
    assert response.status_code == 302
    required = set(
        RoleSecurityPolicy.objects.filter(require_two_factor=True).values_list(
            "role__name", flat=True
        )
    )
    assert required == {Role.TELLER, Role.ADMIN}
    events = Event.objects.filter(type="security.role_policy_changed")
    assert sorted(e.payload["role"] for e in events) == sorted([Role.TELLER, Role.ADMIN])
    # Saving again unchanged records nothing; unticking records one change.
    client.post(url, data)
    client.post(url, {Role.ADMIN: "on"})
    assert Event.objects.filter(type="security.role_policy_changed").count() == 3
    assert not RoleSecurityPolicy.objects.get(role__name=Role.TELLER).require_two_factor


def test_policy_page_is_for_bank_wide_administrators_only(client, teller, make_staff, branch_a):
    client.force_login(teller)
    assert client.get(reverse("security:roles")).status_code == 403
    branch_admin = make_staff(Role.ADMIN, branch=branch_a, username="admin-a01")
    client.force_login(branch_admin)
    assert client.get(reverse("security:roles")).status_code == 403
    assert client.post(reverse("security:roles"), {Role.TELLER: "on"}).status_code == 403
    assert not RoleSecurityPolicy.objects.exists()


def test_administrator_resets_a_users_device(client, admin, enrolled_teller):
    client.force_login(admin)
    response = client.post(reverse("security:reset", args=[enrolled_teller.pk]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=enrolled_teller).exists()
    event = Event.objects.get(type="security.two_factor_reset")
    assert (event.actor_user, event.subject_id) == (admin, str(enrolled_teller.pk))
    # The teller signs in with the password alone again.
    other = client.__class__()
    sign_in(other, enrolled_teller)
    assert PENDING_SESSION_KEY not in other.session


def test_reset_respects_branch_scope(client, make_staff, branch_a, branch_b, enrolled_teller):
    teller = enrolled_teller
    other_admin = make_staff(Role.ADMIN, branch=branch_b, username="admin-b01")
    client.force_login(other_admin)
    # The teller works at branch A: an administrator of branch B cannot touch them.
    assert client.post(reverse("security:reset", args=[teller.pk])).status_code == 404
    assert client.get(reverse("security:reset", args=[teller.pk])).status_code == 405
    assert TOTPDevice.objects.filter(user=teller).exists()
    client.force_login(make_staff(Role.GREETER, branch=branch_a, username="greeter-a01"))
    assert client.post(reverse("security:reset", args=[teller.pk])).status_code == 403


def test_users_page_lists_scope_and_state(
    client, admin, make_staff, branch_a, branch_b, enrolled_teller, django_assert_num_queries
):
    make_staff(Role.TELLER, branch=branch_b, username="teller-b01")
    role_policy_set(actor=admin, role=Role.TELLER, require_two_factor=True)
    client.force_login(admin)
    client.get(reverse("security:users"))
    with django_assert_num_queries(3):
        # the user (the session comes from the cache), the scope, the users with their state
        page = client.get(reverse("security:users"))
    rows = {u.username: (u.has_two_factor, u.two_factor_required) for u in page.context["users"]}
    assert rows[enrolled_teller.username] == (True, True)
    assert rows["teller-b01"] == (False, True)
    assert rows[admin.username] == (False, False)

    branch_admin = make_staff(Role.ADMIN, branch=branch_b, username="admin-b01")
    client.force_login(branch_admin)
    names = {u.username for u in client.get(reverse("security:users")).context["users"]}
    assert names == {"teller-b01", "admin-b01"}
    searched = client.get(reverse("security:users"), {"q": "TELLER"}).context["users"]
    assert [u.username for u in searched] == ["teller-b01"]


def test_security_page_shows_state_and_the_pages_the_user_may_use(
    client, admin, make_staff, branch_a, django_assert_num_queries
):
    url = reverse("security:home")
    client.force_login(admin)
    client.get(url)
    with django_assert_num_queries(4):
        # the user, the scope, the device, the roles' policy
        page = client.get(url)
    assert page.context["device"] is None
    assert (page.context["can_set_policy"], page.context["can_manage_users"]) == (True, True)
    client.force_login(make_staff(Role.ADMIN, branch=branch_a, username="admin-a01"))
    page = client.get(url)
    assert (page.context["can_set_policy"], page.context["can_manage_users"]) == (False, True)
