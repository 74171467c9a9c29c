"""Complaint reports on the hand-built set (tests/complaints/reporting_fixtures.py): counts and
within-deadline rates per dimension, the Pareto of root causes and repeats after corrective
actions, with the expected values worked out by hand; and the reader's branch scope."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from complaints import corrective, reporting, services
from complaints.models import Category

from . import reporting_fixtures

pytestmark = pytest.mark.django_db

# The shared data set (fixtures of reporting_fixtures.py).
hq = reporting_fixtures.hq
report_set = reporting_fixtures.report_set


def table(result):
    return {
        row.key: (row.total, row.within, row.late, row.pending, row.within_rate)
        for row in result.rows
    }


def test_by_category_and_the_total(report_set, hq):
    start, end = report_set["period"]
    result = reporting.breakdown(hq, start, end, "category")
    # card: a1 late, a2 within, a4 late, a8 late; charges: a3 pending, a5 within.
    assert table(result) == {
        "card": (4, 1, 3, 0, Decimal("25.0")),
        "charges": (2, 1, 0, 1, Decimal("100.0")),
    }
    assert [row.key for row in result.rows] == ["card", "charges"]  # largest first
    total = result.total
    assert (total.total, total.within, total.late, total.pending) == (6, 2, 3, 1)
    assert total.within_rate == Decimal("40.0")  # 2 of the 5 whose outcome is known


def test_by_channel_product_branch_and_region(report_set, hq, branch_a, branch_b):
    start, end = report_set["period"]
    assert table(reporting.breakdown(hq, start, end, "channel")) == {
        "counter": (3, 0, 2, 1, Decimal("0.0")),  # a1, a4 late; a3 pending
        "phone": (3, 2, 1, 0, Decimal("66.7")),  # a2, a5 within; a8 late
    }
    assert table(reporting.breakdown(hq, start, end, "product")) == {
        "debit": (2, 1, 1, 0, Decimal("50.0")),
        "": (4, 1, 2, 1, Decimal("33.3")),
    }
    assert table(reporting.breakdown(hq, start, end, "branch")) == {
        "a01": (3, 1, 1, 1, Decimal("50.0")),
        "b01": (2, 0, 2, 0, Decimal("0.0")),
        "w01": (1, 1, 0, 0, Decimal("100.0")),
    }
    assert table(reporting.breakdown(hq, start, end, "region")) == {
        "east": (5, 1, 3, 1, Decimal("25.0")),
        "west": (1, 1, 0, 0, Decimal("100.0")),
    }
    labels = {row.key: row.label for row in reporting.breakdown(hq, start, end, "channel").rows}
    assert labels["counter"] == "At the counter"


def test_a_pending_only_group_has_no_rate(report_set, hq):
    today = reporting_fixtures.period()[1]
    # Only a3 (2 days ago, open) and a6 (merged, left out) in the last three days.
    result = reporting.breakdown(hq, today - dt.timedelta(days=3), today, "category")
    assert table(result) == {"charges": (1, 0, 0, 1, None)}


def test_the_reader_sees_only_their_branches(report_set, make_staff, branch_a):
    manager = make_staff("branch_manager", branch=branch_a, username="manager-a")
    start, end = report_set["period"]
    assert table(reporting.breakdown(manager, start, end, "branch")) == {
        "a01": (3, 1, 1, 1, Decimal("50.0"))
    }
    teller = make_staff("teller", branch=branch_a, username="teller-a")  # no export permission
    assert reporting.breakdown(teller, start, end, "branch").rows == []


def test_the_pareto_of_root_causes(report_set, hq):
    start, end = report_set["period"]
    rows, without = reporting.root_cause_pareto(hq, start, end)
    staff, system = report_set["staff_cause"], report_set["system_cause"]
    # staff: a1, a2, a5; system: a3; none yet: a4, a8 (a6 merged, a7 before the period).
    assert [(r.code, r.count, r.share, r.cumulative) for r in rows] == [
        (staff.code, 3, Decimal("75.0"), Decimal("75.0")),
        (system.code, 1, Decimal("25.0"), Decimal("100.0")),
    ]
    assert without == 2


def test_complaints_after_a_completed_corrective_action_are_listed(
    report_set, hq, branch_a, branch_b, complainant
):
    a1 = report_set["a1"]
    action = corrective.action_create(
        actor=hq,
        complaint=a1,
        root_cause=report_set["staff_cause"],
        description="Service the card reader.",
        owner=hq,
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    start, end = report_set["period"]
    # Not completed yet: nothing to judge it by.
    assert reporting.repeats_after_actions(hq, start, end) == []
    corrective.action_complete(actor=hq, action=action, note="Reader replaced.")

    card = Category.objects.get(code="card")
    charges = Category.objects.get(code="charges")

    def make(branch, category):
        return services.complaint_create(
            actor=hq,
            branch=branch,
            channel="counter",
            category=category,
            description="After the action.",
            customer=complainant,
        )

    again = make(branch_a, card)
    make(branch_a, charges)  # another category
    make(branch_b, card)  # another branch
    groups = reporting.repeats_after_actions(hq, start, end)
    assert [(g.action.pk, [c.pk for c in g.complaints]) for g in groups] == [
        (action.pk, [again.pk])
    ]
