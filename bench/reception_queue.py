"""Benchmark: the reception queue through HTTP on gunicorn with PostgreSQL, with an empty history
and with 1,000,000 historical tickets.

Needs DATABASE_URL pointing at a PostgreSQL server (REDIS_URL too, for production-like figures:
every issue and call changes the display board's version in the cache). The script creates a
scratch database `bench_reception` (BENCH_RECEPTION_DB names another) on that server, migrates it,
sets up a branch open 00:00–23:59 every day (a calendar without weekend), four services (prefixes
A–D, the issuers take them in turn), 32 counters serving all four, 32 tellers signed in to them (a
staff session each, as the login form would leave it) and an API key (scopes reception:read/write,
all branches) for issuing. It starts gunicorn (3 workers × 4 threads, as the Dockerfile) on a free
127.0.0.1 port against that database, measures, stops gunicorn and drops the database at the end.

The clients are threads with http.client (keep-alive, one connection each) in this process, on
the same 2-core machine as the server. Each phase lasts BENCH_RECEPTION_SECONDS (6 by default):

- healthz: GET /healthz, 8 clients: the floor of this machine, middleware and 2 queries;
- issue: POST /api/v1/tickets {"service_type": id} with the API key, 8 and 32 clients;
- serve: tellers back to back at their own counters, POST /api/v1/counters/{id}/call-next,
  /api/v1/tickets/{id}/start and /complete, 8 and 32 tellers (this saturates the server: the
  latencies are then mostly time spent queueing);
- paced: 32 tellers each starting such a cycle every PACE seconds (the server is not saturated:
  the latencies are the requests' own);

then the same after inserting 1,000,000 completed tickets (and their visits) of past business
days server-side (generate_series) and ANALYZE. It prints a table (rate, p50, p99 per request
kind), where the CPU went during each phase (load generator, gunicorn, PostgreSQL, Redis) and,
in-process through Django's test client (no HTTP): statements and PostgreSQL time per request
kind, and how an issue and a call-next split between the service, the queue position and the
request machinery. About three minutes in all.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/reception_queue.py [--workers 3 --threads 4 --show-sql]

`--history 0` runs the empty round only (a quick A/B); `--worker-class sync` tries sync workers.
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# The scratch database (dropped and created again): a separate name lets two runs share a server.
SCRATCH = os.environ.get("BENCH_RECEPTION_DB", "bench_reception")
HISTORY = int(os.environ.get("BENCH_RECEPTION_HISTORY", "1000000"))
SECONDS = float(os.environ.get("BENCH_RECEPTION_SECONDS", "6"))
PREFIXES = "ABCD"
TELLERS = 32
# Upper bound of requests per client and phase: the loops end even if the clock misbehaves.
MAX_REQUESTS_PER_CLIENT = 20_000
# Waiting tickets left for the serving phases (the issue phases leave more; the surplus is
# closed as at the end of a day, so call-next works on a long but plausible queue).
QUEUE_FOR_TELLERS = 3000
IN_PROCESS_SAMPLES = 40
# Paced tellers: each starts a cycle every PACE seconds (real tellers: every few minutes), so
# the server is not saturated and call-next's latency is its own, not a queue's.
PACE = 8.0
PACED_SECONDS = 32.0
warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic: API only

CSRF_ALPHABET = string.ascii_letters + string.digits  # what Django accepts in a CSRF token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--worker-class", default="gthread", help="gunicorn worker class (gthread, sync)"
    )
    parser.add_argument("--history", type=int, default=HISTORY, help="historical tickets")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="seconds per phase")
    parser.add_argument(
        "--show-sql", action="store_true", help="print the statements of one request of each kind"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("reception_queue: skipped, set DATABASE_URL to a PostgreSQL server")
        return 0
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{SCRATCH}"')
    gunicorn = None
    try:
        env = bench_environment(urlunsplit(parts._replace(path=f"/{SCRATCH}")))
        os.environ.update(env)
        os.environ["DATABASE_POOL"] = "false"  # this process: one connection, kept open
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        setup = prepare()
        profile = {"empty": profile_in_process(setup)}
        split = {"empty": split_in_process(setup)}
        commits = commit_latency()
        gunicorn = Gunicorn(
            env, workers=args.workers, threads=args.threads, worker_class=args.worker_class
        )
        gunicorn.start()
        rows, cpu_notes = [], []
        run_round("empty", setup, gunicorn, args.seconds, rows, cpu_notes, baseline=True)
        inserted = ""
        if args.history:  # --history 0: the empty round only (a quick A/B)
            inserted = insert_history(setup, args.history)
            gunicorn.restart()  # fresh pools and plans: nothing cached from the empty round
            profile[f"{args.history:,} past"] = profile_in_process(setup)
            split[f"{args.history:,} past"] = split_in_process(setup)
            run_round(f"{args.history:,} past", setup, gunicorn, args.seconds, rows, cpu_notes)
        report(args, setup, rows, cpu_notes, profile, split, inserted, commits)
    finally:
        if gunicorn is not None:
            gunicorn.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not be set up yet
            pass
        with psycopg.connect(admin_url, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
    return 0


def bench_environment(database_url: str) -> dict[str, str]:
    """What this process and gunicorn run with: production settings except HTTPS (plain HTTP on
    127.0.0.1, so no SSL redirect and no Secure-only cookies)."""
    return {
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bankservice.settings",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECRET_KEY": os.environ.get(
            "SECRET_KEY", "bench-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"
        ),
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "CACHE_KEY_PREFIX": f"bench-reception-{os.getpid()}",
        "LANGUAGE_CODE": "en",
    }


# --- Set-up ------------------------------------------------------------------------------------


@dataclass
class Setup:
    branch_id: int
    services: list[int]
    counters: list[int]  # by teller index
    tellers: list[int]
    sessions: list[str]  # session keys, by teller index
    api_key: str
    migrate_seconds: float


def prepare() -> Setup:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from bankservice.branches.models import (
        Branch,
        BusinessCalendar,
        OpeningHours,
        Region,
        Role,
    )
    from bankservice.branches.services import membership_grant
    from bankservice.core.services import apiclient_create
    from reception.models import Counter, CounterService, ServiceType
    from reception.services import counter_sign_in

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - started

    # Open every day, all day: the bench runs whenever it is started.
    calendar = BusinessCalendar.objects.create(code="bench", name="Bench", weekend_days=[])
    region = Region.objects.create(code="bench", name="Bench")
    branch = Branch.objects.create(
        code="bench", name="Bench", region=region, calendar=calendar, time_zone="Asia/Shanghai"
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(branch=branch, weekday=day, opens_at="00:00", closes_at="23:59")
        for day in range(1, 8)
    )
    wait_past_closing(branch)
    services = [
        ServiceType.objects.create(
            branch=branch,
            code=f"service-{prefix.lower()}",
            name_zh=f"业务 {prefix}",
            name_en=f"Service {prefix}",
            prefix=prefix,
            expected_service_minutes=8,
        )
        for prefix in PREFIXES
    ]
    User = get_user_model()
    counters, tellers, sessions = [], [], []
    for number in range(1, TELLERS + 1):
        teller = User.objects.create_user(username=f"bench-teller-{number}")  # no password
        membership_grant(user=teller, role=Role.TELLER, branch=branch)
        counter = Counter.objects.create(branch=branch, number=number)
        CounterService.objects.bulk_create(
            CounterService(counter=counter, service_type=service, preference=1)
            for service in services
        )
        counter_sign_in(actor=teller, counter=counter)
        # A staff session as the login form would leave it (force_login skips the password).
        client = Client()
        client.force_login(teller)
        counters.append(counter.pk)
        tellers.append(teller.pk)
        sessions.append(client.cookies["sessionid"].value)
    _client, api_key = apiclient_create(
        name="bench-kiosks", scopes=["reception:read", "reception:write"], all_branches=True
    )
    return Setup(
        branch_id=branch.pk,
        services=[s.pk for s in services],
        counters=counters,
        tellers=tellers,
        sessions=sessions,
        api_key=api_key,
        migrate_seconds=migrate_seconds,
    )


def wait_past_closing(branch) -> None:
    """The branch closes at 23:59 local time for one minute; do not start inside it."""
    from django.utils import timezone

    local = timezone.now().astimezone(branch.zone)
    if local.hour == 23 and local.minute >= 57:
        pause = (60 - local.minute) * 60 - local.second + 5
        print(f"waiting {pause} s for the bench branch to open again at 00:00")
        time.sleep(pause)


def insert_history(setup: Setup, rows: int) -> str:
    """`rows` completed tickets (and one visit each) of past business days, 4,000 a day spread
    over the four services and 32 counters, inserted server-side; then ANALYZE."""
    from django.db import connection
    from django.utils import timezone

    from bankservice.branches.models import Branch

    zone = Branch.objects.get(pk=setup.branch_id).zone
    today = timezone.localdate(timezone.now(), zone)
    started = time.perf_counter()
    params = {
        "rows": rows,
        "branch": setup.branch_id,
        "today": today,
        "services": setup.services,
        "counters": setup.counters,
        "tellers": setup.tellers,
        "prefixes": list(PREFIXES),
    }
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        schema_before = schema_objects(cursor)
        # Bulk load: without the secondary indexes and constraints, rebuilt afterwards (one sort
        # each instead of a million index insertions and foreign-key look-ups each).
        rebuild = [*drop_secondary_indexes(cursor, "reception_ticket")]
        rebuild += drop_secondary_indexes(cursor, "reception_visit")
        cursor.execute("SELECT COALESCE(max(id), 0) + 1000 FROM reception_visit")
        params["base"] = cursor.fetchone()[0]
        # g = 0 … rows-1: day = 1 + g / 4000 days ago; k = g % 4000 is the k-th ticket of that
        # day, at 09:00 + 7k seconds, service k % 4 (number k / 4 + 1), counter k % 32; served
        # 6 minutes after arriving for 3–12 minutes.
        cursor.execute(
            """
            INSERT INTO reception_visit (
                id, branch_id, customer_id, source, arrived_at, contact_phone, sms_when_next,
                language)
            SELECT %(base)s + g, %(branch)s, NULL, 'kiosk',
                   ((%(today)s::date - (1 + g / 4000)::int) + time '09:00')
                       AT TIME ZONE 'Asia/Shanghai' + make_interval(secs => (g %% 4000) * 7),
                   '', false, ''
            FROM generate_series(0::bigint, %(rows)s::bigint - 1) AS g
            """,
            params,
        )
        cursor.execute(
            """
            SELECT setval(pg_get_serial_sequence('reception_visit', 'id'), max(id))
            FROM reception_visit
            """
        )
        cursor.execute(
            """
            INSERT INTO reception_ticket (
                visit_id, branch_id, service_type_id, business_date, prefix, sequence, number,
                status, arrived_at, issued_at, priority_at, priority_reasons, is_appointment,
                counter_id, reserved_counter_id, served_by_id, called_at, recall_count,
                serving_started_at, finished_at, outcome, transferred_from_id, public_token)
            SELECT v.id, v.branch_id,
                   (%(services)s::bigint[])[1 + k %% 4],
                   %(today)s::date - (1 + g / 4000)::int,
                   (%(prefixes)s::text[])[1 + k %% 4],
                   k / 4 + 1,
                   (%(prefixes)s::text[])[1 + k %% 4]
                       || lpad((k / 4 + 1)::text, greatest(3, length((k / 4 + 1)::text)), '0'),
                   'completed', v.arrived_at, v.arrived_at, v.arrived_at, '[]'::jsonb, false,
                   (%(counters)s::bigint[])[1 + k %% 32], NULL,
                   (%(tellers)s::bigint[])[1 + k %% 32],
                   v.arrived_at + interval '5 minutes', 0,
                   v.arrived_at + interval '6 minutes',
                   v.arrived_at + interval '6 minutes'
                       + make_interval(secs => 180 + (g * 7919) %% 540),
                   'served', NULL, md5('bench' || g::text)
            FROM (
                SELECT g, g %% 4000 AS k FROM generate_series(0::bigint, %(rows)s::bigint - 1) AS g
            ) AS series
            JOIN reception_visit AS v ON v.id = %(base)s + series.g
            """,
            params,
        )
        inserted = time.perf_counter() - started
        for statement in rebuild:
            cursor.execute(statement)
        assert schema_objects(cursor) == schema_before, "indexes or constraints not rebuilt"
        cursor.execute("ANALYZE reception_visit")
        cursor.execute("ANALYZE reception_ticket")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('reception_ticket'))")
        size = cursor.fetchone()[0]
    total = time.perf_counter() - started
    return (
        f"history: {rows:,} completed tickets (+ visits) over {-(-rows // 4000)} past days "
        f"inserted in {inserted:.1f} s, {total:.1f} s with indexes, constraints and ANALYZE; "
        f"reception_ticket {size}"
    )


def schema_objects(cursor) -> list[tuple[str, str]]:
    """Names of the two tables' indexes and constraints (a rebuilt partial index's definition
    may print its casts differently)."""
    cursor.execute(
        """
        SELECT 'index', indexname FROM pg_indexes
        WHERE tablename IN ('reception_ticket', 'reception_visit')
        UNION ALL
        SELECT 'constraint', conname FROM pg_constraint
        WHERE conrelid IN ('reception_ticket'::regclass, 'reception_visit'::regclass)
        ORDER BY 1, 2
        """
    )
    return cursor.fetchall()


def drop_secondary_indexes(cursor, table: str) -> list[str]:
    """Drop the table's unique and foreign-key constraints and its other indexes (the primary
    key stays); return the statements that recreate them as they were."""
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype IN ('u', 'f')
        """,
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT indexname, indexdef FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = %s AND indexname NOT IN (
            SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)
        """,
        [table, table],
    )
    indexes = cursor.fetchall()
    for name, _definition in constraints:
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in indexes] + [
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
        for name, definition in constraints
    ]


def commit_latency() -> str:
    """What one commit costs here, back to back and after a pause: a paced teller's first
    request after a pause waits for the WAL flush of an idle disk."""
    from django.db import connection

    def commit_ms() -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_commit_probe VALUES (1)")  # autocommit
        return (time.perf_counter() - started) * 1000

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_commit_probe (x int)")
    hot = statistics.median(commit_ms() for _i in range(50))
    cold = []
    for _i in range(3):
        time.sleep(1)
        cold.append(commit_ms())
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_commit_probe")
    return (
        f"PostgreSQL commit (synchronous_commit on): {hot:.2f} ms back to back, "
        f"{statistics.median(cold):.1f} ms after 1 s idle"
    )


# --- In-process profile: queries and PostgreSQL time per request --------------------------------


@dataclass
class Profile:
    queries: float
    total_ms: float
    db_ms: float
    slowest: str
    statements: list[str]  # of the first request


class QueryTimer:
    """A Django execute_wrapper adding up statements and their time."""

    def __init__(self):
        self.count, self.seconds, self.by_sql = 0, 0.0, {}
        self.first_request: list[str] | None = None  # statements, while recording them

    def __call__(self, execute, sql, params, many, context):
        if self.first_request is not None:
            self.first_request.append(" ".join(sql.split()))
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.count += 1
            self.seconds += spent
            self.by_sql[sql] = self.by_sql.get(sql, 0.0) + spent

    def slowest(self, samples: int) -> str:
        sql, spent = max(self.by_sql.items(), key=lambda item: item[1])
        sql = " ".join(sql.split())
        return f"{spent / samples * 1000:.2f} ms: {sql[:150]}{'…' if len(sql) > 150 else ''}"


def profile_in_process(setup: Setup) -> dict[str, Profile]:
    """Each request kind IN_PROCESS_SAMPLES times through Django's test client (no network, no
    gunicorn), on teller 1's counter: statements per request, time in Django and in PostgreSQL,
    and the statement that took longest in total."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    kiosk = Client(HTTP_AUTHORIZATION=f"Api-Key {setup.api_key}")
    staff = Client()
    staff.force_login(get_user_model().objects.get(pk=setup.tellers[0]))
    counter = setup.counters[0]
    timers = {name: QueryTimer() for name in ("issue", "call-next", "start", "complete")}
    spent = dict.fromkeys(timers, 0.0)

    first = {}

    def timed(name, send):
        timer = timers[name]
        if name not in first:
            first[name] = timer.first_request = []
        started = time.perf_counter()
        with connection.execute_wrapper(timer):
            response = send()
        spent[name] += time.perf_counter() - started
        timer.first_request = None
        assert response.status_code in (200, 201), (name, response.status_code, response.content)
        return response.json()

    for i in range(IN_PROCESS_SAMPLES):
        service = setup.services[i % len(setup.services)]
        timed("issue", lambda s=service: kiosk.post("/api/v1/tickets", {"service_type": s}))
    for _i in range(IN_PROCESS_SAMPLES):
        called = timed("call-next", lambda: staff.post(f"/api/v1/counters/{counter}/call-next"))
        ticket = called["ticket"]["id"]
        timed("start", lambda t=ticket: staff.post(f"/api/v1/tickets/{t}/start"))
        timed("complete", lambda t=ticket: staff.post(f"/api/v1/tickets/{t}/complete"))
    return {
        name: Profile(
            queries=timer.count / IN_PROCESS_SAMPLES,
            total_ms=spent[name] / IN_PROCESS_SAMPLES * 1000,
            db_ms=timer.seconds / IN_PROCESS_SAMPLES * 1000,
            slowest=timer.slowest(IN_PROCESS_SAMPLES),
            statements=first[name],
        )
        for name, timer in timers.items()
    }


def split_in_process(setup: Setup) -> list[tuple[str, float]]:
    """Where an issue and a call-next spend their time: the service alone, the queue position
    (no longer in the issue answer) and the answer, and the whole request (auth, permissions, serializers, sessions,
    middleware) through the test client. Mean ms of IN_PROCESS_SAMPLES calls each."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from reception.api import TicketSerializer, ticket_answer
    from reception.models import Counter, ServiceType, Ticket
    from reception.selectors import ticket_position
    from reception.services import (
        branch_is_open,
        ticket_call_next,
        ticket_complete,
        ticket_issue,
        ticket_start,
    )

    service = ServiceType.objects.select_related("branch").get(pk=setup.services[0])
    teller = get_user_model().objects.get(pk=setup.tellers[0])
    counter = Counter.objects.get(pk=setup.counters[0])
    kiosk = Client(HTTP_AUTHORIZATION=f"Api-Key {setup.api_key}")
    staff = Client()
    staff.force_login(teller)

    def mean_ms(call) -> float:
        call()
        started = time.perf_counter()
        for _i in range(IN_PROCESS_SAMPLES):
            call()
        return (time.perf_counter() - started) / IN_PROCESS_SAMPLES * 1000

    def call_serve_free():
        ticket = ticket_call_next(actor=teller, counter=counter)
        ticket_start(actor=teller, ticket=ticket)
        ticket_complete(actor=teller, ticket=ticket)

    def request_serve_free():
        called = staff.post(f"/api/v1/counters/{counter.pk}/call-next").json()["ticket"]
        ticket = ticket_start(actor=teller, ticket=Ticket.objects.get(pk=called["id"]))
        ticket_complete(actor=teller, ticket=ticket)

    waiting = ticket_issue(actor=None, service_type=service, source="api")
    parts = [
        ("GET /healthz (the floor: middleware, 2 queries, cache)", lambda: kiosk.get("/healthz")),
        (
            "ticket_issue() alone",
            lambda: ticket_issue(actor=None, service_type=service, source="api"),
        ),
        ("  of which branch_is_open()", lambda: branch_is_open(service.branch, timezone.now())),
        ("ticket_position() (status page, GET ticket)", lambda: ticket_position(waiting)),
        (
            "TicketSerializer(waiting ticket).data (GET ticket)",
            lambda: TicketSerializer(waiting).data,
        ),
        (
            "ticket_answer(ticket, position=False) (issue answer)",
            lambda: ticket_answer(waiting, position=False),
        ),
        (
            "POST /api/v1/tickets (whole request)",
            lambda: kiosk.post("/api/v1/tickets", {"service_type": service.pk}),
        ),
        ("ticket_call_next() + start() + complete() alone", call_serve_free),
        ("POST call-next (request) + start() + complete()", request_serve_free),
    ]
    return [(label, mean_ms(call)) for label, call in parts]


# --- gunicorn ----------------------------------------------------------------------------------


class Gunicorn:
    """gunicorn on a free 127.0.0.1 port, its output in a temporary file."""

    def __init__(
        self, env: dict[str, str], *, workers: int, threads: int, worker_class: str = "gthread"
    ):
        self.env = {**os.environ, **env}
        self.env.pop("DATABASE_POOL", None)  # the server uses Django's pool, as in production
        # Every thread may hold a connection: open them at start, not during the first phase.
        self.env["DATABASE_POOL_MIN"] = str(threads)
        self.env["DATABASE_POOL_MAX"] = str(max(threads, 10))
        self.workers, self.threads, self.worker_class = workers, threads, worker_class
        self.process = None
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log")  # noqa: SIM115

    def start(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bankservice.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--worker-class",
                self.worker_class,
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                httpx.get(f"{self.base_url}/healthz", timeout=1)
                self._warm_up()
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{Path(self.log.name).read_text()[-3000:]}")

    def _warm_up(self) -> None:
        # Every worker imports and connects on its first requests: not part of the figures.
        import httpx

        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            for _i in range(self.workers * self.threads * 2):
                client.get("/healthz")

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def pids(self) -> list[int]:
        if self.process is None:
            return []
        master = self.process.pid
        return [master, *children_of(master)]


# --- CPU accounting from /proc ------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def process_seconds(pid: int) -> float | None:
    """CPU seconds a process has used, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def machine_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / TICKS, total / TICKS


class CpuMeter:
    """CPU used during a phase by the load generator (this process), gunicorn, PostgreSQL and
    Redis, as a percentage of one core (200% = both cores of this machine)."""

    def __init__(self, gunicorn: Gunicorn):
        self.groups = {
            "clients": lambda: [os.getpid()],
            "gunicorn": gunicorn.pids,
            "postgres": lambda: pids_named("postgres"),
            "redis": lambda: pids_named("redis-server"),
        }

    def __enter__(self):
        self.before = {
            name: {pid: process_seconds(pid) for pid in find()}
            for name, find in self.groups.items()
        }
        self.clients_before = time.process_time()
        self.machine_before = machine_seconds()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.started
        used = {}
        for name, before in self.before.items():
            # Processes that ended meanwhile are left out (their time shows under "other").
            after = {pid: process_seconds(pid) for pid in before}
            used[name] = sum(
                after[pid] - seconds
                for pid, seconds in before.items()
                if seconds is not None and after[pid] is not None
            )
        used["clients"] = time.process_time() - self.clients_before
        busy, total = (a - b for a, b in zip(machine_seconds(), self.machine_before, strict=True))
        used["other"] = max(busy - sum(used.values()), 0.0)
        used["idle"] = max(total - busy, 0.0)
        self.share = {name: seconds / wall * 100 for name, seconds in used.items()}

    def line(self) -> str:
        return ", ".join(f"{name} {share:.0f}%" for name, share in self.share.items())


# --- Load generator ------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    first_error: str = ""
    queue_emptied: bool = False

    def add(self, op: str, seconds: float) -> None:
        self.latencies.setdefault(op, []).append(seconds * 1000)

    def fail(self, op: str, response) -> None:
        self.errors += 1
        if not self.first_error:
            self.first_error = f"{op}: {response.status_code} {response.text[:200]}"


def run_clients(workers, seconds: float) -> tuple[list[Tally], float]:
    """Run the worker callables (each takes the deadline) in threads started together."""
    gate = threading.Barrier(len(workers) + 1)
    tallies = [Tally() for _w in workers]
    deadline = [0.0]

    def run(i, worker):
        gate.wait()
        try:
            worker(started, deadline[0], tallies[i])
        except Exception as exc:
            tallies[i].errors += 1
            tallies[i].first_error = tallies[i].first_error or repr(exc)

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()  # read by the threads only after the gate
    deadline[0] = started + seconds
    gate.wait()
    for thread in threads:
        thread.join()
    return tallies, time.perf_counter() - started


class Answer:
    def __init__(self, status_code: int, content: bytes):
        self.status_code, self.content = status_code, content

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self):
        return json.loads(self.content)


class LeanClient:
    """One keep-alive HTTP/1.1 connection with http.client: the load generator shares the two
    cores with the server, and httpx costs it about twice the CPU per request."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = headers or {}

    def request(self, method: str, path: str, body=None) -> Answer:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        return Answer(response.status, response.read())

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, body=None) -> Answer:
        return self.request("POST", path, body)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.connection.close()


def issuer(base_url: str, api_key: str, services: list[int], offset: int):
    def work(_started: float, deadline: float, tally: Tally) -> None:
        headers = {"Authorization": f"Api-Key {api_key}"}
        with LeanClient(base_url, headers) as client:
            for i in range(MAX_REQUESTS_PER_CLIENT):
                if time.perf_counter() >= deadline:
                    break
                body = {"service_type": services[(offset + i) % len(services)]}
                started = time.perf_counter()
                response = client.post("/api/v1/tickets", body)
                if response.status_code == 201:
                    tally.add("issue", time.perf_counter() - started)
                else:
                    tally.fail("issue", response)

    return work


def prober(base_url: str):
    """GET /healthz (two queries and a cache round trip): what this machine does per request
    before any reception code runs."""

    def work(_started: float, deadline: float, tally: Tally) -> None:
        with LeanClient(base_url) as client:
            for _i in range(MAX_REQUESTS_PER_CLIENT):
                if time.perf_counter() >= deadline:
                    break
                started = time.perf_counter()
                response = client.get("/healthz")
                if response.status_code == 200:
                    tally.add("healthz", time.perf_counter() - started)
                else:
                    tally.fail("healthz", response)

    return work


def teller(base_url: str, counter: int, session_key: str, pace: float = 0.0, offset: float = 0.0):
    """A teller calling, starting and completing tickets at their counter: back to back, or
    (pace > 0) one cycle every `pace` seconds from `offset` on, as people would."""

    def work(started: float, deadline: float, tally: Tally) -> None:
        # As a browser would send them: the session cookie, and the CSRF cookie echoed in the
        # X-CSRFToken header (DRF's SessionAuthentication checks CSRF on every POST).
        csrf = "".join(secrets.choice(CSRF_ALPHABET) for _i in range(32))
        headers = {"Cookie": f"sessionid={session_key}; csrftoken={csrf}", "X-CSRFToken": csrf}
        with LeanClient(base_url, headers) as client:

            def step(op: str, path: str):
                started = time.perf_counter()
                response = client.post(path)
                if response.status_code != 200:
                    tally.fail(op, response)
                    return None
                tally.add(op, time.perf_counter() - started)
                return response.json()

            for i in range(MAX_REQUESTS_PER_CLIENT // 3):
                if pace:
                    time.sleep(max(started + offset + i * pace - time.perf_counter(), 0))
                if time.perf_counter() >= deadline:
                    break
                cycle_started = time.perf_counter()
                called = step("call-next", f"/api/v1/counters/{counter}/call-next")
                if called is None:
                    break
                if called["ticket"] is None:
                    tally.queue_emptied = True
                    break
                ticket = called["ticket"]["id"]
                if step("start", f"/api/v1/tickets/{ticket}/start") is None:
                    break
                if step("complete", f"/api/v1/tickets/{ticket}/complete") is None:
                    break
                tally.add("cycle", time.perf_counter() - cycle_started)

    return work


@dataclass
class Row:
    history: str
    op: str
    clients: int
    count: int
    rate: float
    p50: float
    p99: float
    errors: int
    waiting: int


def waiting_count() -> int:
    from reception.models import Ticket, TicketStatus

    return Ticket.objects.filter(status=TicketStatus.WAITING).count()


def trim_queue(keep: int) -> None:
    """Close all but the `keep` oldest waiting tickets, as the end-of-day task would."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE reception_ticket SET status = 'unserved', finished_at = now()
            WHERE id IN (
                SELECT id FROM reception_ticket WHERE status = 'waiting'
                ORDER BY priority_at, id OFFSET %s
            )
            """,
            [keep],
        )


def run_round(history, setup, gunicorn, seconds, rows, cpu_notes, *, baseline=False) -> None:
    base = gunicorn.base_url
    phases = []
    if baseline:
        phases.append(("healthz", 8, seconds / 2, [prober(base) for _i in range(8)]))
    for clients in (8, 32):
        workers = [issuer(base, setup.api_key, setup.services, i) for i in range(clients)]
        phases.append(("issue", clients, seconds, workers))
    for clients in (8, 32):
        workers = [teller(base, setup.counters[i], setup.sessions[i]) for i in range(clients)]
        phases.append(("serve", clients, seconds, workers))
    workers = [
        teller(base, setup.counters[i], setup.sessions[i], PACE, i * PACE / TELLERS)
        for i in range(TELLERS)
    ]
    phases.append(("paced", TELLERS, PACED_SECONDS, workers))
    for kind, clients, duration, workers in phases:
        if kind in ("serve", "paced"):
            trim_queue(QUEUE_FOR_TELLERS)
        waiting = waiting_count()
        with CpuMeter(gunicorn) as meter:
            tallies, wall = run_clients(workers, duration)
        errors = sum(t.errors for t in tallies)
        first_error = next((t.first_error for t in tallies if t.first_error), "")
        ops = {
            "healthz": ["healthz"],
            "issue": ["issue"],
            "serve": ["call-next", "start", "complete", "cycle"],
            "paced": ["call-next", "start", "complete", "cycle"],
        }[kind]
        for op in ops:
            samples = sorted(x for t in tallies for x in t.latencies.get(op, []))
            rows.append(
                Row(
                    history=history,
                    op=f"{op} (paced)" if kind == "paced" else op,
                    clients=clients,
                    count=len(samples),
                    rate=len(samples) / wall,
                    p50=quantile(samples, 0.50),
                    p99=quantile(samples, 0.99),
                    errors=errors if op == ops[0] else 0,
                    waiting=waiting if op == ops[0] else -1,
                )
            )
        emptied = " (queue emptied)" if any(t.queue_emptied for t in tallies) else ""
        note = f"{history:>14} {kind} ×{clients}: {meter.line()}{emptied}"
        if first_error:
            note += f"\n{'':>15} first error: {first_error}"
        cpu_notes.append(note)


def quantile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[round(q * 100) - 1]


def report(args, setup, rows, cpu_notes, profile, split, inserted, commits) -> None:
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; gunicorn "
        f"{args.workers} workers × {args.threads} threads ({args.worker_class}, Django's pool on); "
        f"clients: threads with http.client in this process; {args.seconds:g} s per phase"
    )
    print(f"migrate: {setup.migrate_seconds:.1f} s; {inserted}")
    print(commits)
    print()
    header = (
        f"{'history':>14} {'request':<18} {'clients':>7} {'requests':>9} {'rate/s':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'waiting':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        waiting = f"{row.waiting:>8,}" if row.waiting >= 0 else ""
        errors = f"{row.errors:>6}" if row.waiting >= 0 else ""
        print(
            f"{row.history:>14} {row.op:<18} {row.clients:>7} {row.count:>9,} {row.rate:>8.0f} "
            f"{row.p50:>7.1f} {row.p99:>7.1f} {errors:>6} {waiting}"
        )
    print(
        "\n(cycle = call-next + start + complete by one teller; its rate is tickets served per "
        "second. Back to back, the tellers saturate the server and the latencies are mostly "
        f"queueing; paced, each teller starts a cycle every {PACE:g} s for {PACED_SECONDS:g} s, "
        "and call-next, the first request after the pause, includes a commit after a pause. "
        "waiting = tickets waiting when the phase began)"
    )
    print("\nCPU during each phase, % of one core (200% = the whole machine):")
    for note in cpu_notes:
        print(note)
    print(
        f"\nIn-process, Django's test client (no HTTP), mean of {IN_PROCESS_SAMPLES} requests "
        "each: statements, time in Django, of which in PostgreSQL; the costliest statement:"
    )
    for history, kinds in profile.items():
        for name, p in kinds.items():
            print(
                f"{history:>14} {name:<10} {p.queries:>4.0f} queries {p.total_ms:>6.2f} ms, "
                f"PostgreSQL {p.db_ms:>6.2f} ms"
            )
            print(f"{'':>25} {p.slowest}")
            if args.show_sql:
                for statement in p.statements:
                    print(f"{'':>27}{statement[:160]}")
    print(f"\nIn-process, where the time goes (mean ms of {IN_PROCESS_SAMPLES} calls):")
    histories = list(split)
    print(f"{'':<56}" + "".join(f"{h:>16}" for h in histories))
    for i, (label, _ms) in enumerate(split[histories[0]]):
        print(f"{label:<56}" + "".join(f"{split[h][i][1]:>16.2f}" for h in histories))


if __name__ == "__main__":
    sys.exit(main())
