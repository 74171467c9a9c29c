"""Queue behaviour: numbering, priority order, anti-starvation, transitions, transfer, park,
end of day, and the events every step records."""

import datetime as dt

import pytest

from bankservice.core.errors import DomainError
from bankservice.events.models import Event
from reception.models import PriorityRule, TicketStatus, VisitSource
from reception.services import (
    BranchClosed,
    InvalidTransition,
    counter_pause,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_no_show,
    ticket_park,
    ticket_recall,
    ticket_start,
    ticket_transfer,
    ticket_unpark,
    tickets_close_unserved,
)
from tests.factories import CustomerFactory

from .fixtures import CLOSED_AT, OPEN_AT

pytestmark = pytest.mark.django_db


def call(teller, counter):
    return ticket_call_next(actor=teller, counter=counter)


def test_numbers_run_per_prefix_and_reset_each_day(
    issue_tickets, accounts_service, reception_clock
):
    cash = issue_tickets(2)
    accounts = issue_tickets(1, service_type=accounts_service)
    assert [t.number for t in cash + accounts] == ["A001", "A002", "B001"]
    reception_clock.move_to(OPEN_AT + dt.timedelta(days=1))
    assert issue_tickets(1)[0].number == "A001"


def test_services_sharing_a_prefix_share_the_series(issue_tickets, branch_a):
    from .factories import ServiceTypeFactory

    deposit = ServiceTypeFactory(branch=branch_a, code="deposit", prefix="A")
    tickets = issue_tickets(1) + issue_tickets(1, service_type=deposit)
    assert [t.number for t in tickets] == ["A001", "A002"]


def test_closed_branch_and_inactive_service_are_refused(cash_service, reception_clock):
    reception_clock.move_to(CLOSED_AT)
    with pytest.raises(BranchClosed):
        ticket_issue(actor=None, service_type=cash_service, source=VisitSource.KIOSK)
    reception_clock.move_to(OPEN_AT - dt.timedelta(minutes=20))  # kiosk opens 30 min early
    ticket_issue(actor=None, service_type=cash_service, source=VisitSource.KIOSK)
    reception_clock.move_to(OPEN_AT)
    cash_service.is_active = False
    cash_service.save()
    with pytest.raises(DomainError):
        ticket_issue(actor=None, service_type=cash_service, source=VisitSource.KIOSK)


def test_priority_weights_move_tickets_ahead(teller, open_counter, issue_tickets, branch_a):
    PriorityRule.objects.create(branch=branch_a, elderly_minutes=10, private_segment_minutes=3)
    first = issue_tickets(1)[0]  # 10:00
    private = issue_tickets(1, customer=CustomerFactory(home_branch=branch_a, segment="private"))[0]
    elderly = issue_tickets(1, customer=CustomerFactory(home_branch=branch_a, is_elderly=True))[0]
    # 10:02 - 10 min = 09:52, before 10:00; 10:01 - 3 min = 09:58, before 10:00.
    assert elderly.priority_reasons == ["elderly"]
    order = []
    for _ in range(3):
        ticket = call(teller, open_counter)
        order.append(ticket.pk)
        ticket_start(actor=teller, ticket=ticket)
        ticket_complete(actor=teller, ticket=ticket)
    assert order == [elderly.pk, private.pk, first.pk]


def test_nobody_waits_for_ever(teller, open_counter, issue_tickets, branch_a, reception_clock):
    PriorityRule.objects.create(branch=branch_a, elderly_minutes=60, max_wait_minutes=30)
    plain = issue_tickets(1)[0]
    reception_clock.shift(dt.timedelta(minutes=20))
    elderly = issue_tickets(1, customer=CustomerFactory(home_branch=branch_a, is_elderly=True))[0]
    assert elderly.priority_at < plain.priority_at
    # Before the maximum wait the weighted ticket goes first ...
    assert call(teller, open_counter).pk == elderly.pk
    ticket_no_show(actor=teller, ticket=elderly)
    # ... and past it the long-waiting ticket is first whatever the weights.
    third = issue_tickets(1, customer=CustomerFactory(home_branch=branch_a, is_elderly=True))[0]
    reception_clock.shift(dt.timedelta(minutes=15))  # plain has now waited > 30 minutes
    assert third.priority_at < plain.priority_at
    assert call(teller, open_counter).pk == plain.pk


def test_counter_preference_picks_the_preferred_service_first(
    teller, open_counter, issue_tickets, accounts_service
):
    accounts = issue_tickets(1, service_type=accounts_service)[0]  # arrived first
    cash = issue_tickets(1)[0]
    assert call(teller, open_counter).pk == cash.pk  # cash is the counter's preference 1
    ticket_no_show(actor=teller, ticket=cash)
    assert call(teller, open_counter).pk == accounts.pk


def test_nobody_waiting_is_an_answer_not_an_error(teller, open_counter, reception_clock):
    assert call(teller, open_counter) is None


def test_a_counter_calls_one_ticket_at_a_time(teller, open_counter, issue_tickets):
    issue_tickets(2)
    call(teller, open_counter)
    with pytest.raises(InvalidTransition) as excinfo:
        call(teller, open_counter)
    assert excinfo.value.current == TicketStatus.CALLED


def test_paused_counter_does_not_call(teller, open_counter, issue_tickets):
    issue_tickets(1)
    counter_pause(actor=teller, counter=open_counter)
    with pytest.raises(InvalidTransition) as excinfo:
        call(teller, open_counter)
    assert excinfo.value.current == "paused"
    counter_pause(actor=teller, counter=open_counter, paused=False)
    assert call(teller, open_counter) is not None


def test_recalls_then_no_show(teller, open_counter, issue_tickets, settings):
    settings.RECEPTION_MAX_RECALLS = 2
    issue_tickets(1)
    ticket = call(teller, open_counter)
    ticket_recall(actor=teller, ticket=ticket)
    ticket_recall(actor=teller, ticket=ticket)
    with pytest.raises(InvalidTransition):
        ticket_recall(actor=teller, ticket=ticket)
    ticket = ticket_no_show(actor=teller, ticket=ticket)
    assert (ticket.status, ticket.recall_count) == (TicketStatus.NO_SHOW, 2)
    with pytest.raises(InvalidTransition) as excinfo:
        ticket_start(actor=teller, ticket=ticket)
    assert excinfo.value.current == TicketStatus.NO_SHOW


def test_transfer_keeps_the_visit_and_the_original_arrival(
    teller, open_counter, issue_tickets, accounts_service, reception_clock, make_staff, branch_a
):
    from reception.services import counter_sign_in

    from .factories import CounterFactory

    first = issue_tickets(1)[0]  # arrived 10:00
    reception_clock.shift(dt.timedelta(minutes=10))
    later = issue_tickets(1, service_type=accounts_service)[0]  # arrived 10:11
    ticket = call(teller, open_counter)
    ticket_start(actor=teller, ticket=ticket)
    moved = ticket_transfer(actor=teller, ticket=ticket, service_type=accounts_service)
    first.refresh_from_db()
    assert first.status == TicketStatus.TRANSFERRED
    assert moved.visit_id == first.visit_id and moved.transferred_from_id == first.pk
    assert moved.arrived_at == first.arrived_at
    assert moved.number == "B002" and "transferred" in moved.priority_reasons
    # At an accounts counter the transferred visit goes before the later arrival.
    other = CounterFactory(branch=branch_a, number=2, services=[accounts_service])
    advisor = make_staff("advisor", branch=branch_a)
    counter_sign_in(actor=advisor, counter=other)
    assert ticket_call_next(actor=advisor, counter=other).pk == moved.pk
    assert later.status == TicketStatus.WAITING


def test_transfer_to_a_counter_reserves_it(
    teller, open_counter, issue_tickets, accounts_service, make_staff, branch_a
):
    from reception.services import counter_sign_in

    from .factories import CounterFactory

    two = CounterFactory(branch=branch_a, number=2, services=[accounts_service])
    three = CounterFactory(branch=branch_a, number=3, services=[accounts_service])
    issue_tickets(1)
    ticket = call(teller, open_counter)
    moved = ticket_transfer(
        actor=teller, ticket=ticket, service_type=accounts_service, counter=three
    )
    at_two, at_three = (
        make_staff("advisor", branch=branch_a),
        make_staff("teller", branch=branch_a, username="teller-three"),
    )
    counter_sign_in(actor=at_two, counter=two)
    counter_sign_in(actor=at_three, counter=three)
    assert ticket_call_next(actor=at_two, counter=two) is None
    assert ticket_call_next(actor=at_three, counter=three).pk == moved.pk


def test_park_frees_the_counter_and_unpark_returns_the_visit_first(
    teller, open_counter, issue_tickets
):
    first, second = issue_tickets(2)
    ticket = call(teller, open_counter)
    ticket_start(actor=teller, ticket=ticket)
    parked = ticket_park(actor=teller, ticket=ticket)
    assert (parked.status, parked.counter_id) == (TicketStatus.PARKED, None)
    assert call(teller, open_counter).pk == second.pk
    ticket_start(actor=teller, ticket=second)
    ticket_complete(actor=teller, ticket=second)
    ticket_unpark(actor=teller, ticket=parked)
    assert call(teller, open_counter).pk == first.pk


def test_only_the_counter_holding_a_ticket_serves_it(
    teller, open_counter, issue_tickets, make_staff, branch_a
):
    issue_tickets(1)
    ticket = call(teller, open_counter)
    other = make_staff("teller", branch=branch_a, username="other-teller")
    with pytest.raises(DomainError):
        ticket_start(actor=other, ticket=ticket)


def test_end_of_day_closes_what_is_left(teller, open_counter, issue_tickets, reception_clock):
    waiting, called, done = issue_tickets(3)
    ticket = call(teller, open_counter)
    assert ticket.pk == waiting.pk
    assert tickets_close_unserved()[0].closed == 0  # still open: nothing closed
    reception_clock.move_to(CLOSED_AT)
    [result] = tickets_close_unserved()
    assert result.closed == 3
    statuses = set(
        type(waiting)
        .objects.filter(pk__in=[waiting.pk, called.pk, done.pk])
        .values_list("status", flat=True)
    )
    assert statuses == {TicketStatus.UNSERVED}
    assert Event.objects.filter(type="reception.ticket_unserved").count() == 3
    assert tickets_close_unserved()[0:1] == []  # nothing left to close


def test_every_step_records_an_event_with_times(
    teller, open_counter, issue_tickets, reception_clock
):
    issue_tickets(1)
    reception_clock.shift(dt.timedelta(minutes=4))
    ticket = call(teller, open_counter)
    reception_clock.shift(dt.timedelta(minutes=1))
    ticket_start(actor=teller, ticket=ticket)
    reception_clock.shift(dt.timedelta(minutes=6))
    ticket_complete(actor=teller, ticket=ticket, outcome="Cash withdrawal")
    types = list(
        Event.objects.filter(type__startswith="reception.ticket")
        .order_by("id")
        .values_list("type", flat=True)
    )
    assert types == [
        "reception.ticket_issued",
        "reception.ticket_called",
        "reception.ticket_serving",
        "reception.ticket_completed",
    ]
    called = Event.objects.get(type="reception.ticket_called")
    completed = Event.objects.get(type="reception.ticket_completed")
    assert called.payload["waited_seconds"] == 5 * 60
    assert completed.payload["served_seconds"] == 6 * 60
    assert completed.payload["outcome"] == "Cash withdrawal"
