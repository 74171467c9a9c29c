"""Production protections: headers, caching, session lifetime, sign-in throttling."""

import re
from pathlib import Path

import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from bankservice.core.middleware import SESSION_STARTED_KEY


def test_security_headers_on_every_page(client, db):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "cdn" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_signed_in_pages_and_api_are_never_cached(client, teller):
    client.force_login(teller)
    for url in (reverse("customers:list"), "/api/v1/customers"):
        assert client.get(url)["Cache-Control"] == "no-store, private", url


def test_session_ends_after_the_absolute_lifetime(client, teller, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(teller)
        assert client.get(reverse("customers:list")).status_code == 200
    # Active all along (each request within the idle timeout) ...
    steps = int(settings.SESSION_ABSOLUTE_LIFETIME.total_seconds() // 1200)
    for step in range(1, steps):
        with time_machine.travel(start + timezone.timedelta(minutes=20 * step), tick=False):
            assert client.get(reverse("customers:list")).status_code == 200, step
    # ... yet signed out once the absolute lifetime has passed.
    with time_machine.travel(
        start + settings.SESSION_ABSOLUTE_LIFETIME + timezone.timedelta(minutes=1)
    ):
        response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert "expired=1" in response.url
    assert SESSION_STARTED_KEY not in client.session


def test_session_ends_after_idle_timeout(client, teller, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(teller)
        client.get(reverse("customers:list"))
    idle = timezone.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(start + idle, tick=False):
        response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_is_throttled_after_repeated_failures(client, teller, settings):
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": teller.username, "password": "wrong"})
        assert response.status_code == 200
        assert response.context["form"].errors
    # The limit-th failure locks the account: even the right password is refused now.
    assert client.post(url, {"username": teller.username, "password": "x"}).status_code == 429
    locked = client.post(
        url, {"username": teller.username, "password": "correct horse battery staple"}
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_works_with_the_right_password(client, teller):
    response = client.post(
        reverse("login"),
        {"username": teller.username, "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(teller.pk)


def test_healthz_reports_database_cache_and_worker(client, db):
    from bankservice.core.services import heartbeat_beat

    response = client.get("/healthz")
    body = response.json()
    assert (body["database"], body["cache"], body["worker"]) == ("ok", "ok", "no heartbeat yet")
    # No worker: degraded, yet the web process serves, so the load balancer keeps it.
    assert (response.status_code, body["status"]) == (200, "degraded")
    heartbeat_beat(name="worker")
    assert client.get("/healthz").json() | {"worker_last_beat": None} == {
        "database": "ok",
        "cache": "ok",
        "worker": "ok",
        "worker_last_beat": None,
        "status": "ok",
    }
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=5)):
        body = client.get("/healthz").json()
    assert (body["worker"], body["status"]) == ("stale", "degraded")


def test_production_headers_and_cookies_over_https(client, teller):
    """Tests run with DEBUG off (production settings but for the HTTPS redirect)."""
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    response = client.post(
        reverse("login"),
        {"username": teller.username, "password": "correct horse battery staple"},
        secure=True,
    )
    assert response.status_code == 302
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["secure"] and session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    csrf_cookie = client.cookies["csrftoken"]
    assert csrf_cookie["secure"] and csrf_cookie["httponly"]


# Inline code the Content-Security-Policy (script-src and style-src 'self', no 'unsafe-inline')
# would block: <script> with a body, event-handler attributes, javascript: URLs, <style>
# elements and style attributes.
INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>\s*\S|\son[a-z]+\s*=|javascript:|<style|\sstyle\s*=", re.I
)


def test_no_template_holds_inline_code_the_csp_would_block():
    roots = [Path(settings.BASE_DIR)]
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}: {match.group(0).strip()!r}"
        for root in roots
        for path in root.rglob("*.html")
        if not {".venv", "var", "node_modules", "staticfiles"} & set(path.parts)
        for match in INLINE_CODE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    # The pattern does find inline code.
    assert INLINE_CODE.search('<button onclick="go()">') and INLINE_CODE.search("<script>x()")
    assert not INLINE_CODE.search('<script src="/static/js/app.js"></script>')
