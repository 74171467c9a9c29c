"""Core banking's result callback: executed or failed, idempotent, 409 on a different result
after the finish or before the send, 404 for a request it cannot see."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from bankservice.core.api_auth import ApiClientPrincipal
from bankservice.core.errors import BadInput
from bankservice.core.services import apiclient_create
from bankservice.events.models import Event
from bankservice.notify.models import Notification
from bankservice.sla.selectors import open_deadline_for
from tests.transactions.flow import drafted, submitted
from transactions.models import RequestStatus
from transactions.selectors import access_request
from transactions.services import CORE_KIND, InvalidTransition, request_core_result

pytestmark = pytest.mark.django_db


def _principal(scopes, *, branches=(), all_branches=False):
    client, _key = apiclient_create(
        name=f"core-{len(scopes)}-{len(branches)}",
        scopes=scopes,
        branches=branches,
        all_branches=all_branches,
    )
    return ApiClientPrincipal(
        client=client,
        branch_ids=None if all_branches else frozenset(b.pk for b in branches),
        scopes=frozenset(scopes),
    )


@pytest.fixture
def core_banking(db):
    return _principal(["transactions:core_banking", "transactions:read"], all_branches=True)


@pytest.fixture
def sent(activate_card_type, customer, maker, valid_data):
    # No approval levels: sent to core banking at submission.
    request = submitted(
        activate_card_type, customer, maker, valid_data(activate_card_type, customer)
    )
    assert request.status == RequestStatus.SENT
    return request


def _effects(request):
    return Event.objects.filter(
        subject_id=str(request.pk),
        type__in=["transactions.request_executed", "transactions.request_failed"],
    ).count()


def test_executed_with_its_reference_finishes_the_request(sent, core_banking):
    request, changed = request_core_result(
        actor=core_banking, request=sent, result="executed", reference="CB-778899"
    )

    assert changed is True
    assert request.status == RequestStatus.EXECUTED
    assert request.core_reference == "CB-778899"
    assert request.finished_at is not None
    assert request.due_at is None
    assert open_deadline_for(request, kind=CORE_KIND) is None
    event = Event.objects.get(type="transactions.request_executed")
    assert event.actor_client == core_banking.client
    assert event.payload["core_reference"] == "CB-778899"
    assert Notification.objects.filter(context__status="executed").count() == 1


def test_the_same_result_twice_has_one_effect(sent, core_banking):
    request_core_result(actor=core_banking, request=sent, result="executed", reference="CB-1")
    request, changed = request_core_result(
        actor=core_banking, request=sent, result="executed", reference="CB-1"
    )

    assert changed is False
    assert request.status == RequestStatus.EXECUTED
    assert _effects(sent) == 1
    assert Notification.objects.filter(context__status="executed").count() == 1


def test_a_failure_needs_a_reason_and_is_idempotent_too(sent, core_banking):
    with pytest.raises(BadInput) as error:
        request_core_result(actor=core_banking, request=sent, result="failed")
    assert error.value.field == "reason"

    request, changed = request_core_result(
        actor=core_banking, request=sent, result="failed", reason="Account frozen"
    )
    assert (request.status, request.status_reason, changed) == (
        RequestStatus.FAILED,
        "Account frozen",
        True,
    )
    _request, changed = request_core_result(
        actor=core_banking, request=sent, result="failed", reason="Account frozen"
    )
    assert changed is False
    assert _effects(sent) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"result": "executed", "reference": "CB-1"}, {"result": "failed", "reason": "x"}),
        ({"result": "executed", "reference": "CB-1"}, {"result": "executed", "reference": "CB-2"}),
        ({"result": "failed", "reason": "x"}, {"result": "executed", "reference": "CB-1"}),
    ],
)
def test_another_result_after_the_finish_is_a_conflict(sent, core_banking, first, second):
    request_core_result(actor=core_banking, request=sent, **first)

    with pytest.raises(InvalidTransition) as error:
        request_core_result(actor=core_banking, request=sent, **second)
    assert error.value.status_code == 409
    assert _effects(sent) == 1


def test_a_result_for_a_request_not_sent_is_a_conflict(
    open_account_type, customer, maker, core_banking, valid_data
):
    waiting = submitted(open_account_type, customer, maker, valid_data(open_account_type, customer))
    draft = drafted(open_account_type, customer, maker, {})

    for request in (waiting, draft):
        with pytest.raises(InvalidTransition):
            request_core_result(
                actor=core_banking, request=request, result="executed", reference="X"
            )


def test_bad_results_are_refused_on_their_field(sent, core_banking):
    with pytest.raises(BadInput) as error:
        request_core_result(actor=core_banking, request=sent, result="done")
    assert error.value.field == "result"
    with pytest.raises(BadInput) as error:
        request_core_result(actor=core_banking, request=sent, result="executed", reference=" ")
    assert error.value.field == "reference"


def test_only_the_core_banking_scope_at_the_branch_may_report(sent, branch_b, maker):
    reader = _principal(["transactions:read", "transactions:write"], all_branches=True)
    other_branch = _principal(["transactions:core_banking"], branches=[branch_b])

    for actor in (reader, other_branch, maker):
        with pytest.raises(PermissionDenied):
            request_core_result(actor=actor, request=sent, result="executed", reference="CB-1")
    assert _effects(sent) == 0


def test_an_unknown_request_or_one_out_of_scope_is_not_found(sent, branch_b):
    other_branch = _principal(["transactions:read"], branches=[branch_b])
    with pytest.raises(Http404):
        access_request(other_branch, sent.pk)
    with pytest.raises(Http404):
        access_request(other_branch, 987654)
