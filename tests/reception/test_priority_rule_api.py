"""The priority-rule API: one rule per branch, by branch code; defaults until a branch sets its
own; written by reception configurers only (never an API key); a half-set ratio is a 400; the
change applies to the next call at once. Also the appointment and remote check-in settings of a
service through the service-type API."""

import pytest

from bankservice.branches.models import Role
from bankservice.events.models import Event
from reception.models import PriorityRule, ServiceType
from reception.services import ticket_call_next, ticket_complete, ticket_start
from tests.factories import CustomerFactory

RULES = "/api/v1/priority-rules"

pytestmark = pytest.mark.django_db


@pytest.fixture
def configurer(api, make_staff, branch_a):
    api.force_login(make_staff(Role.ADMIN, branch=branch_a))
    return api


def test_defaults_until_a_branch_sets_its_own(configurer, branch_a):
    answer = configurer.get(f"{RULES}/a01")
    assert answer.status_code == 200, answer.content
    defaults = PriorityRule(branch=branch_a)
    assert answer.json()["max_wait_minutes"] == defaults.max_wait_minutes
    assert answer.json()["ratio_priority"] == 0
    assert not PriorityRule.objects.exists()
    assert configurer.get(RULES).json() == [answer.json()]  # only the caller's branch


def test_set_the_rule_and_the_next_call_uses_it(
    configurer, branch_a, teller, open_counter, issue_tickets, reception_clock
):
    changed = configurer.patch(f"{RULES}/a01", {"ratio_priority": 1, "ratio_standard": 1})
    assert changed.status_code == 200, changed.content
    assert changed.json()["ratio_priority"] == 1
    rule = PriorityRule.objects.get(branch=branch_a)
    assert (rule.ratio_priority, rule.ratio_standard) == (1, 1)
    event = Event.objects.get(type="reception.priority_rule_updated")
    assert event.payload == {"ratio_priority": 1, "ratio_standard": 1}

    # Weights alone would call both priority tickets first; 1:1 puts the standard one between.
    standard = issue_tickets(1)[0]
    vips = issue_tickets(2, customer=CustomerFactory(segment="priority"))
    called = []
    for _ in range(3):
        ticket = ticket_call_next(actor=teller, counter=open_counter)
        ticket_start(actor=teller, ticket=ticket)
        ticket_complete(actor=teller, ticket=ticket)
        called.append(ticket)
    assert called == [vips[0], standard, vips[1]]


def test_a_half_set_ratio_is_a_400_and_changes_nothing(configurer, branch_a):
    refused = configurer.patch(f"{RULES}/a01", {"ratio_priority": 2})
    assert refused.status_code == 400
    assert refused.json() == {"ratio_standard": ["Set both ratio numbers, or leave both at 0."]}
    assert not PriorityRule.objects.exists()
    assert not Event.objects.filter(type="reception.priority_rule_updated").exists()
    negative = configurer.patch(f"{RULES}/a01", {"max_wait_minutes": -1})
    assert negative.status_code == 400
    assert "max_wait_minutes" in negative.json()


def test_only_configurers_of_the_branch_write(api, make_staff, branch_a, branch_b, make_api_client):
    api.force_login(make_staff(Role.TELLER, branch=branch_a))
    assert api.get(f"{RULES}/a01").status_code == 403
    assert api.patch(f"{RULES}/a01", {"max_wait_minutes": 5}).status_code == 403
    api.force_login(make_staff(Role.ADMIN, branch=branch_a, username="admin-a"))
    assert api.patch(f"{RULES}/b01", {"max_wait_minutes": 5}).status_code == 404
    client = make_api_client(["reception:read", "reception:write"], branches=[branch_a])
    refused = client.patch(f"{RULES}/a01", {"max_wait_minutes": 5})
    assert refused.status_code == 403
    assert not PriorityRule.objects.exists()


def test_service_types_carry_appointment_and_remote_settings(configurer, cash_service):
    url = f"/api/v1/service-types/{cash_service.pk}"
    changed = configurer.patch(
        url, {"bookable": True, "slot_minutes": 20, "slot_capacity": 2, "remote_checkin": False}
    )
    assert changed.status_code == 200, changed.content
    cash_service.refresh_from_db()
    assert (cash_service.bookable, cash_service.slot_minutes, cash_service.slot_capacity) == (
        True,
        20,
        2,
    )
    assert cash_service.remote_checkin is False
    bad = configurer.patch(url, {"slot_minutes": 2, "slot_capacity": 0})
    assert bad.status_code == 400
    assert bad.json().keys() == {"slot_minutes", "slot_capacity"}
    assert ServiceType.objects.get(pk=cash_service.pk).slot_minutes == 20
