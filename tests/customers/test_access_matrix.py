"""Role x branch matrix: who may see, create, edit and reveal which customers, on pages and API.

Other branches answer 404 (their customers are not even admitted to exist); a role without the
permission answers 403.
"""

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from tests.factories import CustomerFactory

BRANCH_ROLES = [
    Role.GREETER,
    Role.TELLER,
    Role.ADVISOR,
    Role.PROCESSOR,
    Role.APPROVER,
    Role.COMPLAINT_OFFICER,
    Role.CARE_AGENT,
    Role.CARE_LEAD,
    Role.BRANCH_MANAGER,
]
CAN_ADD = {
    Role.GREETER,
    Role.TELLER,
    Role.ADVISOR,
    Role.PROCESSOR,
    Role.COMPLAINT_OFFICER,
    Role.BRANCH_MANAGER,
}
CAN_CHANGE = CAN_ADD | {Role.CARE_AGENT, Role.CARE_LEAD}
CAN_REVEAL = {
    Role.TELLER,
    Role.ADVISOR,
    Role.PROCESSOR,
    Role.APPROVER,
    Role.COMPLAINT_OFFICER,
    # Care agents dial the customer (granted by care's migration 0002; each reveal audited).
    Role.CARE_AGENT,
    # The care team lead works callbacks too (granted by care's migration 0005).
    Role.CARE_LEAD,
    Role.BRANCH_MANAGER,
    Role.AUDITOR,
}


@pytest.fixture
def customers(branch_a, branch_b, branch_other_region):
    return {
        "own": CustomerFactory(home_branch=branch_a),
        "same_region": CustomerFactory(home_branch=branch_b),
        "other_region": CustomerFactory(home_branch=branch_other_region),
    }


def principal(make_staff, role, branch_a, region):
    if role == Role.REGIONAL_MANAGER:
        return make_staff(role, region=region)
    if role in {Role.HQ_MANAGER, Role.AUDITOR}:
        return make_staff(role)
    return make_staff(role, branch=branch_a)


def visible(role) -> set[str]:
    if role == Role.REGIONAL_MANAGER:
        return {"own", "same_region"}
    if role in {Role.HQ_MANAGER, Role.AUDITOR}:
        return {"own", "same_region", "other_region"}
    return {"own"}


ALL_VIEWING_ROLES = [*BRANCH_ROLES, Role.REGIONAL_MANAGER, Role.HQ_MANAGER, Role.AUDITOR]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_VIEWING_ROLES)
def test_customer_page_visible_only_in_scope(client, make_staff, branch_a, region, customers, role):
    client.force_login(principal(make_staff, role, branch_a, region))
    for key, customer in customers.items():
        response = client.get(reverse("customers:detail", args=[customer.pk]))
        expected = 200 if key in visible(role) else 404
        assert response.status_code == expected, (role, key)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_VIEWING_ROLES)
def test_customer_api_visible_only_in_scope(api, make_staff, branch_a, region, customers, role):
    api.force_authenticate(principal(make_staff, role, branch_a, region))
    listed = {row["id"] for row in api.get("/api/v1/customers").json()["results"]}
    expected_ids = {customers[k].pk for k in visible(role)}
    assert listed == expected_ids
    for key, customer in customers.items():
        status = api.get(f"/api/v1/customers/{customer.pk}").status_code
        assert status == (200 if key in visible(role) else 404), (role, key)


@pytest.mark.django_db
@pytest.mark.parametrize("role", BRANCH_ROLES)
def test_create_needs_the_add_permission(client, api, make_staff, branch_a, role):
    user = make_staff(role, branch=branch_a)
    client.force_login(user)
    page = client.get(reverse("customers:new"))
    assert page.status_code == (200 if role in CAN_ADD else 403)
    api.force_authenticate(user)
    response = api.post(
        "/api/v1/customers",
        {"full_name": "王小明", "home_branch": branch_a.code, "id_type": "passport"},
    )
    assert response.status_code == (201 if role in CAN_ADD else 403), response.content


@pytest.mark.django_db
@pytest.mark.parametrize("role", BRANCH_ROLES)
def test_edit_needs_the_change_permission_and_the_branch(
    client, make_staff, branch_a, customers, role
):
    client.force_login(make_staff(role, branch=branch_a))
    own = client.get(reverse("customers:edit", args=[customers["own"].pk])).status_code
    other = client.get(reverse("customers:edit", args=[customers["same_region"].pk])).status_code
    if role in CAN_CHANGE:
        assert (own, other) == (200, 404)
    else:
        assert (own, other) == (403, 403)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [*BRANCH_ROLES, Role.AUDITOR, Role.HQ_MANAGER])
def test_reveal_needs_the_reveal_permission(api, make_staff, branch_a, region, customers, role):
    api.force_authenticate(principal(make_staff, role, branch_a, region))
    response = api.post(f"/api/v1/customers/{customers['own'].pk}/reveal", {})
    if role in CAN_REVEAL:
        assert response.status_code == 200
        assert response.json()["national_id"] == customers["own"].national_id
    else:
        assert response.status_code == 403


@pytest.mark.django_db
def test_anonymous_is_sent_to_login_and_api_answers_401_or_403(client, api, customers):
    response = client.get(reverse("customers:detail", args=[customers["own"].pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert api.get("/api/v1/customers").status_code in {401, 403}
    assert api.get("/api/schema/").status_code in {401, 403}
    assert client.get("/api/docs/").status_code in {401, 403}


@pytest.mark.django_db
def test_a_role_at_one_branch_does_not_carry_to_another(make_staff, api, branch_a, branch_b):
    """A teller at A who is only a greeter at B may not reveal B's customers' numbers."""
    from bankservice.branches.services import membership_grant

    user = make_staff(Role.TELLER, branch=branch_a)
    membership_grant(user=user, role=Role.GREETER, branch=branch_b)
    at_a, at_b = CustomerFactory(home_branch=branch_a), CustomerFactory(home_branch=branch_b)
    api.force_authenticate(user)
    assert api.post(f"/api/v1/customers/{at_a.pk}/reveal", {}).status_code == 200
    assert api.post(f"/api/v1/customers/{at_b.pk}/reveal", {}).status_code == 403
    assert api.get(f"/api/v1/customers/{at_b.pk}").status_code == 200


@pytest.mark.django_db
def test_api_key_scopes_and_branches(make_api_client, customers, branch_a):
    reader = make_api_client(["customers:read"], branches=[branch_a])
    assert {r["id"] for r in reader.get("/api/v1/customers").json()["results"]} == {
        customers["own"].pk
    }
    assert reader.get(f"/api/v1/customers/{customers['same_region'].pk}").status_code == 404
    created = reader.post("/api/v1/customers", {"full_name": "X", "home_branch": branch_a.code})
    assert created.status_code == 403
    writer = make_api_client(["customers:read", "customers:write"], all_branches=True)
    assert len(writer.get("/api/v1/customers").json()["results"]) == 3
    assert writer.get("/api/v1/branches").status_code == 403


@pytest.mark.django_db
def test_bad_or_revoked_api_key_is_refused(make_api_client, api):
    good = make_api_client(["customers:read"], all_branches=True)
    assert good.get("/api/v1/customers").status_code == 200
    api.credentials(HTTP_AUTHORIZATION="Api-Key bsk_nothere_secret")
    assert api.get("/api/v1/customers").status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Api-Key garbage")
    assert api.get("/api/v1/customers").status_code == 401
    good.api_client.is_active = False
    good.api_client.save()
    assert good.get("/api/v1/customers").status_code == 401
