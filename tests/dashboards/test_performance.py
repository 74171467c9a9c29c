"""Staff performance on hand-built rollup rows: each person's figures, the too-few-to-judge flags,
the service-mix-adjusted expected service time (computed by hand), the page's scope and
permissions, its export, and its query count."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from dashboards.performance import staff_performance
from tests.dashboards.rollup_rows import day_rollup

MON = dt.date(2026, 3, 2)
SUN = MON + dt.timedelta(days=6)
WEEK = {"start": MON.isoformat(), "end": SUN.isoformat()}
pytestmark = pytest.mark.django_db


def _row(branch, staff, service="cash", day=MON, **measures):
    return day_rollup(day=day, branch=branch, service=service, staff=staff, **measures)


def _named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


@pytest.fixture
def people(make_staff, branch_a, branch_b):
    # Bob is created first (lower id) but sorts after Alice by name.
    bob = _named(make_staff(Role.TELLER, branch=branch_a, username="bob"), "Bo", "Yang")
    alice = _named(make_staff(Role.TELLER, branch=branch_a, username="alice"), "Alice", "Wu")
    carol = _named(make_staff(Role.TELLER, branch=branch_b, username="carol"), "Carol", "Li")
    dave = _named(make_staff(Role.TELLER, branch=branch_a, username="dave"), "Dave", "Zhou")
    # Branch A, the week of MON.
    # Alice: 30 cash at 120 s, 10 account openings at 600 s; 10 answers summing 42; 1 complaint.
    _row(branch_a, alice, served=30, service_seconds=3600, csat_answers=10, csat_sum=42)
    _row(branch_a, alice, day=MON + dt.timedelta(days=1), complaints_received=1)
    _row(branch_a, alice, service="accounts", served=10, service_seconds=6000)
    # Bob: 20 cash at 180 s; 3 answers summing 15; callbacks 2 done of 3; 4 requests, 1 reworked.
    _row(
        branch_a,
        bob,
        served=20,
        service_seconds=3600,
        csat_answers=3,
        csat_sum=15,
        callbacks_done=2,
        callbacks_closed=3,
        requests_finished=4,
        requests_reworked=1,
    )
    # Nobody's: 10 cash at 150 s (they still count in the branch's mean for cash).
    _row(branch_a, None, served=10, service_seconds=1500, complaints_received=2)
    # Dave closed one callback and served nobody.
    _row(branch_a, dave, service="", callbacks_done=1, callbacks_closed=1)
    # Outside the week: not counted.
    _row(branch_a, alice, day=MON - dt.timedelta(days=1), served=99, service_seconds=99)
    # Branch B: Carol.
    _row(branch_b, carol, served=50, service_seconds=5000)
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave}


@pytest.fixture
def manager(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a, username="manager-a")


def test_each_persons_figures_sorted_by_name(people, manager):
    rows = staff_performance(manager, start=MON, end=SUN)

    assert [row.name for row in rows] == ["Alice Wu", "Bo Yang", "Dave Zhou"]  # no Carol (B)
    alice, bob, dave = rows
    # Alice: 40 served, 3600 + 6000 = 9600 s -> 240 s mean.
    assert alice.served == 40
    assert alice.service_mean == pytest.approx(240.0)
    assert alice.csat_mean == pytest.approx(4.2)  # 42 / 10
    assert alice.csat_answers == 10
    assert alice.complaints == 1
    assert not alice.too_few_served  # 40 >= 30
    assert not alice.too_few_answers  # 10 >= 10
    # Bob: 3600 / 20 = 180 s; CSAT 15 / 3 = 5.0; rework 1 / 4; 2 of 3 callbacks done.
    assert bob.service_mean == pytest.approx(180.0)
    assert bob.csat_mean == pytest.approx(5.0)
    assert bob.rework_rate == pytest.approx(0.25)
    assert (bob.callbacks_done, bob.callbacks_closed, bob.requests_finished) == (2, 3, 4)
    assert bob.too_few_served  # 20 < 30
    assert bob.too_few_answers  # 3 < 10
    # Dave: no service at all, so no means and no ratio (not zero).
    assert (dave.served, dave.service_mean, dave.mix_ratio) == (0, None, None)
    assert dave.callbacks_done == 1
    assert dave.services == []
    assert dave.csat_mean is None


def test_the_service_mix_adjusted_expected_time(people, manager):
    alice, bob, _dave = staff_performance(manager, start=MON, end=SUN)
    # Branch A's means, everyone (the unattributed row too):
    #   cash: (3600 + 3600 + 1500) s / (30 + 20 + 10) = 8700 / 60 = 145 s
    #   accounts: 6000 s / 10 = 600 s
    # Alice's expected seconds: 30 x 145 + 10 x 600 = 4350 + 6000 = 10350 (mean 258.75 s);
    # actual 9600 -> ratio 9600 / 10350 = 0.92753...: faster than the branch for her mix, even
    # though her raw mean (240 s) is longer than Bob's (180 s).
    assert alice.expected_seconds == pytest.approx(10350.0)
    assert alice.expected_service_mean == pytest.approx(258.75)
    assert alice.mix_ratio == pytest.approx(9600 / 10350)
    # Bob: 20 x 145 = 2900 expected; 3600 / 2900 = 1.2414 (slower for the same work).
    assert bob.mix_ratio == pytest.approx(3600 / 2900)
    # Alice's mix: cash 30/40 = 75% against the branch's 60/70 = 85.7%; accounts 25% vs 14.3%.
    shares = [(s.service, s.served, s.share, s.branch_share) for s in alice.services]
    assert shares == [
        ("cash", 30, pytest.approx(0.75), pytest.approx(60 / 70)),
        ("accounts", 10, pytest.approx(0.25), pytest.approx(10 / 70)),
    ]


def test_the_page_shows_the_caveats_and_the_flags(client, people, manager):
    client.force_login(manager)
    response = client.get(reverse("dashboards:staff"), WEEK)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="staff-caveats"' in html
    assert "2026-03-02 to 2026-03-08 (7 days)" in html
    rows = {row["person"].staff_id: row for row in response.context["rows"]}
    assert set(rows) == {people["alice"].id, people["bob"].id, people["dave"].id}
    assert f'data-staff="{people["carol"].id}"' not in html
    # Bob's ratio is replaced by "too few to judge"; Alice's shows (0.93).
    assert rows[people["alice"].id]["ratio"] == "0.93"
    assert rows[people["alice"].id]["service_mean"] == "4:00"  # 240 s
    assert rows[people["alice"].id]["expected"] == "4:19"  # 258.75 s
    bob_row = html.split(f'data-staff="{people["bob"].id}"')[1].split("</tr>")[0]
    assert "data-too-few-served" in bob_row and "data-too-few-answers" in bob_row
    assert "too few to judge" in bob_row
    assert "1.24" not in bob_row
    alice_row = html.split(f'data-staff="{people["alice"].id}"')[1].split("</tr>")[0]
    assert "too few to judge" not in alice_row
    assert "0.93" in alice_row


def test_rows_link_to_the_trends_of_that_person(client, people, manager):
    client.force_login(manager)
    response = client.get(reverse("dashboards:staff"), WEEK)
    row = next(r for r in response.context["rows"] if r["person"].staff_id == people["bob"].id)
    try:
        trends = reverse("dashboards:trends")
    except Exception:  # the trends page not mounted yet: no link rather than a broken one
        assert row["trends_url"] is None
    else:
        assert row["trends_url"].startswith(f"{trends}?staff={people['bob'].id}&start=2026-03-02")


def test_the_page_query_count(client, people, manager, django_assert_num_queries):
    client.force_login(manager)
    client.get(reverse("dashboards:staff"), WEEK)  # warm the session
    # session, user, memberships' permissions, the form's branches and regions, the scope
    # check and the scoped branches, the rollup sums, the branch and staff names.
    with django_assert_num_queries(10):
        response = client.get(reverse("dashboards:staff"), WEEK)
    assert response.status_code == 200


def test_a_regional_manager_sees_both_branches(client, people, make_staff, region, branch_b):
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    client.force_login(regional)
    response = client.get(reverse("dashboards:staff"), WEEK)
    names = [row["person"].name for row in response.context["rows"]]
    assert names == ["Alice Wu", "Bo Yang", "Carol Li", "Dave Zhou"]
    narrowed = client.get(reverse("dashboards:staff"), {**WEEK, "branch": branch_b.id})
    assert [row["person"].name for row in narrowed.context["rows"]] == ["Carol Li"]


def test_an_auditor_and_a_teller_are_refused(client, people, make_staff, branch_a):
    auditor = make_staff(Role.AUDITOR, branch=branch_a)  # view_kpis, not view_staff_performance
    client.force_login(auditor)
    assert client.get(reverse("dashboards:staff"), WEEK).status_code == 403
    client.force_login(people["alice"])
    assert client.get(reverse("dashboards:staff"), WEEK).status_code == 403


def test_a_branch_outside_the_scope_or_a_bad_period_is_a_form_error(
    client, people, manager, branch_b
):
    client.force_login(manager)
    other = client.get(reverse("dashboards:staff"), {**WEEK, "branch": branch_b.id})
    assert other.status_code == 400
    assert "branch" in other.context["form"].errors
    backwards = client.get(
        reverse("dashboards:staff"), {"start": "2026-03-08", "end": "2026-03-01"}
    )
    assert backwards.status_code == 400
    assert "end" in backwards.context["form"].errors
    nonsense = client.get(reverse("dashboards:staff"), {"start": "March", "end": "2026-03-01"})
    assert nonsense.status_code == 400


def test_the_export_as_csv(client, people, manager):
    client.force_login(manager)
    response = client.get(reverse("dashboards:staff"), {**WEEK, "export": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "staff-performance-20260302-20260308.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, *body = rows
    assert header[0] == "Staff" and len(body) == 3
    alice = dict(zip(header, body[0], strict=True))
    assert alice["Staff"] == "Alice Wu"
    assert alice["Served"] == "40"
    assert alice["Service time, mean (s)"] == "240.0"
    assert alice["Actual / expected"] == "0.928"  # 9600 / 10350
    assert alice["Too few served to judge"] == "False"
    bob = dict(zip(header, body[1], strict=True))
    assert bob["Too few answers to judge"] == "True"
    assert bob["Rework rate"] == "0.25"
