"""Campaign services and the runner: validation and who may, imported lists and CSV files, the
dry run, scheduling, the runner's targeting (filters, birthday in the branch's zone, imported
lists), exclusions (opted out, consent, address, open callback, contact cap, merged), batches,
exactly once on a rerun, status counts, cancelling, the opt-out page."""

# ruff: noqa: F811

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from bankservice.branches.models import Role
from bankservice.core.errors import BadInput, Conflict
from bankservice.events.models import Event
from bankservice.notify.models import Notification, NotificationStatus
from care.campaigns import (
    MESSAGE,
    campaign_cancel,
    campaign_create,
    campaign_dry_run,
    campaign_import_targets,
    campaign_schedule,
    campaign_status,
    campaign_update,
    campaigns_run,
    parse_target_csv,
)
from care.models import (
    AttemptChannel,
    AttemptResult,
    Callback,
    CallbackStatus,
    Campaign,
    CampaignStatus,
    CampaignTarget,
    CareOptOut,
    ExclusionReason,
    OptOutScope,
    TargetStatus,
)
from care.optouts import opt_out
from care.services import callable_from, callback_attempt, callback_claim, callback_create
from tests.factories import BranchFactory, CustomerFactory

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


def scheduled(campaign, actor, at=None):
    return campaign_schedule(actor=actor, campaign=campaign, scheduled_for=at or NOW)


def targets(campaign):
    return {
        t.customer_id: (t.status, t.excluded_reason)
        for t in CampaignTarget.objects.filter(campaign=campaign)
    }


# --- Creating and who may.


def test_create_checks_every_field(now, manager, branch_a, branch_b, teller):
    base = {"name": "X", "kind": "message", "channel": "sms", "message_text": "Hello"}
    cases = [
        ({**base, "name": " "}, [branch_a], "name"),
        ({**base, "kind": "fax"}, [branch_a], "kind"),
        ({**base, "segments": ["vip"]}, [branch_a], "segments"),
        ({**base, "needs": ["tall"]}, [branch_a], "needs"),
        ({**base, "channel": ""}, [branch_a], "channel"),
        ({**base, "message_text": ""}, [branch_a], "message_text"),
        ({**base, "message_text": "x" * 501}, [branch_a], "message_text"),
        ({"name": "X", "kind": "callback"}, [branch_a], "reason_code"),
        ({"name": "X", "kind": "callback", "reason_code": "a b"}, [branch_a], "reason_code"),
        (
            {"name": "X", "kind": "callback", "reason_code": "ok", "priority": 9},
            [branch_a],
            "priority",
        ),
        (base, [], "branches"),
        (base, [branch_a, branch_b], "branches"),  # the manager runs nothing at B
    ]
    for fields, branches, field in cases:
        with pytest.raises(BadInput) as caught:
            campaign_create(actor=manager, branches=branches, **fields)
        assert caught.value.field == field, fields
    with pytest.raises(BadInput) as caught:
        campaign_create(actor=teller, branches=[branch_a], **base)
    assert caught.value.field == "branches"
    assert not Campaign.objects.exists()


def test_create_keeps_a_draft_with_an_event(now, manager, branch_a):
    campaign = campaign_create(
        actor=manager,
        branches=[branch_a],
        name="Seniors",
        kind="callback",
        reason_code="senior-check",
        script="Ask how we can help.",
        priority=1,
        segments=["priority", "standard", "priority"],
        needs=["elderly"],
    )
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.segments == ["priority", "standard"]
    assert list(campaign.branches.all()) == [branch_a]
    assert campaign.created_by == manager
    event = Event.objects.get(type="care.campaign_created")
    assert event.payload["campaign_id"] == campaign.pk and event.branch_id == branch_a.pk


def test_a_regional_manager_spans_branches_and_a_care_lead_runs_one(
    now, make_staff, region, branch_a, branch_b, lead
):
    regional = make_staff(Role.REGIONAL_MANAGER, region=region)
    fields = {"name": "X", "kind": "message", "channel": "sms", "message_text": "Hi"}
    both = campaign_create(actor=regional, branches=[branch_a, branch_b], **fields)
    assert both.branches.count() == 2
    campaign_create(actor=lead, branches=[branch_a], **fields)
    with pytest.raises(PermissionDenied):
        campaign_update(actor=lead, campaign=both, name="Mine now")


def test_only_a_draft_changes(now, make_campaign, manager, make_customer):
    campaign = make_campaign()
    campaign = campaign_update(actor=manager, campaign=campaign, name="Renamed", needs=["pregnant"])
    assert (campaign.name, campaign.needs) == ("Renamed", ["pregnant"])
    with pytest.raises(BadInput) as caught:
        campaign_update(actor=manager, campaign=campaign, message_text="")
    assert caught.value.field == "message_text"
    make_customer()
    scheduled(campaign, manager)
    with pytest.raises(Conflict):
        campaign_update(actor=manager, campaign=campaign, name="Too late")


# --- Imported lists.


def test_import_reports_added_duplicates_and_unknown_rows(
    now, make_campaign, manager, make_customer, branch_b
):
    campaign = make_campaign(imported_only=True)
    one, two = make_customer(), make_customer()
    elsewhere = CustomerFactory(home_branch=branch_b)
    report = campaign_import_targets(
        actor=manager,
        campaign=campaign,
        rows=[
            {"customer_id": one.pk, "note": "deposit maturing 2026-12-15"},
            {"core_banking_id": two.core_banking_id},
            {"customer_id": one.pk},  # twice in the list
            {"customer_id": 999999},
            {"customer_id": elsewhere.pk},  # not a customer of the campaign's branch
        ],
    )
    assert (report.added, report.duplicates) == (2, 1)
    assert report.unknown == [(4, "999999"), (5, str(elsewhere.pk))]
    again = campaign_import_targets(
        actor=manager, campaign=campaign, rows=[{"customer_id": two.pk}]
    )
    assert (again.added, again.duplicates) == (0, 1)
    note = CampaignTarget.objects.get(campaign=campaign, customer=one).reason
    assert note == "deposit maturing 2026-12-15"
    assert Event.objects.filter(type="care.campaign_targets_imported").count() == 2


def test_import_refuses_bad_rows_and_started_campaigns(now, make_campaign, manager, make_customer):
    campaign = make_campaign()
    customer = make_customer()
    for rows in ([], [{"note": "no id"}], [{"customer_id": "abc"}], ["x"], "nope"):
        with pytest.raises(BadInput) as caught:
            campaign_import_targets(actor=manager, campaign=campaign, rows=rows)
        assert caught.value.field == "rows"
    assert not CampaignTarget.objects.exists()
    campaign_cancel(actor=manager, campaign=campaign)
    with pytest.raises(Conflict):
        campaign_import_targets(
            actor=manager, campaign=campaign, rows=[{"customer_id": customer.pk}]
        )


def test_parse_target_csv_gives_rows_and_line_errors():
    text = (
        "\ufeffcore_banking_id,note\nCB1,maturing 15 Dec\n\n,missing\nCB2," + "x" * 201 + "\nCB3\n"
    )
    parsed = parse_target_csv(io.BytesIO(text.encode()))
    assert parsed.rows == [
        {"core_banking_id": "CB1", "note": "maturing 15 Dec", "line": 2},
        {"core_banking_id": "CB3", "note": "", "line": 6},
    ]
    assert [line for line, _msg in parsed.errors] == [4, 5]
    parsed = parse_target_csv(io.BytesIO(b"customer_id\n12\nx\n"))
    assert parsed.rows == [{"customer_id": "12", "note": "", "line": 2}]
    assert parsed.errors[0][0] == 3


@pytest.mark.parametrize(
    "content",
    [b"", b"name,note\nA,b\n", b"customer_id\n", "customer_id\n1\n".encode("utf-16")],
)
def test_parse_target_csv_refuses_a_bad_file(content):
    with pytest.raises(BadInput) as caught:
        parse_target_csv(io.BytesIO(content))
    assert caught.value.field == "file"


def test_parse_target_csv_limits_size_and_rows(settings, monkeypatch):
    from care import campaigns

    with pytest.raises(BadInput):
        parse_target_csv(io.BytesIO(b"customer_id\n" + b"1\n" * (campaigns.CSV_MAX_BYTES // 2)))
    monkeypatch.setattr(campaigns, "IMPORT_MAX_ROWS", 3)
    with pytest.raises(BadInput):
        parse_target_csv(io.BytesIO(b"customer_id\n1\n2\n3\n4\n"))


# --- Dry run.


def test_the_dry_run_says_who_and_why_and_writes_nothing(
    now, make_campaign, make_customer, manager
):
    born_december = dt.date(1990, 12, 3)
    picked = make_customer(date_of_birth=born_december, segment="priority")
    by_sms = make_customer(date_of_birth=born_december, consent_email=False)
    make_customer(date_of_birth=dt.date(1990, 5, 3))  # not this month: not considered
    no_consent = make_customer(date_of_birth=born_december, consent_sms=False, consent_email=False)
    no_address = make_customer(date_of_birth=born_december, consent_email=False, phone="")
    opted = make_customer(date_of_birth=born_december)
    opt_out(customer=opted, scope=OptOutScope.CAMPAIGNS, source="staff")
    survivor = make_customer()
    make_customer(date_of_birth=born_december, merged_into=survivor)  # merged: never
    campaign = make_campaign(birthday_this_month=True)
    events = Event.objects.count()

    run = campaign_dry_run(campaign)

    assert {c.customer.pk: c.channel for c in run.contacted} == {
        picked.pk: "email",
        by_sms.pk: "sms",
    }
    assert {c.customer.pk: c.excluded_reason for c in run.left_out} == {
        no_consent.pk: ExclusionReason.NO_CONSENT,
        no_address.pk: ExclusionReason.NO_ADDRESS,
        opted.pk: ExclusionReason.OPTED_OUT,
    }
    assert run.counts == {
        "contacted": 2,
        "left_out": 3,
        "by_reason": {"no_consent": 1, "no_address": 1, "opted_out": 1},
    }
    assert "birthday: 12-03" in run.contacted[0].reason
    assert not CampaignTarget.objects.exists() and not Notification.objects.exists()
    assert Event.objects.count() == events


def test_the_dry_run_of_a_callback_campaign_sees_the_callback_guards(
    now, make_campaign, make_customer, settings
):
    settings.CARE_CONTACT_CAP = 1
    fine, no_phone_consent = make_customer(segment="private"), make_customer(consent_phone=False)
    busy, capped = make_customer(), make_customer()
    callback_create(
        actor=None, customer=busy, branch=busy.home_branch, reason_code="vip-call", due_at=NOW
    )
    callback_create(
        actor=None, customer=capped, branch=capped.home_branch, reason_code="other", due_at=NOW
    )
    campaign = make_campaign(kind="callback", reason_code="vip-call")

    run = campaign_dry_run(campaign)

    assert [c.customer.pk for c in run.contacted] == [fine.pk]
    assert {c.customer.pk: c.excluded_reason for c in run.left_out} == {
        no_phone_consent.pk: "no_consent",
        busy.pk: "open_callback",
        capped.pk: "contact_cap",
    }


def test_an_imported_only_campaign_narrows_its_list_by_the_filters(
    now, make_campaign, make_customer, manager, branch_a
):
    elderly, young = make_customer(is_elderly=True), make_customer()
    make_customer(is_elderly=True)  # not on the list
    campaign = make_campaign(imported_only=True, needs=["elderly"])
    campaign_import_targets(
        actor=manager,
        campaign=campaign,
        rows=[{"customer_id": elderly.pk, "note": "maturing"}, {"customer_id": young.pk}],
    )
    run = campaign_dry_run(campaign)
    assert [(c.customer.pk, c.reason) for c in run.contacted] == [(elderly.pk, "maturing")]
    assert [(c.customer.pk, c.excluded_reason) for c in run.left_out] == [(young.pk, "filters")]


# --- Scheduling and cancelling.


def test_schedule_checks_time_and_list(now, make_campaign, manager, manager_b, make_customer):
    campaign = make_campaign()
    with pytest.raises(BadInput) as caught:
        scheduled(campaign, manager, NOW - dt.timedelta(hours=1))
    assert caught.value.field == "scheduled_for"
    with pytest.raises(BadInput):
        naive = dt.datetime(2026, 12, 2)  # noqa: DTZ001 (the point: no time zone)
        campaign_schedule(actor=manager, campaign=campaign, scheduled_for=naive)
    with pytest.raises(PermissionDenied):
        scheduled(campaign, manager_b)
    listed = make_campaign(imported_only=True)
    with pytest.raises(Conflict):
        scheduled(listed, manager)
    campaign = scheduled(campaign, manager, NOW + dt.timedelta(days=1))
    assert campaign.status == CampaignStatus.SCHEDULED
    assert Event.objects.filter(type="care.campaign_scheduled").count() == 1


def test_a_cancelled_campaign_contacts_nobody(now, make_campaign, manager, make_customer):
    make_customer()
    campaign = scheduled(make_campaign(), manager)
    campaign_cancel(actor=manager, campaign=campaign)
    report = campaigns_run()
    assert report.started == 0 and not Notification.objects.exists()
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.CANCELLED
    with pytest.raises(Conflict):
        campaign_cancel(actor=manager, campaign=campaign)


# --- The runner.


def test_a_message_campaign_runs_once(now, make_campaign, manager, make_customer, settings):
    settings.RECEPTION_PUBLIC_BASE_URL = "https://bank.example/"
    by_email, by_sms = make_customer(), make_customer(consent_email=False, preferred_language="en")
    no_consent = make_customer(consent_sms=False, consent_email=False)
    opted = make_customer()
    opt_out(customer=opted, scope=OptOutScope.ALL, source="staff")
    later = scheduled(make_campaign(name="Later"), manager, NOW + dt.timedelta(hours=1))
    campaign = scheduled(make_campaign(), manager)

    report = campaigns_run()

    assert (report.started, report.contacted, report.excluded, report.finished) == (1, 2, 2, 1)
    assert targets(campaign) == {
        by_email.pk: ("contacted", ""),
        by_sms.pk: ("contacted", ""),
        no_consent.pk: ("excluded", "no_consent"),
        opted.pk: ("excluded", "opted_out"),
    }
    sms = Notification.objects.get(customer=by_sms)
    target = CampaignTarget.objects.get(campaign=campaign, customer=by_sms)
    assert (sms.channel, sms.template, sms.language) == ("sms", MESSAGE, "en")
    assert sms.context["text"] == campaign.message_text
    assert sms.context["opt_out_url"] == f"https://bank.example/o/{target.public_token}/"
    assert target.notification == sms and target.contacted_at == NOW
    assert Notification.objects.get(customer=by_email).channel == "email"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE and campaign.finished_at == NOW
    assert Campaign.objects.get(pk=later.pk).status == CampaignStatus.SCHEDULED
    finished = Event.objects.get(type="care.campaign_finished")
    assert finished.payload["contacted"] == 2

    again = campaigns_run()
    assert (again.started, again.contacted) == (0, 0)
    assert Notification.objects.count() == 2


def test_the_runner_works_in_batches(now, make_campaign, manager, make_customer, settings):
    settings.CARE_CAMPAIGN_BATCH = 2
    customers = [make_customer() for _ in range(5)]
    campaign = scheduled(make_campaign(), manager)
    report = campaigns_run()
    assert report.contacted == 5
    assert set(targets(campaign)) == {c.pk for c in customers}
    assert Notification.objects.count() == 5


def test_a_run_out_of_time_leaves_the_rest_for_the_next(
    now, make_campaign, manager, make_customer, settings
):
    settings.CARE_CAMPAIGN_BATCH = 1
    for _ in range(2):
        make_customer()
    campaign = scheduled(make_campaign(), manager)
    report = campaigns_run(budget_seconds=0)
    assert (report.started, report.contacted, report.finished) == (1, 0, 0)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.RUNNING
    report = campaigns_run()
    assert (report.started, report.contacted, report.finished) == (0, 2, 1)


def test_targets_are_chosen_once_at_the_start(now, make_campaign, manager, make_customer, settings):
    settings.CARE_CAMPAIGN_BATCH = 1
    first = make_customer()
    campaign = scheduled(make_campaign(), manager)
    campaigns_run(budget_seconds=0)  # started, nobody contacted yet
    make_customer()  # a new customer after the start is not added
    campaigns_run()
    assert set(targets(campaign)) == {first.pk}


def test_birthday_this_month_in_the_branchs_time_zone(
    time_machine, manager, make_customer, make_staff
):
    # 1 December 01:00 in Shanghai is still 30 November in Los Angeles.
    time_machine.move_to(dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC), tick=False)
    west = BranchFactory(
        code="la1", time_zone="America/Los_Angeles", region=manager.memberships.get().branch.region
    )
    regional = make_staff(Role.REGIONAL_MANAGER, region=west.region)
    shanghai_dec = make_customer(date_of_birth=dt.date(1970, 12, 20))
    make_customer(date_of_birth=dt.date(1970, 11, 20))
    la_nov = make_customer(home_branch=west, date_of_birth=dt.date(1970, 11, 2))
    make_customer(home_branch=west, date_of_birth=dt.date(1970, 12, 2))
    campaign = campaign_create(
        actor=regional,
        branches=[manager.memberships.get().branch, west],
        name="Birthdays",
        kind="message",
        channel="email",
        message_text="Happy birthday",
        birthday_this_month=True,
    )
    run = campaign_dry_run(campaign)
    assert {c.customer.pk for c in run.contacted} == {shanghai_dec.pk, la_nov.pk}


def test_a_callback_campaign_schedules_callbacks_out_of_quiet_hours(
    time_machine, make_campaign, manager, make_customer, settings, branch_a
):
    night = dt.datetime(2026, 12, 1, 22, 0, tzinfo=NOW.tzinfo)
    time_machine.move_to(night, tick=False)
    settings.CARE_CONTACT_CAP = 1
    fine, capped, busy = make_customer(), make_customer(), make_customer()
    no_phone = make_customer(consent_phone=False)
    callback_create(actor=None, customer=capped, branch=branch_a, reason_code="x", due_at=night)
    callback_create(
        actor=None, customer=busy, branch=branch_a, reason_code="deposit-call", due_at=night
    )
    Callback.objects.filter(customer=busy).update(created_at=night - dt.timedelta(days=60))
    campaign = scheduled(
        make_campaign(
            kind="callback", reason_code="deposit-call", script="Offer the renewal.", priority=1
        ),
        manager,
        night,
    )

    campaigns_run()

    assert targets(campaign) == {
        fine.pk: ("contacted", ""),
        capped.pk: ("excluded", "contact_cap"),
        busy.pk: ("excluded", "open_callback"),
        no_phone.pk: ("excluded", "no_consent"),
    }
    callback = CampaignTarget.objects.get(campaign=campaign, customer=fine).callback
    assert callback.source_ref == f"care.campaign:{campaign.pk}"
    assert (callback.reason_code, callback.priority, callback.script) == (
        "deposit-call",
        1,
        "Offer the renewal.",
    )
    assert callback.due_at == callable_from(branch_a, night) > night
    assert timezone.localtime(callback.due_at, NOW.tzinfo).hour == 8


def test_an_imported_customer_merged_or_moved_is_left_out(
    now, make_campaign, manager, make_customer, branch_b
):
    merged, moved, fine = make_customer(), make_customer(), make_customer()
    campaign = make_campaign(imported_only=True)
    campaign_import_targets(
        actor=manager,
        campaign=campaign,
        rows=[{"customer_id": c.pk} for c in (merged, moved, fine)],
    )
    scheduled(campaign, manager)
    merged.merged_into = fine
    merged.save(update_fields=["merged_into"])
    moved.home_branch = branch_b
    moved.save(update_fields=["home_branch"])
    campaigns_run()
    assert targets(campaign) == {
        merged.pk: ("excluded", "merged"),
        moved.pk: ("excluded", "other_branch"),
        fine.pk: ("contacted", ""),
    }


# --- Status counts.


def test_status_counts_messages_and_callbacks(
    now, make_campaign, manager, make_customer, make_staff, branch_a, django_assert_num_queries
):
    customers = [make_customer() for _ in range(4)]
    make_customer(consent_sms=False, consent_email=False)
    campaign = scheduled(make_campaign(), manager)
    campaigns_run()
    notes = list(Notification.objects.order_by("pk"))
    Notification.objects.filter(pk__in=[notes[0].pk, notes[1].pk]).update(
        status=NotificationStatus.SENT, sent_at=NOW
    )
    Notification.objects.filter(pk=notes[0].pk).update(delivered_at=NOW)
    Notification.objects.filter(pk=notes[1].pk).update(undelivered_reason="absent subscriber")
    Notification.objects.filter(pk=notes[2].pk).update(status=NotificationStatus.FAILED)
    with django_assert_num_queries(1):
        counts = campaign_status(campaign)
    assert counts == {
        "targets": 5,
        "pending": 0,
        "excluded": 1,
        "excluded_by_reason": {"no_consent": 1},
        "contacted": 4,
        "sent": 2,
        "delivered": 1,
        "failed": 2,
        "reached": 0,
        "outcomes": {"done": 0, "unreachable": 0, "cancelled": 0, "open": 0},
    }
    assert len(customers) == 4

    agent = make_staff(Role.CARE_AGENT, branch=branch_a, username="agent")
    calls = scheduled(make_campaign(kind="callback", reason_code="check-in"), manager)
    campaigns_run()
    callbacks = [t.callback for t in CampaignTarget.objects.filter(campaign=calls).order_by("pk")]
    callback_claim(actor=agent, callback=callbacks[0])
    callback_attempt(
        actor=agent,
        callback=callbacks[0],
        channel=AttemptChannel.PHONE,
        result=AttemptResult.REACHED,
    )
    callback_claim(actor=agent, callback=callbacks[1])
    callback_attempt(
        actor=agent,
        callback=callbacks[1],
        channel=AttemptChannel.PHONE,
        result=AttemptResult.WRONG_NUMBER,
    )
    counts = campaign_status(calls)
    assert counts["reached"] == 1
    assert counts["outcomes"] == {"done": 0, "unreachable": 1, "cancelled": 0, "open": 4}
    assert Callback.objects.get(pk=callbacks[1].pk).status == CallbackStatus.UNREACHABLE


# --- The customer's opt-out page.


def test_the_opt_out_link_stops_campaigns(client, now, make_campaign, manager, make_customer):
    customer = make_customer(preferred_language="zh-hans")
    first = scheduled(make_campaign(), manager)
    campaigns_run()
    target = CampaignTarget.objects.get(campaign=first)
    url = reverse("care_campaign:opt_out", args=[target.public_token])

    page = client.get(url)
    assert page.status_code == 200 and page["Content-Language"] == "zh-hans"
    assert page["Cache-Control"] == "no-store"
    assert "data-confirm" in page.content.decode()
    assert client.get(url, {"lang": "en"})["Content-Language"] == "en"
    done = client.post(url)
    assert done.status_code == 302
    assert "data-opted-out" in client.get(done["Location"]).content.decode()
    client.post(url)  # twice changes nothing
    opt = CareOptOut.objects.get(customer=customer)
    assert (opt.scope, opt.source) == ("campaigns", f"campaign-target:{target.pk}")
    assert Event.objects.filter(type="care.opted_out").count() == 1

    second = scheduled(make_campaign(name="Next"), manager)
    campaigns_run()
    assert targets(second) == {customer.pk: (TargetStatus.EXCLUDED, ExclusionReason.OPTED_OUT)}
    assert client.get(reverse("care_campaign:opt_out", args=["nope"])).status_code == 404


def test_the_opt_out_page_is_rate_limited(client, now):
    from care import campaign_views

    for _ in range(campaign_views.OPT_OUT_VIEWS_PER_WINDOW):
        client.get(reverse("care_campaign:opt_out", args=["nope"]))
    assert client.get(reverse("care_campaign:opt_out", args=["nope"])).status_code == 429


def test_an_opt_out_after_a_merge_is_the_survivors(
    client, now, make_campaign, manager, make_customer
):
    duplicate = make_customer()
    campaign = scheduled(make_campaign(), manager)
    campaigns_run()
    target = CampaignTarget.objects.get(campaign=campaign)
    survivor = make_customer()
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["merged_into"])
    client.post(reverse("care_campaign:opt_out", args=[target.public_token]))
    assert list(CareOptOut.objects.values_list("customer_id", "scope")) == [
        (survivor.pk, "campaigns")
    ]
