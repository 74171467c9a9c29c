"""The dashboards' measures of service requests (transactions/kpi_selectors.py) on a hand-built
day of requests made through the services, with time frozen at each step.

Branches A and B are in Shanghai. Monday 2 March 2026, local times:

    req  branch type           maker   submitted           decisions                 finished
    r2   A      open_account   maker   09:00, again 09:30  09:10 returned, 09:40 ok  11:20 executed
    r1   A      activate_card  maker   10:00               (none needed)             10:05 failed
    r5   B      activate_card  maker_b 10:00               (none needed)             10:30 executed
    r6   A      open_account   teller  10:00               10:20 rejected            (not counted)
    r3   A      activate_card  teller  11:00               (none needed)             11:01:10 executed
    r4   A      activate_card  maker   16:00               (none needed)             Tue 07:30 executed
    r7   A      activate_card  maker   16:00               (none needed)             still sent

Turnaround from the *first* submission: r2 09:00 -> 11:20 = 8,400 s (from the resubmission it
would be 6,600 s); r1 300 s; r5 1,800 s; r3 70 s; r4 15.5 h = 55,800 s (past the histogram's
four hours: the open bucket). r4 finishes on Tuesday 07:30 in Shanghai, which is still Monday
23:30 in UTC: it belongs to Tuesday.
"""

import datetime as dt
import zoneinfo

import pytest

from bankservice.branches.models import Role
from bankservice.core.api_auth import ApiClientPrincipal
from bankservice.core.measures import BUCKETS, bucket
from bankservice.core.services import apiclient_create
from bankservice.events.models import Event
from tests.factories import CustomerFactory
from tests.transactions.flow import submitted
from transactions.kpi_selectors import measure_rows
from transactions.models import Approval, Decision, RequestStatus, ServiceRequest
from transactions.services import (
    request_approve,
    request_core_result,
    request_reject,
    request_return,
    request_submit,
)

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = dt.date(2026, 3, 2)
TUESDAY = dt.date(2026, 3, 3)
DIMENSION_KEYS = ("day", "hour", "branch", "service", "staff")


def at(hour, minute=0, second=0, day=2):
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def core_banking(db):
    client, _key = apiclient_create(
        name="core", scopes=["transactions:core_banking", "transactions:read"], all_branches=True
    )
    return ApiClientPrincipal(
        client=client,
        branch_ids=None,
        scopes=frozenset(["transactions:core_banking", "transactions:read"]),
    )


@pytest.fixture
def day_of_requests(
    time_machine,
    open_account_type,
    activate_card_type,
    customer,
    maker,
    teller,
    approver,
    branch_b,
    make_staff,
    valid_data,
    core_banking,
):
    maker_b = make_staff(Role.TELLER, branch=branch_b, username="maker-b")
    customer_b = CustomerFactory(home_branch=branch_b, full_name="Li Lei")
    account = valid_data(open_account_type, customer)
    card = valid_data(activate_card_type, customer)

    def executed(request, result="executed"):
        extra = {"reference": f"CB-{request.pk}"} if result == "executed" else {"reason": "Frozen"}
        return request_core_result(actor=core_banking, request=request, result=result, **extra)[0]

    def move(moment):
        time_machine.move_to(moment, tick=False)

    move(at(9))
    r2 = submitted(open_account_type, customer, maker, account)
    move(at(9, 10))
    request_return(actor=approver, request=r2, reason="The ID copy is unreadable.")
    move(at(9, 30))
    r2 = request_submit(actor=maker, request=r2)
    move(at(9, 40))
    r2 = request_approve(actor=approver, request=r2)
    assert r2.status == RequestStatus.SENT

    move(at(10))
    r1 = submitted(activate_card_type, customer, maker, card)
    r5 = submitted(
        activate_card_type,
        customer_b,
        maker_b,
        valid_data(activate_card_type, customer_b),
        branch=branch_b,
    )
    r6 = submitted(open_account_type, customer, teller, account)
    move(at(10, 5))
    executed(r1, "failed")
    move(at(10, 20))
    request_reject(actor=approver, request=r6, reason="Not eligible.")
    move(at(10, 30))
    executed(r5)

    move(at(11))
    r3 = submitted(activate_card_type, customer, teller, card)
    move(at(11, 1, 10))
    executed(r3)
    move(at(11, 20))
    r2 = executed(r2)

    move(at(16))
    r4 = submitted(activate_card_type, customer, maker, card)
    submitted(activate_card_type, customer, maker, card)  # r7: stays with core banking
    move(at(7, 30, day=3))
    executed(r4)
    return {"r2": r2, "maker_b": maker_b}


def _by_key(rows, keys=DIMENSION_KEYS):
    return {tuple(row[k] for k in keys): row for row in rows}


def _measures(row):
    return {k: v for k, v in row.items() if k not in DIMENSION_KEYS}


def test_every_finished_request_by_local_day_hour_branch_type_and_maker(
    day_of_requests, branch_a, branch_b, maker, teller
):
    maker_b = day_of_requests["maker_b"]
    rows = _by_key(measure_rows(start=MONDAY, end=TUESDAY))

    assert set(rows) == {
        (MONDAY, 10, branch_a.id, "activate_card", maker.id),  # r1
        (MONDAY, 11, branch_a.id, "open_account", maker.id),  # r2
        (MONDAY, 11, branch_a.id, "activate_card", teller.id),  # r3
        (TUESDAY, 7, branch_a.id, "activate_card", maker.id),  # r4, Monday 23:30 UTC
        (MONDAY, 10, branch_b.id, "activate_card", maker_b.id),  # r5
    }
    r1 = rows[(MONDAY, 10, branch_a.id, "activate_card", maker.id)]
    # Failed in core banking counts as finished; never returned: no rework.
    assert _measures(r1) == {
        "requests_finished": 1,
        "turnaround_seconds": 300.0,
        "turnaround_histogram": {10: 1},  # 300 s // 30
    }
    r2 = rows[(MONDAY, 11, branch_a.id, "open_account", maker.id)]
    # From the first submission (09:00), not the resubmission (09:30): 2 h 20 min.
    assert _measures(r2) == {
        "requests_finished": 1,
        "turnaround_seconds": 8400.0,
        "turnaround_histogram": {280: 1},
        "requests_reworked": 1,
    }
    r3 = rows[(MONDAY, 11, branch_a.id, "activate_card", teller.id)]
    assert _measures(r3) == {
        "requests_finished": 1,
        "turnaround_seconds": 70.0,
        "turnaround_histogram": {2: 1},
    }
    r4 = rows[(TUESDAY, 7, branch_a.id, "activate_card", maker.id)]
    # 16:00 to 07:30 the next morning: 15.5 h, in the open bucket after four hours.
    assert _measures(r4) == {
        "requests_finished": 1,
        "turnaround_seconds": 55800.0,
        "turnaround_histogram": {BUCKETS - 1: 1},
    }
    r5 = rows[(MONDAY, 10, branch_b.id, "activate_card", maker_b.id)]
    assert _measures(r5)["turnaround_seconds"] == 1800.0


def test_the_resubmitted_request_records_its_first_submission_elsewhere(day_of_requests):
    r2 = day_of_requests["r2"]
    # What the measure has to work around: submitted_at moved to the resubmission.
    assert r2.submitted_at == at(9, 30)
    assert (r2.round, r2.rework_count) == (2, 1)
    # The rework the measure reads from the request agrees with the approvals.
    assert list(r2.approvals.values_list("round", "decision")) == [
        (1, Decision.RETURNED),
        (2, Decision.APPROVED),
    ]
    assert Approval.objects.filter(decision=Decision.RETURNED).count() == 1


def test_a_day_per_branch_adds_the_requests_up(day_of_requests, branch_a, branch_b):
    rows = _by_key(measure_rows(start=MONDAY, end=MONDAY, by=("day", "branch")), ("day", "branch"))

    # Monday only: r4 (Tuesday morning in Shanghai) is left out.
    assert rows[(MONDAY, branch_a.id)] == {
        "day": MONDAY,
        "branch": branch_a.id,
        "requests_finished": 3,  # r1, r2, r3
        "turnaround_seconds": 8770.0,  # 300 + 8,400 + 70
        "turnaround_histogram": {10: 1, 280: 1, 2: 1},
        "requests_reworked": 1,
    }
    assert rows[(MONDAY, branch_b.id)] == {
        "day": MONDAY,
        "branch": branch_b.id,
        "requests_finished": 1,
        "turnaround_seconds": 1800.0,
        "turnaround_histogram": {bucket(1800): 1},
    }
    assert len(rows) == 2


def test_by_service_and_by_staff(day_of_requests, maker, teller):
    by_service = _by_key(measure_rows(start=MONDAY, end=TUESDAY, by=("service",)), ("service",))
    assert by_service[("activate_card",)]["requests_finished"] == 4  # r1, r3, r4, r5
    # 300 + 70 + 55,800 + 1,800
    assert by_service[("activate_card",)]["turnaround_seconds"] == 57970.0
    assert "requests_reworked" not in by_service[("activate_card",)]
    assert by_service[("open_account",)]["requests_reworked"] == 1
    assert set(by_service) == {("activate_card",), ("open_account",)}

    by_staff = _by_key(measure_rows(start=MONDAY, end=TUESDAY, by=("staff",)), ("staff",))
    # The maker made r1, r2, r4; the teller r3 (r6, also the teller's, was rejected).
    assert by_staff[(maker.id,)]["requests_finished"] == 3
    assert by_staff[(maker.id,)]["turnaround_seconds"] == 64500.0  # 300 + 8,400 + 55,800
    assert by_staff[(teller.id,)] == {
        "staff": teller.id,
        "requests_finished": 1,
        "turnaround_seconds": 70.0,
        "turnaround_histogram": {2: 1},
    }


def test_hours_of_the_day_without_other_dimensions(day_of_requests, branch_a):
    rows = measure_rows(start=MONDAY, end=MONDAY, branch_ids=[branch_a.id], by=("hour",))
    hours = {row["hour"]: row["requests_finished"] for row in rows}
    assert hours == {10: 1, 11: 2}  # Shanghai hours: r1; r2 and r3


def test_branch_filter_and_range_edges(day_of_requests, branch_a, branch_b):
    assert measure_rows(start=TUESDAY, end=TUESDAY, branch_ids=[branch_b.id]) == []
    (tuesday,) = measure_rows(start=TUESDAY, end=TUESDAY, by=("day",))
    assert tuesday["requests_finished"] == 1  # r4 alone
    # The day before and the day after the data: nothing.
    assert measure_rows(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1)) == []
    assert measure_rows(start=dt.date(2026, 3, 4), end=dt.date(2026, 3, 9)) == []
    (only_b,) = measure_rows(start=MONDAY, end=TUESDAY, branch_ids=[branch_b.id], by=())
    assert only_b == {
        "requests_finished": 1,
        "turnaround_seconds": 1800.0,
        "turnaround_histogram": {60: 1},
    }


def test_the_first_submission_comes_from_its_event(day_of_requests, branch_a, maker):
    r2 = day_of_requests["r2"]
    first = Event.objects.get(type="transactions.request_submitted", subject_id=str(r2.pk))
    assert first.occurred_at == at(9)
    # A request submitted once reads its own submitted_at, not its event: moving r1's to 10:01
    # (its event still says 10:00) makes 240 s of the 300. (The event log is append-only on
    # PostgreSQL: the fallback to submitted_at when a resubmitted request has no event, for
    # rows written without the services, is not exercised here.)
    r1 = ServiceRequest.objects.get(request_type__code="activate_card", finished_at=at(10, 5))
    ServiceRequest.objects.filter(pk=r1.pk).update(submitted_at=at(10, 1))
    rows = _by_key(measure_rows(start=MONDAY, end=MONDAY, branch_ids=[branch_a.id]))
    assert rows[(MONDAY, 10, branch_a.id, "activate_card", maker.id)]["turnaround_seconds"] == 240
    # The resubmitted r2 does not read its submitted_at (moved here to 09:45): 8,400 s from 09:00.
    ServiceRequest.objects.filter(pk=r2.pk).update(submitted_at=at(9, 45))
    rows = _by_key(measure_rows(start=MONDAY, end=MONDAY, branch_ids=[branch_a.id]))
    assert rows[(MONDAY, 11, branch_a.id, "open_account", maker.id)]["turnaround_seconds"] == 8400
