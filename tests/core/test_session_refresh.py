"""A staff session is written at most once per SESSION_REFRESH_SECONDS, yet stays alive while
used and ends after the idle timeout (bankservice/core/middleware.py)."""

import datetime as dt

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

PAGE = "customers:list"


def session_writes(client, at) -> int:
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(PAGE)).status_code == 200
    return sum('UPDATE "django_session"' in q["sql"] for q in queries.captured_queries)


def test_the_session_is_written_once_per_refresh_interval(client, teller, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(teller)
    refresh = settings.SESSION_REFRESH_SECONDS

    writes = [session_writes(client, start + dt.timedelta(seconds=s)) for s in (0, 10, refresh - 1)]
    assert writes == [1, 0, 0]  # the first request stores the sign-in time
    assert session_writes(client, start + dt.timedelta(seconds=refresh)) == 1
    assert session_writes(client, start + dt.timedelta(seconds=refresh + 5)) == 0


def test_a_session_in_use_outlives_the_idle_timeout(client, teller, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(teller)
    # A request every refresh interval minus a second, for twice the idle timeout.
    step = dt.timedelta(seconds=settings.SESSION_REFRESH_SECONDS - 1)
    moment = start
    while moment < start + 2 * dt.timedelta(seconds=settings.SESSION_COOKIE_AGE):
        moment += step
        with time_machine.travel(moment, tick=False):
            assert client.get(reverse(PAGE)).status_code == 200, moment - start


def test_idle_for_the_timeout_after_the_last_write_signs_out(client, teller, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(teller)
        client.get(reverse(PAGE))  # written (sign-in time, refresh)
    # A request without a write, then nothing: the session ends SESSION_COOKIE_AGE after the
    # last write, up to SESSION_REFRESH_SECONDS before "idle timeout after the last request".
    last = start + dt.timedelta(seconds=settings.SESSION_REFRESH_SECONDS - 1)
    assert session_writes(client, last) == 0
    idle = start + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    with time_machine.travel(idle, tick=False):
        response = client.get(reverse(PAGE))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
