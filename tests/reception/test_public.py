"""The public reception pages: kiosk, display board and its feed, the customer's status page."""

import json
import re
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from bankservice.events.models import Event
from reception.models import Device, DeviceKind, Ticket, TicketStatus, VisitSource
from reception.public_views import DEVICE_CACHE_SECONDS
from reception.services import (
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_start,
    ticket_transfer,
)
from tests.factories import CustomerFactory

from .factories import ServiceTypeFactory
from .fixtures import CLOSED_AT


@pytest.fixture(autouse=True)
def _private_file_cache(settings, tmp_path):
    # Without Redis the cache is a directory that every process of this checkout shares
    # (var/cache): another test run's cache.clear() there would empty it in the middle of a test.
    default = settings.CACHES["default"]
    if default["BACKEND"].endswith(".FileBasedCache"):
        settings.CACHES = {**settings.CACHES, "default": {**default, "LOCATION": str(tmp_path)}}


@pytest.fixture
def kiosk(branch_a):
    return Device.objects.create(branch=branch_a, kind=DeviceKind.KIOSK, name="Entrance kiosk")


@pytest.fixture
def display(branch_a):
    return Device.objects.create(branch=branch_a, kind=DeviceKind.DISPLAY, name="Lobby TV")


def kiosk_url(device, **query):
    url = reverse("reception_public:kiosk", args=[device.token])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def feed_url(device):
    return reverse("reception_public:board-feed", args=[device.token])


def status_url(ticket):
    return reverse("reception_public:status", args=[ticket.public_token])


def text(response) -> str:
    """The page's visible text, whitespace collapsed (enough to look for words)."""
    html = response.content.decode()
    html = re.sub(r"<(script|template)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def assert_csp_clean(response):
    """No inline script or style: the pages must work under script-src/style-src 'self'."""
    html = response.content.decode()
    assert " style=" not in html
    assert "<style" not in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


# --- Kiosk -------------------------------------------------------------------------------------


def test_kiosk_lists_the_active_services_in_the_chosen_language(
    client, kiosk, cash_service, accounts_service, reception_clock
):
    ServiceTypeFactory(
        branch=kiosk.branch, code="gone", name_en="Withdrawn", prefix="C", is_active=False
    )
    response = client.get(kiosk_url(kiosk))
    assert response.status_code == 200
    page = text(response)
    assert "Please choose a service" in page
    assert "Cash" in page and "Accounts" in page
    assert "Withdrawn" not in page
    assert 'lang="en"' in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert_csp_clean(response)

    chinese = client.get(kiosk_url(kiosk, lang="zh-hans"))
    assert chinese["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in chinese.content.decode()
    assert "现金业务" in text(chinese) and "开户业务" in text(chinese)
    # The choice is carried by the form, not stored on the shared kiosk.
    assert 'name="lang" value="zh-hans"' in chinese.content.decode()
    assert "django_language" not in chinese.cookies
    # The toggle links to both languages.
    assert f'href="{kiosk_url(kiosk, lang="en")}"' in chinese.content.decode()


def test_kiosk_issues_a_ticket_and_shows_number_place_and_qr_code(
    client, kiosk, cash_service, issue_tickets, reception_clock
):
    issue_tickets(2)  # two people are already waiting for cash
    response = client.post(kiosk_url(kiosk), {"service": cash_service.pk})
    ticket = Ticket.objects.get(visit__source=VisitSource.KIOSK)
    ticket_page = reverse("reception_public:kiosk-ticket", args=[kiosk.token, ticket.public_token])
    assert response.status_code == 302
    assert response["Location"] == ticket_page
    assert ticket.number == "A003"
    assert ticket.visit.customer is None
    assert Event.objects.filter(type="reception.ticket_issued", payload__source="kiosk").exists()

    response = client.get(ticket_page)
    assert response.status_code == 200
    page = text(response)
    assert "A003" in page and "Cash" in page
    html = response.content.decode()
    assert re.search(r"data-ahead>\s*2\s*<", html)
    assert re.search(r"about \d+ minutes", page)
    # The QR code: an inline SVG (no style attribute) of the absolute status URL.
    assert '<svg viewBox="0 0' in html and 'class="qr"' in html
    assert f"<title>http://testserver/t/{ticket.public_token}/</title>" in html
    # Back to the service list (in the default language) after about 20 seconds.
    assert f'content="20;url={kiosk_url(kiosk)}"' in html
    assert_csp_clean(response)


def test_kiosk_keeps_the_language_through_issuing(client, kiosk, cash_service, reception_clock):
    response = client.post(kiosk_url(kiosk), {"service": cash_service.pk, "lang": "zh-hans"})
    assert response["Location"].endswith("?lang=zh-hans")
    assert "现金业务" in text(client.get(response["Location"]))


def test_kiosk_public_base_url_setting_names_the_qr_code_host(
    client, kiosk, cash_service, reception_clock, settings
):
    settings.RECEPTION_PUBLIC_BASE_URL = "https://queue.bank.example/"
    response = client.post(kiosk_url(kiosk), {"service": cash_service.pk}, follow=True)
    ticket = Ticket.objects.get()
    assert f"https://queue.bank.example/t/{ticket.public_token}/" in response.content.decode()


def test_kiosk_post_keeps_csrf_protection(kiosk, cash_service, reception_clock):
    browser = Client(enforce_csrf_checks=True)
    # Refused: back to the service list to try again (tests/core/test_csrf.py), no ticket.
    refused = browser.post(kiosk_url(kiosk), {"service": cash_service.pk})
    assert (refused.status_code, refused["Location"]) == (302, kiosk_url(kiosk))
    assert not Ticket.objects.exists()

    page = browser.get(kiosk_url(kiosk))  # sets the CSRF cookie: no session needed
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = browser.post(
        kiosk_url(kiosk), {"service": cash_service.pk, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Ticket.objects.count() == 1


def test_kiosk_refuses_a_service_of_another_branch_or_garbage(
    client, kiosk, cash_service, branch_b, reception_clock
):
    elsewhere = ServiceTypeFactory(branch=branch_b, code="cash", prefix="A")
    for value in (elsewhere.pk, "not-a-number", ""):
        response = client.post(kiosk_url(kiosk), {"service": value})
        assert response.status_code == 400
        assert "Please choose one of the services shown." in text(response)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_kiosk_at_a_closed_branch_shows_a_friendly_page_in_both_languages(
    client, kiosk, cash_service, reception_clock, method
):
    reception_clock.move_to(CLOSED_AT)
    response = getattr(client, method)(kiosk_url(kiosk), {"service": cash_service.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<section class="closed-card" lang="en">' in html
    assert '<section class="closed-card" lang="zh-hans">' in html
    assert "We are closed now" in text(response)
    assert "Monday" in text(response) and "09:00–17:00" in text(response)
    # It looks again every minute, so the kiosk opens by itself.
    assert f'content="60;url={kiosk_url(kiosk)}"' in html
    assert not Ticket.objects.exists()


def test_unknown_inactive_or_wrong_kind_devices_get_404(client, kiosk, display, reception_clock):
    inactive = Device.objects.create(
        branch=kiosk.branch, kind=DeviceKind.KIOSK, name="Old", is_active=False
    )
    assert client.get(kiosk_url(inactive)).status_code == 404
    assert client.get("/kiosk/not-a-token/").status_code == 404
    assert client.get(kiosk_url(display)).status_code == 404  # a display is no kiosk
    assert client.get(reverse("reception_public:board", args=[kiosk.token])).status_code == 404
    assert client.get(feed_url(kiosk)).status_code == 404
    assert client.get("/display/not-a-token/feed").status_code == 404
    kiosk.branch.is_active = False
    kiosk.branch.save(update_fields=["is_active"])
    assert client.get(kiosk_url(kiosk)).status_code == 404


def test_kiosk_ticket_page_belongs_to_the_kiosk_branch(
    client, kiosk, branch_b, issue_tickets, reception_clock
):
    other_kiosk = Device.objects.create(branch=branch_b, kind=DeviceKind.KIOSK, name="B")
    (ticket,) = issue_tickets(1)
    url = reverse("reception_public:kiosk-ticket", args=[other_kiosk.token, ticket.public_token])
    assert client.get(url).status_code == 404


# --- Display board ----------------------------------------------------------------------------


def test_board_page_shows_now_serving_and_waiting_counts(
    client,
    display,
    cash_service,
    accounts_service,
    issue_tickets,
    open_counter,
    teller,
    reception_clock,
):
    issue_tickets(2)
    issue_tickets(1, service_type=accounts_service)
    called = ticket_call_next(actor=teller, counter=open_counter)
    response = client.get(reverse("reception_public:board", args=[display.token]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-number="{called.number}"' in html
    assert re.search(r'data-service="cash">.*?class="count">1<', html)
    assert re.search(r'data-service="accounts">.*?class="count">1<', html)
    assert f'data-feed-url="{feed_url(display)}"' in html
    assert 'data-chime="on"' in html
    assert "/static/js/board.js" in html
    assert "10:03" in text(response)  # the call (after three issues a minute apart), local time
    assert_csp_clean(response)


def test_idle_board_poll_is_304_without_any_query(
    client,
    display,
    cash_service,
    issue_tickets,
    open_counter,
    teller,
    reception_clock,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        (ticket,) = issue_tickets(1)

    first = client.get(feed_url(display))
    assert first.status_code == 200
    feed = first.json()
    assert first["ETag"] == f'"{feed["version"]}"'
    assert [row["waiting"] for row in feed["waiting"] if row["service"] == "cash"] == [1]
    assert feed["now_serving"] == []

    # Idle: the device and the version come from the cache.
    with django_assert_num_queries(0):
        idle = client.get(feed_url(display), {"v": feed["version"]})
    assert idle.status_code == 304
    assert idle.content == b""
    with django_assert_num_queries(0):
        by_etag = client.get(feed_url(display), HTTP_IF_NONE_MATCH=first["ETag"])
    assert by_etag.status_code == 304

    # A call changes the version: the next poll gets the new content.
    with django_capture_on_commit_callbacks(execute=True):
        ticket_call_next(actor=teller, counter=open_counter)
    changed = client.get(feed_url(display), {"v": feed["version"]})
    assert changed.status_code == 200
    new = changed.json()
    assert new["version"] != feed["version"]
    assert [(c["number"], c["counter"]) for c in new["now_serving"]] == [(ticket.number, 1)]
    assert [row["waiting"] for row in new["waiting"] if row["service"] == "cash"] == [0]

    with django_assert_num_queries(0):
        assert client.get(feed_url(display), {"v": new["version"]}).status_code == 304


def test_a_deactivated_display_stops_within_the_device_cache_time(client, display, reception_clock):
    assert DEVICE_CACHE_SECONDS <= 60
    with mock.patch.object(cache, "set", wraps=cache.set) as cache_set:
        assert client.get(feed_url(display)).status_code == 200
    timeouts = [
        call.kwargs.get("timeout")
        for call in cache_set.call_args_list
        if call.args[0].startswith("reception:device:")
    ]
    assert timeouts == [DEVICE_CACHE_SECONDS]
    # The token itself never goes into a cache key.
    assert all(display.token not in call.args[0] for call in cache_set.call_args_list)

    display.is_active = False
    display.save(update_fields=["is_active"])
    assert client.get(feed_url(display)).status_code == 200  # cached for a few seconds more
    cache.clear()  # ... until the entry expires
    assert client.get(feed_url(display)).status_code == 404
    assert client.get(reverse("reception_public:board", args=[display.token])).status_code == 404


# --- Ticket status page -----------------------------------------------------------------------


def test_status_page_shows_place_and_wait_then_the_counter_then_the_end(
    client, cash_service, issue_tickets, open_counter, teller, reception_clock
):
    first, mine = issue_tickets(2)
    response = client.get(status_url(mine))
    assert response.status_code == 200
    page = text(response)
    html = response.content.decode()
    assert mine.number in page and "Cash" in page
    assert re.search(r"data-ahead>\s*1\s*<", html)
    # One ahead, one open idle counter: the first is called at once, then about half a service.
    assert "about 4 minutes" in page
    assert f'content="10;url={status_url(mine)}"' in html
    assert response["Cache-Control"] == "no-store"
    assert_csp_clean(response)

    assert ticket_call_next(actor=teller, counter=open_counter) == first
    assert re.search(r"data-ahead>\s*0\s*<", client.get(status_url(mine)).content.decode())

    ticket_start(actor=teller, ticket=first)
    ticket_complete(actor=teller, ticket=first)
    assert ticket_call_next(actor=teller, counter=open_counter) == mine
    page = text(client.get(status_url(mine)))
    assert "It's your turn. Please go to Counter 1" in page

    ticket_start(actor=teller, ticket=mine)
    assert "You are being served at Counter 1" in text(client.get(status_url(mine)))
    ticket_complete(actor=teller, ticket=mine)
    done = client.get(status_url(mine))
    assert "Your visit is complete" in text(done)
    assert "Completed" in text(done)
    assert 'http-equiv="refresh"' not in done.content.decode()  # nothing more to wait for


def test_status_page_in_chinese_and_its_toggle(client, issue_tickets, reception_clock):
    (ticket,) = issue_tickets(1)
    response = client.get(status_url(ticket), {"lang": "zh-hans"})
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "现金业务" in text(response)
    assert f'content="10;url={status_url(ticket)}?lang=zh-hans"' in html
    assert f'href="{status_url(ticket)}?lang=en"' in html


def test_status_page_follows_a_transfer(
    client, accounts_service, issue_tickets, open_counter, teller, reception_clock
):
    (ticket,) = issue_tickets(1)
    ticket_call_next(actor=teller, counter=open_counter)
    new = ticket_transfer(actor=teller, ticket=ticket, service_type=accounts_service)
    response = client.get(status_url(ticket), {"lang": "en"})
    assert response.status_code == 302
    assert response["Location"] == status_url(new) + "?lang=en"
    assert "Accounts" in text(client.get(response["Location"]))


def test_unknown_ticket_token_is_404(client, issue_tickets, reception_clock):
    issue_tickets(1)
    assert client.get("/t/not-a-real-token/").status_code == 404


def test_status_page_query_budget(client, issue_tickets, django_assert_max_num_queries):
    (ticket,) = issue_tickets(1)
    with django_assert_max_num_queries(5):
        assert client.get(status_url(ticket)).status_code == 200


def test_no_personal_data_on_any_public_page(
    client,
    kiosk,
    display,
    cash_service,
    open_counter,
    teller,
    reception_clock,
    django_capture_on_commit_callbacks,
):
    customer = CustomerFactory(full_name="王小明", phone="+8613912345678", home_branch=kiosk.branch)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_issue(
            actor=None, service_type=cash_service, source=VisitSource.GREETER, customer=customer
        )
    pages = [
        client.get(status_url(ticket)),
        client.get(
            reverse("reception_public:kiosk-ticket", args=[kiosk.token, ticket.public_token])
        ),
        client.get(reverse("reception_public:board", args=[display.token])),
        client.get(feed_url(display)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        ticket_call_next(actor=teller, counter=open_counter)
    pages += [client.get(status_url(ticket)), client.get(feed_url(display))]
    secrets = [
        customer.full_name,
        customer.phone,
        customer.phone[3:],
        customer.national_id,
        customer.core_banking_id,
        teller.username,
        teller.first_name,
        teller.last_name,
    ]
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        if response["Content-Type"].startswith("application/json"):
            body = json.dumps(response.json(), ensure_ascii=False)
        for secret in secrets:
            assert secret not in body, (response.request["PATH_INFO"], secret)
    assert Ticket.objects.get().status == TicketStatus.CALLED
