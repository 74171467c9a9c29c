"""Two campaign runners at once on PostgreSQL: the campaign starts once (its targets chosen
once) and every target is contacted exactly once, whether by message or by callback."""

# ruff: noqa: F811

import pytest

from bankservice.events.models import Event
from bankservice.notify.models import Notification
from care.campaigns import campaign_schedule, campaigns_run
from care.models import Callback, Campaign, CampaignStatus, CampaignTarget, TargetStatus
from tests.concurrency import run_together
from tests.conftest import requires_postgres

from .campaign_fixtures import (  # noqa: F401 (fixtures)
    NOW,
    _care_registered,
    make_campaign,
    make_customer,
    manager,
    now,
)

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("kind", ["message", "callback"])
def test_two_runners_contact_each_target_once(
    now, make_campaign, manager, make_customer, settings, kind
):
    settings.CARE_CAMPAIGN_BATCH = 3
    customers = [make_customer() for _ in range(20)]
    fields = {"kind": "callback", "reason_code": "check-in"} if kind == "callback" else {}
    campaign = campaign_schedule(actor=manager, campaign=make_campaign(**fields), scheduled_for=NOW)

    results = run_together(campaigns_run, campaigns_run)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.started for r in results) == 1
    assert sum(r.contacted for r in results) == 20
    assert sum(r.finished for r in results) == 1
    stored = CampaignTarget.objects.filter(campaign=campaign)
    assert stored.count() == 20
    assert set(stored.values_list("status", flat=True)) == {TargetStatus.CONTACTED}
    made = Notification.objects if kind == "message" else Callback.objects
    assert made.count() == 20
    assert set(made.values_list("customer_id", flat=True)) == {c.pk for c in customers}
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DONE
    assert Event.objects.filter(type="care.campaign_started").count() == 1
    assert Event.objects.filter(type="care.campaign_finished").count() == 1
