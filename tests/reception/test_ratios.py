"""Ratios between priority and standard tickets (PriorityRule.ratio_priority : ratio_standard).

Four standard walk-ins arrive first, then four elderly customers whose 10-minute weight puts them
all ahead in plain queue order: P1 P2 P3 P4 S1 S2 S3 S4. With a 2:1 ratio each counter calls
two priority tickets, then one standard, and so on; when one kind runs out it takes the other.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bankservice.branches.models import Role
from reception.config import counter_services
from reception.models import Counter, PriorityRule
from reception.services import (
    counter_sign_in,
    ticket_call_next,
    ticket_complete,
    ticket_start,
)
from tests.factories import CustomerFactory

from .factories import CounterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def elderly(branch_a):
    return CustomerFactory(home_branch=branch_a, is_elderly=True)


@pytest.fixture
def queue(issue_tickets, elderly):
    """S1–S4 at 10:00–10:03, then P1–P4 (elderly, 10 minutes ahead) at 10:04–10:07; the clock
    stops at 10:08. Returns {label: number}."""
    standard = issue_tickets(4)
    priority = issue_tickets(4, customer=elderly)
    labels = {t.number: f"S{i}" for i, t in enumerate(standard, start=1)}
    labels.update({t.number: f"P{i}" for i, t in enumerate(priority, start=1)})
    return labels


def ratio(branch, priority, standard, **weights):
    return PriorityRule.objects.create(
        branch=branch, ratio_priority=priority, ratio_standard=standard, **weights
    )


def serve(teller, counter, labels, times=1) -> list[str]:
    """Call, start and complete `times` tickets at the counter; their labels in call order."""
    called = []
    for _i in range(times):
        ticket = ticket_call_next(actor=teller, counter=counter)
        if ticket is None:
            break
        called.append(labels.get(ticket.number, ticket.number))
        ticket_complete(actor=teller, ticket=ticket_start(actor=teller, ticket=ticket))
    return called


def test_two_priority_then_one_standard_while_both_wait(teller, open_counter, queue, branch_a):
    ratio(branch_a, 2, 1)

    assert serve(teller, open_counter, queue, 8) == [
        "P1", "P2", "S1", "P3", "P4", "S2",  # 2:1 while both kinds wait
        "S3", "S4",  # then standards only: nobody waits for a kind that is not there
    ]  # fmt: skip


def test_a_counter_takes_the_other_kind_when_its_kind_is_empty(
    teller, open_counter, issue_tickets, elderly, branch_a
):
    ratio(branch_a, 1, 2)
    (s1,) = issue_tickets(1)
    # The cycle asks for a priority ticket first; none waits, so the standard one is called and
    # the standard run starts from its first slot.
    assert serve(teller, open_counter, {s1.number: "S1"}) == ["S1"]
    open_counter.refresh_from_db()
    assert open_counter.ratio_step == 2  # the second standard slot

    labels = {t.number: f"S{i}" for i, t in enumerate(issue_tickets(2), start=2)}
    labels.update({t.number: f"P{i}" for i, t in enumerate(issue_tickets(2, customer=elderly), 1)})
    assert serve(teller, open_counter, labels, 4) == ["S2", "P1", "S3", "P2"]


def test_a_ticket_past_the_maximum_wait_goes_first_whatever_the_cycle(
    teller, open_counter, queue, branch_a, reception_clock
):
    ratio(branch_a, 2, 1, max_wait_minutes=30)
    # 10:31: S1 (10:00) and S2 (10:01) have waited 30 minutes or more; the others have not.
    reception_clock.shift(dt.timedelta(minutes=23))

    assert serve(teller, open_counter, queue, 3) == ["S1", "S2", "P1"]


def test_reserved_tickets_still_come_first(teller, open_counter, queue, branch_a):
    from reception.services import ticket_park, ticket_unpark

    ratio(branch_a, 2, 1)
    first = ticket_call_next(actor=teller, counter=open_counter)  # step 0 wants priority
    assert queue[first.number] == "P1"
    ticket_park(actor=teller, ticket=first)
    ticket_unpark(actor=teller, ticket=first)  # back, reserved for this counter

    assert serve(teller, open_counter, queue, 3) == ["P1", "S1", "P2"]


def test_two_counters_keep_their_own_cycles(
    teller, open_counter, queue, branch_a, cash_service, make_staff
):
    ratio(branch_a, 2, 1)
    other = make_staff(Role.TELLER, branch=branch_a, username="teller-two")
    second = counter_sign_in(
        actor=other, counter=CounterFactory(branch=branch_a, number=2, services=[cash_service])
    )

    assert serve(teller, open_counter, queue, 2) == ["P1", "P2"]  # counter 1 now wants standard
    assert serve(other, second, queue, 1) == ["P3"]  # counter 2 is at the start of its cycle
    assert serve(teller, open_counter, queue, 1) == ["S1"]
    assert serve(other, second, queue, 2) == ["P4", "S2"]
    steps = dict(Counter.objects.values_list("number", "ratio_step"))
    assert steps == {1: 0, 2: 0}


def test_without_a_ratio_the_queue_order_alone_decides(teller, open_counter, queue, branch_a):
    PriorityRule.objects.create(branch=branch_a)

    assert serve(teller, open_counter, queue, 8) == [
        "P1", "P2", "P3", "P4", "S1", "S2", "S3", "S4",
    ]  # fmt: skip
    open_counter.refresh_from_db()
    assert open_counter.ratio_step == 0


def test_a_changed_ratio_applies_to_the_next_call(teller, open_counter, queue, branch_a):
    rule = ratio(branch_a, 2, 1)
    assert serve(teller, open_counter, queue, 1) == ["P1"]

    rule.ratio_priority, rule.ratio_standard = 1, 1  # step 1 of a 1:1 cycle: standard
    rule.save()

    assert serve(teller, open_counter, queue, 3) == ["S1", "P2", "S2"]


@pytest.mark.parametrize("with_ratio", [False, True])
@pytest.mark.parametrize("waiting", [2, 20])
def test_call_next_query_count_with_a_ratio_is_fixed(
    teller,
    open_counter,
    issue_tickets,
    elderly,
    branch_a,
    django_assert_num_queries,
    with_ratio,
    waiting,
):
    if with_ratio:
        ratio(branch_a, 2, 1)
    issue_tickets(waiting, gap=dt.timedelta(seconds=1))
    issue_tickets(waiting, customer=elderly, gap=dt.timedelta(seconds=1))
    counter_services(open_counter.pk)  # the configuration is cached, as on any working day

    # savepoint, counter lock, candidate, claim, the ticket, [the counter's step], event, release
    with django_assert_num_queries(8 if with_ratio else 7):
        ticket_call_next(actor=teller, counter=open_counter)


def test_a_half_set_ratio_is_refused(branch_a):
    # The admin form shows the same message (tests/reception/test_admin.py).
    half = PriorityRule(branch=branch_a, ratio_priority=2, ratio_standard=0)
    with pytest.raises(ValidationError) as error:
        half.full_clean()
    assert "Set both ratio numbers, or leave both at 0." in str(error.value)
