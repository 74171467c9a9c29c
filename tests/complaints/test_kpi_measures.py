"""The dashboards' measures of complaints (complaints/kpi_selectors.py) on hand-built complaints
made through the services, time frozen at each step, on the bank's default CN pack (its one
obligation: the decision within 15 calendar days, to the end of the day; the complaints below,
received on 17 September 2026, are due by the end of Thursday 8 October in Shanghai).

Branches A and B are in Shanghai. Local times:

    c    branch category  about  received     what happened                            closed
    c1   A      card      rude   17 Sep 10:00 officer decides 18 Sep 15:00              within
    c2   A      charges   -      17 Sep 10:00 officer_2 decides 9 Oct 11:00 (past due)  late
    c6   B      card      -      17 Sep 11:00 officer_b decides 18 Sep 09:30            within
    c5   A      card      -      17 Sep 12:00 withdrawn 17 Sep 13:00                    (not)
    c7   A      charges   -      17 Sep 14:00 decided 18 Sep 16:00, reopened 17:00,
                                              decided again 21 Sep 10:00 by officer    within
    c3   A      card      -      18 Sep 07:00 open (17 Sep 23:00 in UTC: the 18th)      (not)
    c4   A      card      -      18 Sep 08:00 merged into c3 at 09:00: not received     (not)
"""

# The fixtures imported from lifecycle_fixtures reappear as test arguments.
# ruff: noqa: F811

import datetime as dt

import pytest

from complaints.kpi_selectors import measure_rows
from complaints.models import Category, Complaint, ComplaintStatus
from complaints.selectors import deadline_outcome, with_deadline_outcome
from complaints.services import (
    complaint_assign,
    complaint_create,
    complaint_decide,
    complaint_merge,
    complaint_reopen,
    complaint_withdraw,
)

from .conftest import SHANGHAI, at
from .lifecycle_fixtures import hq_manager  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

SEP_17, SEP_18, SEP_21, OCT_9 = (
    dt.date(2026, 9, 17),
    dt.date(2026, 9, 18),
    dt.date(2026, 9, 21),
    dt.date(2026, 10, 9),
)
DIMENSION_KEYS = ("day", "hour", "branch", "service", "staff")


@pytest.fixture
def complaints_set(
    time_machine,
    cn_pack,
    hq_manager,
    officer,
    officer_2,
    branch_manager,
    make_staff,
    branch_a,
    branch_b,
    complainant,
):
    card = Category.objects.get(code="card")
    charges = Category.objects.get(code="charges")
    rude = make_staff("teller", branch=branch_a, username="rude")
    officer_b = make_staff("complaint_officer", branch=branch_b, username="officer-b")

    def move(moment):
        time_machine.move_to(moment, tick=False)

    def receive(branch, category, **extra):
        return complaint_create(
            actor=hq_manager,
            branch=branch,
            channel="counter",
            category=category,
            description="Hand-built complaint for the dashboards.",
            customer=complainant,
            **extra,
        )

    def take(who, complaint):
        return complaint_assign(actor=who, complaint=complaint, officer=who)

    def decide(who, complaint):
        return complaint_decide(
            actor=who, complaint=complaint, outcome="rejected", reasons="The fee is in the tariff."
        )

    move(at(SHANGHAI, 2026, 9, 17, 10))
    c1 = take(officer, receive(branch_a, card, staff_complained_about=rude))
    c2 = take(officer_2, receive(branch_a, charges))
    move(at(SHANGHAI, 2026, 9, 17, 11))
    c6 = take(officer_b, receive(branch_b, card))
    move(at(SHANGHAI, 2026, 9, 17, 12))
    c5 = receive(branch_a, card)
    move(at(SHANGHAI, 2026, 9, 17, 13))
    complaint_withdraw(actor=officer, complaint=c5)
    move(at(SHANGHAI, 2026, 9, 17, 14))
    c7 = take(officer, receive(branch_a, charges))

    move(at(SHANGHAI, 2026, 9, 18, 7))
    c3 = receive(branch_a, card)
    move(at(SHANGHAI, 2026, 9, 18, 8))
    c4 = receive(branch_a, card)
    move(at(SHANGHAI, 2026, 9, 18, 9))
    complaint_merge(actor=officer, complaint=c4, into=c3)
    move(at(SHANGHAI, 2026, 9, 18, 9, 30))
    decide(officer_b, c6)
    move(at(SHANGHAI, 2026, 9, 18, 15))
    decide(officer, c1)
    move(at(SHANGHAI, 2026, 9, 18, 16))
    c7 = decide(officer, c7)
    move(at(SHANGHAI, 2026, 9, 18, 17))
    complaint_reopen(actor=branch_manager, complaint=c7, reason="New facts.")
    move(at(SHANGHAI, 2026, 9, 21, 10))
    decide(officer, c7)
    move(at(SHANGHAI, 2026, 10, 9, 11))
    decide(officer_2, c2)
    return {"rude": rude, "officer_b": officer_b, "c1": c1, "c2": c2, "c6": c6, "c7": c7}


def _by_key(rows, keys=DIMENSION_KEYS):
    return {tuple(row[k] for k in keys): row for row in rows}


def _measures(row):
    return {k: v for k, v in row.items() if k not in DIMENSION_KEYS}


def test_received_and_closed_by_local_day_hour_branch_category_and_person(
    complaints_set, branch_a, branch_b, officer, officer_2
):
    rude, officer_b = complaints_set["rude"], complaints_set["officer_b"]
    rows = _by_key(measure_rows(start=SEP_17, end=OCT_9))

    received = {key: _measures(row) for key, row in rows.items() if "complaints_received" in row}
    # Received: under the staff member complained about. c4 (merged) is not there; c3 is on
    # the 18th in Shanghai although 17 September in UTC.
    assert received == {
        (SEP_17, 10, branch_a.id, "card", rude.id): {"complaints_received": 1},  # c1
        (SEP_17, 10, branch_a.id, "charges", None): {"complaints_received": 1},  # c2
        (SEP_17, 11, branch_b.id, "card", None): {"complaints_received": 1},  # c6
        (SEP_17, 12, branch_a.id, "card", None): {"complaints_received": 1},  # c5
        (SEP_17, 14, branch_a.id, "charges", None): {"complaints_received": 1},  # c7
        (SEP_18, 7, branch_a.id, "card", None): {"complaints_received": 1},  # c3
    }
    closed = {key: _measures(row) for key, row in rows.items() if "complaints_closed" in row}
    # Closed: at the decision, under the officer. c7 only at its second decision (the first was
    # undone by the reopening); c2 decided past its due time: closed, not within.
    assert closed == {
        (SEP_18, 9, branch_b.id, "card", officer_b.id): {
            "complaints_closed": 1,
            "complaints_within_deadline": 1,
        },
        (SEP_18, 15, branch_a.id, "card", officer.id): {
            "complaints_closed": 1,
            "complaints_within_deadline": 1,
        },
        (SEP_21, 10, branch_a.id, "charges", officer.id): {
            "complaints_closed": 1,
            "complaints_within_deadline": 1,
        },
        (OCT_9, 11, branch_a.id, "charges", officer_2.id): {"complaints_closed": 1},
    }
    assert len(rows) == len(received) + len(closed)


def test_within_deadline_agrees_with_the_complaint_reports(complaints_set):
    # The reports' outcome (complaints.selectors) of every decided complaint.
    decided = with_deadline_outcome(Complaint.objects.filter(decided_at__isnull=False))
    outcomes = {c.pk: deadline_outcome(c) for c in decided}
    assert outcomes == {
        complaints_set["c1"].pk: "within",
        complaints_set["c6"].pk: "within",
        complaints_set["c7"].pk: "within",
        complaints_set["c2"].pk: "late",
    }
    (total,) = measure_rows(start=SEP_17, end=OCT_9, by=())
    assert total == {
        "complaints_received": 6,  # c1, c2, c3, c5, c6, c7
        "complaints_closed": 4,  # within + late
        "complaints_within_deadline": 3,
    }


def test_a_day_per_branch(complaints_set, branch_a, branch_b):
    rows = _by_key(measure_rows(start=SEP_17, end=SEP_18, by=("day", "branch")), ("day", "branch"))
    assert rows == {
        (SEP_17, branch_a.id): {"day": SEP_17, "branch": branch_a.id, "complaints_received": 4},
        (SEP_17, branch_b.id): {"day": SEP_17, "branch": branch_b.id, "complaints_received": 1},
        # c3 received; c1 decided (c7's first decision no longer counts).
        (SEP_18, branch_a.id): {
            "day": SEP_18,
            "branch": branch_a.id,
            "complaints_received": 1,
            "complaints_closed": 1,
            "complaints_within_deadline": 1,
        },
        (SEP_18, branch_b.id): {
            "day": SEP_18,
            "branch": branch_b.id,
            "complaints_closed": 1,
            "complaints_within_deadline": 1,
        },
    }


def test_by_category_by_person_and_by_hour(complaints_set, branch_a, officer, officer_2):
    by_service = _by_key(measure_rows(start=SEP_17, end=OCT_9, by=("service",)), ("service",))
    assert by_service == {
        # c1, c3, c5, c6 received; c1, c6 decided within.
        ("card",): {
            "service": "card",
            "complaints_received": 4,
            "complaints_closed": 2,
            "complaints_within_deadline": 2,
        },
        # c2, c7 received; c7 within, c2 late.
        ("charges",): {
            "service": "charges",
            "complaints_received": 2,
            "complaints_closed": 2,
            "complaints_within_deadline": 1,
        },
    }
    by_staff = _by_key(measure_rows(start=SEP_17, end=OCT_9, by=("staff",)), ("staff",))
    rude = complaints_set["rude"]
    assert by_staff[(rude.id,)] == {"staff": rude.id, "complaints_received": 1}
    assert by_staff[(None,)] == {"staff": None, "complaints_received": 5}
    assert by_staff[(officer.id,)] == {
        "staff": officer.id,
        "complaints_closed": 2,  # c1, c7
        "complaints_within_deadline": 2,
    }
    assert by_staff[(officer_2.id,)] == {"staff": officer_2.id, "complaints_closed": 1}

    hours = measure_rows(start=SEP_18, end=SEP_18, branch_ids=[branch_a.id], by=("hour",))
    assert {row["hour"]: _measures(row) for row in hours} == {
        7: {"complaints_received": 1},  # c3
        15: {"complaints_closed": 1, "complaints_within_deadline": 1},  # c1
    }


def test_branch_filter_and_range_edges(complaints_set, branch_a, branch_b):
    # Branch B: c6 only.
    assert measure_rows(start=SEP_17, end=OCT_9, branch_ids=[branch_b.id], by=()) == [
        {"complaints_received": 1, "complaints_closed": 1, "complaints_within_deadline": 1}
    ]
    # The 17th alone: received only (nothing decided that day; c5's withdrawal is no closure).
    (sep_17,) = measure_rows(start=SEP_17, end=SEP_17, branch_ids=[branch_a.id], by=())
    assert sep_17 == {"complaints_received": 4}
    # The days around the data, and the days between the decisions.
    assert measure_rows(start=dt.date(2026, 9, 16), end=dt.date(2026, 9, 16)) == []
    assert measure_rows(start=dt.date(2026, 9, 19), end=dt.date(2026, 9, 20)) == []
    assert measure_rows(start=dt.date(2026, 10, 10), end=dt.date(2026, 10, 31)) == []
    (late,) = measure_rows(start=OCT_9, end=OCT_9, by=("day",))
    assert late == {"day": OCT_9, "complaints_closed": 1}
    assert Complaint.objects.get(status=ComplaintStatus.MERGED).received_at == at(
        SHANGHAI, 2026, 9, 18, 8
    )
