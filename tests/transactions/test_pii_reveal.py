"""A request's form data, on its page and in the API, shows full ID and phone numbers only to a
role holding customers.reveal_pii, and each look is audited (customer.pii_revealed)."""

import pytest
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.events.models import Event
from tests.transactions.flow import submitted


def revealed():
    return Event.objects.filter(type="customer.pii_revealed")


@pytest.fixture
def waiting(open_account_type, customer, maker, valid_data):
    return submitted(open_account_type, customer, maker, valid_data(open_account_type, customer))


def test_the_page_and_api_audit_full_form_data_and_not_masked(
    client, api, make_staff, manager, branch_a, waiting, customer
):
    page = reverse("transactions:request", args=[waiting.pk])
    greeter = make_staff(Role.GREETER, branch=branch_a)  # no reveal_pii
    client.force_login(greeter)
    assert customer.national_id not in client.get(page).content.decode()
    api.force_authenticate(greeter)
    assert "*" in api.get(f"/api/v1/requests/{waiting.pk}").json()["data"]["national_id"]
    assert not revealed().exists()

    client.force_login(manager)
    assert customer.national_id in client.get(page).content.decode()
    event = revealed().get()
    assert (event.actor_user, event.customer, event.branch) == (manager, customer, waiting.branch)
    assert event.subject_id == str(waiting.pk)
    assert event.payload["where"] == page
    assert {"national_id", "phone"} <= set(event.payload["fields"])

    api.force_authenticate(manager)
    url = f"/api/v1/requests/{waiting.pk}"
    assert api.get(url).json()["data"]["national_id"] == customer.national_id
    event = revealed().latest("id")
    assert event.customer == customer and event.payload["where"] == url
    assert revealed().count() == 2


def test_an_api_key_with_the_scope_is_audited(make_api_client, waiting, customer):
    key = make_api_client(["transactions:read", "customers:reveal_pii"], all_branches=True)
    assert key.get(f"/api/v1/requests/{waiting.pk}").json()["data"]["phone"] == customer.phone
    event = revealed().get()
    assert event.actor_client is not None and event.customer == customer
