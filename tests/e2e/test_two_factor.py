"""Two-factor sign-in in the browser, in English and Simplified Chinese: a teller sets up an
authenticator (the code computed from the secret the page shows), signs out and signs in with a
code; an administrator requires two-factor for a role and its staff must set it up."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankservice.branches.models import Role, RoleSecurityPolicy

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def _switch_language(page, language: str) -> None:
    if language != "en":
        with page.expect_navigation():
            page.select_option("#language", language)
        expect(page.locator("html")).to_have_attribute("lang", language)


def _code(secret: str, *, steps_ahead: int = 0) -> str:
    totp = TOTP(b32decode(secret))
    # A code may serve once: the next sign-in uses the next 30 s step (within the tolerance).
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _submit(page) -> None:
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()


def _sign_out(page) -> None:
    with page.expect_navigation():
        page.locator("header form[action$='/accounts/logout/'] button").click()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_enrol_then_sign_in_with_a_code(page, sign_in, make_staff, branch_a, language):
    teller = make_staff(Role.TELLER, branch=branch_a, username="tfa-teller")
    sign_in(teller)
    _switch_language(page, language)
    page.goto("/accounts/security/")
    with page.expect_navigation():
        page.locator("a[href='/accounts/two-factor/enrol/']").click()
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#id_token", _code(secret))
    _submit(page)
    expect(page).to_have_url("/accounts/security/")
    assert TOTPDevice.objects.get(user=teller).confirmed

    _sign_out(page)
    sign_in(teller)
    # The password alone is not enough: the code page, even for a page asked directly.
    expect(page).to_have_url("/accounts/two-factor/verify/?next=%2F")
    page.goto("/customers/")
    expect(page.locator("#id_token")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.fill("#id_token", f"{(int(_code(secret, steps_ahead=1)) + 1) % 10**6:06d}")
    _submit(page)
    expect(page.locator("p.error").first).to_be_visible()
    time.sleep(1.1)  # django-otp holds the device for 1 s after a wrong code
    page.fill("#id_token", _code(secret, steps_ahead=1))
    _submit(page)
    expect(page).to_have_url("/customers/")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_administrator_requires_two_factor_for_a_role(
    page, sign_in, make_staff, branch_a, language
):
    admin = make_staff(Role.ADMIN, username="tfa-admin")
    teller = make_staff(Role.TELLER, branch=branch_a, username="tfa-teller")
    sign_in(admin)
    _switch_language(page, language)
    page.goto("/accounts/security/")
    with page.expect_navigation():
        page.locator("a[href='/accounts/security/roles/']").click()
    page.check(f"#id_{Role.TELLER}")
    _submit(page)
    expect(page.locator(f"#id_{Role.TELLER}")).to_be_checked()
    assert RoleSecurityPolicy.objects.get(role__name=Role.TELLER).require_two_factor
    _sign_out(page)

    sign_in(teller)
    expect(page).to_have_url("/accounts/two-factor/enrol/?next=%2F")
    expect(page.locator(".notice")).to_be_visible()  # "your role requires it"
    page.goto("/customers/")
    expect(page).to_have_url("/accounts/two-factor/enrol/?next=%2Fcustomers%2F")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#id_token", _code(secret))
    _submit(page)
    expect(page).to_have_url("/customers/")
