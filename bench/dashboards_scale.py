"""Benchmark: a region dashboard over one year of 200 branches (10 million tickets), from the
rollups and from the raw records (issue 9).

Needs DATABASE_URL pointing at a PostgreSQL server. The script works in its own database
(`bench_dash`, BENCH_DASH_DB names another) on that server, created and migrated when missing,
and KEPT between runs: loading ten million tickets takes a while, so `--reuse` skips the load
when the year is already there (a load that was interrupted goes on with the days it lacks).
`--drop` drops the database at the end.

1. Load, by COPY (binary, streamed one day at a time, one transaction per day), with every index
   and constraint the migrations made in place (the load time includes their upkeep): BRANCHES
   branches in REGIONS regions (Asia/Shanghai), each with six services (prefixes A–F), eight
   counters and eight tellers; 365 days up to END_DATE, closed on Sundays; arrivals with a
   weekday × hour profile (Monday busiest, Saturday short, lunchtime peak), split over the
   branch-days so the year holds exactly --tickets tickets; each branch-day run as a queue
   (first come first served at the counters open that day: 4–6), which gives the waits, calls,
   service times, no-shows (called, not there) and the abandoned (left unserved after a long
   wait). One visit per ticket, numbers A001… per (branch, day, prefix), and each counter's
   `reception.counter_opened` / `counter_closed` events (counter utilisation). Prints rows/s.
2. Rollup: `dashboards.rollups.rollup(first, last)` over the year (time, tickets/s, rows).
   `--skip-rollup` keeps the rollups of an earlier run (when every day of the year has one).
3. The region dashboard of a regional manager (the overview page's calls): `kpi_table` by branch
   and by day over the last 30 days, and by month over the year; each --runs times after one
   warm-up, from the rollups and from the raw records (source="raw"); p50/p95 and the ratio.
4. Check: every KPI of every row equal from rollups and from raw (to 1e-9), else it fails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/dashboards_scale.py [--reuse] [--tickets 10000000 --branches 200]

A quick run: `--tickets 100000 --branches 20 --regions 4 --runs 3` with
BENCH_DASH_DB=bench_dash_small (a separate database: the small year must not mix with the big
one); BENCH_DASH_TICKETS and BENCH_DASH_BRANCHES change the defaults (`make bench`). Several
loaders can share the load: `--reuse --load-part 0/3` … `2/3` at once, then `--reuse`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import math
import os
import random
import resource
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = os.environ.get("BENCH_DASH_DB", "bench_dash")
TICKETS = int(os.environ.get("BENCH_DASH_TICKETS", "10000000"))
BRANCHES = int(os.environ.get("BENCH_DASH_BRANCHES", "200"))
REGIONS = 10
END_DATE = dt.date(2026, 10, 31)  # fixed: the same year on every run
DAYS = 365
ZONE = "Asia/Shanghai"
COUNTERS = 8  # and as many tellers
TOLERANCE = 1e-9
ROLLUP_TABLES = ("dashboards_dayrollup", "dashboards_staffdayrollup", "dashboards_hourrollup")
warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic

# code, prefix, category, share of arrivals, mean service minutes, target wait minutes
SERVICES = (
    ("cash", "A", "cash", 0.34, 4.0, 10),
    ("accounts", "B", "accounts", 0.20, 8.0, 15),
    ("loans", "C", "loans", 0.08, 18.0, 20),
    ("wealth", "D", "wealth", 0.07, 22.0, 20),
    ("enquiry", "E", "enquiry", 0.21, 3.0, 10),
    ("forex", "F", "other", 0.10, 6.0, 15),
)
# ISO weekday -> (relative volume, opening hour, closing hour); Sunday closed.
WEEKDAYS = {
    1: (1.30, 9, 17),
    2: (1.05, 9, 17),
    3: (1.00, 9, 17),
    4: (1.00, 9, 17),
    5: (1.15, 9, 17),
    6: (0.70, 9, 16),
}
# Local hour -> relative arrivals (lunchtime peak).
HOURS = {9: 1.0, 10: 1.3, 11: 1.5, 12: 1.9, 13: 1.7, 14: 1.1, 15: 1.0, 16: 0.8}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=TICKETS, help="tickets in the year")
    parser.add_argument("--branches", type=int, default=BRANCHES, help="branches")
    parser.add_argument("--regions", type=int, default=REGIONS, help="regions")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each query")
    parser.add_argument("--reuse", action="store_true", help="keep the year already loaded")
    parser.add_argument("--skip-rollup", action="store_true", help="keep earlier rollups")
    parser.add_argument(
        "--rollup-days",
        type=int,
        default=DAYS,
        help="roll up (and measure over) only the last N days of the year (a slow machine)",
    )
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument(
        "--load-part",
        default="",
        metavar="K/N",
        help="only load the days whose index is K modulo N, then stop (N loaders in parallel, "
        "each with --reuse; then run once more with --reuse)",
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("dashboards_scale: skipped, set DATABASE_URL to a PostgreSQL server")
        return 0
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as server:
        exists = server.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [SCRATCH]
        ).fetchone()
        if exists and not args.reuse:
            server.execute(f'DROP DATABASE "{SCRATCH}" WITH (FORCE)')
        if not exists or not args.reuse:
            server.execute(f'CREATE DATABASE "{SCRATCH}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{SCRATCH}"))
    os.environ["DATABASE_POOL"] = "false"  # one connection, kept open
    os.environ["DEBUG"] = "false"  # DEBUG would keep every query in memory
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.setdefault("SECRET_KEY", "bench-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCD")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankservice.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    try:
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if args.drop:
            with psycopg.connect(admin_url, autocommit=True) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')


def run(args) -> int:
    from django.core.management import call_command

    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; database "
        f"{SCRATCH}; year {END_DATE - dt.timedelta(days=DAYS - 1)} … {END_DATE}"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")
    setup = prepare(args)
    load(args, setup)
    if args.load_part:
        return 0
    rolled = rollup_year(args)
    measure(args, setup, rolled)
    return 0


# --- Fixtures -----------------------------------------------------------------------------------


class Setup:
    def __init__(self):
        self.regions: list[int] = []
        self.branches: list[
            dict
        ] = []  # id, region, services [(id, prefix, row)], counters, tellers
        self.manager = None
        self.region = None


def prepare(args) -> Setup:
    """Regions, branches, services, counters and tellers (idempotent: found by code)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from bankservice.branches.models import Branch, BusinessCalendar, Region, Role
    from bankservice.branches.services import membership_grant
    from reception.models import Counter, CounterService, ServiceType

    user_model = get_user_model()
    password = make_password(None)  # unusable: nobody signs in
    calendar, _ = BusinessCalendar.objects.get_or_create(
        code="bench-cn", defaults={"name": "Bench", "weekend_days": [7]}
    )
    setup = Setup()
    regions = []
    for r in range(args.regions):
        region, _ = Region.objects.get_or_create(
            code=f"bench-r{r + 1:02d}", defaults={"name": f"Region {r + 1:02d}"}
        )
        regions.append(region)
    for b in range(args.branches):
        region = regions[b % len(regions)]
        branch, created = Branch.objects.get_or_create(
            code=f"bench-b{b + 1:03d}",
            defaults={
                "name": f"Branch {b + 1:03d}",
                "region": region,
                "time_zone": ZONE,
                "calendar": calendar,
            },
        )
        if created or not ServiceType.objects.filter(branch=branch).exists():
            services = ServiceType.objects.bulk_create(
                ServiceType(
                    branch=branch,
                    code=code,
                    name_zh=code,
                    name_en=code.title(),
                    prefix=prefix,
                    category=category,
                    target_wait_minutes=target,
                    expected_service_minutes=max(1, round(minutes)),
                    sort_order=index,
                )
                for index, (code, prefix, category, _share, minutes, target) in enumerate(SERVICES)
            )
            tellers = user_model.objects.bulk_create(
                user_model(username=f"bench-t{b + 1:03d}-{c + 1}", password=password)
                for c in range(COUNTERS)
            )
            counters = Counter.objects.bulk_create(
                Counter(branch=branch, number=c + 1, name=f"Counter {c + 1}")
                for c in range(COUNTERS)
            )
            CounterService.objects.bulk_create(
                CounterService(counter=counter, service_type=service, preference=1)
                for counter in counters
                for service in services
            )
            for teller in tellers:
                membership_grant(user=teller, role=Role.TELLER, branch=branch)
        services = {
            s.prefix: s.pk for s in ServiceType.objects.filter(branch=branch, code__in=CODES)
        }
        counters = list(
            Counter.objects.filter(branch=branch).order_by("number").values_list("pk", flat=True)
        )
        tellers = [
            user_model.objects.get(username=f"bench-t{b + 1:03d}-{c + 1}").pk
            for c in range(COUNTERS)
        ]
        setup.branches.append(
            {
                "id": branch.pk,
                "index": b,
                "region": region.pk,
                "services": [services[prefix] for _c, prefix, *_rest in SERVICES],
                "counters": counters[:COUNTERS],
                "tellers": tellers,
            }
        )
    setup.region = regions[0]
    manager, _ = user_model.objects.get_or_create(
        username="bench-regional-manager", defaults={"password": password}
    )
    membership_grant(user=manager, role=Role.REGIONAL_MANAGER, region=setup.region)
    setup.manager = manager
    return setup


CODES = [code for code, *_rest in SERVICES]


# --- The year's tickets -------------------------------------------------------------------------

TICKET_COLUMNS = (
    ("visit_id", "int8"),
    ("branch_id", "int8"),
    ("service_type_id", "int8"),
    ("business_date", "date"),
    ("prefix", "varchar"),
    ("sequence", "int4"),
    ("number", "varchar"),
    ("status", "varchar"),
    ("arrived_at", "timestamptz"),
    ("issued_at", "timestamptz"),
    ("priority_at", "timestamptz"),
    ("priority_reasons", "jsonb"),
    ("is_appointment", "bool"),
    ("counter_id", "int8"),
    ("served_by_id", "int4"),
    ("called_at", "timestamptz"),
    ("recall_count", "int2"),
    ("serving_started_at", "timestamptz"),
    ("finished_at", "timestamptz"),
    ("outcome", "varchar"),
    ("public_token", "varchar"),
)
VISIT_COLUMNS = (
    ("id", "int8"),
    ("branch_id", "int8"),
    ("source", "varchar"),
    ("arrived_at", "timestamptz"),
    ("contact_phone", "varchar"),
    ("sms_when_next", "bool"),
    ("language", "varchar"),
)
EVENT_COLUMNS = (
    ("type", "varchar"),
    ("occurred_at", "timestamptz"),
    ("subject_type_id", "int4"),
    ("subject_id", "varchar"),
    ("payload", "jsonb"),
    ("actor_user_id", "int4"),
    ("branch_id", "int8"),
)


def year_days() -> list[dt.date]:
    first = END_DATE - dt.timedelta(days=DAYS - 1)
    return [first + dt.timedelta(days=n) for n in range(DAYS)]


def day_counts(args, setup: Setup) -> dict[tuple[int, dt.date], int]:
    """Tickets per (branch index, day): weekday volume × a branch's size × a little noise,
    apportioned so the year holds exactly --tickets."""
    rng = random.Random(9)
    size = [rng.uniform(0.6, 1.4) for _ in setup.branches]
    weights = {}
    for day in year_days():
        if day.isoweekday() not in WEEKDAYS:
            continue
        volume = WEEKDAYS[day.isoweekday()][0]
        for b in range(len(setup.branches)):
            weights[(b, day)] = volume * size[b] * rng.uniform(0.85, 1.15)
    total = sum(weights.values())
    exact = {key: args.tickets * weight / total for key, weight in weights.items()}
    counts = {key: int(value) for key, value in exact.items()}
    short = args.tickets - sum(counts.values())
    for key in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[:short]:
        counts[key] += 1
    return counts


def branch_day(rng: random.Random, branch: dict, day: dt.date, count: int, zone):
    """One branch-day as a first-come-first-served queue: (tickets, counter events).

    A ticket: a dict of TICKET_COLUMNS without visit_id. The counters open that day (4–6, by
    branch and weekday) open at opening time and close after their last customer."""
    _volume, opens, closes = WEEKDAYS[day.isoweekday()]
    open_at = dt.datetime.combine(day, dt.time(opens), tzinfo=zone)
    hours = [h for h in HOURS if h < closes]
    hour_weights = [HOURS[h] for h in hours]
    arrivals = sorted(
        (rng.choices(hours, hour_weights)[0] - opens) * 3600 + rng.random() * 3600
        for _ in range(count)
    )
    counters_open = 4 + (branch["index"] + day.isoweekday()) % 3
    free = [(0.0, c) for c in range(counters_open)]  # (free from, counter)
    heapq.heapify(free)
    last_finish = [0.0] * counters_open
    sequences = dict.fromkeys("ABCDEF", 0)
    shares = [share for _c, _p, _cat, share, _m, _t in SERVICES]
    tickets = []
    for arrival in arrivals:
        s = rng.choices(range(len(SERVICES)), shares)[0]
        _code, prefix, _cat, _share, minutes, _target = SERVICES[s]
        sequences[prefix] += 1
        sequence = sequences[prefix]
        issued = open_at + dt.timedelta(seconds=arrival)
        ticket = {
            "branch_id": branch["id"],
            "service_type_id": branch["services"][s],
            "business_date": day,
            "prefix": prefix,
            "sequence": sequence,
            "number": f"{prefix}{sequence:03d}",
            "arrived_at": issued,
            "issued_at": issued,
            "priority_at": issued,
            "counter_id": None,
            "served_by_id": None,
            "called_at": None,
            "serving_started_at": None,
            "finished_at": None,
            "public_token": f"{rng.getrandbits(128):032x}",
        }
        free_from, c = free[0]
        wait = max(0.0, free_from - arrival)
        # Left before being called: likelier the longer the wait would be.
        if rng.random() < 0.01 + min(0.25, wait / 3600 * 0.4):
            ticket["status"] = "unserved"
            tickets.append(ticket)
            continue
        heapq.heappop(free)
        called = arrival + wait + rng.uniform(5, 40)  # the teller's pause before calling
        ticket["called_at"] = open_at + dt.timedelta(seconds=called)
        ticket["counter_id"] = branch["counters"][c]
        ticket["served_by_id"] = branch["tellers"][c]
        if rng.random() < 0.03:  # called, not there: the counter waits a minute
            ticket["status"] = "no_show"
            done = called + 60
        else:
            ticket["status"] = "completed"
            begin = called + rng.uniform(20, 90)  # walking to the counter
            done = begin + max(45.0, rng.lognormvariate(math.log(minutes * 60), 0.5))
            ticket["serving_started_at"] = open_at + dt.timedelta(seconds=begin)
        ticket["finished_at"] = open_at + dt.timedelta(seconds=done)
        last_finish[c] = max(last_finish[c], done)
        heapq.heappush(free, (done, c))
        tickets.append(ticket)
    events = []
    for c in range(counters_open):
        counter, teller = branch["counters"][c], branch["tellers"][c]
        closed = max(last_finish[c], (closes - opens) * 3600) + 300
        opened_at = open_at - dt.timedelta(minutes=5)
        closed_at = open_at + dt.timedelta(seconds=closed)
        events.append(("reception.counter_opened", opened_at, counter, teller, branch["id"]))
        events.append(("reception.counter_closed", closed_at, counter, teller, branch["id"]))
    return tickets, events


def loaded_days(branch_ids: list[int]) -> set[dt.date]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT business_date FROM reception_ticket WHERE branch_id = ANY(%s)",
            [branch_ids],
        )
        return {row[0] for row in cursor.fetchall()}


def load(args, setup: Setup) -> None:
    import zoneinfo

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from reception.models import Counter

    branch_ids = [b["id"] for b in setup.branches]
    counts = day_counts(args, setup)
    done = loaded_days(branch_ids) if args.reuse else set()
    todo = [day for day in year_days() if day.isoweekday() in WEEKDAYS and day not in done]
    if args.load_part:
        part, parts = (int(n) for n in args.load_part.split("/"))
        todo = [day for day in todo if day.toordinal() % parts == part]
    if not todo:
        print(f"load: reused ({len(done)} days already loaded)")
        vacuum()
        return
    zone = zoneinfo.ZoneInfo(ZONE)
    counter_type = ContentType.objects.get_for_model(Counter).pk
    print(f"load: {len(todo)} days to load ({len(done)} already there), indexes in place")
    tickets_total = visits_total = events_total = 0
    started = time.perf_counter()
    last_print = started
    connection.ensure_connection()
    raw = connection.connection  # psycopg 3
    for n, day in enumerate(todo, 1):
        rng = random.Random(day.toordinal())
        day_tickets, day_events = [], []
        for branch in setup.branches:
            tickets, events = branch_day(rng, branch, day, counts[(branch["index"], day)], zone)
            day_tickets.extend(tickets)
            day_events.extend(events)
        with transaction.atomic(), raw.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('reception_visit', 'id')) "
                "FROM generate_series(1, %s)",
                [len(day_tickets)],
            )
            visit_ids = [row[0] for row in cursor.fetchall()]
            names = ", ".join(name for name, _type in VISIT_COLUMNS)
            with cursor.copy(f"COPY reception_visit ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([kind for _name, kind in VISIT_COLUMNS])
                for visit_id, ticket in zip(visit_ids, day_tickets, strict=True):
                    copy.write_row(
                        (
                            visit_id,
                            ticket["branch_id"],
                            "kiosk",
                            ticket["arrived_at"],
                            "",
                            False,
                            "",
                        )
                    )
            names = ", ".join(name for name, _type in TICKET_COLUMNS)
            with cursor.copy(f"COPY reception_ticket ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([kind for _name, kind in TICKET_COLUMNS])
                for visit_id, t in zip(visit_ids, day_tickets, strict=True):
                    copy.write_row(
                        (
                            visit_id,
                            t["branch_id"],
                            t["service_type_id"],
                            t["business_date"],
                            t["prefix"],
                            t["sequence"],
                            t["number"],
                            t["status"],
                            t["arrived_at"],
                            t["issued_at"],
                            t["priority_at"],
                            "[]",
                            False,
                            t["counter_id"],
                            t["served_by_id"],
                            t["called_at"],
                            0,
                            t["serving_started_at"],
                            t["finished_at"],
                            "",
                            t["public_token"],
                        )
                    )
            names = ", ".join(name for name, _type in EVENT_COLUMNS)
            with cursor.copy(f"COPY events_event ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([kind for _name, kind in EVENT_COLUMNS])
                for type_, at, counter, teller, branch_id in day_events:
                    copy.write_row((type_, at, counter_type, str(counter), "{}", teller, branch_id))
        tickets_total += len(day_tickets)
        visits_total += len(day_tickets)
        events_total += len(day_events)
        now = time.perf_counter()
        if now - last_print > 30 or n == len(todo):
            last_print = now
            rate = tickets_total / (now - started)
            left = (len(todo) - n) * (now - started) / n
            print(
                f"  {day}: {n}/{len(todo)} days, {tickets_total:,} tickets, {rate:,.0f} tickets/s, "
                f"about {left / 60:.0f} min left",
                flush=True,
            )
    elapsed = time.perf_counter() - started
    rows = tickets_total + visits_total + events_total
    print(
        f"load: {tickets_total:,} tickets + {visits_total:,} visits + {events_total:,} events "
        f"in {elapsed:.0f} s: {tickets_total / elapsed:,.0f} tickets/s, {rows / elapsed:,.0f} "
        "rows/s (generation in Python included)"
    )
    if not args.load_part:
        vacuum()


def vacuum() -> None:
    """As autovacuum would leave the tables: statistics, and the visibility map."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("reception_visit", "reception_ticket", "events_event"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"vacuum analyze: {time.perf_counter() - started:.0f} s")


# --- Rollup -------------------------------------------------------------------------------------


def rollup_year(args) -> bool:
    from django.db import connection

    from dashboards.models import DayRollup, HourRollup, RollupDay, StaffDayRollup
    from dashboards.rollups import rollup

    days = year_days()[-args.rollup_days :]
    if args.skip_rollup:
        have = RollupDay.objects.filter(day__gte=days[0], day__lte=days[-1]).count()
        if have == len(days):
            print(f"rollup: skipped (--skip-rollup: {have} days rolled up earlier)")
            return False
        print(f"rollup: only {have}/{len(days)} days rolled up, rolling them up")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM reception_ticket WHERE business_date BETWEEN %s AND %s",
            [days[0], days[-1]],
        )
        tickets = cursor.fetchone()[0]
    started = time.perf_counter()
    state = {"n": 0, "rows": 0, "printed": started}

    def progress(day: dt.date, count: int) -> None:
        state["n"] += 1
        state["rows"] += count
        now = time.perf_counter()
        if now - state["printed"] > 30 or state["n"] == len(days):
            state["printed"] = now
            per_day = (now - started) / state["n"]
            print(
                f"  {day}: {state['n']}/{len(days)} days, {state['rows']:,} rows, "
                f"{per_day:.2f} s/day, about {(len(days) - state['n']) * per_day / 60:.0f} min left",
                flush=True,
            )

    written = rollup(days[0], days[-1], progress=progress)
    elapsed = time.perf_counter() - started
    print(
        f"rollup: {len(days)} days in {elapsed:.0f} s ({elapsed / len(days):.2f} s/day): "
        f"{tickets / elapsed:,.0f} tickets/s, {written:,} rollup rows "
        f"({DayRollup.objects.count():,} day, {StaffDayRollup.objects.count():,} staff-day, "
        f"{HourRollup.objects.count():,} hour)"
    )
    if len(days) < DAYS:
        print(
            f"rollup: --rollup-days {len(days)}: the whole year would take about "
            f"{elapsed / len(days) * DAYS / 60:.0f} min at this rate"
        )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ROLLUP_TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"vacuum analyze rollups: {time.perf_counter() - started:.1f} s")
    return True


# --- The region dashboard -----------------------------------------------------------------------


def measure(args, setup: Setup, rolled: bool) -> None:
    from django.db import connection

    from dashboards.selectors import kpi_table

    days = year_days()[-args.rollup_days :]
    last30 = days[-min(30, len(days))]
    region = setup.region.pk
    queries = (
        ("by branch, 30 days", {"start": last30, "end": days[-1], "by": ("branch",)}),
        ("by day, 30 days", {"start": last30, "end": days[-1], "by": ("day",)}),
        (f"by month, {len(days)} days", {"start": days[0], "end": days[-1], "by": ("month",)}),
    )
    in_region = sum(1 for b in setup.branches if b["region"] == region)
    print(
        f"\nregion dashboard: regional manager of {setup.region.name} ({in_region} branches), "
        f"kpi_table(region=…), {args.runs} runs after one warm-up, milliseconds"
    )
    print(
        f"{'query':<22} {'rows':>5} {'rollup p50':>11} {'p95':>9} {'raw p50':>10} {'p95':>9} "
        f"{'raw/rollup p95':>15}"
    )
    failures = []
    totals = {"rollup": [], "raw": []}
    for label, options in queries:
        timings, tables = {}, {}
        for source in ("rollup", "raw"):

            def call(source=source, options=options):
                return kpi_table(setup.manager, region=region, source=source, **options)

            tables[source] = call()  # warm-up
            samples = []
            for _ in range(args.runs):
                started = time.perf_counter()
                call()
                samples.append((time.perf_counter() - started) * 1000)
            timings[source] = samples
        failures += compare(label, tables["rollup"], tables["raw"])
        p = {source: (percentile(s, 0.5), percentile(s, 0.95)) for source, s in timings.items()}
        for source in totals:
            totals[source].append(timings[source])
        print(
            f"{label:<22} {len(tables['rollup']):>5} {p['rollup'][0]:>11.1f} {p['rollup'][1]:>9.1f} "
            f"{p['raw'][0]:>10.1f} {p['raw'][1]:>9.1f} {p['raw'][1] / p['rollup'][1]:>14.0f}×"
        )
    # The whole page: the three queries one after the other, run by run.
    page = {source: [sum(run) for run in zip(*totals[source], strict=True)] for source in totals}
    print(
        f"{'whole dashboard':<22} {'':>5} {percentile(page['rollup'], 0.5):>11.1f} "
        f"{percentile(page['rollup'], 0.95):>9.1f} {percentile(page['raw'], 0.5):>10.1f} "
        f"{percentile(page['raw'], 0.95):>9.1f} "
        f"{percentile(page['raw'], 0.95) / percentile(page['rollup'], 0.95):>14.0f}×"
    )
    print("\ntable sizes (pg_total_relation_size, with indexes and TOAST):")
    with connection.cursor() as cursor:
        for table in (
            "reception_ticket",
            "reception_visit",
            "events_event",
            *ROLLUP_TABLES,
        ):
            cursor.execute(
                f"SELECT pg_total_relation_size('{table}'), (SELECT count(*) FROM {table})"  # noqa: S608 - our table names
            )
            size, count = cursor.fetchone()
            print(f"  {table:<24} {size / 2**20:>9,.0f} MiB {count:>12,} rows")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process (ru_maxrss): {peak:,.0f} MiB")
    if failures:
        print(f"\nFAILED: rollups differ from raw in {len(failures)} values, first ones:")
        for failure in failures[:20]:
            print("  " + failure)
        raise SystemExit(1)
    print("check: every KPI of every row is the same from rollups and from raw (1e-9)")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def compare(label: str, rollup_rows, raw_rows) -> list[str]:
    """Where the rollups' KPIs differ from the raw ones (rows matched by key)."""
    failures = []
    rollups = {tuple(row.key.items()): row for row in rollup_rows}
    raws = {tuple(row.key.items()): row for row in raw_rows}
    if set(rollups) != set(raws):
        only = set(rollups) ^ set(raws)
        failures.append(f"{label}: rows only on one side: {sorted(only, key=str)[:5]}")
    for key in set(rollups) & set(raws):
        a, b = rollups[key].values, raws[key].values
        for code in sorted(set(a) | set(b)):
            x, y = a.get(code), b.get(code)
            if x is None or y is None:
                same = x is None and y is None
            else:
                same = abs(x - y) <= TOLERANCE * max(1.0, abs(x), abs(y))
            if not same:
                failures.append(f"{label} {dict(key)} {code}: rollup {x!r}, raw {y!r}")
    if not rollup_rows:
        failures.append(f"{label}: no rows at all")
    return failures


if __name__ == "__main__":
    sys.exit(main())
