"""Branch scope and staff memberships."""

import pytest
from django.core.exceptions import ValidationError

from bankservice.branches.models import Branch, Role, StaffMembership
from bankservice.branches.scope import ALL_BRANCHES, branch_ids_for, has_perm
from bankservice.branches.services import membership_grant, membership_revoke
from tests.factories import UserFactory


@pytest.mark.django_db
def test_scope_by_branch_region_and_bank(make_staff, branch_a, branch_b, branch_other_region):
    teller = make_staff(Role.TELLER, branch=branch_a)
    regional = make_staff(Role.REGIONAL_MANAGER, region=branch_a.region)
    hq = make_staff(Role.HQ_MANAGER)
    perm = "customers.view_customer"
    assert branch_ids_for(teller, perm) == {branch_a.pk}
    assert branch_ids_for(regional, perm) == {branch_a.pk, branch_b.pk}
    assert branch_ids_for(hq, perm) is ALL_BRANCHES
    assert set(Branch.objects.visible_to(regional)) == {branch_a, branch_b}
    assert Branch.objects.visible_to(hq).count() == 3


@pytest.mark.django_db
def test_a_new_branch_in_the_region_is_seen_by_the_regional_manager(make_staff, branch_a):
    from tests.factories import BranchFactory

    new = BranchFactory(region=branch_a.region)
    regional = make_staff(Role.REGIONAL_MANAGER, region=branch_a.region)
    assert new.pk in branch_ids_for(regional, "customers.view_customer")


@pytest.mark.django_db
def test_inactive_and_anonymous_see_nothing(make_staff, branch_a):
    from django.contrib.auth.models import AnonymousUser

    teller = make_staff(Role.TELLER, branch=branch_a)
    teller.is_active = False
    assert branch_ids_for(teller, "customers.view_customer") == frozenset()
    assert not has_perm(AnonymousUser(), "customers.view_customer")


@pytest.mark.django_db
def test_memberships_keep_groups_and_staff_flag_in_step(branch_a, branch_b):
    user = UserFactory()
    first = membership_grant(user=user, role=Role.TELLER, branch=branch_a)
    again = membership_grant(user=user, role=Role.TELLER, branch=branch_a)
    assert first == again
    membership_grant(user=user, role=Role.TELLER, branch=branch_b)
    assert list(user.groups.values_list("name", flat=True)) == ["teller"]
    membership_revoke(membership=first)
    assert list(user.groups.values_list("name", flat=True)) == ["teller"]
    admin = membership_grant(user=user, role=Role.ADMIN)
    user.refresh_from_db()
    assert user.is_staff
    membership_revoke(membership=admin)
    user.refresh_from_db()
    assert not user.is_staff
    with pytest.raises(ValidationError):
        membership_grant(user=user, role=Role.TELLER, branch=branch_a, region=branch_a.region)


@pytest.mark.django_db
def test_every_role_exists_as_a_group_with_permissions():
    from django.contrib.auth.models import Group

    for role in Role:
        group = Group.objects.get(name=role.value)
        assert group.permissions.exists(), role


@pytest.mark.django_db
def test_database_refuses_a_membership_for_both_branch_and_region(branch_a):
    from django.contrib.auth.models import Group
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        StaffMembership.objects.create(
            user=UserFactory(),
            role=Group.objects.get(name="teller"),
            branch=branch_a,
            region=branch_a.region,
        )
