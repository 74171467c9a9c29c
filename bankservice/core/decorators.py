"""View decorators for staff pages."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from bankservice.branches.scope import has_bankwide_perm, has_perm


def require_perm(perm: str, *, bankwide: bool = False):
    """Sign-in first; then 403 unless the user holds `perm` at some branch (with `bankwide`,
    across the whole bank: settings that span branches)."""
    holds = has_bankwide_perm if bankwide else has_perm

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not holds(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
