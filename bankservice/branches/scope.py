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


def _split_perm(perm: str) -> tuple[str, str]:
    app_label, _, codename = perm.partition(".")
    return app_label, codename


def branch_ids_for(principal: Any, perm: str) -> frozenset[int] | None:
    """Ids of the branches where `principal` holds `perm`, or ALL_BRANCHES (None) for all."""
    if principal is None or not principal.is_authenticated or not principal.is_active:
        return frozenset()
    if getattr(principal, "is_api_client", False):
        return principal.branch_ids_for(perm)
    if principal.is_superuser:
        return ALL_BRANCHES
    cache = principal.__dict__.setdefault("_branch_scope_cache", {})
    if perm not in cache:
        cache[perm] = _membership_branch_ids(principal, perm)
    return cache[perm]


def _membership_branch_ids(user: Any, perm: str) -> frozenset[int] | None:
    from .models import Branch, StaffMembership

    app_label, codename = _split_perm(perm)
    rows = StaffMembership.objects.filter(
        user=user,
        role__permissions__codename=codename,
        role__permissions__content_type__app_label=app_label,
    ).values_list("branch_id", "region_id")
    branch_ids: set[int] = set()
    region_ids: set[int] = set()
    for branch_id, region_id in rows:
        if branch_id is None and region_id is None:
            return ALL_BRANCHES
        if branch_id is not None:
            branch_ids.add(branch_id)
        else:
            region_ids.add(region_id)
    if region_ids:
        branch_ids.update(Branch.objects.filter(region_id__in=region_ids).values_list("id", flat=True))
    return frozenset(branch_ids)


def has_perm(principal: Any, perm: str) -> bool:
    """Whether the principal holds `perm` at any branch at all (the 403 test)."""
    ids = branch_ids_for(principal, perm)
    return ids is ALL_BRANCHES or bool(ids)


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
