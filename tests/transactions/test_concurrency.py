"""Decisions and callbacks racing on PostgreSQL: the request's row lock lets one in at a time,
and the guard under the lock turns the others into a 409 (or a no-op for the same callback)."""

import pytest

from bankservice.core.api_auth import ApiClientPrincipal
from bankservice.core.services import apiclient_create
from bankservice.events.models import Event
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.transactions.flow import submitted
from transactions.models import Approval, RequestStatus, ServiceRequest
from transactions.services import (
    InvalidTransition,
    request_approve,
    request_core_result,
    request_reject,
)

# serialized_rollback: the flush between transactional tests would drop the role groups that
# a data migration created.
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _fresh(request):
    # Each thread reads the request on its own connection, as two browsers would.
    return ServiceRequest.objects.get(pk=request.pk)


@pytest.fixture
def waiting(withdrawal_type, customer, maker, valid_data):
    return submitted(withdrawal_type, customer, maker, valid_data(withdrawal_type, customer))


def test_two_approvers_deciding_the_same_level_one_wins(waiting, approver, approver_2):
    results = run_together(
        lambda: request_approve(actor=approver, request=_fresh(waiting), level=1),
        lambda: request_approve(actor=approver_2, request=_fresh(waiting), level=1),
    )

    won = [r for r in results if isinstance(r, ServiceRequest)]
    lost = [r for r in results if isinstance(r, InvalidTransition)]
    assert (len(won), len(lost)) == (1, 1), results
    assert Approval.objects.filter(request=waiting).count() == 1
    assert _fresh(waiting).status == RequestStatus.SENT
    assert Event.objects.filter(type="transactions.request_sent").count() == 1


def test_approve_and_reject_at_once_one_decision_stands(waiting, approver, approver_2):
    results = run_together(
        lambda: request_approve(actor=approver, request=_fresh(waiting), level=1),
        lambda: request_reject(
            actor=approver_2, request=_fresh(waiting), reason="Signature differs", level=1
        ),
    )

    assert sum(isinstance(r, ServiceRequest) for r in results) == 1, results
    assert sum(isinstance(r, InvalidTransition) for r in results) == 1
    approval = Approval.objects.get(request=waiting)
    assert _fresh(waiting).status == (
        RequestStatus.SENT if approval.decision == "approved" else RequestStatus.REJECTED
    )


@pytest.fixture
def core_banking(db):
    client, _key = apiclient_create(
        name="core", scopes=["transactions:core_banking"], all_branches=True
    )
    return ApiClientPrincipal(client=client, scopes=frozenset(["transactions:core_banking"]))


@pytest.fixture
def sent(activate_card_type, customer, maker, valid_data):
    request = submitted(
        activate_card_type, customer, maker, valid_data(activate_card_type, customer)
    )
    assert request.status == RequestStatus.SENT
    return request


def test_the_same_callback_twice_at_once_has_one_effect(sent, core_banking):
    def callback():
        return request_core_result(
            actor=core_banking, request=_fresh(sent), result="executed", reference="CB-42"
        )

    results = run_together(callback, callback)

    assert sorted(changed for _request, changed in results) == [False, True], results
    assert Event.objects.filter(type="transactions.request_executed").count() == 1
    assert _fresh(sent).core_reference == "CB-42"


def test_two_different_callbacks_at_once_one_wins_one_conflicts(sent, core_banking):
    results = run_together(
        lambda: request_core_result(
            actor=core_banking, request=_fresh(sent), result="executed", reference="CB-1"
        ),
        lambda: request_core_result(
            actor=core_banking, request=_fresh(sent), result="failed", reason="Timeout"
        ),
    )

    assert sum(isinstance(r, tuple) for r in results) == 1, results
    assert sum(isinstance(r, InvalidTransition) for r in results) == 1
    finished = Event.objects.filter(
        type__in=["transactions.request_executed", "transactions.request_failed"]
    )
    assert finished.count() == 1
