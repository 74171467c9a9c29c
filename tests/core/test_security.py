"""Production protections: headers, caching, session lifetime, sign-in throttling."""

import time_machine
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

    body = client.get("/healthz").json()
    assert (body["database"], body["cache"], body["worker"]) == ("ok", "ok", "no heartbeat yet")
    heartbeat_beat(name="worker")
    assert client.get("/healthz").json()["worker"] == "ok"
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=5)):
        assert client.get("/healthz").json()["worker"] == "stale"
