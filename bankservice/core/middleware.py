"""Session lifetime and caching rules for pages that carry personal data."""

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

SESSION_STARTED_KEY = "signed_in_at"


class SessionLifetimeMiddleware:
    """End a session SESSION_ABSOLUTE_LIFETIME after sign-in, however active it has been.

    The idle timeout is the session cookie's own sliding age (SESSION_COOKIE_AGE).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            started = request.session.setdefault(SESSION_STARTED_KEY, now)
            if now - started > settings.SESSION_ABSOLUTE_LIFETIME.total_seconds():
                logout(request)
                return redirect(f"{reverse(settings.LOGIN_URL)}?expired=1")
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
