"""Consultation's measures for the dashboards (consultation/kpi_selectors.py): closed
consultations and first-contact resolution, on consultations made through the real services."""

import datetime as dt
import zoneinfo

import pytest

from bankservice.branches.models import Role
from consultation import handoffs
from consultation.kpi_selectors import FCR_REPEAT_DAYS, measure_rows
from consultation.models import Category
from consultation.services import consultation_close, consultation_start, consultation_update
from tests.factories import CustomerFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
WEDNESDAY = dt.date(2026, 3, 4)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def handoff_registry(monkeypatch):
    """No stage handles the hand-offs (as tests/consultation/desk/conftest.py)."""
    monkeypatch.setattr(handoffs, "_HANDLERS", {})


@pytest.fixture
def advisors(make_staff, branch_a):
    return (
        make_staff(Role.ADVISOR, branch=branch_a, username="advisor-1"),
        make_staff(Role.ADVISOR, branch=branch_a, username="advisor-2"),
    )


@pytest.fixture
def consult(branch_a):
    """consult(advisor, customer, start, end, outcome="answered", topics=(), contact="")."""

    def make(advisor, customer, start, end, outcome="answered", topics=(), contact=""):
        consultation = consultation_start(
            actor=advisor,
            channel="phone",
            branch=branch_a,
            customer=customer,
            contact_name=contact,
            now=start,
        )
        if topics:
            consultation_update(actor=advisor, consultation=consultation, data={"topics": topics})
        if end is not None:
            consultation = consultation_close(
                actor=advisor, consultation=consultation, outcome=outcome, now=end
            )
        return consultation

    return make


@pytest.fixture
def week(advisors, consult, branch_a):
    """Customers X, Y and Z at branch A (Shanghai), advisors 1 and 2; topics cards (first in
    order) and loans.

    Wednesday:  Y  09:30-09:45 advisor 2, no topic, follow-up needed   -> not resolved
                X  10:00-10:20 advisor 1, loans + cards, answered      -> X is back Monday: no
                Y  11:00-11:10 advisor 1, loans, answered              -> Y is back 11 days on: yes
                a contact (no record) 14:00-14:05 answered             -> not counted
                X  16:00, still open                                   -> not counted
    Thursday:   Z  07:00-07:30 (Wednesday 23:30 UTC) advisor 2, answered, never back -> yes
    Monday 9th: X  10:00-10:10 advisor 1, answered                     -> yes
    Sunday 15th: Y 10:00-10:10 advisor 1, answered                     -> yes
    """
    one, two = advisors
    cards = Category.objects.create(code="cards", name_zh="银行卡", name_en="Cards", sort_order=1)
    loans = Category.objects.create(code="loans", name_zh="贷款", name_en="Loans", sort_order=2)
    x, y, z = (CustomerFactory(full_name=name) for name in ("X", "Y", "Z"))
    consult(two, y, at(WEDNESDAY, 9, 30), at(WEDNESDAY, 9, 45), outcome="follow_up")
    consult(one, x, at(WEDNESDAY, 10), at(WEDNESDAY, 10, 20), topics=[loans, cards])
    consult(one, y, at(WEDNESDAY, 11), at(WEDNESDAY, 11, 10), topics=[loans])
    consult(one, None, at(WEDNESDAY, 14), at(WEDNESDAY, 14, 5), contact="Passer-by")
    consult(one, x, at(WEDNESDAY + days(5), 10), at(WEDNESDAY + days(5), 10, 10))
    consult(one, y, at(WEDNESDAY + days(11), 10), at(WEDNESDAY + days(11), 10, 10))
    consult(two, z, at(WEDNESDAY + days(1), 7), at(WEDNESDAY + days(1), 7, 30))
    return {"x": x, "y": y, "z": z, "one": one, "two": two}


def test_consultations_and_resolutions_of_a_day(week, branch_a, django_assert_num_queries):
    # The branches' time zones, then one query: the repeat check is an EXISTS in the aggregate.
    with django_assert_num_queries(2):
        (row,) = measure_rows(start=WEDNESDAY, end=WEDNESDAY, by=("day", "branch"))
    # Y's follow-up, X's (back within the window), Y's answered one (resolved).
    assert row == {
        "day": WEDNESDAY,
        "branch": branch_a.id,
        "consultations": 3,
        "first_contact_resolved": 1,
    }


def test_grouped_by_topic_staff_and_hour(week, branch_a):
    rows = measure_rows(start=WEDNESDAY, end=WEDNESDAY)
    key = ("hour", "service", "staff")
    table = {tuple(row[k] for k in key): row for row in rows}
    one, two = week["one"].id, week["two"].id
    assert set(table) == {(9, "", two), (10, "cards", one), (11, "loans", one)}
    assert table[(9, "", two)]["consultations"] == 1
    assert "first_contact_resolved" not in table[(9, "", two)]
    # X's first topic in the categories' order: cards, though loans was named first.
    assert table[(10, "cards", one)]["consultations"] == 1
    assert "first_contact_resolved" not in table[(10, "cards", one)]
    assert table[(11, "loans", one)] == {
        "day": WEDNESDAY,
        "hour": 11,
        "branch": branch_a.id,
        "service": "loans",
        "staff": one,
        "consultations": 1,
        "first_contact_resolved": 1,
    }
    by_staff = {
        row["staff"]: row for row in measure_rows(start=WEDNESDAY, end=WEDNESDAY, by=("staff",))
    }
    assert by_staff == {
        one: {"staff": one, "consultations": 2, "first_contact_resolved": 1},
        two: {"staff": two, "consultations": 1},
    }


def test_days_in_the_branch_zone_range_edges_and_branch_filter(week, branch_a, branch_b):
    thursday = WEDNESDAY + days(1)
    rows = measure_rows(start=WEDNESDAY, end=WEDNESDAY + days(5), by=("day",))
    # Z's Thursday 07:30 in Shanghai is Wednesday 23:30 UTC: it counts on Thursday.
    assert sorted((r["day"], r["consultations"], r["first_contact_resolved"]) for r in rows) == [
        (WEDNESDAY, 3, 1),
        (thursday, 1, 1),
        (WEDNESDAY + days(5), 1, 1),  # X's return, not followed by another
    ]
    assert measure_rows(start=thursday + days(1), end=thursday + days(3)) == []
    assert measure_rows(start=WEDNESDAY, end=WEDNESDAY, branch_ids=[branch_b.id]) == []
    (total,) = measure_rows(
        start=WEDNESDAY, end=WEDNESDAY + days(11), branch_ids=[branch_a.id], by=()
    )
    # Six closed consultations with a record; resolved: Y's Wednesday, Z, X's and Y's returns.
    assert total == {"consultations": 6, "first_contact_resolved": 4}


def test_the_repeat_window_edge(advisors, consult):
    one, _two = advisors
    w, v = CustomerFactory(full_name="W"), CustomerFactory(full_name="V")
    ended = at(WEDNESDAY, 12)
    consult(one, w, at(WEDNESDAY, 11, 50), ended)
    consult(one, v, at(WEDNESDAY, 11, 50), ended)
    # W is back exactly FCR_REPEAT_DAYS after the end (a repeat); V a minute later (not).
    consult(one, w, ended + days(FCR_REPEAT_DAYS), None)
    consult(one, v, ended + days(FCR_REPEAT_DAYS) + dt.timedelta(minutes=1), None)
    (row,) = measure_rows(start=WEDNESDAY, end=WEDNESDAY, by=())
    assert row == {"consultations": 2, "first_contact_resolved": 1}
