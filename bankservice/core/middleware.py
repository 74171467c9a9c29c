"""Session lifetime, caching rules for pages that carry personal data, and a clean answer
when the database connection drops."""

import logging

from django.conf import settings
from django.contrib.auth import logout
from django.db import InterfaceError, OperationalError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from .api_errors import database_unavailable_response

SESSION_STARTED_KEY = "signed_in_at"
SESSION_REFRESHED_KEY = "refreshed_at"


class SessionLifetimeMiddleware:
    """End a session SESSION_ABSOLUTE_LIFETIME after sign-in, however active it has been, and
    keep an active one alive.

    The idle timeout is the session's own expiry (SESSION_COOKIE_AGE from its last save). An
    active session is saved again at most every SESSION_REFRESH_SECONDS, not on every request,
    so it ends at most that much earlier than SESSION_COOKIE_AGE after the last request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            now = timezone.now().timestamp()
            started = session.setdefault(SESSION_STARTED_KEY, now)
            refreshed = session.get(SESSION_REFRESHED_KEY, now)
            # The idle check repeats the store's expiry: a cached session (cached_db) expires
            # with its cache entry, whose clock is the cache server's.
            if (
                now - started > settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()
                or now - refreshed > settings.SESSION_COOKIE_AGE
            ):
                logout(request)
                return redirect(f"{reverse(settings.LOGIN_URL)}?expired=1")
            fresh = SESSION_REFRESHED_KEY in session and (
                0 <= now - refreshed < settings.SESSION_REFRESH_SECONDS
            )
            if not fresh:
                session[SESSION_REFRESHED_KEY] = now  # saved after the response: a new expiry
        return self.get_response(request)


class NoStoreMiddleware:
    """Responses to signed-in users may hold personal data: no cache may keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/api/"):
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
        return response


logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """A request that loses its database connection (server restart, failover, a terminated
    backend) answers 503 with Retry-After instead of 500: the API in its `{"detail": ...}`
    shape (DRF views get there through api_errors.exception_handler already; this covers the
    rest, and InterfaceError), pages with a short page that needs neither the database nor the
    base template.

    By then the view's transaction has rolled back (the exception left its atomic block), so
    nothing was half written; Django closes the broken connection when the request ends (the
    pool discards it), and the next request opens a fresh one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "database unavailable during %s %s: %s", request.method, request.path, exception
        )
        return database_unavailable_response(request)
