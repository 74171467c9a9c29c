"""Home page and health check."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
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
    """Liveness of the database, the cache and the worker (for load balancers and `make run`)."""
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
    healthy = checks["database"] == "ok" and checks["cache"] == "ok"
    return JsonResponse(checks, status=200 if healthy else 503)
