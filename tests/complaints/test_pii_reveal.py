"""A complainant's full phone and e-mail, on the complaint page and in the API, are shown only to
a role holding customers.reveal_pii, and every such look is audited (customer.pii_revealed)."""

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.events.models import Event

PHONE, EMAIL = "+8613800138000", "li.na@example.cn"


def revealed():
    return Event.objects.filter(type="customer.pii_revealed")


@pytest.fixture
def greeter(make_staff, branch_a):
    return make_staff(Role.GREETER, branch=branch_a, username="greeter")


def test_the_page_audits_a_full_view_and_not_a_masked_one(client, make_complaint, greeter, officer):
    complaint = make_complaint()
    page = reverse("complaints:detail", args=[complaint.pk])
    client.force_login(greeter)
    html = client.get(page).content.decode()
    assert PHONE not in html and "+86138****8000" in html
    assert not revealed().exists()

    client.force_login(officer)
    html = client.get(page).content.decode()
    assert PHONE in html and EMAIL in html
    event = revealed().get()
    assert event.actor_user == officer
    assert event.customer == complaint.customer
    assert event.branch == complaint.branch
    assert event.subject_id == str(complaint.pk)
    assert event.payload == {"fields": ["email", "phone"], "where": page}


def test_an_anonymous_contact_is_audited_on_the_complaint(
    client, make_complaint, officer, branch_a
):
    complaint = make_complaint(customer=None, contact_name="Wang", contact_phone="+8613900139000")
    client.force_login(officer)
    assert (
        "+8613900139000"
        in client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    )
    event = revealed().get()
    assert event.customer is None and event.subject_id == str(complaint.pk)
    assert event.payload["fields"] == ["phone"]


def test_the_api_audits_once_per_person_and_response(api, make_complaint, greeter, officer):
    first, second = make_complaint(), make_complaint()  # the same complainant
    api.force_authenticate(greeter)
    rows = api.get("/api/v1/complaints").json()["results"]
    assert {r["contact_phone"] for r in rows} == {"+86138****8000"}
    assert not revealed().exists()

    api.force_authenticate(officer)
    rows = api.get("/api/v1/complaints").json()["results"]
    assert {r["contact_phone"] for r in rows} == {PHONE}
    event = revealed().get()  # two complaints, one complainant: one event
    assert event.actor_user == officer and event.customer == first.customer
    assert event.payload == {"fields": ["email", "phone"], "where": "/api/v1/complaints"}

    assert api.get(f"/api/v1/complaints/{second.pk}").json()["contact_email"] == EMAIL
    assert revealed().count() == 2


def test_an_api_key_with_the_scope_is_audited(make_api_client, make_complaint):
    complaint = make_complaint()
    masked = make_api_client(["complaints:read"], all_branches=True)
    assert masked.get(f"/api/v1/complaints/{complaint.pk}").json()["contact_phone"] != PHONE
    assert not revealed().exists()
    key = make_api_client(["complaints:read", "customers:reveal_pii"], all_branches=True)
    assert key.get(f"/api/v1/complaints/{complaint.pk}").json()["contact_phone"] == PHONE
    event = revealed().get()
    assert event.actor_client is not None and event.customer == complaint.customer
