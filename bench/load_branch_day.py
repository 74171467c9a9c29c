"""Load: a busy branch day against a real server (gunicorn), driven by locust.

Creates a scratch database (PostgreSQL `bench_load` on the server of DATABASE_URL when it is set,
SQLite in a temporary directory otherwise), migrates it and seeds one branch open all day every
day: two services, a counter per teller, staff of every front-office role (each with a session as
the login form would leave it), 200 customers, a service-request type without documents (one
approval level), 20 submitted requests whose progress pages customers look at, and an API key for a
reading client. It starts gunicorn (BENCH_LOAD_WORKERS × 4 threads, 2 by default) on a free
127.0.0.1 port against that database with production settings (Redis too when REDIS_URL is set;
API rate limits off: the load comes from one address), then runs locust headless in a subprocess
(this file is also the locustfile) with BENCH_LOAD_USERS simulated users (20) for
BENCH_LOAD_SECONDS (30), spread over:

- greeters issuing tickets (POST /api/v1/tickets);
- tellers at their own counter: call-next, start, complete; now and then drafting and
  submitting a service request for a customer;
- advisors: start a phone consultation, note it (with its version), close it;
- approvers approving the submitted requests (or reading their worklist when none is
  waiting); back-office processors reading the worklist and a request;
- customers on the public pages: a ticket's status page, a request's progress page;
- an API client (API key) reading tickets, customers and requests.

Prints throughput, latency p50/p95/p99 per request kind and the errors; exits 1 on any error.
Latencies include queueing on this 2-core machine shared with the load generator.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/3 \
        BENCH_LOAD_USERS=20 BENCH_LOAD_SECONDS=30 .venv/bin/python bench/load_branch_day.py
"""

import csv
import datetime as dt
import itertools
import json
import os
import random
import secrets
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = os.environ.get("BENCH_LOAD_DB", "bench_load")
USERS = int(os.environ.get("BENCH_LOAD_USERS", "20"))
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "30"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "2"))
START_SECONDS = 180
PLAN_ENV = "BENCH_LOAD_PLAN"  # set for the locust subprocess: the seeded identities (JSON)
CUSTOMERS = 200
PROGRESS_PAGES = 20
CSRF_ALPHABET = string.ascii_letters + string.digits
REQUEST_TYPE = "bench_change"


def main() -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from _scratch import scratch_database

    with scratch_database(SCRATCH_DB), tempfile.TemporaryDirectory() as scratch:
        env = {
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "CACHE_KEY_PREFIX": f"bench-load-{os.getpid()}",
            "LANGUAGE_CODE": "en",
            "API_RATE_CLIENT": "",
            "API_RATE_USER": "",
            "API_RATE_ANON": "",
        }
        os.environ.update(env)
        os.environ["DATABASE_POOL"] = "false"  # this process: one connection
        import django

        django.setup()
        started = time.monotonic()
        plan = seed(USERS)
        print(f"seeded in {time.monotonic() - started:.0f} s", file=sys.stderr)
        plan_path = Path(scratch) / "plan.json"
        plan_path.write_text(json.dumps(plan))
        from django.db import connections

        connections.close_all()
        gunicorn = Server(env)
        try:
            gunicorn.start()
            prefix = Path(scratch) / "locust"
            subprocess.run(  # noqa: S603 - our own interpreter and arguments
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    __file__,
                    "--headless",
                    "--users",
                    str(USERS),
                    "--spawn-rate",
                    str(USERS),
                    "--run-time",
                    f"{SECONDS}s",
                    "--host",
                    gunicorn.base_url,
                    "--csv",
                    str(prefix),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                    "--stop-timeout",
                    "10",
                ],
                cwd=ROOT,
                env={**os.environ, PLAN_ENV: str(plan_path)},
                check=False,
                stdout=subprocess.DEVNULL,
            )
        finally:
            server_log = gunicorn.stop()
        return report(prefix, server_log)


class Server:
    """gunicorn on a free 127.0.0.1 port (Django's pool on PostgreSQL, as in production), given
    a few minutes to come up on a busy machine; its output kept for the report."""

    def __init__(self, env: dict[str, str]):
        self.env = {**os.environ, **env, "DATABASE_POOL_MIN": "4"}
        self.env.pop("DATABASE_POOL", None)
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log")  # noqa: SIM115
        self.process = None

    def start(self) -> None:
        import httpx

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                *(sys.executable, "-m", "gunicorn", "bankservice.wsgi"),
                *("--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--threads", "4"),
                *("--keep-alive", "30", "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with httpx.Client(base_url=self.base_url, timeout=30) as client:
                    # Every worker imports and connects on its first requests: not measured.
                    for _i in range(WORKERS * 8):
                        client.get("/healthz").raise_for_status()
                return
            except httpx.TransportError:
                time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not start:\n{self.stop()[-3000:]}")

    def stop(self) -> str:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return Path(self.log.name).read_text()


def seed(users: int) -> dict:
    """The branch, its staff (`users` of each role, so every simulated user has its own), the
    customers, the request type and draft requests; returns what the simulated users need."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from reception_queue import wait_past_closing

    from bankservice.branches.models import Branch, BusinessCalendar, OpeningHours, Region, Role
    from bankservice.branches.services import membership_grant
    from bankservice.core.services import apiclient_create
    from reception.models import Counter, CounterService, ServiceType
    from reception.services import counter_sign_in
    from tests.factories import CustomerFactory
    from transactions import demo
    from transactions.services import request_create, request_submit

    call_command("migrate", verbosity=0)
    # The public pages need the static manifest, as in production (`make run` does the same).
    call_command("collectstatic", interactive=False, verbosity=0)
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
            code=code,
            name_zh=name,
            name_en=name,
            prefix=prefix,
            expected_service_minutes=6,
        )
        for code, name, prefix in (("cash", "Cash", "A"), ("accounts", "Accounts", "B"))
    ]
    User = get_user_model()

    def staff(role: str) -> list:
        people = []
        for number in range(1, users + 1):
            user = User.objects.create_user(username=f"bench-{role}-{number}")  # no password
            membership_grant(user=user, role=role, branch=branch)
            people.append(user)
        return people

    def session(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    tellers, teller_users = [], staff(Role.TELLER)
    for number, teller in enumerate(teller_users, start=1):
        counter = Counter.objects.create(branch=branch, number=number)
        CounterService.objects.bulk_create(
            CounterService(counter=counter, service_type=service, preference=1)
            for service in services
        )
        counter_sign_in(actor=teller, counter=counter)
        tellers.append([session(teller), counter.pk])
    customers = CustomerFactory.create_batch(CUSTOMERS, home_branch=branch)
    request_type = demo.request_type_install(
        {**demo.CHANGE_CONTACT, "code": REQUEST_TYPE, "documents": []}
    )
    # Submitted (a draft has no public page), waiting for approval.
    submitted = [
        request_submit(
            actor=teller_users[0],
            request=request_create(
                actor=teller_users[0],
                customer=customer,
                request_type=request_type,
                branch=branch,
                data={"effective_date": "2026-12-31"},
            ),
        )
        for customer in customers[:PROGRESS_PAGES]
    ]
    _client, api_key = apiclient_create(
        name="bench-reader",
        scopes=["reception:read", "customers:read", "transactions:read"],
        all_branches=True,
    )
    return {
        "branch": branch.code,
        "services": [s.pk for s in services],
        "greeters": [session(u) for u in staff(Role.GREETER)],
        "tellers": tellers,
        "advisors": [session(u) for u in staff(Role.ADVISOR)],
        "processors": [session(u) for u in staff(Role.PROCESSOR)],
        "approvers": [session(u) for u in staff(Role.APPROVER)],
        "customers": [c.pk for c in customers],
        "progress": [f"/r/{r.public_token}/" for r in submitted],
        "submitted": [r.pk for r in submitted],
        "api_key": api_key,
    }


def report(prefix: Path, server_log: str) -> int:
    """The locust figures as a table; 1 if any request failed."""
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        print("load_branch_day: locust produced no figures")
        return 1
    with stats_file.open() as handle:
        rows = list(csv.DictReader(handle))
    print(
        f"load_branch_day: {USERS} users for {SECONDS} s, gunicorn {WORKERS}×4 threads, "
        f"{os.environ['DATABASE_URL'].split(':')[0] or 'sqlite'}"
    )
    print(f"{'request':48} {'count':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}")
    for row in rows:
        name = "all requests" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        print(
            f"{name:48} {row['Request Count']:>7} {row['Failure Count']:>5} "
            f"{float(row['Requests/s']):7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )
    print("(latencies in ms)")
    total = next(r for r in rows if r["Name"] == "Aggregated")
    failed = int(total["Failure Count"])
    with Path(f"{prefix}_failures.csv").open() as handle:
        for row in csv.DictReader(handle):
            print(f"error: {row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}")
    server_errors = [line for line in server_log.splitlines() if "Traceback" in line]
    if server_errors:
        print(f"error: the server logged {len(server_errors)} tracebacks:\n{server_log[-3000:]}")
    return 1 if failed or server_errors or not int(total["Request Count"]) else 0


if __name__ == "__main__":
    sys.exit(main())

elif os.environ.get(PLAN_ENV):  # imported by locust in the subprocess: the simulated users
    from locust import HttpUser, between, task

    PLAN = json.loads(Path(os.environ[PLAN_ENV]).read_text())
    IDENTITIES = {
        role: itertools.cycle(PLAN[role]) for role in PLAN if isinstance(PLAN[role], list)
    }
    STATUS_PAGES = deque(maxlen=200)  # tickets issued so far: their customers check them
    SUBMITTED = deque()  # requests waiting for an approver

    class Staff(HttpUser):
        """A member of staff with a session, sending the CSRF cookie and header as a browser."""

        abstract = True
        role = ""
        wait_time = between(0.5, 2)

        def on_start(self):
            self.identity = next(IDENTITIES[self.role])
            session = self.identity[0] if isinstance(self.identity, list) else self.identity
            csrf = "".join(secrets.choice(CSRF_ALPHABET) for _i in range(32))
            self.client.headers.update(
                {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}
            )

        def post(self, path: str, body=None, *, name: str):
            with self.client.post(path, json=body or {}, name=name, catch_response=True) as r:
                if r.status_code not in (200, 201):
                    r.failure(f"{r.status_code}: {r.text[:200]}")
                    return None
                return r.json()

    class Greeter(Staff):
        role = "greeters"
        weight = 2

        @task
        def issue(self):
            ticket = self.post(
                "/api/v1/tickets",
                {"service_type": random.choice(PLAN["services"])},
                name="/api/v1/tickets (issue)",
            )
            if ticket:
                STATUS_PAGES.append(ticket["status_url"])

    class Teller(Staff):
        role = "tellers"
        weight = 3

        @task(3)
        def serve_next(self):
            counter = self.identity[1]
            called = self.post(
                f"/api/v1/counters/{counter}/call-next", name="/api/v1/counters/{id}/call-next"
            )
            if not called or not called["ticket"]:
                return
            ticket = called["ticket"]["id"]
            if self.post(f"/api/v1/tickets/{ticket}/start", name="/api/v1/tickets/{id}/start"):
                self.post(
                    f"/api/v1/tickets/{ticket}/complete",
                    {"outcome": "done"},
                    name="/api/v1/tickets/{id}/complete",
                )

        @task(1)
        def draft_and_submit(self):
            draft = self.post(
                "/api/v1/requests",
                {
                    "customer": random.choice(PLAN["customers"]),
                    "request_type": REQUEST_TYPE,
                    "branch": PLAN["branch"],
                    "data": {"effective_date": dt.datetime.now(dt.UTC).date().isoformat()},
                },
                name="/api/v1/requests (draft)",
            )
            if draft and self.post(
                f"/api/v1/requests/{draft['id']}/submit", name="/api/v1/requests/{id}/submit"
            ):
                SUBMITTED.append(draft["id"])

    class Advisor(Staff):
        role = "advisors"
        weight = 1

        @task
        def consult(self):
            started = self.post(
                "/api/v1/consultations",
                {
                    "channel": "phone",
                    "branch": PLAN["branch"],
                    "contact_name": "Bench caller",
                    "question": "Deposit rates?",
                },
                name="/api/v1/consultations (start)",
            )
            if not started:
                return
            path = f"/api/v1/consultations/{started['id']}"
            with self.client.patch(
                path,
                json={"notes": "Quoted the 3-year rate.", "version": started["version"]},
                name="/api/v1/consultations/{id} (note)",
                catch_response=True,
            ) as noted:
                if noted.status_code != 200:
                    noted.failure(f"{noted.status_code}: {noted.text[:200]}")
                    return
            self.post(
                f"{path}/close", {"outcome": "answered"}, name="/api/v1/consultations/{id}/close"
            )

    class Approver(Staff):
        role = "approvers"
        weight = 1

        @task
        def approve(self):
            try:
                waiting = SUBMITTED.popleft()
            except IndexError:
                self.client.get(
                    "/api/v1/requests?status=submitted", name="/api/v1/requests (worklist)"
                )
                return
            self.post(
                f"/api/v1/requests/{waiting}/approve",
                {"note": "Checked."},
                name="/api/v1/requests/{id}/approve",
            )

    class Processor(Staff):
        """The back office: reads the requests waiting and opens one."""

        role = "processors"
        weight = 1

        @task
        def review(self):
            self.client.get("/api/v1/requests?status=submitted", name="/api/v1/requests (worklist)")
            waiting = random.choice(list(SUBMITTED) or PLAN["submitted"])
            self.client.get(f"/api/v1/requests/{waiting}", name="/api/v1/requests/{id} (read)")

    class Customer(HttpUser):
        """A customer on the public pages: no login."""

        weight = 3
        wait_time = between(1, 3)

        @task(3)
        def ticket_status(self):
            if STATUS_PAGES:
                self.client.get(random.choice(STATUS_PAGES), name="/t/{token}/ (ticket status)")

        @task(1)
        def request_progress(self):
            page = random.choice(PLAN["progress"])
            with self.client.get(
                page, name="/r/{token}/ (request progress)", catch_response=True
            ) as r:
                # Every simulated customer shares one address here: past the page's limit per
                # address (60 per 10 minutes) the 429 is the limit working, not an error.
                if r.status_code == 429:
                    r.success()

    class ApiReader(HttpUser):
        """Another system reading through the API with its key."""

        weight = 1
        wait_time = between(0.5, 2)

        def on_start(self):
            self.client.headers["Authorization"] = f"Api-Key {PLAN['api_key']}"

        @task
        def read(self):
            self.client.get("/api/v1/tickets?status=waiting", name="/api/v1/tickets (read)")
            self.client.get(
                f"/api/v1/customers/{random.choice(PLAN['customers'])}",
                name="/api/v1/customers/{id} (read)",
            )
            self.client.get("/api/v1/requests", name="/api/v1/requests (read)")
