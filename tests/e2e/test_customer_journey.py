"""A teller's journey through the customer pages in a real browser, in English then Chinese."""

import random
import re
import tempfile
import warnings
from pathlib import Path

import pytest
from django.utils import translation

from bankservice.customers.models import Customer
from bankservice.events.models import Event
from tests.factories import CustomerFactory, make_resident_id

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SCREENSHOT = Path(tempfile.gettempdir()) / "e2e-customer.png"
CJK = re.compile(r"[\u4e00-\u9fff]")
NATIONAL_ID = make_resident_id(random.Random(20240601))
PHONE = "+8613912345678"
PHONE_MASKED = "+86139****5678"


def zh(message: str) -> str:
    """`message` as the server renders it in Simplified Chinese (the same catalogues, in-process)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture
def customer(branch_a):
    return CustomerFactory(
        full_name="王小明", national_id=NATIONAL_ID, phone=PHONE, home_branch=branch_a
    )


def test_teller_finds_customer_reveals_numbers_and_switches_to_chinese(
    page, sign_in, teller, customer
):
    sign_in(teller)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_contain_text("Welcome")

    # Search by name on the customers page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    page.get_by_label("Search").fill("小明")
    page.locator("form[role=search] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/customers/\?.*q="))
    results = page.locator("table.list tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(PHONE_MASKED)
    assert NATIONAL_ID not in page.content()

    # The customer page shows masked numbers only: the full ones are nowhere in the HTML.
    results.first.get_by_role("link", name="王小明").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    national_id = page.locator("dd[data-field=national_id]")
    phone = page.locator("dd[data-field=phone]")
    expect(national_id).to_have_text(customer.national_id_masked)
    expect(phone).to_have_text(PHONE_MASKED)
    html = page.content()
    assert NATIONAL_ID not in html
    assert PHONE not in html
    assert PHONE.removeprefix("+86") not in html

    # Reveal: the full numbers appear, and the look is in the audit trail.
    page.get_by_role("button", name=re.compile("Show full ID and phone")).click()
    expect(national_id).to_have_text(NATIONAL_ID)
    expect(phone).to_have_text(PHONE)
    expect(page.get_by_role("button", name=re.compile("Show full ID and phone"))).to_have_count(0)
    assert Event.objects.filter(type="customer.pii_revealed", actor_user=teller).count() == 1

    # Back on the customer page the numbers are masked again (a reveal shows them once).
    page.goto(f"/customers/{customer.pk}/")
    expect(national_id).to_have_text(customer.national_id_masked)

    # Switch to Simplified Chinese with the header's language switcher (app.js submits it).
    with page.expect_navigation():
        page.select_option("#language", "zh-hans")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#language")).to_have_value("zh-hans")
    expect(national_id).to_have_text(customer.national_id_masked)
    # "All" (timeline filter) and "None" (contact consent) come from Django's own catalogue.
    for django_message, locator in [
        ("All", page.locator("nav.chips a").first),
        ("None", page.locator("dl.facts dd").last),
    ]:
        assert CJK.search(zh(django_message)), f"Django's zh_Hans catalogue lacks {django_message}"
        expect(locator).to_have_text(zh(django_message))
    untranslated = []
    for message, locator in [
        ("Customers", page.get_by_role("navigation").first),
        ("Customer record", page.locator("main h2").first),
        ("Sign out", page.locator("form[action='/accounts/logout/'] button")),
    ]:
        if CJK.search(zh(message)):
            expect(locator).to_contain_text(zh(message))
        else:
            untranslated.append(message)
    page.screenshot(path=SCREENSHOT, full_page=True)

    # Signing out lands on the login page, still in Chinese: Django's own catalogue labels
    # the fields, our catalogue the rest.
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    for django_message in ("Username", "Password"):
        assert CJK.search(zh(django_message)), f"Django's zh_Hans catalogue lacks {django_message}"
    expect(page.locator("label[for=id_username]")).to_contain_text(zh("Username"))
    expect(page.locator("label[for=id_password]")).to_contain_text(zh("Password"))
    if CJK.search(zh("Sign in")):
        expect(page.locator("main h1")).to_have_text(zh("Sign in"))
    else:
        untranslated.append("Sign in")
    if untranslated:
        warnings.warn(
            f"zh_Hans catalogue does not translate {untranslated} yet; only Django's own "
            "strings and <html lang> were checked for them.",
            stacklevel=1,
        )


def test_switching_language_on_the_revealed_page_returns_to_the_customer(
    page, sign_in, teller, customer
):
    sign_in(teller)
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_role("button", name=re.compile("Show full ID and phone")).click()
    expect(page.locator("dd[data-field=phone]")).to_have_text(PHONE)
    # set_language answers the POST with a redirect to the form's `next`; follow where it leads.
    with page.expect_response(lambda r: r.request.redirected_from is not None) as landed:
        page.select_option("#language", "zh-hans")
    assert (landed.value.request.method, landed.value.status) == ("GET", 200), landed.value.url
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("dd[data-field=phone]")).to_have_text(PHONE_MASKED)


def test_wrong_password_shows_an_error(page, sign_in, teller):
    sign_in(teller, password="not the password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("main .errors[role=alert]")).to_contain_text(
        "Please enter a correct username and password"
    )
    expect(page.locator("#id_password")).to_have_value("")
    expect(page.locator("form[action='/accounts/logout/']")).to_have_count(0)


def test_invalid_resident_id_is_shown_next_to_the_field(page, sign_in, teller, branch_a):
    sign_in(teller)
    page.goto("/customers/")
    page.get_by_role("link", name="New customer").click()
    expect(page).to_have_url(re.compile(r"/customers/new/$"))
    wrong_check_digit = NATIONAL_ID[:17] + ("0" if NATIONAL_ID[17] != "0" else "1")
    page.fill("#id_full_name", "张三")
    page.fill("#id_national_id", wrong_check_digit)
    page.fill("#id_phone", "13800138000")
    page.select_option("#id_home_branch", label=branch_a.name)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    field = page.locator(".field.has-error", has=page.locator("#id_national_id"))
    expect(field).to_have_count(1)
    expect(field.locator(".error[role=alert]")).to_contain_text("check digit is wrong")
    # Only that field is in error, and what was typed is kept for correction.
    expect(page.locator(".field.has-error")).to_have_count(1)
    expect(page.locator("#id_national_id")).to_have_value(wrong_check_digit)
    assert not Customer.objects.exists()
