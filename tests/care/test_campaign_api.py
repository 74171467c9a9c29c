"""The campaigns API: list, create, retrieve with counts, import rows and CSV, dry run, schedule,
cancel. Scopes care:read / care:write for keys, permissions for staff, branch scope (404), 400
with field messages, Idempotency-Key, pinned query counts."""

# ruff: noqa: F811

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bankservice.branches.models import Role
from care.campaigns import campaign_schedule, campaigns_run
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
BASE = "/api/v1/campaigns"


def ids(response) -> list[int]:
    data = response.json()
    return [row["id"] for row in (data["results"] if isinstance(data, dict) else data)]


def body(**overrides):
    data = {
        "name": "Deposits maturing",
        "kind": "message",
        "branches": ["a01"],
        "channel": "sms",
        "message_text": "Your deposit matures next month: talk to us about renewing it.",
        "imported_only": True,
    }
    data.update(overrides)
    return data


@pytest.fixture
def writer(make_api_client, branch_a):
    return make_api_client(["care:read", "care:write"], branches=[branch_a], name="core-banking")


@pytest.fixture
def reader(make_api_client, branch_a):
    return make_api_client(["care:read"], branches=[branch_a], name="reader")


def test_a_key_creates_imports_and_schedules(now, writer, make_customer, branch_a):
    one, two = make_customer(), make_customer()
    created = writer.post(BASE, body(), format="json")
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["id"]
    assert created.json()["branches"] == ["a01"] and created.json()["counts"]["targets"] == 0
    assert Campaign.objects.get(pk=campaign_id).created_by is None

    rows = [
        {"core_banking_id": one.core_banking_id, "note": "matures 2026-12-15"},
        {"customer_id": two.pk},
        {"customer_id": 999999},
    ]
    imported = writer.post(f"{BASE}/{campaign_id}/targets", {"rows": rows}, format="json")
    assert imported.status_code == 200
    assert imported.json() == {"added": 2, "duplicates": 0, "unknown": [{"row": 3, "id": "999999"}]}

    dry = writer.get(f"{BASE}/{campaign_id}/dry-run")
    assert dry.status_code == 200
    assert dry.json()["counts"]["contacted"] == 2
    assert {r["customer"] for r in dry.json()["contacted"]} == {one.pk, two.pk}

    start = (NOW + dt.timedelta(hours=1)).isoformat()
    scheduled = writer.post(
        f"{BASE}/{campaign_id}/schedule", {"scheduled_for": start}, format="json"
    )
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled"


def test_csv_import_by_api(now, writer, make_campaign, make_customer, manager):
    campaign = make_campaign(imported_only=True)
    customer = make_customer()
    path = f"{BASE}/{campaign.pk}/targets/csv"
    bad = SimpleUploadedFile("l.csv", b"customer_id\nabc\n", content_type="text/csv")
    response = writer.post(path, {"file": bad}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"lines": [{"line": 2, "error": "customer_id is a whole number."}]}
    no_header = SimpleUploadedFile("l.csv", b"x\n1\n", content_type="text/csv")
    response = writer.post(path, {"file": no_header}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    good = SimpleUploadedFile("l.csv", b"customer_id,note\n%d,vip\n" % customer.pk)
    response = writer.post(path, {"file": good}, format="multipart")
    assert response.status_code == 200 and response.json()["added"] == 1
    assert CampaignTarget.objects.get(campaign=campaign).reason == "vip"
    assert writer.post(path, {}, format="multipart").status_code == 400


def test_bad_input_is_a_400_with_fields(now, writer):
    cases = [
        (body(branches=[]), "branches"),
        (body(branches=["zz9"]), "branches"),
        (body(message_text=""), "message_text"),
        (body(message_text="x" * 501), "message_text"),
        (body(kind="callback"), "reason_code"),
        (body(segments=["vip"]), "segments"),
        (body(needs=["tall"]), "needs"),
        (body(kind="fax"), "kind"),
    ]
    for data, field in cases:
        response = writer.post(BASE, data, format="json")
        assert response.status_code == 400, data
        assert field in response.json(), (field, response.json())
    assert not Campaign.objects.exists()


def test_bad_rows_and_schedule_bodies(now, writer, make_campaign):
    campaign = make_campaign()
    path = f"{BASE}/{campaign.pk}"
    assert writer.post(f"{path}/targets", {"rows": []}, format="json").status_code == 400
    response = writer.post(f"{path}/targets", {"rows": [{"note": "x"}]}, format="json")
    assert response.status_code == 400 and "rows" in response.json()
    response = writer.post(f"{path}/schedule", {"scheduled_for": "tomorrow"}, format="json")
    assert response.status_code == 400 and "scheduled_for" in response.json()
    past = (NOW - dt.timedelta(days=1)).isoformat()
    response = writer.post(f"{path}/schedule", {"scheduled_for": past}, format="json")
    assert response.status_code == 400 and "scheduled_for" in response.json()


def test_scopes_and_branches(now, reader, make_api_client, branch_b, make_campaign):
    campaign = make_campaign()
    assert reader.get(BASE).status_code == 200
    assert reader.get(f"{BASE}/{campaign.pk}").status_code == 200
    assert reader.post(BASE, body(), format="json").status_code == 403
    assert reader.post(f"{BASE}/{campaign.pk}/cancel").status_code == 403
    other = make_api_client(["care:read", "care:write"], branches=[branch_b], name="other")
    assert ids(other.get(BASE)) == []
    assert ids(reader.get(BASE)) == [campaign.pk]
    assert other.get(f"{BASE}/{campaign.pk}").status_code == 404
    assert other.post(f"{BASE}/{campaign.pk}/cancel").status_code == 404
    assert other.post(BASE, body(), format="json").status_code == 400  # a01 is not theirs
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT


def test_staff_by_permission(now, api, make_staff, branch_a, lead, manager_b, make_campaign):
    campaign = make_campaign()
    agent = make_staff(Role.CARE_AGENT, branch=branch_a, username="agent")
    api.force_authenticate(agent)
    assert api.get(f"{BASE}/{campaign.pk}").status_code == 200
    assert api.post(f"{BASE}/{campaign.pk}/cancel").status_code == 403
    api.force_authenticate(manager_b)
    assert api.get(f"{BASE}/{campaign.pk}").status_code == 404
    api.force_authenticate(lead)
    response = api.post(f"{BASE}/{campaign.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api.post(f"{BASE}/{campaign.pk}/cancel").status_code == 409


def test_idempotency_key_replays_a_create(now, writer):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-1"}
    first = writer.post(BASE, body(), format="json", **headers)
    again = writer.post(BASE, body(), format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert Campaign.objects.count() == 1


def test_retrieve_counts_and_pinned_queries(
    now, reader, manager, make_campaign, make_customer, django_assert_num_queries
):
    for _ in range(3):
        make_customer()
    campaign = campaign_schedule(actor=manager, campaign=make_campaign(), scheduled_for=NOW)
    campaigns_run()
    for n in range(3):
        make_campaign(name=f"More {n}")
    reader.get(BASE)
    with django_assert_num_queries(5):
        listed = reader.get(BASE)
    assert listed.status_code == 200
    with django_assert_num_queries(5):
        detail = reader.get(f"{BASE}/{campaign.pk}")
    counts = detail.json()["counts"]
    assert (counts["targets"], counts["contacted"], counts["pending"]) == (3, 3, 0)
    assert detail.json()["status"] == "done"
    with django_assert_num_queries(5):  # done: its stored targets as they are
        assert reader.get(f"{BASE}/{campaign.pk}/dry-run").json()["counts"]["contacted"] == 3
