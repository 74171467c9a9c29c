"""The campaign pages: list, new, edit, detail (counts, targets, filters), dry run, CSV import
with line errors, schedule, cancel. Roles (403), branch scope (404), form errors (400), pinned
query counts, and the pages in Simplified Chinese."""

# ruff: noqa: F811

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bankservice.branches.models import Role
from care.campaigns import campaign_import_targets, campaign_schedule, campaigns_run
from care.models import Campaign, CampaignStatus, CampaignTarget

from .campaign_fixtures import (  # noqa: F401 (fixtures)
    NOW,
    _care_registered,
    lead,
    make_campaign,
    make_customer,
    manager,
    manager_b,
    now,
)

pytestmark = pytest.mark.django_db
LIST = reverse("care:campaigns")
NEW = reverse("care:campaign_new")


def url(name, campaign, **query):
    path = reverse(f"care:{name}", args=[campaign.pk])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def listed(html):
    return [int(pk) for pk in re.findall(r'data-campaign="(\d+)"', html)]


def form_data(branch, **overrides):
    data = {
        "name": "Birthdays",
        "kind": "message",
        "branches": [branch.pk],
        "channel": "preferred",
        "message_text": "Happy birthday!",
        "priority": "2",
        "birthday_this_month": "on",
    }
    data.update(overrides)
    return data


def test_the_pages_need_the_role(client, now, teller, make_staff, branch_a, make_campaign):
    campaign = make_campaign()
    assert client.get(LIST).status_code == 302
    client.force_login(teller)
    assert client.get(LIST).status_code == 403
    assert client.get(url("campaign", campaign)).status_code == 403
    agent = make_staff(Role.CARE_AGENT, branch=branch_a, username="agent")
    client.force_login(agent)  # reads, does not run
    assert listed(client.get(LIST).content.decode()) == [campaign.pk]
    html = client.get(url("campaign", campaign)).content.decode()
    assert "data-schedule-form" not in html and "data-cancel-form" not in html
    assert client.get(NEW).status_code == 403
    assert client.post(url("campaign_cancel", campaign)).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT


def test_another_branchs_campaign_is_not_found(client, now, manager_b, make_campaign):
    campaign = make_campaign()
    client.force_login(manager_b)
    assert listed(client.get(LIST).content.decode()) == []
    for name in ("campaign", "campaign_edit", "campaign_dry_run", "campaign_import"):
        assert client.get(url(name, campaign)).status_code == 404, name
    assert client.post(url("campaign_cancel", campaign)).status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT


def test_a_campaign_spanning_a_branch_one_cannot_see_is_not_listed(
    client, now, make_staff, region, branch_a, branch_b, manager
):
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    client.force_login(regional)
    response = client.post(NEW, form_data(branch_a, branches=[branch_a.pk, branch_b.pk]))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and campaign.branches.count() == 2
    client.force_login(manager)
    assert listed(client.get(LIST).content.decode()) == []
    assert client.get(url("campaign", campaign)).status_code == 404


def test_new_campaign_form_errors_and_success(client, now, manager, branch_a, branch_b):
    client.force_login(manager)
    page = client.get(NEW)
    assert page.status_code == 200 and f'value="{branch_b.pk}"' not in page.content.decode()
    bad = client.post(NEW, form_data(branch_a, message_text=""))
    assert bad.status_code == 400
    assert "message_text" in bad.context["form"].errors
    bad = client.post(NEW, form_data(branch_a, branches=[branch_b.pk]))
    assert bad.status_code == 400 and "branches" in bad.context["form"].errors
    bad = client.post(NEW, form_data(branch_a, kind="callback", reason_code=""))
    assert bad.status_code == 400 and "reason_code" in bad.context["form"].errors
    assert not Campaign.objects.exists()
    done = client.post(NEW, form_data(branch_a, segments=["priority"]))
    campaign = Campaign.objects.get()
    assert done["Location"] == url("campaign", campaign)
    assert (campaign.birthday_this_month, campaign.segments) == (True, ["priority"])


def test_edit_a_draft_only(client, now, manager, branch_a, make_campaign, make_customer):
    campaign = make_campaign()
    client.force_login(manager)
    page = client.get(url("campaign_edit", campaign))
    assert page.status_code == 200 and campaign.message_text in page.content.decode()
    response = client.post(url("campaign_edit", campaign), form_data(branch_a, name="Renamed"))
    assert response.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).name == "Renamed"
    make_customer()
    campaign_schedule(actor=manager, campaign=campaign, scheduled_for=NOW + dt.timedelta(days=1))
    assert client.get(url("campaign_edit", campaign)).status_code == 302
    client.post(url("campaign_edit", campaign), form_data(branch_a, name="Again"))
    assert Campaign.objects.get(pk=campaign.pk).name == "Renamed"


def test_csv_import_shows_line_errors_then_imports(
    client, now, manager, make_campaign, make_customer
):
    campaign = make_campaign(imported_only=True)
    one, two = make_customer(), make_customer()
    client.force_login(manager)
    bad = SimpleUploadedFile("list.csv", b"customer_id,note\n%d,ok\nabc,bad\n" % one.pk)
    response = client.post(url("campaign_import", campaign), {"file": bad})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-line="3"' in html and not CampaignTarget.objects.exists()
    no_header = SimpleUploadedFile("list.csv", b"id\n1\n")
    response = client.post(url("campaign_import", campaign), {"file": no_header})
    assert response.status_code == 400 and "file" in response.context["form"].errors
    with_unknown = SimpleUploadedFile(
        "list.csv", b"core_banking_id,note\n%s,maturing\nNOPE,\n" % one.core_banking_id.encode()
    )
    response = client.post(url("campaign_import", campaign), {"file": with_unknown})
    assert response.status_code == 200 and 'data-unknown="3"' in response.content.decode()
    good = SimpleUploadedFile("list.csv", b"customer_id\n%d\n%d\n" % (one.pk, two.pk))
    response = client.post(url("campaign_import", campaign), {"file": good})
    assert response.status_code == 302
    assert CampaignTarget.objects.filter(campaign=campaign).count() == 2


def test_schedule_and_cancel(client, now, manager, make_campaign, make_customer):
    make_customer()
    campaign = make_campaign()
    client.force_login(manager)
    past = client.post(url("campaign_schedule", campaign), {"scheduled_for": "2026-11-01T10:00"})
    assert past.status_code == 400 and "scheduled_for" in past.context["schedule_form"].errors
    garbage = client.post(url("campaign_schedule", campaign), {"scheduled_for": "soon"})
    assert garbage.status_code == 400
    ok = client.post(url("campaign_schedule", campaign), {"scheduled_for": "2026-12-02T09:30"})
    assert ok.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.scheduled_for == dt.datetime(2026, 12, 2, 9, 30, tzinfo=NOW.tzinfo)
    client.post(url("campaign_cancel", campaign))
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.CANCELLED
    again = client.post(url("campaign_cancel", campaign), follow=True)
    assert "cannot be cancelled" in again.content.decode()


def test_the_dry_run_page(
    client, now, lead, make_campaign, make_customer, django_assert_num_queries
):
    born = dt.date(1990, 12, 9)
    fine = make_customer(date_of_birth=born)
    silent = make_customer(date_of_birth=born, consent_sms=False, consent_email=False)
    campaign = make_campaign(birthday_this_month=True)
    client.force_login(lead)
    client.get(url("campaign_dry_run", campaign))  # warm the caches
    with django_assert_num_queries(8):
        html = client.get(url("campaign_dry_run", campaign)).content.decode()
    assert f'data-customer="{fine.pk}"' in html
    assert f'data-customer="{silent.pk}" data-reason="no_consent"' in html
    assert not CampaignTarget.objects.exists()


def test_the_detail_page_counts_and_targets(
    client, now, manager, make_campaign, make_customer, django_assert_num_queries
):
    for _ in range(3):
        make_customer()
    make_customer(consent_sms=False, consent_email=False)
    campaign = campaign_schedule(actor=manager, campaign=make_campaign(), scheduled_for=NOW)
    campaigns_run()
    client.force_login(manager)
    client.get(url("campaign", campaign))
    with django_assert_num_queries(8):
        html = client.get(url("campaign", campaign)).content.decode()
    assert re.search(r'data-count="contacted">3<', html)
    assert re.search(r'data-count="excluded">1<', html)
    assert html.count("data-target=") == 4
    html = client.get(url("campaign", campaign, status="excluded")).content.decode()
    assert html.count("data-target=") == 1 and 'data-excluded="no_consent"' in html
    html = client.get(url("campaign", campaign, excluded_reason="opted_out")).content.decode()
    assert html.count("data-target=") == 0


def test_the_list_query_count_does_not_grow(
    client, now, manager, make_campaign, django_assert_num_queries
):
    make_campaign()
    client.force_login(manager)
    client.get(LIST)
    with django_assert_num_queries(5):
        client.get(LIST)
    for n in range(5):
        make_campaign(name=f"More {n}")
    with django_assert_num_queries(5):
        assert len(listed(client.get(LIST).content.decode())) == 6


def test_the_pages_render_in_chinese(client, now, manager, make_campaign, make_customer):
    customer = make_customer()
    campaign = make_campaign()
    campaign_import_targets(actor=manager, campaign=campaign, rows=[{"customer_id": customer.pk}])
    client.force_login(manager)
    client.cookies["django_language"] = "zh-hans"
    for path in (
        LIST,
        NEW,
        url("campaign", campaign),
        url("campaign_dry_run", campaign),
        url("campaign_import", campaign),
        url("campaign_edit", campaign),
    ):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, path
        assert '<html lang="zh-hans"' in response.content.decode(), path


def test_the_form_pages_query_counts(
    client, now, manager, make_campaign, django_assert_num_queries
):
    campaign = make_campaign()
    client.force_login(manager)
    for path, queries in (
        (NEW, 3),
        (url("campaign_edit", campaign), 6),
        (url("campaign_import", campaign), 4),
    ):
        client.get(path)
        with django_assert_num_queries(queries):
            assert client.get(path).status_code == 200, path
