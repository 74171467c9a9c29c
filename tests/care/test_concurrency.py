"""Callbacks racing on PostgreSQL: the callback's row lock lets one claim in, the customer's row
lock makes the scheduling guards hold when two writers schedule for one customer at once."""

# The fixtures imported from callback_fixtures reappear as test arguments.
# ruff: noqa: F811

import pytest

from bankservice.core.errors import Conflict
from bankservice.sla.models import Deadline
from care.models import Callback, CallbackStatus
from care.services import callback_claim
from tests.care.callback_fixtures import (  # noqa: F401 (fixtures)
    _care_registered,
    agent,
    agent_2,
    at,
    customer,
    make_callback,
    now,
)
from tests.concurrency import run_together
from tests.conftest import requires_postgres

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _fresh(callback):
    # Each thread reads the callback on its own connection, as two browsers would.
    return Callback.objects.get(pk=callback.pk)


def test_two_agents_claiming_at_once_one_wins(make_callback, agent, agent_2):
    callback = make_callback()

    results = run_together(
        lambda: callback_claim(actor=agent, callback=_fresh(callback)),
        lambda: callback_claim(actor=agent_2, callback=_fresh(callback)),
    )

    won = [r for r in results if isinstance(r, Callback)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert (len(won), len(lost)) == (1, 1), results
    stored = _fresh(callback)
    assert stored.status == CallbackStatus.CLAIMED
    assert stored.claimed_by_id == won[0].claimed_by_id


def test_two_writers_scheduling_the_same_reason_make_one_callback(make_callback):
    results = run_together(make_callback, make_callback)

    assert sum(isinstance(r, Callback) for r in results) == 1, results
    assert results.count(None) == 1
    assert Callback.objects.count() == 1
    assert Deadline.objects.count() == 1


def test_the_contact_cap_holds_under_concurrent_scheduling(make_callback, settings):
    settings.CARE_CONTACT_CAP = 1

    results = run_together(
        lambda: make_callback(reason_code="one"), lambda: make_callback(reason_code="two")
    )

    assert sum(isinstance(r, Callback) for r in results) == 1, results
    assert Callback.objects.count() == 1
