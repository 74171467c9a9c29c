"""Benchmark: one deadline sweep over 1,000,000 open deadlines of which 1,000 are due, and the
cost of recording a domain event.

Needs DATABASE_URL pointing at a PostgreSQL server. The script creates its own scratch database
(bench_sla_<pid>) on that server, migrates it, fills it, measures, and drops it at the end; it
never touches the tables of the database named in DATABASE_URL. Prints:

- the time to insert the rows and ANALYZE;
- EXPLAIN ANALYZE of the sweep's two SELECT … FOR UPDATE SKIP LOCKED queries (index scans on the
  partial indexes deadline_due_open_idx / deadline_warn_open_idx);
- the sweep's wall time and rows per second (breach, event, handler per row), and an idle sweep;
- record() in µs per call, alone in its transaction and inside a larger one;
- deadline_start() in µs per call (business-hours policy, clock arithmetic included).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/sla_sweep.py
"""

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROWS = int(os.environ.get("BENCH_SLA_ROWS", "1000000"))
DUE = int(os.environ.get("BENCH_SLA_DUE", "1000"))
RECORD_CALLS = 2000
START_CALLS = 500


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("sla_sweep: skipped, set DATABASE_URL to a PostgreSQL server")
        return 0
    import psycopg

    scratch = f"bench_sla_{os.getpid()}"
    server = psycopg.connect(url, autocommit=True)
    server.execute(f'CREATE DATABASE "{scratch}"')
    try:
        parts = urlsplit(url)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{scratch}"))
        os.environ["DATABASE_POOL"] = "false"  # one connection, kept open (CONN_MAX_AGE)
        os.environ["DEBUG"] = "false"  # DEBUG would keep every query in memory
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
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from bankservice.branches.models import Branch, BusinessCalendar, OpeningHours, Region
    from bankservice.customers.models import Customer
    from bankservice.events.services import record
    from bankservice.sla.models import Deadline
    from bankservice.sla.policies import DeadlinePolicy, register_handler, register_policy
    from bankservice.sla.services import (
        _due_for_breach,
        _due_for_warning,
        deadline_start,
        deadline_sweep,
    )

    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other work "
        "on the machine inflates every figure below)"
    )
    started = time.perf_counter()
    # Only what the deadlines and the event log need (and their dependencies).
    call_command("migrate", "sla", verbosity=0)
    call_command("migrate", "events", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")

    calendar = BusinessCalendar.objects.create(
        code="cn", name="Mainland China", weekend_days=[6, 7]
    )
    branch = Branch.objects.create(
        code="bench",
        name="Bench",
        region=Region.objects.create(code="r", name="R"),
        calendar=calendar,
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(branch=branch, weekday=d, opens_at="09:00", closes_at="17:00")
        for d in range(1, 6)
    )
    subject_type = ContentType.objects.get_for_model(Customer)
    now = timezone.now()

    started = time.perf_counter()
    with connection.cursor() as cursor:
        # One server-side bulk insert: rows 1..DUE fell due in the last minutes, the rest fall due
        # over the coming days, with warnings half-way to their due time (none due now).
        cursor.execute(
            """
            INSERT INTO sla_deadline (
                subject_type_id, subject_id, kind, policy, clock, branch_id, state,
                started_at, due_at, warn_at, paused_total, extended_count, handler_failures,
                last_error)
            SELECT %(ct)s, g::text, 'bench.reply', 'bench.reply', 'business_hours', %(branch)s,
                   'open', %(now)s - interval '1 day',
                   CASE WHEN g <= %(due)s THEN %(now)s - make_interval(secs => g)
                        ELSE %(now)s + make_interval(secs => g) END,
                   CASE WHEN g <= %(due)s THEN %(now)s - interval '2 hours'
                        ELSE %(now)s + make_interval(secs => g / 2.0) END,
                   interval '0', 0, 0, ''
            FROM generate_series(1, %(rows)s) AS g
            """,
            {"ct": subject_type.pk, "branch": branch.pk, "now": now, "due": DUE, "rows": ROWS},
        )
        inserted = time.perf_counter() - started
        cursor.execute("ANALYZE sla_deadline")
    print(
        f"insert {ROWS:,} open deadlines ({DUE:,} due): {inserted:.1f} s, ANALYZE included: "
        f"{time.perf_counter() - started:.1f} s"
    )

    for label, queryset in (
        ("breach", _due_for_breach(now)),
        ("warning", _due_for_warning(now)),
    ):
        with transaction.atomic():
            sql, params = queryset[:500].query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)  # EXPLAIN ANALYZE took the row locks; let them go
        print(f"\nEXPLAIN ANALYZE, {label} select (LIMIT 500):")
        print("\n".join(f"    {line}" for line in plan))

    register_policy(DeadlinePolicy(name="bench.reply", business_hours=8, warn_before=0.25))
    handled = []
    register_handler("bench.reply", on_breach=lambda deadline: handled.append(deadline.pk))

    timer = QueryTimer()
    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        result = deadline_sweep(now=now)
    elapsed = time.perf_counter() - started
    assert result.breached == DUE == len(handled), result
    assert Deadline.objects.filter(state="breached").count() == DUE
    print(
        f"\nsweep: {result.breached:,} breached of {ROWS:,} open in {elapsed * 1000:.0f} ms "
        f"= {result.breached / elapsed:,.0f} rows/s ({result.batches} batches, one claim each; "
        "per row: event, handler)"
    )
    print(
        f"  of which waiting on PostgreSQL: {timer.seconds * 1000:.0f} ms in {timer.count:,} "
        f"statements ({timer.slowest()})"
    )
    started = time.perf_counter()
    idle = deadline_sweep(now=now)
    print(
        f"idle sweep (nothing due): {(time.perf_counter() - started) * 1000:.1f} ms, "
        f"{idle.breached} breached"
    )

    payload = {"deadline_id": 1, "kind": "bench.reply", "policy": "bench.reply", "due_at": "x"}
    deadline = Deadline.objects.first()
    started = time.perf_counter()
    for _ in range(RECORD_CALLS):
        with transaction.atomic():
            record(type="bench.alone", actor=None, branch=branch, subject=deadline, payload=payload)
    alone = (time.perf_counter() - started) / RECORD_CALLS
    started = time.perf_counter()
    for _ in range(RECORD_CALLS // 100):
        with transaction.atomic():
            for _ in range(100):
                record(
                    type="bench.inside",
                    actor=None,
                    branch=branch,
                    subject=deadline,
                    payload=payload,
                )
    inside = (time.perf_counter() - started) / RECORD_CALLS
    started = time.perf_counter()
    for _ in range(RECORD_CALLS):
        with transaction.atomic():
            Region.objects.filter(pk=branch.region_id).exists()
    empty = (time.perf_counter() - started) / RECORD_CALLS
    print(
        f"\nrecord(): {alone * 1e6:.0f} µs per call in its own transaction "
        f"(an empty transaction with one query: {empty * 1e6:.0f} µs), "
        f"{inside * 1e6:.0f} µs per call inside a larger transaction ({RECORD_CALLS:,} calls each)"
    )

    subjects = Region.objects.bulk_create(
        Region(code=f"s{i}", name=f"Subject {i}") for i in range(START_CALLS)
    )
    started = time.perf_counter()
    for subject in subjects:
        deadline_start(subject=subject, kind="bench.start", policy="bench.reply", branch=branch)
    per_start = (time.perf_counter() - started) / START_CALLS
    print(
        f"deadline_start(): {per_start * 1e6:.0f} µs per call (business hours; clock, insert, "
        f"event; {START_CALLS} calls)"
    )


class QueryTimer:
    """A Django execute_wrapper adding up the time spent in the database, per statement kind."""

    def __init__(self):
        self.seconds, self.count, self.by_kind = 0.0, 0, {}

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.seconds += spent
            self.count += 1
            kind = sql.split(None, 1)[0].upper()
            self.by_kind[kind] = self.by_kind.get(kind, 0.0) + spent

    def slowest(self) -> str:
        ranked = sorted(self.by_kind.items(), key=lambda item: -item[1])
        return ", ".join(f"{kind} {spent * 1000:.0f} ms" for kind, spent in ranked)


if __name__ == "__main__":
    sys.exit(main())
