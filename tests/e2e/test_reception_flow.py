"""A customer's ticket from the kiosk to the counter, seen on the board and on their phone.

The live server runs in another thread at the real time of day, so the branch here is open at
every hour of every day (no weekend, hours 00:00–24:00): the test never depends on the clock.
The teller works through the services in the test thread, as the staff console would.
"""

import re
import tempfile
from pathlib import Path

import pytest
from django.urls import reverse

from reception.models import Ticket, TicketStatus, VisitSource
from reception.services import (
    counter_sign_in,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_recall,
    ticket_start,
)

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SHOTS = Path(tempfile.gettempdir())
# The board polls every 1.5 s and the status page refreshes every 10 s.
BOARD_MS = 5_000
STATUS_MS = 20_000


def test_kiosk_ticket_is_called_on_the_board_and_the_status_page(page, reception):
    context = page.context
    kiosk, display = reception["kiosk"], reception["display"]
    teller, counter = reception["teller"], reception["counter"]

    # The lobby board is up before anyone takes a number.
    board = context.new_page()
    board.goto(reverse("reception_public:board", args=[display.token]))
    cash_waiting = board.locator("[data-waiting] li[data-service=cash] .count")
    expect(cash_waiting).to_have_text("0")
    expect(board.locator("[data-serving-empty]")).to_be_visible()
    # Marks this page load: it must survive every update below (no reload).
    board.evaluate("window.__sameBoard = true")

    # The customer takes a number at the kiosk.
    page.goto(reverse("reception_public:kiosk", args=[kiosk.token]))
    expect(page.locator("main h1")).to_have_text("Please choose a service")
    expect(page.locator("button.service")).to_have_count(4)
    page.screenshot(path=SHOTS / "e2e-reception-kiosk.png")
    with page.expect_navigation():
        page.locator("button[data-service=cash]").click()
    expect(page.locator("[data-ticket-number]")).to_have_text("A001")
    expect(page.locator("[data-ahead]")).to_have_text("0")
    expect(page.locator("svg.qr")).to_be_visible()
    ticket = Ticket.objects.get()
    assert (ticket.number, ticket.visit.source) == ("A001", VisitSource.KIOSK)
    assert ticket.public_token in page.locator("svg.qr title").text_content()
    page.screenshot(path=SHOTS / "e2e-reception-ticket.png")

    # The board shows them waiting, by itself.
    expect(cash_waiting).to_have_text("1", timeout=BOARD_MS)

    # Their phone follows the ticket (the QR code's address).
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(reverse("reception_public:status", args=[ticket.public_token]))
    expect(phone.locator("[data-ticket-number]")).to_have_text("A001")
    expect(phone.locator("[data-ahead]")).to_have_text("0")

    # A teller calls them.
    counter_sign_in(actor=teller, counter=counter)
    assert ticket_call_next(actor=teller, counter=counter) == ticket

    called = board.locator("[data-serving] li[data-number=A001]")
    expect(called).to_be_visible(timeout=BOARD_MS)
    expect(called.locator(".ctr")).to_have_text("3")
    expect(cash_waiting).to_have_text("0")
    expect(board.locator("[data-serving-empty]")).to_be_hidden()
    expect(board.locator("[data-recent] li").first).to_contain_text("A001")
    assert board.evaluate("window.__sameBoard") is True
    board.screenshot(path=SHOTS / "e2e-reception-board.png")

    counter_call = phone.locator("[data-counter]")
    expect(counter_call).to_contain_text("It's your turn", timeout=STATUS_MS)
    expect(counter_call.locator(".counter-big")).to_have_text("Counter 3")
    phone.screenshot(path=SHOTS / "e2e-reception-status.png", full_page=True)

    # Served and done: the board clears, the phone says thank you.
    ticket_start(actor=teller, ticket=ticket)
    ticket_complete(actor=teller, ticket=ticket, outcome="Cash deposit")
    expect(board.locator("[data-serving] li")).to_have_count(0, timeout=BOARD_MS)
    expect(board.locator("[data-serving-empty]")).to_be_visible()
    assert board.evaluate("window.__sameBoard") is True
    expect(phone.locator("[data-status]")).to_have_attribute(
        "data-status", TicketStatus.COMPLETED, timeout=STATUS_MS
    )
    expect(phone.locator(".message.done")).to_contain_text("Thank you")

    # The kiosk went back to the service list by itself (about 20 s after the ticket).
    expect(page).to_have_url(re.compile(rf"/kiosk/{kiosk.token}/$"), timeout=STATUS_MS)
    expect(page.locator("button.service")).to_have_count(4)


# Stands in for the Web Audio API: suspended until the first click (as a browser's autoplay
# policy has it) and records the tones played. Playwright's init scripts are not subject to the page's CSP.
FAKE_AUDIO = """
window.__tones = [];
window.AudioContext = class extends EventTarget {
  constructor() { super(); this.state = "suspended"; this.currentTime = 0; this.destination = {}; }
  resume() {
    // Like a browser's autoplay policy: audio starts only after the user touched the page.
    if (!navigator.userActivation.hasBeenActive) return new Promise(() => {});
    this.state = "running";
    this.dispatchEvent(new Event("statechange"));
    return Promise.resolve();
  }
  createOscillator() {
    const osc = { type: "", frequency: { value: 0 }, connect() {}, stop() {} };
    osc.start = () => window.__tones.push(osc.frequency.value);
    return osc;
  }
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} };
  }
};
"""


def test_board_chimes_on_a_call_once_sound_is_enabled(page, reception):
    teller, counter, cash = reception["teller"], reception["counter"], reception["cash"]
    page.add_init_script(FAKE_AUDIO)
    page.goto(reverse("reception_public:board", args=[reception["display"].token]))
    hint = page.locator("[data-sound-hint]")
    expect(hint).to_be_visible()
    page.locator("main").click()
    expect(hint).to_be_hidden()

    # A new number in the queue is no call: no chime.
    ticket = ticket_issue(actor=None, service_type=cash, source=VisitSource.KIOSK)
    cash_waiting = page.locator("[data-waiting] li[data-service=cash] .count")
    expect(cash_waiting).to_have_text("1", timeout=BOARD_MS)
    assert page.evaluate("window.__tones") == []

    counter_sign_in(actor=teller, counter=counter)
    ticket_call_next(actor=teller, counter=counter)
    expect(page.locator(f"[data-serving] li[data-number={ticket.number}]")).to_have_class(
        re.compile(r"\bflash\b"), timeout=BOARD_MS
    )
    page.wait_for_function("() => window.__tones.length === 2", timeout=BOARD_MS)  # ding-dong
    ticket_recall(actor=teller, ticket=ticket)  # a recall chimes again
    page.wait_for_function("() => window.__tones.length === 4", timeout=BOARD_MS)


def test_board_without_chime_asks_for_nothing(page, reception):
    display = reception["display"]
    display.chime = False
    display.save(update_fields=["chime"])
    page.add_init_script(FAKE_AUDIO)
    page.goto(reverse("reception_public:board", args=[display.token]))
    expect(page.locator("[data-waiting] li")).to_have_count(4)
    expect(page.locator("[data-sound-hint]")).to_be_hidden()


def test_kiosk_in_chinese(page, reception):
    page.goto(reverse("reception_public:kiosk", args=[reception["kiosk"].token]))
    with page.expect_navigation():
        page.get_by_role("link", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("button[data-service=cash] .name")).to_have_text("现金业务")
    page.screenshot(path=SHOTS / "e2e-reception-kiosk-zh.png")
    with page.expect_navigation():
        page.locator("button[data-service=cash]").click()
    expect(page.locator("[data-ticket-number]")).to_have_text("A001")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator(".ticket-card .service-name")).to_have_text("现金业务")
