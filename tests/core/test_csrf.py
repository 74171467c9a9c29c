"""A form sent with an expired or missing CSRF token: public pages send the visitor back to try
again; staff pages explain in a 403 page. Nothing is done either way."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from bankservice.branches.models import Role
from reception.models import Device, DeviceKind, Ticket

pytestmark = pytest.mark.django_db

EXPIRED = "The page had expired. Please try again."


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def csrf_token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


@pytest.fixture
def kiosk(branch_a):
    return Device.objects.create(branch=branch_a, kind=DeviceKind.KIOSK, name="Entrance")


def test_a_kiosk_left_open_goes_back_to_its_page_and_the_retry_works(
    kiosk,
    cash_service,
    reception_clock,
):
    browser = Client(enforce_csrf_checks=True)
    url = reverse("reception_public:kiosk", args=[kiosk.token])
    stale = csrf_token(browser.get(url))
    browser.cookies.clear()  # the cookie the token belonged to is gone
    response = browser.post(
        url, {"service": cash_service.pk, "lang": "zh-hans", "csrfmiddlewaretoken": stale}
    )
    assert response.status_code == 302
    assert response["Location"] == url + "?lang=zh-hans"  # the page's language carries on
    assert not Ticket.objects.exists()

    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()
    assert 'class="alert"' in page.content.decode()
    # The note is shown once.
    assert 'class="notes"' not in browser.get(url).content.decode()

    retry = browser.post(url, {"service": cash_service.pk, "csrfmiddlewaretoken": csrf_token(page)})
    assert retry.status_code == 302
    assert Ticket.objects.count() == 1


def test_remote_check_in_without_cookies_says_the_page_expired(
    branch_a,
    cash_service,
    reception_clock,
):
    browser = Client(enforce_csrf_checks=True)
    url = reverse("reception_public:checkin", args=[branch_a.code])
    response = browser.post(url + "?lang=en", {"service": cash_service.pk}, follow=True)
    assert response.redirect_chain == [(url + "?lang=en", 302)]
    assert EXPIRED in text(response)
    assert not Ticket.objects.exists()


def test_a_staff_form_gets_a_friendly_403_with_a_way_back(client, make_staff, branch_a):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_staff(Role.GREETER, branch=branch_a))
    floor = "http://testserver" + reverse("reception:floor")
    response = browser.post(reverse("reception:issue"), {"branch": branch_a.pk}, HTTP_REFERER=floor)
    assert response.status_code == 403
    assert "The page had expired" in text(response)
    assert "Nothing was changed" in text(response)
    assert f'href="{floor}"' in response.content.decode()
    assert not Ticket.objects.exists()

    # A referer from elsewhere is no way back: the home page is.
    foreign = browser.post(
        reverse("reception:issue"), {"branch": branch_a.pk}, HTTP_REFERER="https://evil.example/"
    )
    assert foreign.status_code == 403
    assert "evil.example" not in foreign.content.decode()
    assert f'href="{reverse("home")}"' in foreign.content.decode()


def test_the_sign_in_form_is_not_a_retry_page(db):
    response = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": "x", "password": "y"}
    )
    assert response.status_code == 403
    assert "The page had expired" in text(response)


def test_the_403_page_speaks_chinese(db):
    response = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": "x"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 403
    assert '<html lang="zh-hans">' in response.content.decode()


@pytest.mark.parametrize(
    "path, back",
    [
        ("/book/a01/?day=2026-03-05", "/book/a01/?day=2026-03-05&lang=zh-hans"),
        ("/a/some-reference/", "/a/some-reference/?lang=zh-hans"),
    ],
)
def test_booking_pages_are_retry_pages_too(db, path, back):
    response = Client(enforce_csrf_checks=True).post(path, {"lang": "zh-hans"})
    assert (response.status_code, response["Location"]) == (302, back)
