"""Packs in the admin: clocks inline, the "copy pack" action, assignments through the service."""

import pytest

from bankservice.branches.models import Role
from bankservice.branches.services import membership_grant
from bankservice.events.models import Event
from complaints.models import Category, PackAssignment, RootCause, RulePack
from tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(client):
    user = UserFactory(username="administrator")
    membership_grant(user=user, role=Role.ADMIN)
    client.force_login(user)
    return user


def test_the_pack_page_shows_its_clocks_inline(client, administrator):
    uk = RulePack.objects.get(code="uk")
    response = client.get(f"/admin/complaints/rulepack/{uk.pk}/change/")
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.queryset.count() == 5
    assert "DISP 1.6.2AR" in response.content.decode()


def test_the_copy_action_copies_the_selected_pack(client, administrator):
    cn = RulePack.objects.get(code="cn")
    response = client.post(
        "/admin/complaints/rulepack/",
        {"action": "copy_packs", "_selected_action": [cn.pk]},
        follow=True,
    )
    assert response.status_code == 200
    copy = RulePack.objects.get(copied_from=cn)
    assert copy.code == "cn-copy" and copy.clocks.count() == 5
    assert "cn-copy" in response.content.decode()
    assert Event.objects.filter(type="complaints.pack_copied", actor_user=administrator).exists()


def test_an_assignment_saved_in_the_admin_is_recorded(client, administrator):
    branch = BranchFactory()
    uk = RulePack.objects.get(code="uk")
    response = client.post(
        "/admin/complaints/packassignment/add/", {"pack": uk.pk, "branch": branch.pk, "region": ""}
    )
    assert response.status_code == 302
    assert PackAssignment.objects.get(branch=branch).pack == uk
    assert Event.objects.filter(type="complaints.pack_assigned", branch=branch).exists()


def test_only_administrators_reach_the_pack_admin(client):
    # Auditors and managers read the packs (their role's view permission serves the coming API);
    # the admin site is the administrators' (membership_grant makes only them staff).
    auditor = UserFactory(username="auditor")
    membership_grant(user=auditor, role=Role.AUDITOR)
    client.force_login(auditor)
    cn = RulePack.objects.get(code="cn")
    assert client.get("/admin/complaints/rulepack/").status_code == 302
    client.post(
        "/admin/complaints/rulepack/", {"action": "copy_packs", "_selected_action": [cn.pk]}
    )
    assert not RulePack.objects.filter(copied_from=cn).exists()


def test_administrators_add_sub_categories_and_root_causes_but_never_delete(client, administrator):
    card = Category.objects.get(code="card")
    response = client.post(
        "/admin/complaints/category/add/",
        {
            "code": "card-contactless",
            "parent": card.pk,
            "name_zh": "非接触支付",
            "name_en": "Contactless",
            "regulator_code": "cbirc-card",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Category.objects.get(code="card-contactless").parent == card
    # A sub-category's parent is a top-level category.
    sub = Category.objects.get(code="card-contactless")
    response = client.post(
        "/admin/complaints/category/add/",
        {"code": "too-deep", "parent": sub.pk, "name_zh": "x", "name_en": "x"},
    )
    assert response.status_code == 200 and not Category.objects.filter(code="too-deep").exists()

    response = client.post(
        "/admin/complaints/rootcause/add/",
        {"code": "vendor", "name_zh": "供应商", "name_en": "Vendor", "is_active": "on"},
    )
    assert response.status_code == 302 and RootCause.objects.filter(code="vendor").exists()
    cause = RootCause.objects.get(code="vendor")
    assert client.get(f"/admin/complaints/rootcause/{cause.pk}/delete/").status_code == 403
    assert client.get(f"/admin/complaints/category/{card.pk}/delete/").status_code == 403
