"""Customer search and API list on a large customer table.

Prints per-request latency (median and p90 over repeated requests, in-process through Django's
test client, so no network) for the staff search page and the API list, with 100,000 customers.
Uses a scratch database: SQLite in a temp dir by default; with DATABASE_URL set to PostgreSQL it
creates and drops a database named bench_customers on that server.

    .venv/bin/python bench/customer_search.py [--customers 100000]
"""

import argparse
import random
import statistics
import time

from _scratch import scratch_database


def timed(fn, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with scratch_database("bench_customers"):
        run(args)


def run(args) -> None:
    import django

    django.setup()
    from django.conf import settings

    # Pages link static files; the manifest storage would need collectstatic first.
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from bankservice.branches.models import Role
    from bankservice.branches.services import membership_grant
    from bankservice.customers.models import Customer
    from tests.factories import BranchFactory, RegionFactory, UserFactory, make_resident_id

    setup_test_environment()
    # Keep one connection for the whole run, as the pool or CONN_MAX_AGE would in production.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    region = RegionFactory(code="bench")
    branches = [BranchFactory(code=f"bench{i}", region=region) for i in range(10)]
    rng = random.Random(7)
    start = time.perf_counter()
    batch = []
    for n in range(args.customers):
        batch.append(
            Customer(
                full_name=f"客户{n:06d}",
                national_id=make_resident_id(rng) if n % 7 else None,
                phone=f"+86139{n:08d}",
                core_banking_id=f"B{n:09d}",
                home_branch=branches[n % len(branches)],
            )
        )
        if len(batch) == 5000:
            Customer.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Customer.objects.bulk_create(batch, ignore_conflicts=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    total = Customer.objects.count()
    print(
        f"database: {connection.vendor}; customers: {total:,} in {len(branches)} branches "
        f"(loaded in {time.perf_counter() - start:.1f} s)"
    )

    teller = UserFactory(username="bench-teller")
    membership_grant(user=teller, role=Role.TELLER, branch=branches[0])
    hq = UserFactory(username="bench-hq")
    membership_grant(user=hq, role=Role.HQ_MANAGER)
    some = Customer.objects.filter(home_branch=branches[0], national_id__isnull=False).first()

    cases = [
        ("teller: API list, page 1", teller, "/api/v1/customers", {}),
        ("teller: search by name", teller, "/customers/", {"q": some.full_name}),
        ("teller: search by phone tail", teller, "/customers/", {"q": some.phone[-4:]}),
        ("teller: search by full ID number", teller, "/customers/", {"q": some.national_id}),
        ("teller: search by core-banking ID", teller, "/customers/", {"q": some.core_banking_id}),
        ("head office: API list, page 1", hq, "/api/v1/customers", {}),
        ("head office: search by name", hq, "/customers/", {"q": some.full_name}),
    ]
    print(f"{'request':40} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
    for label, user, url, params in cases:
        client = Client()
        client.force_login(user)

        def request(client=client, url=url, params=params):
            response = client.get(url, params)
            assert response.status_code == 200, response.status_code

        request()  # warm up
        with CaptureQueriesContext(connection) as queries:
            request()
        query_count = len(queries)  # read now: the next request resets the log
        median, p90 = timed(request, args.repeat)
        print(f"{label:40} {median:10.1f} {p90:8.1f} {query_count:8d}")


if __name__ == "__main__":
    main()
