"""Merging duplicate customer records."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from bankservice.branches.models import Role
from bankservice.core.errors import Conflict
from bankservice.customers.models import Customer
from bankservice.customers.services import customer_merge
from bankservice.events.models import Event
from tests.factories import CustomerFactory


@pytest.fixture
def manager(make_staff, branch_a):
    return make_staff(Role.BRANCH_MANAGER, branch=branch_a)


@pytest.mark.django_db
def test_merge_fills_blanks_moves_history_and_hides_the_duplicate(manager, branch_a, client):
    survivor = CustomerFactory(home_branch=branch_a, email="", core_banking_id=None)
    duplicate = CustomerFactory(
        home_branch=branch_a, email="same@example.cn", phone=survivor.phone, core_banking_id="CB9"
    )
    client.force_login(manager)
    html = client.get(reverse("customers:detail", args=[survivor.pk])).content.decode()
    assert reverse("customers:merge", args=[survivor.pk]) in html  # offered as a candidate
    response = client.post(
        reverse("customers:merge", args=[survivor.pk]), {"duplicate": duplicate.pk}
    )
    assert response.status_code == 302
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert (survivor.email, survivor.core_banking_id) == ("same@example.cn", "CB9")
    assert duplicate.merged_into == survivor and duplicate.core_banking_id is None
    assert Event.objects.filter(type="customer.merged").count() == 2
    # The duplicate's page leads to the survivor; search no longer lists it.
    followed = client.get(reverse("customers:detail", args=[duplicate.pk]))
    assert followed.url == reverse("customers:detail", args=[survivor.pk])
    found = client.get(reverse("customers:list"), {"q": survivor.phone[-4:]}).context["page"]
    assert duplicate not in found.object_list
    # Its history shows on the survivor's timeline.
    timeline = client.get(reverse("customers:detail", args=[survivor.pk])).context["timeline"]
    assert {e.customer_id for e in timeline.object_list} == {survivor.pk, duplicate.pk}


@pytest.mark.django_db
def test_merge_refuses_twice_itself_and_without_permission(manager, teller, branch_a, api):
    survivor, duplicate = CustomerFactory.create_batch(2, home_branch=branch_a)
    customer_merge(actor=manager, survivor=survivor, duplicate=duplicate)
    with pytest.raises(Conflict):
        customer_merge(actor=manager, survivor=survivor, duplicate=duplicate)
    with pytest.raises(ValidationError) as excinfo:
        customer_merge(actor=manager, survivor=survivor, duplicate=survivor)
    assert set(excinfo.value.message_dict) == {"duplicate"}
    other = CustomerFactory(home_branch=branch_a)
    api.force_authenticate(teller)
    url = f"/api/v1/customers/{survivor.pk}/merge"
    assert api.post(url, {"duplicate": other.pk}).status_code == 403
    api.force_authenticate(manager)
    assert api.post(url, {"duplicate": "x"}).status_code == 400
    assert api.post(url, {"duplicate": duplicate.pk}).status_code == 400  # already merged
    response = api.post(url, {"duplicate": other.pk})
    assert response.status_code == 200
    assert Customer.objects.get(pk=other.pk).merged_into_id == survivor.pk


@pytest.mark.django_db
def test_merge_across_branches_needs_both(manager, branch_b, branch_a):
    here, there = CustomerFactory(home_branch=branch_a), CustomerFactory(home_branch=branch_b)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        customer_merge(actor=manager, survivor=here, duplicate=there)
    assert Customer.objects.get(pk=there.pk).merged_into_id is None
