"""Holds a signed-in session at the two-factor step until the code is in (see core.security)."""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .security import ENROL, PENDING_SESSION_KEY

# Besides its own step, a pending session may sign out and switch language.
ALWAYS_OPEN = ("logout", "set_language")


class TwoFactorMiddleware:
    """A session whose sign-in still needs its second factor reaches only the verify or enrol
    page (the API answers 403); every other request costs nothing but a session read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        pending = session.get(PENDING_SESSION_KEY) if session is not None else None
        if pending and request.user.is_authenticated:
            step = "two_factor:enrol" if pending == ENROL else "two_factor:verify"
            allowed = {reverse(step), *(reverse(name) for name in ALWAYS_OPEN)}
            if request.path not in allowed and not request.path.startswith("/static/"):
                if request.path.startswith("/api/"):
                    # API keys do not use sessions; a session without its second factor gets no
                    # data (DRF would otherwise accept it through SessionAuthentication).
                    if not request.headers.get("Authorization", "").startswith("Api-Key "):
                        return JsonResponse(
                            {"detail": _("Two-factor sign-in is not complete.")}, status=403
                        )
                else:
                    query = urlencode({"next": request.get_full_path()})
                    return redirect(f"{reverse(step)}?{query}")
        return self.get_response(request)
