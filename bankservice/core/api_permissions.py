"""API permissions: the same branch-scoped permissions as the staff pages.

Missing permission anywhere -> 403; an object outside the principal's branches is filtered out of
the viewset's queryset by `visible_to`, so it answers 404.
"""

from rest_framework import exceptions, permissions

from bankservice.branches.scope import has_perm

METHOD_VERBS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def required_perm(view, method: str) -> str:
    """The permission an API call needs: `view.action_perms[action]`, else from the method."""
    action_perms = getattr(view, "action_perms", {})
    if getattr(view, "action", None) in action_perms:
        return action_perms[view.action]
    if method not in METHOD_VERBS:  # TRACE, CONNECT, made-up verbs: 405, not a KeyError
        raise exceptions.MethodNotAllowed(method)
    meta = view.queryset.model._meta
    return f"{meta.app_label}.{METHOD_VERBS[method]}_{meta.model_name}"


class IsAuthenticatedPrincipal(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


class ScopedModelPermissions(IsAuthenticatedPrincipal):
    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return has_perm(request.user, required_perm(view, request.method))


class StaffOnlyActionPermissions(ScopedModelPermissions):
    """The scoped permission, and for the view's `staff_actions` a member of staff (never an
    API key): serving is done by someone signed in to a counter, and configuration by people
    who answer for it. The view's `staff_only_message` says which."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if getattr(view, "action", None) in getattr(view, "staff_actions", ()):
            self.message = view.staff_only_message
            return not getattr(request.user, "is_api_client", False)
        return True
