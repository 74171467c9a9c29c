"""The staffing forecast (issue 9, seed §4.2.1): arrivals per hour of the week from hourly rollups,
counters needed by Erlang C, what the counters planned give; the page and its export."""

import csv
import datetime as dt
import io
import math

import pytest

from bankservice.branches.models import CalendarDay, Role
from dashboards import staffing
from dashboards.models import HourRollup
from tests.reception.factories import CounterFactory, ServiceTypeFactory

WEEK = dt.date(2026, 3, 30)  # a Monday; the history: the 4 weeks from Monday 2 March
HISTORY = [dt.date(2026, 3, 2) + dt.timedelta(weeks=k) for k in range(4)]
PAGE = "/dashboards/staffing/"


@pytest.fixture
def cash(branch_a):
    service = ServiceTypeFactory(branch=branch_a, code="cash", expected_service_minutes=8)
    other = ServiceTypeFactory(branch=branch_a, code="loans", prefix="C")
    CounterFactory(branch=branch_a, number=1, services=[service])
    CounterFactory(branch=branch_a, number=2, services=[other, service])
    CounterFactory(branch=branch_a, number=3, services=[other])
    return service


@pytest.fixture
def history(branch_a, cash):
    """Each of the 4 weeks: Monday 09:00, 200 tickets; Tuesday 10:00, 100; all served in 180 s
    on average (service_seconds = 180 * served)."""
    for monday in HISTORY:
        for day, hour, count in ((monday, 9, 200), (monday + dt.timedelta(days=1), 10, 100)):
            HourRollup.objects.create(
                day=day,
                hour=hour,
                branch=branch_a,
                service="cash",
                tickets_issued=count,
                served=count,
                service_seconds=180.0 * count,
            )


@pytest.fixture
def manager(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-a")


def hours_of(plan):
    return {(hour.day, hour.hour): hour for hour in plan.hours}


def test_the_published_erlang_example_scaled_to_an_hour(history, manager, branch_a):
    """Monday 09:00 gets 2/3 of a flat 300-a-week history: 200 arrivals in the hour, 180 s each
    = 10 erlangs, the published 100 calls per 30 minutes at 180 s. 80% within 20 s needs 14
    counters: P(wait) 0.174, service level 0.888, mean wait 0.174*180/(14-10) = 7.8 s."""
    plan = staffing.plan(
        manager, branch=branch_a.id, service="cash", week=WEEK + dt.timedelta(days=3),
        weeks=4, level=0.8, target_seconds=20,
    )  # fmt: skip
    assert plan.week == WEEK  # any day of the week: its Monday
    assert (plan.history_start, plan.history_end) == (HISTORY[0], WEEK - dt.timedelta(days=1))
    assert plan.handle_seconds == 180.0 and plan.handle_from_history
    assert plan.served_in_history == 4 * 300
    assert plan.planned == 2 and plan.planned_default  # counters 1 and 2 serve cash
    hours = hours_of(plan)
    # The factory's branch opens 09:00-17:00 Monday to Friday: 8 hours x 5 days.
    assert len(hours) == 40 and all(hour.open for hour in plan.hours)
    monday = hours[(WEEK, 9)]
    assert monday.arrivals == pytest.approx(200.0)
    assert monday.needed == 14
    assert monday.needed_level == pytest.approx(0.888, abs=0.001)
    assert monday.misses and monday.planned_level == 0.0 and math.isinf(monday.planned_wait_seconds)
    tuesday = hours[(WEEK + dt.timedelta(days=1), 10)]
    assert tuesday.arrivals == pytest.approx(100.0)  # 5 erlangs
    assert tuesday.needed_level >= 0.8 and tuesday.needed > 5
    quiet = hours[(WEEK, 10)]
    assert (quiet.arrivals, quiet.needed, quiet.misses, quiet.planned_level) == (0, 0, False, 1.0)
    assert plan.total_arrivals == pytest.approx(300.0)
    assert plan.hours_missing == 2
    assert plan.counter_hours_needed == 14 + tuesday.needed
    assert plan.counter_hours_planned == 2 * 40
    assert plan.planned_level == 0.0


def test_the_counters_planned_can_be_overridden(history, manager, branch_a):
    plan = staffing.plan(
        manager, branch=branch_a.id, service="cash", week=WEEK, weeks=4, level=0.8,
        target_seconds=20, planned=14,
    )  # fmt: skip
    monday = hours_of(plan)[(WEEK, 9)]
    assert not plan.planned_default and not monday.misses
    assert monday.planned_level == pytest.approx(0.888, abs=0.001)
    # P(wait) 0.1741 * 180 s / (14 - 10) = 7.8 s.
    assert monday.planned_wait_seconds == pytest.approx(7.83, abs=0.05)


def test_the_trend_of_the_weekly_totals_carries_on(manager, branch_a, cash):
    """Mondays 09:00: 100, 200, 300, 400 -> the least-squares line gives 500 the next week."""
    for k, monday in enumerate(HISTORY):
        HourRollup.objects.create(
            day=monday, hour=9, branch=branch_a, service="cash", tickets_issued=100 * (k + 1)
        )
    plan = staffing.plan(manager, branch=branch_a.id, service="cash", week=WEEK, weeks=4)
    assert hours_of(plan)[(WEEK, 9)].arrivals == pytest.approx(500.0)
    # Nothing served in the history: the service's expected 8 minutes.
    assert plan.handle_seconds == 480.0 and not plan.handle_from_history


def test_a_holiday_is_closed(history, manager, branch_a):
    CalendarDay.objects.create(calendar=branch_a.calendar, date=WEEK, kind="holiday")
    plan = staffing.plan(manager, branch=branch_a.id, service="cash", week=WEEK, weeks=4)
    assert plan.closed_days == [WEEK]
    assert all(hour.day != WEEK for hour in plan.hours) and len(plan.hours) == 32


def test_only_branches_in_scope_and_their_services(history, manager, branch_a, branch_b):
    ServiceTypeFactory(branch=branch_b, code="cash")
    with pytest.raises(staffing.StaffingError) as error:
        staffing.plan(manager, branch=branch_b.id, service="cash", week=WEEK)
    assert error.value.field == "branch"
    with pytest.raises(staffing.StaffingError) as error:
        staffing.plan(manager, branch=branch_a.id, service="fx", week=WEEK)
    assert error.value.field == "service"


# --- The page


def params(branch, **extra):
    return {
        "branch": branch.id,
        "service": "cash",
        "week": WEEK.isoformat(),
        "weeks": 4,
        "target_percent": 80,
        "target_minutes": 10,
        **extra,
    }


def test_the_page_shows_the_week(client, history, manager, branch_a, django_assert_num_queries):
    client.force_login(manager)
    client.get(PAGE, params(branch_a))
    # user, memberships; the form: scope + branches, scope + services; the plan: scope,
    # services, scope + hourly sums, calendar, holidays, opening hours.
    with django_assert_num_queries(13):
        response = client.get(PAGE, params(branch_a))
    assert response.status_code == 200
    html = response.content.decode()
    # 200 arrivals at 180 s: 10 erlangs; 80% within 10 minutes needs 11 counters; 2 planned.
    assert hours_of(response.context["plan"])[(WEEK, 9)].needed == 11
    assert f'data-day="{WEEK.isoformat()}" data-needed="11" data-miss' in html
    assert 'data-hours-missing="2"' in html
    assert 'data-planned="2"' in html


def test_the_page_exports_every_hour(client, history, manager, branch_a):
    client.force_login(manager)
    response = client.get(PAGE, params(branch_a, export="csv", planned=12))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 40
    monday = next(row for row in rows if row[:2] == [WEEK.isoformat(), "9"])
    assert monday[3:5] == ["200.0", "11"] and monday[6] == "12" and monday[9] == "no"


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"week": "nonsense"}, "week"),
        ({"target_percent": 100}, "target_percent"),
        ({"weeks": 0}, "weeks"),
        ({"planned": -1}, "planned"),
        ({"service": "loans-x"}, "service"),
    ],
)
def test_bad_input_is_a_form_error(client, history, manager, branch_a, extra, field):
    client.force_login(manager)
    response = client.get(PAGE, params(branch_a, **extra))
    assert response.status_code == 200
    assert field in response.context["form"].errors and response.context["plan"] is None


def test_a_service_the_branch_lacks_is_a_form_error(client, history, make_staff, region, branch_b):
    ServiceTypeFactory(branch=branch_b, code="fx")
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    client.force_login(regional)
    response = client.get(PAGE, params(branch_b))  # cash exists at A, not at B
    assert response.context["form"].errors["service"] == [
        "The branch has no active service with this code."
    ]


def test_a_branch_outside_the_scope_is_a_form_error(client, history, manager, branch_b):
    client.force_login(manager)
    response = client.get(PAGE, params(branch_b))
    assert "branch" in response.context["form"].errors


def test_a_teller_is_refused(client, teller):
    client.force_login(teller)
    assert client.get(PAGE).status_code == 403
