"""Benchmark: the care generator over 100,000 completed visits' events, one callback each, then
over 100,000 more, one survey each.

Needs DATABASE_URL pointing at a PostgreSQL server. The script creates its own scratch database
(bench_care_<pid>) on that server, migrates it, fills it, measures, and drops it at the end; it
never touches the tables of the database named in DATABASE_URL. Fills 100,000 customers (phone
consent given) and one `reception.ticket_completed` event each, an hour old, at one branch, with
the shipped "service completed" rule turned on (survey rules off); then runs the generator (as
beat would, run after run, each in batches of CARE_EVENT_BATCH) until every visit has its
callback. Prints callbacks per second, and the time per run with nothing to do. Then a second
visit each, with the follow-up rules off and the shipped "after-service" survey rule at 100%:
runs the generator until every customer has a survey (by SMS: the customers consent to it) and
prints surveys per second. The messages are queued to an in-memory broker (no worker sends
them: sending is the notification layer's cost, not the generator's).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/care_generation.py

BENCH_CARE_VISITS changes the number of visits.
"""

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

VISITS = int(os.environ.get("BENCH_CARE_VISITS", "100000"))


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("care_generation: skipped, set DATABASE_URL to a PostgreSQL server")
        return 0
    import psycopg

    scratch = f"bench_care_{os.getpid()}"
    server = psycopg.connect(url, autocommit=True)
    server.execute(f'CREATE DATABASE "{scratch}"')
    try:
        parts = urlsplit(url)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{scratch}"))
        os.environ["DATABASE_POOL"] = "false"  # one connection, kept open (CONN_MAX_AGE)
        os.environ["DEBUG"] = "false"  # DEBUG would keep every query in memory
        os.environ["CELERY_BROKER_URL"] = "memory://"  # survey messages: queued, never sent
        os.environ.setdefault("SECRET_KEY", "bench-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCD")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankservice.settings")
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        import django

        django.setup()
        try:
            run()
        finally:
            from django.db import connections

            connections.close_all()
    finally:
        server.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        server.close()
    return 0


def run() -> None:
    import datetime as dt

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bankservice.branches.models import Branch, BusinessCalendar, OpeningHours, Region
    from care.generator import callbacks_generate
    from care.models import Callback, CareCursor, FollowUpRule, SurveyRule

    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other work "
        "on the machine inflates every figure below)"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")

    calendar = BusinessCalendar.objects.create(code="bench", name="Bench", weekend_days=[6, 7])
    branch = Branch.objects.create(
        code="bench",
        name="Bench",
        region=Region.objects.create(code="bench", name="Bench"),
        calendar=calendar,
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(branch=branch, weekday=d, opens_at="09:00", closes_at="17:00")
        for d in range(1, 6)
    )
    FollowUpRule.objects.update(is_active=False)
    FollowUpRule.objects.filter(code="service-completed").update(is_active=True)
    SurveyRule.objects.update(is_active=False)

    occurred = timezone.now() - dt.timedelta(hours=1)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Server-side bulk inserts: the customers, then one completed visit's event each.
        cursor.execute(
            """
            INSERT INTO customers_customer (
                full_name, id_type, phone, email, segment, is_elderly, has_disability,
                is_pregnant, preferred_language, consent_sms, consent_email, consent_phone,
                home_branch_id, created_at, updated_at)
            SELECT 'Bench ' || g, 'resident_id', '+86139' || lpad(g::text, 8, '0'), '',
                   'standard', false, false, false, 'zh-hans', true, false, true,
                   %(branch)s, now(), now()
            FROM generate_series(1, %(rows)s) AS g
            """,
            {"branch": branch.pk, "rows": VISITS},
        )
        cursor.execute(
            """
            INSERT INTO events_event (
                type, occurred_at, branch_id, customer_id, subject_id, payload)
            SELECT 'reception.ticket_completed', %(at)s, %(branch)s, c.id, c.id::text,
                   '{"service": "cash", "number": "A001"}'::jsonb
            FROM customers_customer AS c ORDER BY c.id
            """,
            {"branch": branch.pk, "at": occurred},
        )
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("ANALYZE events_event")
    print(f"insert {VISITS:,} customers and their events: {time.perf_counter() - started:.1f} s")

    runs = created = 0
    started = time.perf_counter()
    while created < VISITS:
        report = callbacks_generate()  # as beat runs it: a time budget, then the next run
        runs += 1
        created += report.created
        assert report.created or report.events, "the generator made no progress"
        print(
            f"  run {runs}: {created:,} callbacks so far, "
            f"{created / (time.perf_counter() - started):,.0f}/s",
            flush=True,
        )
    elapsed = time.perf_counter() - started
    assert Callback.objects.count() == VISITS
    print(
        f"generate: {created:,} callbacks from {VISITS:,} visits in {elapsed:.1f} s "
        f"= {created / elapsed:,.0f} callbacks/s ({runs} runs, batches of "
        f"{settings.CARE_EVENT_BATCH:,}; per callback: customer lock, guards, insert, deadline, "
        "events)"
    )
    # The callbacks' own events are read too and match no rule: the cost of the scan alone.
    cursor = CareCursor.objects.get(name="callbacks")
    scanned, started = 0, time.perf_counter()
    while True:
        report = callbacks_generate()
        scanned += report.events
        if not report.events:
            break
    elapsed = time.perf_counter() - started
    print(
        f"scan of events no rule matches: {scanned:,} in {elapsed:.1f} s "
        f"= {scanned / max(elapsed, 1e-9):,.0f} events/s (cursor {cursor.last_event_id:,} -> "
        f"{CareCursor.objects.get(name='callbacks').last_event_id:,})"
    )
    started = time.perf_counter()
    idle = callbacks_generate()
    print(
        f"idle run (nothing new): {(time.perf_counter() - started) * 1000:.1f} ms, "
        f"{idle.events} events"
    )
    surveys(branch)


def surveys(branch) -> None:
    """A second completed visit per customer; the "after-service" survey rule alone, at 100%."""
    from django.db import connection
    from django.utils import timezone

    from care.generator import callbacks_generate
    from care.models import FollowUpRule, Survey, SurveyRule

    FollowUpRule.objects.update(is_active=False)
    SurveyRule.objects.filter(code="after-service").update(is_active=True, sample_percent=100)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO events_event (
                type, occurred_at, branch_id, customer_id, subject_id, payload)
            SELECT 'reception.ticket_completed', %(at)s, %(branch)s, c.id, c.id::text,
                   '{"service": "cash", "number": "A002"}'::jsonb
            FROM customers_customer AS c ORDER BY c.id
            """,
            {"branch": branch.pk, "at": timezone.now()},
        )
        cursor.execute("ANALYZE events_event")
    print(f"insert {VISITS:,} second visits' events: {time.perf_counter() - started:.1f} s")

    runs = sent = 0
    started = time.perf_counter()
    while sent < VISITS:
        report = callbacks_generate()
        runs += 1
        sent += report.surveys_sent
        assert report.surveys_sent or report.events, "the generator made no progress"
        print(
            f"  run {runs}: {sent:,} surveys so far, "
            f"{sent / (time.perf_counter() - started):,.0f}/s",
            flush=True,
        )
    elapsed = time.perf_counter() - started
    assert Survey.objects.count() == VISITS
    print(
        f"surveys: {sent:,} surveys from {VISITS:,} visits in {elapsed:.1f} s "
        f"= {sent / elapsed:,.0f} surveys/s ({runs} runs; per survey: customer lock, guards, "
        "insert, message queued, events)"
    )


if __name__ == "__main__":
    sys.exit(main())
