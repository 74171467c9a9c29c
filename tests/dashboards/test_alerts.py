"""Threshold alerts (dashboards/alerts.py): a figure crossing its rule's threshold opens one
firing and e-mails the branch managers once; back within, the firing closes; a new crossing is
a new firing. The rule pages: form errors, scope, and an audit event for every change."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.events.models import Event
from bankservice.notify.models import Notification
from dashboards import alerts
from dashboards.alerts import ALERT_MESSAGE, alerts_check
from dashboards.models import AlertFiring, AlertMetric, AlertRule
from reception.services import counter_sign_in, ticket_call_next, ticket_issue
from tests.concurrency import run_together
from tests.conftest import requires_postgres
from tests.reception.factories import CounterFactory, ServiceTypeFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
OPEN_AT = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)  # a Wednesday, branches open
RULES = reverse("dashboards:alert_rules")


def at(minutes: int) -> dt.datetime:
    return OPEN_AT + dt.timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def _alert_message():
    alerts.register_messages()  # DashboardsConfig.ready() does it in the product


@pytest.fixture
def clock():
    with time_machine.travel(OPEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def managers(branch_a, make_staff):
    """Two managers of branch A with e-mail addresses, and one without (not e-mailed)."""
    users = []
    for name in ("mgr-li", "mgr-wang", "mgr-nomail"):
        user = make_staff(Role.BRANCH_MANAGER, branch=branch_a, username=name)
        user.email = "" if name == "mgr-nomail" else f"{name}@bank.example"
        user.save(update_fields=["email"])
        users.append(user)
    return users


@pytest.fixture
def queue(branch_a, teller):
    cash = ServiceTypeFactory(branch=branch_a, code="cash", prefix="A", target_wait_minutes=15)
    counter = CounterFactory(branch=branch_a, number=1, services=[cash])
    return {"cash": cash, "counter": counter}


def emails():
    return Notification.objects.filter(template=ALERT_MESSAGE)


def test_crossing_notifies_once_clears_and_fires_again(branch_a, managers, queue, teller, clock):
    rule = AlertRule.objects.create(branch=branch_a, metric=AlertMetric.LONGEST_WAIT, threshold=15)
    ticket_issue(actor=None, service_type=queue["cash"], source="kiosk")  # 10:00

    clock.move_to(at(15))
    assert alerts_check() == {"fired": 0, "cleared": 0}  # 15 min is not over 15
    clock.move_to(at(20))
    assert alerts_check() == {"fired": 1, "cleared": 0}  # 20 > 15

    firing = AlertFiring.objects.get()
    assert (firing.rule, firing.branch, firing.value, firing.fired_at) == (
        rule,
        branch_a,
        20,
        at(20),
    )
    assert firing.cleared_at is None
    sent = emails().order_by("pk")
    assert [n.contact_address for n in sent] == ["mgr-li@bank.example", "mgr-wang@bank.example"]
    assert [n.dedupe_key for n in sent] == [
        f"alert:{firing.pk}:{managers[0].pk}",
        f"alert:{firing.pk}:{managers[1].pk}",
    ]
    assert sent[0].context["value"] == "20" and sent[0].context["threshold"] == "15"
    assert sent[0].context["fired_at"] == "2026-03-04 10:20"
    assert Event.objects.filter(type="dashboards.alert_fired").count() == 1

    clock.move_to(at(21))
    assert alerts_check() == {"fired": 0, "cleared": 0}  # still over: the same episode
    assert AlertFiring.objects.count() == 1 and emails().count() == 2

    clock.move_to(at(22))
    counter_sign_in(actor=teller, counter=queue["counter"])
    ticket_call_next(actor=teller, counter=queue["counter"])
    assert alerts_check() == {"fired": 0, "cleared": 1}  # nobody waits: longest 0
    firing.refresh_from_db()
    assert firing.cleared_at == at(22)
    assert alerts_check() == {"fired": 0, "cleared": 0}

    clock.move_to(at(23))
    ticket_issue(actor=None, service_type=queue["cash"], source="kiosk")
    clock.move_to(at(40))
    assert alerts_check() == {"fired": 1, "cleared": 0}  # 17 > 15: a new episode
    assert AlertFiring.objects.count() == 2
    second = AlertFiring.objects.get(cleared_at__isnull=True)
    assert second.value == 17
    assert emails().count() == 4
    assert emails().filter(dedupe_key__startswith=f"alert:{second.pk}:").count() == 2


def test_service_level_and_service_rules(branch_a, branch_b, managers, queue, teller, clock):
    # 10:00 A001 and A002 issued; A001 called at 10:20 after 20 min (target 15): 0 of 1 called
    # within target, service level 0 % < 80 %. Cash still has A002 waiting (20 min).
    ticket_issue(actor=None, service_type=queue["cash"], source="kiosk")
    ticket_issue(actor=None, service_type=queue["cash"], source="kiosk")
    clock.move_to(at(20))
    counter_sign_in(actor=teller, counter=queue["counter"])
    ticket_call_next(actor=teller, counter=queue["counter"])
    level = AlertRule.objects.create(
        branch=branch_a, metric=AlertMetric.SERVICE_LEVEL, threshold=80
    )
    cash_queue = AlertRule.objects.create(
        branch=branch_a, metric=AlertMetric.WAITING, service="cash", threshold=1
    )  # 1 waiting: not over 1
    cash_wait = AlertRule.objects.create(
        branch=branch_a, metric=AlertMetric.LONGEST_WAIT, service="cash", threshold=19
    )
    # Branch B has nobody called today: no service level, nothing to compare.
    quiet = AlertRule.objects.create(
        branch=branch_b, metric=AlertMetric.SERVICE_LEVEL, threshold=80
    )

    assert alerts_check() == {"fired": 2, "cleared": 0}

    fired = dict(AlertFiring.objects.values_list("rule_id", "value"))
    assert fired == {level.pk: 0.0, cash_wait.pk: 20.0}
    assert cash_queue.pk not in fired and quiet.pk not in fired


def test_an_inactive_rule_closes_its_firing(branch_a, managers, queue, clock):
    rule = AlertRule.objects.create(branch=branch_a, metric=AlertMetric.WAITING, threshold=0)
    ticket_issue(actor=None, service_type=queue["cash"], source="kiosk")
    assert alerts_check()["fired"] == 1
    alerts.alert_rule_update(actor=managers[0], rule=rule, threshold=0, is_active=False)

    assert alerts_check() == {"fired": 0, "cleared": 1}
    assert AlertFiring.objects.get().cleared_at == OPEN_AT


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_checks_at_once_notify_once(branch_a, managers, queue, clock):
    AlertRule.objects.create(branch=branch_a, metric=AlertMetric.WAITING, threshold=0)
    ticket_issue(actor=None, service_type=queue["cash"], source="kiosk")

    results = run_together(*(lambda: alerts_check(now=at(1)) for _ in range(2)))

    # One check opened the firing; the other hit alertfiring_one_open and sent nothing.
    assert sorted(r["fired"] for r in results) == [0, 1], results
    assert AlertFiring.objects.count() == 1
    assert emails().count() == 2  # one per manager with an address


# --- The rule pages ---------------------------------------------------------------------------


def test_a_manager_adds_changes_and_deletes_a_rule(client, branch_a, managers, queue):
    manager = managers[0]
    client.force_login(manager)
    assert client.get(RULES).status_code == 200

    bad = client.post(
        RULES,
        {"branch": branch_a.pk, "metric": "service_level", "service": "cash", "threshold": "-1"},
    )
    assert bad.status_code == 400
    errors = bad.context["form"].errors
    assert set(errors) == {"threshold", "service"}
    assert client.post(
        RULES, {"branch": branch_a.pk, "metric": "service_level", "threshold": "120"}
    ).context["form"].errors == {"threshold": ["A service level is a per cent: at most 100."]}
    unknown = client.post(
        RULES, {"branch": branch_a.pk, "metric": "waiting", "service": "nosuch", "threshold": "3"}
    )
    assert list(unknown.context["form"].errors) == ["service"]
    assert (
        client.post(RULES, {"branch": 999999, "metric": "waiting", "threshold": "3"}).status_code
        == 400
    )
    assert not AlertRule.objects.exists()

    response = client.post(
        RULES,
        {
            "branch": branch_a.pk,
            "metric": "waiting",
            "service": "cash",
            "threshold": "5",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.branch, rule.metric, rule.service, rule.threshold, rule.is_active) == (
        branch_a,
        "waiting",
        "cash",
        5,
        True,
    )
    assert rule.created_by == manager
    created = Event.objects.get(type="dashboards.alert_rule_created")
    assert created.actor_user_id == manager.pk and created.branch_id == branch_a.pk
    assert created.payload["threshold"] == 5

    edit = reverse("dashboards:alert_rule_edit", args=[rule.pk])
    assert client.post(edit, {"threshold": "x"}).status_code == 400
    assert client.post(edit, {"threshold": "8"}).status_code == 302  # and switched off
    rule.refresh_from_db()
    assert (rule.threshold, rule.is_active) == (8, False)
    updated = Event.objects.get(type="dashboards.alert_rule_updated")
    assert updated.payload["changes"] == {"threshold": [5, 8], "is_active": [True, False]}

    assert client.post(reverse("dashboards:alert_rule_delete", args=[rule.pk])).status_code == 302
    assert not AlertRule.objects.exists()
    deleted = Event.objects.get(type="dashboards.alert_rule_deleted")
    assert deleted.actor_user_id == manager.pk and deleted.payload["threshold"] == 8


def test_rules_are_limited_to_the_users_branches(
    client, branch_a, branch_b, managers, make_staff, teller
):
    other = AlertRule.objects.create(branch=branch_b, metric=AlertMetric.WAITING, threshold=3)
    client.force_login(managers[0])
    page = client.get(RULES)
    assert f'data-rule="{other.pk}"' not in page.content.decode()
    assert [c[0] for c in page.context["form"].fields["branch"].choices] == [branch_a.pk]
    assert (
        client.post(
            RULES, {"branch": branch_b.pk, "metric": "waiting", "threshold": "3"}
        ).status_code
        == 400
    )
    assert client.get(reverse("dashboards:alert_rule_edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("dashboards:alert_rule_delete", args=[other.pk])).status_code == 404
    assert AlertRule.objects.filter(pk=other.pk).exists()

    client.force_login(teller)
    assert client.get(RULES).status_code == 403

    auditor = make_staff(Role.AUDITOR, branch=branch_b)
    client.force_login(auditor)
    page = client.get(RULES)
    assert page.status_code == 200 and page.context["form"] is None
    assert f'data-rule="{other.pk}"' in page.content.decode()
    assert b"data-edit-rule" not in page.content
    assert (
        client.post(
            RULES, {"branch": branch_b.pk, "metric": "waiting", "threshold": "1"}
        ).status_code
        == 403
    )
