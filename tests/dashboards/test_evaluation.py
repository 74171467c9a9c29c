"""The evaluation (issue 9): every KPI of two periods or of pilot against control branches, with
the significance of each change, on daily rollup rows built by hand."""

import csv
import datetime as dt
import io
import math

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from dashboards import evaluation
from dashboards.evaluation import Group, compare, evaluate, group_measures
from tests.dashboards.rollup_rows import day_rollup

BEFORE = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))
AFTER = (dt.date(2026, 3, 9), dt.date(2026, 3, 15))
PAGE = "/dashboards/evaluation/"


def day_row(branch, day, *, wait=None, service="cash", **measures):
    """A DayRollup; `wait` = {bucket: count} (a ticket in bucket b waited b*30 to b*30+30 s)."""
    histograms = {"wait_histogram": {str(k): v for k, v in wait.items()}} if wait else {}
    return day_rollup(day=day, branch=branch, service=service, histograms=histograms, **measures)


@pytest.fixture
def before_after(branch_a):
    """Branch A, a week before and a week after: waits fall, the service level rises.

    before: 200 called; 100 waited in bucket 10 (300-330 s), 100 in bucket 20 (600-630 s);
            wait_seconds 100*315 + 100*615 = 93,000 -> mean 465 s; 100 within target;
            abandoned 10 of 200 issued; complaints 3 per 200 served; CSAT 20 answers, sum 80.
    after:  200 called; 100 in bucket 2 (60-90 s), 100 in bucket 10; wait_seconds 100*75 +
            100*315 = 39,000 -> mean 195 s; 180 within target; abandoned 12 of 200 issued;
            complaints 1 per 200 served; CSAT 20 answers, sum 90; 5 callbacks closed, 4 done.
    """
    day_row(
        branch_a,
        BEFORE[0],
        wait={10: 100, 20: 100},
        tickets_issued=200,
        tickets_called=200,
        wait_seconds=93_000,
        within_target=100,
        served=200,
        complaints_received=3,
        csat_answers=20,
        csat_sum=80,
    )
    day_row(branch_a, BEFORE[0] + dt.timedelta(days=1), abandoned=10)
    day_row(
        branch_a,
        AFTER[0],
        wait={2: 100, 10: 100},
        tickets_issued=200,
        tickets_called=200,
        wait_seconds=39_000,
        within_target=180,
        served=200,
        complaints_received=1,
        csat_answers=20,
        csat_sum=90,
        callbacks_closed=5,
        callbacks_done=4,
    )
    day_row(branch_a, AFTER[1], abandoned=12)


@pytest.fixture
def manager(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-a")


def by_code(rows):
    return {row.code: row for row in rows}


def test_a_real_improvement_is_significant(before_after, manager):
    rows, first, _second = evaluate(manager, Group(*BEFORE), Group(*AFTER))
    assert first["tickets_called"] == 200 and first["abandoned"] == 10  # two days summed
    rows = by_code(rows)

    wait = rows["wait_mean"]
    assert (wait.before, wait.after, wait.change) == (465.0, 195.0, -270.0)
    assert wait.test == "mann-whitney" and wait.enough_data
    assert wait.significant and wait.p_value < 1e-6
    assert wait.direction == "better" and wait.improved
    assert wait.low < -270 < wait.high < 0  # midpoints: means 465 and 195 exactly
    assert (wait.n_before, wait.n_after) == (200, 200)
    # Medians: the 100th of 200 waits ends bucket 10 (upper edge 330 s) before, bucket 2 (90 s)
    # after; the bootstrap of the median change straddles -240 (midpoints 315 -> 75).
    median = rows["wait_median"]
    assert (median.before, median.after, median.change) == (330.0, 90.0, -240.0)
    assert median.significant and median.low <= -240 <= median.high

    # Service level: within target / (called + abandoned) = 100/210 = 0.47619 -> 180/212 =
    # 0.84906, change 0.37287. Pooled 280/422 = 0.66351: se = sqrt(.66351*.33649*(1/210 +
    # 1/212)) = 0.046003, z = 0.37287/0.046003 = 8.105; unpooled se = sqrt(.47619*.52381/210 +
    # .84906*.15094/212) = 0.042336, interval 0.37287 +- 1.96*0.042336 = [0.28989, 0.45584].
    level = rows["service_level"]
    assert level.before == pytest.approx(100 / 210) and level.after == pytest.approx(180 / 212)
    assert level.change == pytest.approx(0.37287, abs=1e-5)
    assert level.test == "two-proportion-z" and level.significant
    assert level.p_value == pytest.approx(math.erfc(8.105 / math.sqrt(2)), rel=0.01)
    assert level.low == pytest.approx(0.28989, abs=1e-4)
    assert level.high == pytest.approx(0.45584, abs=1e-4)
    assert level.direction == "better"


def test_small_differences_are_not_significant_and_small_samples_say_so(before_after, manager):
    rows = by_code(evaluate(manager, Group(*BEFORE), Group(*AFTER))[0])
    # Abandonment 10/200 = 0.05 -> 12/200 = 0.06: pooled 22/400 = 0.055,
    # se = sqrt(.055*.945*(2/200)) = 0.022798, z = 0.01/0.022798 = 0.4386, p = 0.661.
    abandonment = rows["abandonment_rate"]
    assert (abandonment.before, abandonment.after) == (0.05, 0.06)
    assert abandonment.p_value == pytest.approx(0.661, abs=0.001)
    assert not abandonment.significant and abandonment.enough_data
    assert abandonment.direction == "worse" and not abandonment.improved
    # Complaints per 1,000 served: 3/200 = 15 -> 1/200 = 5; unpooled se = sqrt(.015*.985/200 +
    # .005*.995/200) = 0.0099373; interval (-0.01 +- 0.019477) * 1000 = [-29.48, 9.48].
    complaints = rows["complaint_rate"]
    assert (complaints.before, complaints.after, complaints.change) == (15.0, 5.0, -10.0)
    assert complaints.low == pytest.approx(-29.477, abs=0.01)
    assert complaints.high == pytest.approx(9.477, abs=0.01)
    assert not complaints.significant
    # CSAT mean 4.0 -> 4.5: the change, no test.
    csat = rows["csat_mean"]
    assert (csat.before, csat.after, csat.change, csat.test) == (4.0, 4.5, 0.5, "none")
    assert csat.enough_data and not csat.significant and csat.p_value is None
    # Callbacks: none before -> not enough data; 5 closed after is below stats.MIN_SAMPLE anyway.
    callbacks = rows["callback_completion"]
    assert not callbacks.enough_data and callbacks.change is None and callbacks.after == 0.8
    # No consultation at all: no values.
    fcr = rows["first_contact_resolution"]
    assert (fcr.before, fcr.after, fcr.enough_data) == (None, None, False)


def test_the_same_distribution_twice_is_no_change(branch_a, manager):
    for day in (BEFORE[0], AFTER[0]):
        day_row(branch_a, day, wait={10: 100, 20: 100}, tickets_called=200, wait_seconds=93_000)
    rows = by_code(evaluate(manager, Group(*BEFORE), Group(*AFTER), codes=["wait_mean"])[0])
    assert list(rows) == ["wait_mean"]
    wait = rows["wait_mean"]
    assert wait.change == 0.0 and wait.p_value == pytest.approx(1.0)
    assert not wait.significant and wait.direction == "same"


def test_pilot_against_control_adds_up_each_group(make_staff, region, branch_a, branch_b):
    """Pilot: A and C (each 100 called, 90 within target -> 180/200); control: B (50/100)."""
    from tests.factories import BranchFactory

    branch_c = BranchFactory(code="c01", name="Branch C", region=region)
    for branch, within, called in ((branch_a, 90, 100), (branch_c, 90, 100), (branch_b, 50, 100)):
        day_row(branch, BEFORE[0], tickets_called=called, within_target=within)
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    pilot = Group(*BEFORE, branch_ids=(branch_a.id, branch_c.id))
    control = Group(*BEFORE, branch_ids=(branch_b.id,))
    rows = by_code(evaluate(regional, control, pilot, codes=["service_level"])[0])
    assert (rows["service_level"].before, rows["service_level"].after) == (0.5, 0.9)
    assert rows["service_level"].significant


def test_a_group_counts_only_branches_in_scope(before_after, branch_a, branch_b, manager):
    day_row(branch_b, BEFORE[0], tickets_called=1000)
    measures = group_measures(manager, Group(*BEFORE, branch_ids=(branch_a.id, branch_b.id)))
    assert measures["tickets_called"] == 200  # branch B is outside the manager's scope


def test_huge_samples_are_thinned_evenly():
    histogram = [0] * evaluation.BUCKETS
    histogram[1], histogram[3] = 30_000, 10_000
    values = evaluation.sample(histogram)
    assert len(values) == evaluation.MAX_SAMPLE
    # 3/4 of the thinned sample at 45 s (bucket 1's midpoint), 1/4 at 105 s.
    assert abs((values == 45.0).sum() - 750) <= 1 and values[-1] == 105.0


def test_compare_accepts_more_complaints_than_served_without_a_test():
    first, second = evaluation.kpis.empty_measures(), evaluation.kpis.empty_measures()
    first.update(complaints_received=12, served=10)
    second.update(complaints_received=1, served=10)
    row = compare(first, second, ["complaint_rate"])[0]
    assert (row.before, row.after, row.test, row.p_value) == (1200.0, 100.0, "none", None)


# --- The page


def test_the_page_compares_two_periods(client, before_after, manager, django_assert_num_queries):
    client.force_login(manager)
    params = {
        "mode": "periods",
        "before_start": BEFORE[0],
        "before_end": BEFORE[1],
        "after_start": AFTER[0],
        "after_end": AFTER[1],
    }
    client.get(PAGE, params)  # warm the session and permission caches
    # user, memberships, the form's scope and branch choices (2); per period: scope, sums,
    # histograms (3).
    with django_assert_num_queries(10):
        response = client.get(PAGE, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kpi="wait_mean" data-verdict="better"' in html
    assert 'data-kpi="abandonment_rate" data-verdict="not-significant"' in html
    assert 'data-kpi="csat_mean" data-verdict="no-test"' in html
    assert 'data-kpi="callback_completion" data-verdict="not-enough"' in html
    row = next(r for r in response.context["rows"] if r["row"].code == "wait_mean")
    assert (row["before"], row["after"], row["change"]) == ("7.8 min", "3.2 min", "-4.5 min")
    level = next(r for r in response.context["rows"] if r["row"].code == "service_level")
    assert (level["before"], level["change"]) == ("47.6%", "+37.3 pp")


def test_the_page_exports_the_table(client, before_after, manager):
    client.force_login(manager)
    response = client.get(
        PAGE,
        {
            "mode": "periods",
            "before_start": BEFORE[0],
            "before_end": BEFORE[1],
            "after_start": AFTER[0],
            "after_end": AFTER[1],
            "kpi": ["wait_mean", "service_level"],
            "export": "csv",
        },
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows] == ["kpi", "wait_mean", "service_level"]
    assert rows[1][4:7] == ["465.0", "195.0", "-270.0"] and rows[1][14] == "better"


@pytest.mark.parametrize(
    "params, field",
    [
        (
            {"mode": "periods", "before_start": "2026-03-08", "before_end": "2026-03-01"},
            "before_end",
        ),
        ({"mode": "periods", "before_start": "2026-03-01", "before_end": "x"}, "before_end"),
        ({"mode": "pilot", "start": "2026-03-01", "end": "2026-03-08"}, "pilot"),
        ({"mode": "nonsense"}, "mode"),
        ({"mode": "periods", "kpi": "nonsense"}, "kpi"),
    ],
)
def test_bad_input_is_a_form_error(client, manager, params, field):
    client.force_login(manager)
    response = client.get(PAGE, params)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["rows"] == []


def test_branches_outside_the_scope_cannot_be_chosen(client, manager, branch_a, branch_b):
    client.force_login(manager)
    response = client.get(
        PAGE,
        {"mode": "pilot", "start": "2026-03-01", "end": "2026-03-08", "pilot": branch_a.id,
         "control": branch_b.id},
    )  # fmt: skip
    assert "control" in response.context["form"].errors
    response = client.get(
        PAGE,
        {"mode": "pilot", "start": "2026-03-01", "end": "2026-03-08", "pilot": branch_a.id,
         "control": branch_a.id},
    )  # fmt: skip
    assert response.context["form"].errors["control"] == [
        "A branch cannot be both pilot and control."
    ]


def test_the_first_visit_shows_the_form_only(client, manager):
    client.force_login(manager)
    response = client.get(PAGE)
    assert response.status_code == 200 and not response.context["computed"]


def test_a_teller_is_refused(client, teller):
    client.force_login(teller)
    assert client.get(PAGE).status_code == 403
    assert reverse("dashboards:evaluation") == PAGE
