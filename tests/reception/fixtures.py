"""Fixtures for reception tests: services and counters at branch A, a clock frozen while the
branch is open, a counter the teller is signed in to, and a helper that fills the queue.

    def test_call(teller, open_counter, issue_tickets, reception_clock):
        first, second = issue_tickets(2)                  # cash service, 1 minute apart
        reception_clock.shift(dt.timedelta(minutes=5))    # time moves only when told
        ticket = ticket_call_next(actor=teller, counter=open_counter)

Branch A (tests/conftest.py) is open Monday–Friday 09:00–17:00 Asia/Shanghai. Tickets are
issued only while it is open, so any test that issues or calls tickets uses `reception_clock`
(or passes `now=` to the services itself).
"""

import datetime as dt
import zoneinfo

import pytest
import time_machine

from bankservice.branches.models import Role
from reception.models import VisitSource
from reception.services import counter_sign_in, ticket_issue

from .factories import CounterFactory, ServiceTypeFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Wednesday, 10:00 in Shanghai: branch A is open, and it is no holiday in the "cn" calendar.
OPEN_AT = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
# The same Wednesday after closing (17:00).
CLOSED_AT = dt.datetime(2026, 3, 4, 18, 0, tzinfo=SHANGHAI)


@pytest.fixture
def reception_clock():
    """Freeze time at OPEN_AT; yields time_machine's coordinates: `.shift(timedelta)` moves the
    clock on, `.move_to(datetime)` jumps (e.g. to CLOSED_AT)."""
    with time_machine.travel(OPEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cash_service(branch_a):
    """Branch A's cash service, prefix A (A001, A002 …)."""
    return ServiceTypeFactory(
        branch=branch_a, code="cash", name_en="Cash", name_zh="现金业务", prefix="A"
    )


@pytest.fixture
def accounts_service(branch_a):
    """Branch A's accounts service, prefix B (its own number series)."""
    return ServiceTypeFactory(
        branch=branch_a,
        code="accounts",
        name_en="Accounts",
        name_zh="开户业务",
        prefix="B",
        category="accounts",
    )


@pytest.fixture
def wealth(branch_a):
    """Branch A's wealth advice, bookable: 30-minute slots, one place each (prefix V)."""
    return ServiceTypeFactory(
        branch=branch_a,
        code="wealth",
        name_en="Wealth management",
        name_zh="理财咨询",
        prefix="V",
        category="wealth",
        bookable=True,
        slot_minutes=30,
        slot_capacity=1,
    )


@pytest.fixture
def greeter(make_staff, branch_a):
    return make_staff(Role.GREETER, branch=branch_a, username="greeter-a")


@pytest.fixture
def counter(branch_a, cash_service, accounts_service):
    """Counter 1 of branch A, serving cash (preference 1) then accounts (2); closed."""
    return CounterFactory(branch=branch_a, number=1, services=[cash_service, accounts_service])


@pytest.fixture
def open_counter(counter, teller):
    """Counter 1 with the `teller` (tests/conftest.py) signed in: open, ready to call."""
    return counter_sign_in(actor=teller, counter=counter)


@pytest.fixture
def issue_tickets(reception_clock, cash_service):
    """issue_tickets(n=1, service_type=cash_service, customer=None, source="greeter",
    gap=timedelta(minutes=1)) -> list of tickets issued one after another, the clock moving on
    by `gap` after each (so arrival order is unambiguous). Issued by the system (actor None)."""

    def issue(
        n=1,
        *,
        service_type=None,
        customer=None,
        source=VisitSource.GREETER,
        gap=dt.timedelta(minutes=1),
    ):
        tickets = []
        for _i in range(n):
            tickets.append(
                ticket_issue(
                    actor=None,
                    service_type=service_type or cash_service,
                    customer=customer,
                    source=source,
                )
            )
            reception_clock.shift(gap)
        return tickets

    return issue
