"""The event log: transactional, append-only, audited, streamed."""

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.customers.services import customer_update
from bankservice.events.models import Event
from bankservice.events.services import NotInTransaction, record
from tests.conftest import requires_postgres
from tests.factories import CustomerFactory


@pytest.mark.django_db
def test_an_event_rolls_back_with_its_transaction(teller, branch_a):
    customer = CustomerFactory(home_branch=branch_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_update(actor=teller, customer=customer, data={"segment": "private"})
        assert Event.objects.filter(type="customer.updated").count() == 1
        raise RuntimeError("the business change failed after the event was written")
    assert not Event.objects.filter(type="customer.updated").exists()
    customer.refresh_from_db()
    assert customer.segment == "standard"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_record_refuses_to_run_outside_a_transaction(teller):
    with pytest.raises(NotInTransaction):
        record(type="customer.updated", actor=teller)


@requires_postgres
@pytest.mark.django_db
def test_events_cannot_be_changed_even_with_raw_sql(teller, branch_a):
    with transaction.atomic():
        event = record(type="customer.created", actor=teller, branch=branch_a)
    for sql in (
        "UPDATE events_event SET type = 'forged' WHERE id = %s",
        "DELETE FROM events_event WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(payload={"forged": True})
    event.refresh_from_db()
    assert event.type == "customer.created"


def _events(actor, branch, n, type_="customer.updated"):
    with transaction.atomic():
        return [record(type=type_, actor=actor, branch=branch) for _ in range(n)]


@pytest.mark.django_db
def test_audit_trail_is_scoped_and_filtered(client, make_staff, branch_a, branch_b, teller):
    _events(teller, branch_a, 3)
    _events(teller, branch_b, 2, "customer.created")
    manager = make_staff(Role.BRANCH_MANAGER, branch=branch_a)
    client.force_login(manager)
    page = client.get(reverse("events:audit")).context["page"]
    assert {e.branch_id for e in page.object_list} == {branch_a.pk}
    client.force_login(make_staff(Role.AUDITOR))
    assert len(client.get(reverse("events:audit")).context["page"].object_list) == 5
    only = client.get(reverse("events:audit"), {"type": "customer.created"}).context["page"]
    assert {e.type for e in only.object_list} == {"customer.created"}
    pattern = client.get(reverse("events:audit"), {"type": "customer.*", "branch": "b01"})
    assert len(pattern.context["page"].object_list) == 2
    by_user = client.get(reverse("events:audit"), {"user": teller.username}).context["page"]
    assert len(by_user.object_list) == 5
    assert (
        not client.get(reverse("events:audit"), {"until": "2000-01-01"}).context["page"].object_list
    )
    client.force_login(teller)
    assert client.get(reverse("events:audit")).status_code == 403


@pytest.mark.django_db
def test_audit_csv_export_is_complete_and_itself_audited(client, make_staff, teller, branch_a):
    _events(teller, branch_a, 3)
    auditor = make_staff(Role.AUDITOR)
    client.force_login(auditor)
    response = client.get(reverse("events:export"), {"type": "customer.updated"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "occurred_at", "type"]
    assert [r[2] for r in rows[1:]] == ["customer.updated"] * 3
    exported = Event.objects.get(type="audit.exported")
    assert exported.actor_user == auditor
    assert exported.payload == {"filters": {"type": "customer.updated"}}


@pytest.mark.django_db
def test_event_stream_api_polls_after_an_id(make_api_client, teller, branch_a, branch_b):
    first = _events(teller, branch_a, 3)
    _events(teller, branch_b, 2)
    reader = make_api_client(["events:read"], branches=[branch_a])
    body = reader.get("/api/v1/events").json()
    assert [e["id"] for e in body["results"]] == [e.pk for e in first]
    assert body["results"][0]["actor"] == teller.get_full_name()
    after = reader.get("/api/v1/events", {"after": first[0].pk}).json()
    assert [e["id"] for e in after["results"]] == [e.pk for e in first[1:]]
    paged = reader.get("/api/v1/events", {"page_size": 2}).json()
    assert len(paged["results"]) == 2 and paged["next"]
    rest = reader.get(paged["next"]).json()
    assert [e["id"] for e in rest["results"]] == [first[2].pk]
    assert reader.get("/api/v1/events", {"after": "x"}).status_code == 400
    no_scope = make_api_client(["customers:read"], all_branches=True)
    assert no_scope.get("/api/v1/events").status_code == 403
    assert reader.post("/api/v1/events", {}).status_code in {403, 405}


@pytest.mark.django_db
def test_timeline_filters_by_stage_and_pages(client, teller, branch_a):
    customer = CustomerFactory(home_branch=branch_a)
    with transaction.atomic():
        for _ in range(25):
            record(type="customer.updated", actor=teller, branch=branch_a, customer=customer)
        record(type="reception.ticket_issued", actor=teller, branch=branch_a, customer=customer)
    client.force_login(teller)
    url = reverse("customers:detail", args=[customer.pk])
    page = client.get(url).context["timeline"]
    assert page.paginator.count == 26
    assert page.object_list[0].type == "reception.ticket_issued"  # newest first
    assert len(page.object_list) == 20
    staged = client.get(url, {"stage": "reception"}).context["timeline"]
    assert [e.type for e in staged.object_list] == ["reception.ticket_issued"]
    second = list(client.get(url, {"page": 2}).context["timeline"].object_list)
    assert [e.type for e in second] == ["customer.updated"] * 6
