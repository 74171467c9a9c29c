"""A teller signs in to a counter, calls, serves and completes a ticket in a real browser; the
greeter's floor view follows each step.

The live server runs on the real clock in another thread, so the branch here is open every day
from 00:00 to 23:59 and the tickets are issued through the service with `now=` a moment when it
is open (the pages never filter the queue by "today").
"""

import datetime as dt
import re
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone

from bankservice.branches.models import BusinessCalendar, OpeningHours
from reception.models import TicketStatus, VisitSource
from reception.services import ticket_issue
from tests.factories import CustomerFactory
from tests.reception.factories import CounterFactory, ServiceTypeFactory

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PHONE = "+8613912345678"
SCREENSHOTS = Path(tempfile.gettempdir())


def open_all_week(branch) -> None:
    """Open every day 00:00–23:59, on a calendar without weekends or holidays."""
    branch.calendar = BusinessCalendar.objects.create(
        code="always-open", name="Always open", weekend_days=[]
    )
    branch.save(update_fields=["calendar"])
    OpeningHours.objects.filter(branch=branch).delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(branch=branch, weekday=day, opens_at="00:00", closes_at="23:59")
        for day in range(1, 8)
    )


def an_open_moment(branch) -> dt.datetime:
    now = timezone.now()
    if now.astimezone(branch.zone).time() >= dt.time(23, 59):  # the last minute is closed
        now -= dt.timedelta(minutes=2)
    return now


def test_teller_calls_serves_and_completes_and_the_floor_follows(
    page, sign_in, teller, branch_a, monkeypatch
):
    # console.js reloads the live parts of the pages this often (5 s is its minimum).
    monkeypatch.setattr("reception.views.LIVE_REFRESH_SECONDS", 5)
    open_all_week(branch_a)
    cash = ServiceTypeFactory(branch=branch_a, code="cash", name_en="Cash", prefix="A")
    accounts = ServiceTypeFactory(branch=branch_a, code="accounts", name_en="Accounts", prefix="B")
    CounterFactory(branch=branch_a, number=1, services=[cash, accounts])
    customer = CustomerFactory(full_name="王小明", phone=PHONE, home_branch=branch_a)
    now = an_open_moment(branch_a)
    first = ticket_issue(
        actor=None, service_type=cash, source=VisitSource.KIOSK, customer=customer, now=now
    )
    ticket_issue(actor=None, service_type=cash, source=VisitSource.KIOSK, now=now)
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )

    sign_in(teller)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Counter", exact=True).click()
    expect(page).to_have_url(re.compile(r"/reception/counter/$"))
    expect(page.locator("main h2").first).to_have_text("Sign in to a counter")
    page.get_by_role("button", name="Sign in to Counter 1").click()
    expect(page.locator(".messages")).to_have_text("You are signed in to Counter 1.")
    expect(page.locator("[data-field=counter-state]")).to_have_text("Open")
    waiting = page.locator(".rx-queues tr[data-service=cash] [data-field=waiting]")
    expect(waiting).to_have_text("2")

    # Call next: A001 with its customer, masked, linked to the customer page.
    page.get_by_role("button", name="Call next").click()
    expect(page.locator(".messages")).to_have_text("Calling A001 to Counter 1.")
    expect(page.locator("[data-field=current-number]")).to_have_text("A001")
    expect(page.locator("[data-field=current-status]")).to_have_text("Called")
    expect(page.get_by_role("link", name="王小明")).to_have_attribute(
        "href", f"/customers/{customer.pk}/"
    )
    expect(page.locator(".rx-customer [data-field=phone]")).to_have_text("+86139****5678")
    assert PHONE not in page.content()
    expect(waiting).to_have_text("1")
    expect(page.get_by_role("button", name="Call next")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "e2e-reception-console.png", full_page=True)

    # The floor view: counter 1 is busy with A001, only A002 is waiting.
    nav.get_by_role("link", name="Reception", exact=True).click()
    expect(page).to_have_url(re.compile(r"/reception/floor/$"))
    counter_row = page.locator(".rx-counters tr[data-counter='1']")
    expect(counter_row.locator("[data-field=state]")).to_have_text("Open")
    expect(counter_row.locator("[data-field=busy]")).to_contain_text("A001")
    expect(counter_row.locator("[data-field=busy]")).to_contain_text("Called")
    expect(page.locator("[data-field=waiting-total]")).to_have_text("1")
    expect(page.locator(".rx-waiting tbody tr")).to_have_count(1)
    expect(page.locator(".rx-waiting tbody tr").first).to_have_attribute("data-ticket", "A002")
    page.screenshot(path=SCREENSHOTS / "e2e-reception-floor.png", full_page=True)
    # A kiosk issues A003: console.js brings it onto the floor view without a reload.
    ticket_issue(
        actor=None, service_type=cash, source=VisitSource.KIOSK, now=an_open_moment(branch_a)
    )
    expect(page.locator(".rx-waiting tbody tr")).to_have_count(2)
    expect(page.locator(".rx-waiting tbody tr").last).to_have_attribute("data-ticket", "A003")
    expect(page.locator("[data-field=waiting-total]")).to_have_text("2")

    # Back at the counter: start, then complete with an outcome.
    nav.get_by_role("link", name="Counter", exact=True).click()
    page.get_by_role("button", name="Start service").click()
    expect(page.locator(".messages")).to_have_text("Serving A001.")
    expect(page.locator("[data-field=current-status]")).to_have_text("Being served")
    page.get_by_label("Outcome").fill("Cash deposit, 5,000 CNY")
    page.get_by_role("button", name="Complete", exact=True).click()
    expect(page.locator(".messages")).to_have_text("A001 completed.")
    expect(page.locator("[data-field=current-number]")).to_have_text("No customer at your counter.")
    expect(page.get_by_role("button", name="Call next")).to_be_visible()
    first.refresh_from_db()
    assert (first.status, first.outcome) == (TicketStatus.COMPLETED, "Cash deposit, 5,000 CNY")

    # The floor view again: the counter is free, A002 and A003 still wait.
    nav.get_by_role("link", name="Reception", exact=True).click()
    expect(counter_row.locator("[data-field=busy]")).to_have_text("free")
    expect(page.locator(".rx-waiting tbody tr")).to_have_count(2)
    expect(page.locator(".rx-services tr[data-service=cash] [data-field=waiting]")).to_have_text(
        "2"
    )
    # No script error and no CSP violation on the way.
    assert not problems, problems
