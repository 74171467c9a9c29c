"""The care demo: a draft birthday campaign its dry run can be tried on, made once."""

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from care.campaigns import campaign_dry_run
from care.models import Campaign, CampaignStatus
from tests.factories import BranchFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_demo_makes_a_draft_campaign_once(make_staff):
    branch = BranchFactory(code="sh-lujiazui")
    make_staff("branch_manager", branch=branch, username="branch_manager.sh-lujiazui")
    month = timezone.localdate(timezone=branch.zone).month  # as the campaign reads it
    birthday = CustomerFactory(
        home_branch=branch, date_of_birth=dt.date(1980, month, 1), consent_sms=True
    )
    CustomerFactory(
        home_branch=branch, date_of_birth=dt.date(1980, month % 12 + 1, 1), consent_sms=True
    )
    seed = apps.get_app_config("care").seed_demo

    assert seed(branches=[branch]) == {"campaigns": 1}
    assert seed(branches=[branch]) == {}

    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.birthday_this_month and list(campaign.branches.all()) == [branch]
    dry_run = campaign_dry_run(campaign)
    assert [c.customer for c in dry_run.contacted] == [birthday]


def test_no_demo_campaign_without_its_branch_manager():
    branch = BranchFactory(code="sh-lujiazui")
    CustomerFactory(home_branch=branch)
    assert apps.get_app_config("care").seed_demo(branches=[branch]) == {}
    assert not Campaign.objects.exists()
