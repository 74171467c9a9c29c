"""Branch scope: the one place that decides which branches a principal may see for a permission.

Staff see the branches they hold a role at, regional managers their region, bank-wide roles every
branch. The answer depends on the permission: a teller at branch A who is a greeter at branch B
sees B's customers only with the greeter's permissions. Every selector and API view goes through
`visible_to(principal, perm)`; a model declares `scope_branch_field`, the path to its branch id.
"""

from __future__ import annotations

from typing import Any

from django.db import models

# Returned instead of a set of ids when the principal sees every branch.
ALL_BRANCHES = None


def branch_ids_for(principal: Any, perm: str) -> frozenset[int] | None:
    """Ids of the branches where `principal` holds `perm`, or ALL_BRANCHES (None) for all."""
    if principal is None or not principal.is_authenticated or not principal.is_active:
        return frozenset()
    if getattr(principal, "is_api_client", False):
        return principal.branch_ids_for(perm)
    if principal.is_superuser:
        return ALL_BRANCHES
    # Cached on the user object, which lives for one request.
    if "_branch_scope" not in principal.__dict__:
        principal.__dict__["_branch_scope"] = _membership_scope(principal)
    return principal.__dict__["_branch_scope"].get(perm, frozenset())


def _membership_scope(user: Any) -> dict[str, frozenset[int] | None]:
    """Every permission the user's memberships grant, with where: one query (two with regions)."""
    from .models import Branch, StaffMembership

    rows = StaffMembership.objects.filter(user=user).values_list(
        "branch_id",
        "region_id",
        "role__permissions__content_type__app_label",
        "role__permissions__codename",
    )
    bankwide: set[str] = set()
    branches: dict[str, set[int]] = {}
    regions: dict[str, set[int]] = {}
    for branch_id, region_id, app_label, codename in rows:
        if codename is None:
            continue
        perm = f"{app_label}.{codename}"
        if branch_id is not None:
            branches.setdefault(perm, set()).add(branch_id)
        elif region_id is not None:
            regions.setdefault(perm, set()).add(region_id)
        else:
            bankwide.add(perm)
    if regions:
        region_branches: dict[int, set[int]] = {}
        all_regions = set().union(*regions.values())
        for branch_id, region_id in Branch.objects.filter(region_id__in=all_regions).values_list(
            "id", "region_id"
        ):
            region_branches.setdefault(region_id, set()).add(branch_id)
        for perm, region_ids in regions.items():
            for region_id in region_ids:
                branches.setdefault(perm, set()).update(region_branches.get(region_id, ()))
    scope: dict[str, frozenset[int] | None] = {p: frozenset(ids) for p, ids in branches.items()}
    scope.update(dict.fromkeys(bankwide, ALL_BRANCHES))
    return scope


def has_perm(principal: Any, perm: str) -> bool:
    """Whether the principal holds `perm` at any branch at all (the 403 test)."""
    ids = branch_ids_for(principal, perm)
    return ids is ALL_BRANCHES or bool(ids)


def has_bankwide_perm(principal: Any, perm: str) -> bool:
    """Whether the principal holds `perm` across the whole bank (settings that span branches)."""
    return branch_ids_for(principal, perm) is ALL_BRANCHES


def can_act_at(principal: Any, perm: str, branch_id: int | None) -> bool:
    """Whether the principal holds `perm` at this branch."""
    ids = branch_ids_for(principal, perm)
    return ids is ALL_BRANCHES or branch_id in ids


def default_view_perm(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


class ScopedQuerySet(models.QuerySet):
    """QuerySet with `.visible_to(principal, perm)`, applied by every selector and viewset."""

    def visible_to(self, principal: Any, perm: str | None = None) -> ScopedQuerySet:
        ids = branch_ids_for(principal, perm or default_view_perm(self.model))
        if ids is ALL_BRANCHES:
            return self
        if not ids:
            return self.none()
        return self.filter(**{f"{self.model.scope_branch_field}__in": ids})
