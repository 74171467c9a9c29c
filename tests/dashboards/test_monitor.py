"""The live monitor (dashboards/monitor.py, monitor_views.py): today's figures from tickets and
counters made through reception's services and deadlines started through the kernel, with a
frozen clock; the page's scope, highlights and a query count that does not grow with branches."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from bankservice.branches.models import Role
from bankservice.sla.models import Deadline, DeadlineState
from bankservice.sla.services import deadline_pause, deadline_start
from dashboards.models import AlertFiring, AlertMetric, AlertRule
from dashboards.monitor import figure, live_figures, over
from reception.services import (
    counter_pause,
    counter_sign_in,
    ticket_call_next,
    ticket_complete,
    ticket_issue,
    ticket_start,
)
from tests.factories import BranchFactory, UserFactory
from tests.reception.factories import CounterFactory, ServiceTypeFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Wednesday, 10:00 in Shanghai: the factories' branches are open (09:00-17:00).
OPEN_AT = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
NOW = OPEN_AT + dt.timedelta(minutes=20)
MONITOR = reverse("dashboards:monitor")
PANEL = reverse("dashboards:monitor_panel")


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


@pytest.fixture
def clock():
    with time_machine.travel(OPEN_AT, tick=False) as traveller:
        yield traveller


def morning(branch, clock, *, suffix=""):
    """At `branch`: cash (target 15 min) and accounts services; counter 1 (cash) opened by a
    teller, counter 2 (accounts) opened and paused by another, counter 3 closed.

    Cash tickets A001 10:00, A002 10:01, A003 10:02; accounts B001 10:03. A001 called 10:05
    (waited 5 min: within target), served 10:06-10:10. A002 called 10:20 (waited 19 min: over
    target) and still at counter 1. The clock ends at 10:20 (NOW).

    At 10:20: cash waiting 1 (A003, 18 min), accounts waiting 1 (B001, 17 min); 2 waiting,
    longest 18 min; counters open 1 (busy 1), paused 1, closed 1; service level 1 / 2 = 50 %,
    mean wait (5 + 19) / 2 = 12 min = 720 s, served 1."""
    clock.move_to(OPEN_AT)
    cash = ServiceTypeFactory(branch=branch, code="cash", name_en="Cash", prefix="A")
    accounts = ServiceTypeFactory(
        branch=branch, code="accounts", name_en="Accounts", prefix="B", sort_order=1
    )
    ServiceTypeFactory(branch=branch, code="gone", prefix="C", is_active=False)
    teller = UserFactory(username=f"t1-{branch.code}{suffix}")
    other = UserFactory(username=f"t2-{branch.code}{suffix}")
    from bankservice.branches.services import membership_grant

    membership_grant(user=teller, role=Role.TELLER, branch=branch)
    membership_grant(user=other, role=Role.TELLER, branch=branch)
    counter = CounterFactory(branch=branch, number=1, services=[cash])
    paused = CounterFactory(branch=branch, number=2, services=[accounts])
    CounterFactory(branch=branch, number=3, services=[cash])
    counter_sign_in(actor=teller, counter=counter)
    counter_sign_in(actor=other, counter=paused)
    counter_pause(actor=other, counter=paused)
    for n, service in enumerate([cash, cash, cash, accounts]):
        clock.move_to(OPEN_AT + minutes(n))
        ticket_issue(actor=None, service_type=service, source="kiosk")
    clock.move_to(OPEN_AT + minutes(5))
    first = ticket_call_next(actor=teller, counter=counter)
    clock.move_to(OPEN_AT + minutes(6))
    ticket_start(actor=teller, ticket=first)
    clock.move_to(OPEN_AT + minutes(10))
    ticket_complete(actor=teller, ticket=first)
    clock.move_to(NOW)
    ticket_call_next(actor=teller, counter=counter)
    return {"cash": cash, "accounts": accounts}


def test_live_figures_of_a_branch(branch_a, branch_b, clock):
    morning(branch_a, clock)
    ServiceTypeFactory(branch=branch_b, code="cash", prefix="A")

    figures = live_figures([branch_a.pk, branch_b.pk])

    a = figures[branch_a.pk]
    assert a.at == timezone.now()
    assert [(s.code, s.waiting, s.longest_wait) for s in a.services] == [
        ("cash", 1, minutes(18)),  # A003 since 10:02
        ("accounts", 1, minutes(17)),  # B001 since 10:03
    ]
    assert (a.waiting, a.longest_minutes) == (2, 18)
    assert a.service("cash").over_target  # 18 > 15
    assert a.service("accounts").over_target  # 17 > 15
    assert (a.counters_open, a.counters_busy, a.counters_paused, a.counters_closed) == (1, 1, 1, 1)
    assert a.service_level == pytest.approx(0.5)
    assert a.wait_mean == pytest.approx(720)
    assert a.served == 1
    b = figures[branch_b.pk]
    assert [(s.code, s.waiting) for s in b.services] == [("cash", 0)]
    assert (b.waiting, b.longest_minutes, b.service_level, b.served) == (0, 0, None, 0)


def test_deadlines_at_risk(branch_a, branch_b, clock):
    clock.move_to(NOW)
    subjects = iter(UserFactory.create_batch(12))

    def start(kind, due_in, branch=branch_a):
        return deadline_start(
            subject=next(subjects),
            kind=kind,
            policy="care.callback",
            branch=branch,
            due_at=NOW + due_in,
        )

    start("complaint.decision", dt.timedelta(hours=23))  # at risk: within 24 h
    start("complaint.decision", dt.timedelta(hours=25))  # not yet
    start("complaint.summary_resolution", dt.timedelta(hours=1))  # a window: never
    start("complaint.decision", dt.timedelta(hours=1), branch=branch_b)  # another branch
    breached = start("complaint.final_response", dt.timedelta(hours=1))
    late_met = start("complaint.acknowledge", dt.timedelta(hours=1))
    start("care.callback", dt.timedelta(minutes=90))  # at risk: within 2 h
    start("care.callback", dt.timedelta(hours=3))  # not yet
    deadline_pause(deadline=start("care.callback", dt.timedelta(minutes=30)))  # clock stopped
    start("transactions.core_banking", dt.timedelta(minutes=5))  # not a monitored kind
    # Breached by the sweep (as its handlers would leave it): one still unmet, one met late.
    Deadline.objects.filter(pk=breached.pk).update(
        state=DeadlineState.BREACHED, breached_at=NOW - minutes(1)
    )
    Deadline.objects.filter(pk=late_met.pk).update(
        state=DeadlineState.BREACHED, breached_at=NOW - minutes(1), met_at=NOW
    )

    figures = live_figures([branch_a.pk, branch_b.pk])

    # Complaints: the decision due in 23 h and the breached final response.
    assert figures[branch_a.pk].complaints_at_risk == 2
    assert figures[branch_a.pk].callbacks_at_risk == 1
    assert figures[branch_a.pk].at_risk == 3
    assert (figures[branch_b.pk].complaints_at_risk, figures[branch_b.pk].callbacks_at_risk) == (
        1,
        0,
    )


@pytest.mark.parametrize(
    ("metric", "service", "threshold", "value", "is_over"),
    [
        (AlertMetric.LONGEST_WAIT, "", 17, 18, True),  # 18 min > 17
        (AlertMetric.LONGEST_WAIT, "", 18, 18, False),  # equal is not over
        (AlertMetric.LONGEST_WAIT, "accounts", 17, 17, False),
        (AlertMetric.WAITING, "", 1, 2, True),
        (AlertMetric.WAITING, "cash", 1, 1, False),
        (AlertMetric.WAITING, "nosuch", 0, None, False),
        (AlertMetric.SERVICE_LEVEL, "", 80, 50, True),  # 50 % below 80
        (AlertMetric.SERVICE_LEVEL, "", 50, 50, False),
        (AlertMetric.AT_RISK, "", 0, 0, False),
    ],
)
def test_rule_figures(branch_a, clock, metric, service, threshold, value, is_over):
    morning(branch_a, clock)
    figures = live_figures([branch_a.pk])[branch_a.pk]
    got = figure(figures, metric, service)
    assert got == (pytest.approx(value) if value is not None else None)
    assert over(metric, got, threshold) is is_over


# --- The page ---------------------------------------------------------------------------------


def test_a_branch_manager_sees_their_branch(client, branch_a, branch_b, make_staff, clock):
    morning(branch_a, clock)
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)
    AlertRule.objects.create(branch=branch_a, metric=AlertMetric.WAITING, threshold=1)
    AlertRule.objects.create(
        branch=branch_a, metric=AlertMetric.LONGEST_WAIT, service="accounts", threshold=16
    )
    AlertRule.objects.create(branch=branch_a, metric=AlertMetric.SERVICE_LEVEL, threshold=40)
    quiet = AlertRule.objects.create(
        branch=branch_a, metric=AlertMetric.AT_RISK, threshold=0, is_active=False
    )
    firing = AlertFiring.objects.create(rule=quiet, branch=branch_a, value=3, fired_at=NOW)
    client.force_login(manager)

    response = client.get(MONITOR)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-branch="{branch_a.pk}"' in html
    assert 'data-service="cash"' in html and 'data-service="gone"' not in html
    assert 'data-waiting="1"' in html and 'data-longest="18"' in html
    # Waiting 2 > 1 and accounts' longest 17 > 16 are past their rules; 50 % is not below 40.
    assert '<li data-figure="waiting" data-over' in html
    assert 'data-longest="17" data-over' in html
    assert '<li data-figure="service_level" data-over' not in html
    assert f'data-firing="{firing.pk}"' in html
    assert 'hx-trigger="every 15s"' in html
    assert f'hx-get="{PANEL}"' in html
    # Another branch is not there.
    assert client.get(MONITOR, {"branch": branch_b.pk}).status_code == 404
    assert client.get(PANEL, {"branch": "x"}).status_code == 404
    panel = client.get(PANEL)
    assert panel.status_code == 200
    assert b"<html" not in panel.content and b'data-waiting="1"' in panel.content


def test_a_regional_manager_sees_the_region_worst_first(
    client, region, branch_a, branch_b, branch_other_region, make_staff, clock
):
    morning(branch_a, clock)
    ServiceTypeFactory(branch=branch_b, code="cash", prefix="A")
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    client.force_login(regional)

    html = client.get(MONITOR).content.decode()

    # Branch A (2 waiting, 18 min) before branch B (nobody); the other region is not shown.
    assert html.index(f'<tr data-branch="{branch_a.pk}"') < html.index(
        f'<tr data-branch="{branch_b.pk}"'
    )
    assert f'data-branch="{branch_other_region.pk}"' not in html
    assert f"?branch={branch_b.pk}" in html
    assert 'id="monitor-branch"' in html
    detail = client.get(MONITOR, {"branch": branch_b.pk})
    assert (
        detail.status_code == 200
        and f'id="monitor-branch-name" data-branch="{branch_b.pk}"' in (detail.content.decode())
    )
    assert client.get(MONITOR, {"region": region.pk}).status_code == 200
    assert client.get(MONITOR, {"branch": branch_other_region.pk}).status_code == 404


def test_staff_without_the_kpi_permission_are_refused(client, teller):
    client.force_login(teller)
    assert client.get(MONITOR).status_code == 403
    assert client.get(PANEL).status_code == 403


def test_the_query_count_does_not_grow_with_branches(
    client, region, make_staff, clock, django_assert_num_queries
):
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    branches = [BranchFactory(region=region) for _ in range(3)]
    morning(branches[0], clock)
    for branch in branches:
        AlertRule.objects.create(branch=branch, metric=AlertMetric.WAITING, threshold=0)
    client.force_login(regional)

    def count(branch_query):
        with django_assert_num_queries(QUERIES) as captured:
            response = client.get(MONITOR, branch_query)
        assert response.status_code == 200
        return len(captured)

    client.get(MONITOR)  # warms the content type cache the first test of a run fills
    count({"branch": branches[0].pk})  # one branch
    for branch in branches[1:]:
        morning(branch, clock, suffix="x")
    count({"branch": branches[0].pk})
    count({"region": region.pk})  # three branches, the same number of queries
    count({})


# Session and user (2), the scope (2: memberships, the region's branches), picker branches and
# regions (2), the figures' branches (1), queues (2), counters (1), branch_kpis (the time
# zones 1; reception: tickets 1 + counter events 2 + counters 1; the other stages' raw
# measures), deadlines (1), rules (1), firings (1).
QUERIES = 34
