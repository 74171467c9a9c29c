"""Customer record behaviour: create, duplicates, update, upsert, masking, reveal, bad input."""

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.events.models import Event
from tests.factories import CustomerFactory, make_resident_id

RESIDENT_ID = "11010519491231002X"


def new_customer(branch, **overrides):
    return {
        "full_name": "李四",
        "id_type": "resident_id",
        "national_id": RESIDENT_ID,
        "phone": "138 0013 8000",
        "home_branch": branch.code,
        "segment": "standard",
        "preferred_language": "zh-hans",
        **overrides,
    }


@pytest.mark.django_db
def test_api_create_normalises_masks_and_records_an_event(api, teller, branch_a):
    api.force_authenticate(teller)
    response = api.post(
        "/api/v1/customers", new_customer(branch_a, national_id="11010519491231002x")
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["national_id"] == "110***********002X"
    assert body["phone"] == "+86138****8000"
    assert body["date_of_birth"] == "1949-12-31"
    event = Event.objects.get(type="customer.created", customer_id=body["id"])
    assert event.actor_user == teller
    assert event.branch == branch_a
    assert event.payload["national_id"] == "110***********002X"
    assert RESIDENT_ID not in str(event.payload)


@pytest.mark.django_db
def test_api_bad_input_gets_field_errors_not_500(api, teller, branch_a):
    api.force_authenticate(teller)
    bad = new_customer(
        branch_a, national_id="110105194912310021", phone="12345", email="not-mail", segment="vip"
    )
    response = api.post("/api/v1/customers", bad)
    assert response.status_code == 400
    errors = response.json()
    assert {"email", "segment"} <= set(errors)
    response = api.post(
        "/api/v1/customers", new_customer(branch_a, national_id="110105194912310021")
    )
    assert response.status_code == 400
    assert "national_id" in response.json()
    response = api.post("/api/v1/customers", new_customer(branch_a, phone="12345"))
    assert set(response.json()) == {"phone"}
    assert (
        api.post("/api/v1/customers", "not json", content_type="application/json").status_code
        == 400
    )
    assert api.post("/api/v1/customers", {}).status_code == 400
    assert api.get("/api/v1/customers/abc").status_code == 404
    assert api.get("/api/v1/customers?segment=nope").status_code == 400
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_duplicate_core_banking_id_or_national_id_is_a_409(api, teller, branch_a):
    existing = CustomerFactory(home_branch=branch_a, national_id=RESIDENT_ID, core_banking_id="CB1")
    api.force_authenticate(teller)
    response = api.post(
        "/api/v1/customers",
        new_customer(branch_a, core_banking_id="CB1", national_id=make_resident_id()),
    )
    assert response.status_code == 409
    assert "core_banking_id" in response.json()
    response = api.post("/api/v1/customers", new_customer(branch_a))
    assert response.status_code == 409
    assert "national_id" in response.json()
    assert list(type(existing).objects.values_list("pk", flat=True)) == [existing.pk]


@pytest.mark.django_db
def test_update_records_what_changed_masked(api, teller, branch_a):
    customer = CustomerFactory(home_branch=branch_a, phone="+8613900000001")
    api.force_authenticate(teller)
    response = api.patch(
        f"/api/v1/customers/{customer.pk}", {"phone": "13900000002", "segment": "priority"}
    )
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert (customer.phone, customer.segment) == ("+8613900000002", "priority")
    event = Event.objects.get(type="customer.updated")
    assert event.payload["changed"]["phone"] == {"from": "+86139****0001", "to": "+86139****0002"}
    assert event.payload["changed"]["segment"] == {"from": "standard", "to": "priority"}
    assert set(event.payload["changed"]) == {"phone", "segment"}
    # Nothing changed: no event.
    api.patch(f"/api/v1/customers/{customer.pk}", {"segment": "priority"})
    assert Event.objects.filter(type="customer.updated").count() == 1


@pytest.mark.django_db
def test_status_cannot_move_a_customer_out_of_scope(api, teller, branch_a, branch_b):
    customer = CustomerFactory(home_branch=branch_a)
    api.force_authenticate(teller)
    response = api.patch(f"/api/v1/customers/{customer.pk}", {"home_branch": branch_b.code})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.home_branch == branch_a


@pytest.mark.django_db
def test_upsert_by_core_banking_id_creates_then_updates(make_api_client, branch_a, branch_b):
    core = make_api_client(["customers:read", "customers:write"], branches=[branch_a])
    url = "/api/v1/customers/by-core-id/CB-777"
    first = core.put(url, new_customer(branch_a))
    assert first.status_code == 201, first.content
    second = core.put(url, new_customer(branch_a, full_name="李四新"))
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["full_name"] == "李四新"
    event = Event.objects.get(type="customer.updated")
    assert event.actor_client == core.api_client
    assert event.actor_user is None
    # The same core id held at a branch this client cannot see: a conflict, not a takeover.
    CustomerFactory(core_banking_id="CB-888", home_branch=branch_b)
    response = core.put(
        "/api/v1/customers/by-core-id/CB-888",
        new_customer(branch_a, national_id=make_resident_id()),
    )
    assert response.status_code == 409


@pytest.mark.django_db
def test_pages_never_carry_full_numbers_until_revealed(client, teller, branch_a):
    customer = CustomerFactory(
        home_branch=branch_a, national_id=RESIDENT_ID, phone="+8613800138000"
    )
    client.force_login(teller)
    for url in (
        reverse("customers:detail", args=[customer.pk]),
        reverse("customers:edit", args=[customer.pk]),
        reverse("customers:list") + "?q=" + customer.full_name,
    ):
        html = client.get(url).content.decode()
        assert RESIDENT_ID not in html and "13800138000" not in html, url
        assert "110***********002X" in html or "+86138****8000" in html, url
    response = client.post(reverse("customers:reveal", args=[customer.pk]))
    html = response.content.decode()
    assert RESIDENT_ID in html and "+8613800138000" in html
    assert response["Cache-Control"] == "no-store, private"
    event = Event.objects.get(type="customer.pii_revealed")
    assert (event.actor_user, event.customer, event.payload) == (
        teller,
        customer,
        {"fields": ["national_id", "phone"]},
    )


@pytest.mark.django_db
def test_greeter_cannot_reveal_on_the_page(client, make_staff, branch_a):
    customer = CustomerFactory(home_branch=branch_a)
    client.force_login(make_staff(Role.GREETER, branch=branch_a))
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("customers:reveal", args=[customer.pk]) not in html
    assert client.post(reverse("customers:reveal", args=[customer.pk])).status_code == 403
    assert not Event.objects.filter(type="customer.pii_revealed").exists()


@pytest.mark.django_db
def test_create_form_shows_field_errors(client, teller, branch_a):
    client.force_login(teller)
    response = client.post(
        reverse("customers:new"),
        {
            **new_customer(branch_a, national_id="110105194912310021", phone="12"),
            "home_branch": branch_a.pk,
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"national_id", "phone"}
    assert "check digit" in form.errors["national_id"][0] or "校验" in form.errors["national_id"][0]


@pytest.mark.django_db
def test_create_form_flags_duplicates(client, teller, branch_a):
    CustomerFactory(home_branch=branch_a, national_id=RESIDENT_ID, phone="+8613800138000")
    client.force_login(teller)
    data = {**new_customer(branch_a), "home_branch": branch_a.pk}
    response = client.post(reverse("customers:new"), data)
    assert "national_id" in response.context["form"].errors
    # Same phone, another person: asked to confirm first, then created.
    data["national_id"] = make_resident_id()
    response = client.post(reverse("customers:new"), data)
    assert "confirm_duplicate" in response.context["form"].errors
    assert response.context["form"].duplicates
    response = client.post(reverse("customers:new"), {**data, "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Event.objects.filter(type="customer.created").count() == 1


@pytest.mark.django_db
def test_edit_keeps_numbers_left_blank(client, teller, branch_a):
    customer = CustomerFactory(
        home_branch=branch_a, national_id=RESIDENT_ID, phone="+8613800138000"
    )
    client.force_login(teller)
    response = client.post(
        reverse("customers:edit", args=[customer.pk]),
        {
            **new_customer(branch_a, full_name="王五", national_id="", phone=""),
            "home_branch": branch_a.pk,
            "date_of_birth": "1949-12-31",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    customer.refresh_from_db()
    assert (customer.full_name, customer.national_id, customer.phone) == (
        "王五",
        RESIDENT_ID,
        "+8613800138000",
    )


@pytest.mark.django_db
def test_search_finds_by_name_phone_tail_and_id(client, teller, branch_a, branch_b):
    mine = CustomerFactory(home_branch=branch_a, full_name="赵六", phone="+8613812345678")
    CustomerFactory(home_branch=branch_b, full_name="赵六", phone="+8613812345678")
    client.force_login(teller)
    for q in ("赵六", "5678", mine.national_id, mine.core_banking_id):
        page = client.get(reverse("customers:list"), {"q": q}).context["page"]
        assert [c.pk for c in page.object_list] == [mine.pk], q


@pytest.mark.django_db
def test_list_costs_a_fixed_number_of_queries(
    api, client, teller, branch_a, django_assert_num_queries
):
    CustomerFactory.create_batch(3, home_branch=branch_a, full_name="customer")
    # Real sessions, so each request loads its user afresh as in production.
    api.force_login(teller)
    client.force_login(teller)
    # user + scope + page (the session comes from the cache); the session's first request
    # stores its sign-in time: session save (savepoint, update, release)
    with django_assert_num_queries(6):
        assert api.get("/api/v1/customers").status_code == 200
    CustomerFactory.create_batch(20, home_branch=branch_a)
    with django_assert_num_queries(3):
        assert len(api.get("/api/v1/customers").json()["results"]) == 23
    with django_assert_num_queries(7):
        client.get(reverse("customers:list"), {"q": "customer"})
