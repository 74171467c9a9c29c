"""`{% load dashboards %}`: `user|holds:"app.perm"`, whether the user holds a permission at some
branch (the pages' links to pages only some roles may open)."""

from django import template

from bankservice.branches.scope import has_perm

register = template.Library()


@register.filter
def holds(user, perm: str) -> bool:
    return has_perm(user, perm)
