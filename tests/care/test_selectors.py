"""Callback reads: the worklists (due today, overdue, mine; by priority, narrowed by branch and
priority), branch scope, callback_get's 404, and the queries a list costs."""

# The fixtures imported from callback_fixtures reappear as test arguments.
# ruff: noqa: F811

import pytest
from django.http import Http404
from django.utils import timezone

from bankservice.branches.models import Role
from care.selectors import callback_get, callback_list, worklist
from care.services import callback_attempt, callback_claim
from tests.care.callback_fixtures import (  # noqa: F401 (fixtures)
    SHANGHAI,
    _care_registered,
    agent,
    agent_2,
    at,
    customer,
    make_callback,
    now,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _shanghai():
    with timezone.override(SHANGHAI):
        yield


@pytest.fixture
def board(make_callback, branch_a, branch_b, agent, now):
    """At 09:00 Monday: overdue since 08:00, due today at 15:00 (high) and 11:00 (normal), due
    tomorrow; one at branch B due today; the 11:00 one claimed by the agent."""

    def for_new_customer(branch, **fields):
        person = CustomerFactory(home_branch=branch, consent_phone=True)
        return make_callback(customer=person, branch=branch, **fields)

    callbacks = {
        "overdue": for_new_customer(branch_a, due_at=at(8)),
        "high": for_new_customer(branch_a, due_at=at(15), priority=1),
        "normal": for_new_customer(branch_a, due_at=at(11)),
        "tomorrow": for_new_customer(branch_a, due_at=at(10, day=3)),
        "b": for_new_customer(branch_b, due_at=at(12)),
    }
    callback_claim(actor=agent, callback=callbacks["normal"])
    return callbacks


def _ids(rows):
    return [callback.pk for callback in rows]


def test_due_today_by_priority_then_due_time(board, agent):
    assert _ids(worklist(agent, "today")) == [
        board["high"].pk,
        board["overdue"].pk,
        board["normal"].pk,
    ]


def test_overdue_whatever_the_day(board, agent):
    assert _ids(worklist(agent, "overdue")) == [board["overdue"].pk]
    assert _ids(worklist(agent, "overdue", now=at(12, day=3))) == [
        board["high"].pk,
        board["overdue"].pk,
        board["normal"].pk,
        board["tomorrow"].pk,
    ]


def test_mine_is_what_the_agent_claimed(board, agent, agent_2):
    assert _ids(worklist(agent, "mine")) == [board["normal"].pk]
    assert _ids(worklist(agent_2, "mine")) == []


def test_closed_callbacks_leave_the_worklist(board, agent):
    callback_attempt(actor=agent, callback=board["normal"], channel="phone", result="wrong_number")

    assert board["normal"].pk not in _ids(worklist(agent, "today"))
    assert _ids(worklist(agent, "mine")) == []


def test_narrowed_by_branch_and_priority(board, make_staff, region, branch_b):
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)

    assert board["b"].pk in _ids(worklist(regional, "today"))
    assert _ids(worklist(regional, "today", branch=branch_b)) == [board["b"].pk]
    assert _ids(worklist(regional, "today", branch=branch_b.pk)) == [board["b"].pk]
    assert _ids(worklist(regional, "today", priority="1")) == [board["high"].pk]


def test_scope_is_the_principal_s_branches(board, agent, make_staff, branch_other_region):
    assert board["b"].pk not in _ids(callback_list(agent))
    stranger = make_staff(Role.CARE_AGENT, branch=branch_other_region)
    assert _ids(worklist(stranger, "today")) == []
    teller = make_staff(Role.TELLER, branch=board["b"].branch)
    assert _ids(callback_list(teller)) == []


def test_callback_get_is_a_404_outside_the_scope(board, agent, make_staff, region):
    assert callback_get(agent, board["high"].pk) == board["high"]
    assert callback_get(agent, str(board["high"].pk)) == board["high"]
    for missing in (board["b"].pk, 999999, "x"):
        with pytest.raises(Http404):
            callback_get(agent, missing)
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    assert callback_get(regional, board["b"].pk) == board["b"]
    with pytest.raises(Http404):  # reads, but does not work callbacks
        callback_get(regional, board["b"].pk, perm="care.work_callback")


def test_a_worklist_costs_two_queries_however_long(
    board, agent, make_callback, branch_a, django_assert_num_queries
):
    def read():
        agent.__dict__.pop("_branch_scope", None)  # a new request
        return [
            (c.customer.full_name, c.branch.name, c.claimed_by and c.claimed_by.username)
            for c in worklist(agent, "today")
        ]

    with django_assert_num_queries(2):  # the user's scope, the list
        assert len(read()) == 3
    for _ in range(3):
        person = CustomerFactory(home_branch=branch_a, consent_phone=True)
        make_callback(customer=person, due_at=at(16))
    with django_assert_num_queries(2):
        assert len(read()) == 6


def test_callback_get_costs_two_queries(board, agent, django_assert_num_queries):
    agent.__dict__.pop("_branch_scope", None)  # a new request
    with django_assert_num_queries(2):
        callback = callback_get(agent, board["normal"].pk)
        assert callback.customer.home_branch.code
        assert callback.claimed_by == agent
