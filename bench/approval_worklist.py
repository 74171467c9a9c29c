"""The approval worklist with 100,000 pending requests.

Writes the requests (waiting for the first approval level, each with its open SLA deadline,
spread over ten branches of one region and over the coming days) into a scratch database (SQLite
in a temp dir by default; with DATABASE_URL set to PostgreSQL it creates and drops a database
named bench_worklist), then asks for the worklist as a regional approver who sees all of them and
as a branch approver who sees a tenth: the staff page (first and a deep page) and the API list.
Prints p50/p95/max latency and the queries each request ran.

    .venv/bin/python bench/approval_worklist.py [--requests 100000] [--repeat 50]
"""

import argparse
import datetime as dt
import random
import time

from _scratch import percentiles, scratch_database

SCRATCH_DB = "bench_worklist"
BRANCHES = 10
BATCH = 5000


def build(count: int, rng: random.Random):
    """The region, its branches, the makers and approvers, and `count` submitted requests."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from bankservice.branches.models import Role
    from bankservice.branches.services import membership_grant
    from bankservice.sla.models import Deadline
    from tests.factories import BranchFactory, CustomerFactory, RegionFactory, UserFactory
    from transactions import demo
    from transactions.models import RequestStatus, RequestTypeVersion, ServiceRequest

    region = RegionFactory(code="bench")
    branches = [BranchFactory(code=f"b{n:02d}", region=region) for n in range(BRANCHES)]
    makers = []
    for branch in branches:
        maker = UserFactory(username=f"teller-{branch.code}")
        membership_grant(user=maker, role=Role.TELLER, branch=branch)
        makers.append(maker)
    regional = UserFactory(username="approver-region")
    membership_grant(user=regional, role=Role.APPROVER, region=region)
    local = UserFactory(username="approver-b00")
    membership_grant(user=local, role=Role.APPROVER, branch=branches[0])
    customers = [CustomerFactory(home_branch=rng.choice(branches)) for _ in range(500)]
    for definition in demo.REQUEST_TYPES:
        demo.request_type_install(definition)
    versions = list(
        RequestTypeVersion.objects.filter(is_current=True).select_related("request_type")
    )
    subject_type = ContentType.objects.get_for_model(ServiceRequest)

    now = timezone.now()
    start = time.perf_counter()
    for first in range(0, count, BATCH):
        n = min(BATCH, count - first)
        with transaction.atomic():
            rows = []
            for i in range(first, first + n):
                version = rng.choice(versions)
                at = i % BRANCHES
                due = now + dt.timedelta(minutes=rng.randint(-600, 7 * 24 * 60))
                rows.append(
                    ServiceRequest(
                        reference=f"SRB{i:09d}",
                        branch=branches[at],
                        customer=rng.choice(customers),
                        request_type=version.request_type,
                        version=version,
                        data={"full_name": "bench"},
                        status=RequestStatus.SUBMITTED,
                        maker=makers[at],
                        approval_levels=["approver"],
                        current_level=1,
                        round=1,
                        submitted_at=now,
                        due_at=due,
                    )
                )
            made = ServiceRequest.objects.bulk_create(rows)
            Deadline.objects.bulk_create(
                Deadline(
                    subject_type=subject_type,
                    subject_id=str(sr.pk),
                    kind="transactions.decision",
                    policy=sr.version.sla_policy,
                    clock="business_hours",
                    branch=sr.branch,
                    started_at=sr.due_at - dt.timedelta(hours=8),
                    due_at=sr.due_at,
                    warn_at=sr.due_at - dt.timedelta(hours=1),
                )
                for sr in made
            )
        print(f"\r  requests {first + n:,}/{count:,}", end="", flush=True)
    print(f"\r  {count:,} pending requests written in {time.perf_counter() - start:.1f} s")
    return regional, local


def measure(client, url: str, params: dict, repeat: int) -> tuple[str, int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params)  # warm: session, content types
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return "", len(captured.captured_queries), f"HTTP {response.status_code}"
    return percentiles(times), len(captured.captured_queries), ""


def run(args) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    from django.core.management import call_command
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    regional, local = build(args.requests, random.Random(7))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a settled table

    deep_page = args.requests // BRANCHES // 25 // 2
    print(f"{'GET (approver)':44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} queries")
    for who, user in (("regional, all", regional), ("branch, a tenth", local)):
        client = Client()
        client.force_login(user)
        for label, url, params in (
            ("worklist page 1", "/transactions/", {"list": "approve"}),
            (
                f"worklist page {deep_page}",
                "/transactions/",
                {"list": "approve", "page": deep_page},
            ),
            ("API list", "/api/v1/requests", {"status": "submitted"}),
        ):
            times, queries, problem = measure(client, url, params, args.repeat)
            print(f"  {who + ': ' + label:42} {problem or times} {queries:7}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with scratch_database(SCRATCH_DB):
        run(args)


if __name__ == "__main__":
    main()
