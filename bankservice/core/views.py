"""Home page, health check and the CSRF failure page."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .models import Heartbeat

# Beat runs the heartbeat every 30 s: three missed beats mean no worker or no beat.
HEARTBEAT_STALE_AFTER = timedelta(seconds=90)


@login_required
def home(request):
    from .context_processors import navigation

    items = navigation(request)["nav_items"]
    if len(items) == 1:
        return redirect(items[0]["url"])
    return render(request, "core/home.html")


@never_cache
def healthz(request):
    """Liveness of the database, the cache and the worker (for load balancers and `make run`).

    Only the database decides the status (503 when it is unreachable): without the cache or
    the worker the web process still serves every request (sessions fall back to the database,
    queued work to the sweeps), so a load balancer must not take every node out for a Redis
    outage. The body says what is degraded, for monitoring."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        cache.set("healthz", "ok", 5)
        checks["cache"] = "ok" if cache.get("healthz") == "ok" else "error"
    except Exception as exc:
        checks["cache"] = f"error: {exc.__class__.__name__}"
    beat = Heartbeat.objects.filter(name="worker").first() if checks["database"] == "ok" else None
    if beat is None:
        checks["worker"] = "no heartbeat yet"
    else:
        age = timezone.now() - beat.beat_at
        checks["worker"] = "ok" if age < HEARTBEAT_STALE_AFTER else "stale"
        checks["worker_last_beat"] = beat.beat_at.isoformat()
    degraded = checks["cache"] != "ok" or checks["worker"] != "ok"
    checks["status"] = "down" if checks["database"] != "ok" else "degraded" if degraded else "ok"
    return JsonResponse(checks, status=200 if checks["database"] == "ok" else 503)


def csrf_failure(request, reason: str = ""):
    """A form sent without a valid CSRF token: usually a page left open for hours or a browser
    whose cookies were cleared, rarely a forged request (settings.CSRF_FAILURE_VIEW).

    Public pages (settings.CSRF_RETRY_PATH_PREFIXES: the kiosk, remote check-in, booking) have
    a GET at the same address: the visitor goes back there, in the page's language, with a
    note to try again; the GET sets a fresh token. Nothing was done, so a forged request gains
    nothing. Elsewhere a 403 page in the current language explains and links back.
    """
    prefixes = tuple(settings.CSRF_RETRY_PATH_PREFIXES)
    if request.method == "POST" and prefixes and request.path.startswith(prefixes):
        messages.warning(request, _("The page had expired. Please try again."))
        query = request.GET.copy()
        language = request.POST.get("lang")
        if language in dict(settings.LANGUAGES):
            query["lang"] = language  # the public pages carry their language in the form
        url = request.path + (f"?{query.urlencode()}" if query else "")
        return redirect(url)
    referer = request.headers.get("Referer", "")
    back = (
        referer
        if referer
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else None
    )
    return render(request, "403_csrf.html", {"back_url": back}, status=403)
