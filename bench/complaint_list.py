"""The complaint lists with 1,000,000 complaints.

Writes the complaints (two years of receipts over 50 branches in 5 regions, each with its
regulator's decision clock as a kernel deadline; most decided, some open, some withdrawn) into a
scratch database with COPY (PostgreSQL only: set DATABASE_URL), then
reads the list as head office (sees all), a regional manager (a fifth) and a branch manager (a
fiftieth): the selector's first page (complaints.selectors.complaint_list, filtered and ordered as
the staff list is, counted and sliced by a Paginator), the staff page /complaints/ and the API
list /api/v1/complaints, unfiltered and with the usual filters (branch, status, category, a
month's period, and the last two together). Prints p50/p95/max latency and the queries each ran.

    DATABASE_URL=postgres://... .venv/bin/python bench/complaint_list.py [--complaints 1000000]
"""

import argparse
import datetime as dt
import io
import random
import time

from _scratch import percentiles, scratch_database

SCRATCH_DB = "bench_complaints"
REGIONS = 5
BRANCHES_PER_REGION = 10
BATCH = 50_000
PAGE_SIZE = 50
DAYS = 730


def _staff(region, branches):
    from bankservice.branches.services import membership_grant
    from tests.factories import UserFactory

    hq = UserFactory(username="bench-hq")
    membership_grant(user=hq, role="hq_manager")
    regional = UserFactory(username="bench-regional")
    membership_grant(user=regional, role="regional_manager", region=region)
    manager = UserFactory(username="bench-manager")
    membership_grant(user=manager, role="branch_manager", branch=branches[0])
    return {"head office, all": hq, "region, a fifth": regional, "branch, a fiftieth": manager}


def build(count: int, rng: random.Random) -> dict:
    """The regions, branches, staff, customers and `count` complaints with their clocks."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from bankservice.customers.models import Product
    from complaints.models import Category, RulePack
    from tests.factories import BranchFactory, CustomerFactory, RegionFactory

    regions = [RegionFactory(code=f"r{n}") for n in range(REGIONS)]
    branches = [
        BranchFactory(code=f"b{r}{n}", region=region)
        for r, region in enumerate(regions)
        for n in range(BRANCHES_PER_REGION)
    ]
    staff = _staff(regions[0], branches)
    customers = [
        c.pk for c in (CustomerFactory(home_branch=rng.choice(branches)) for _ in range(300))
    ]
    categories = list(Category.objects.filter(parent__isnull=True).values_list("pk", flat=True))
    products = [
        Product.objects.create(code=f"p{n}", family="cards", name_zh=f"产品{n}", name_en=f"P{n}").pk
        for n in range(8)
    ]
    pack = RulePack.objects.get(code="cn")
    subject_type = ContentType.objects.get(app_label="complaints", model="complaint").pk
    creator = staff["head office, all"].pk
    decided = ["resolved", "upheld", "partially_upheld", "rejected"]
    open_ = ["received", "acknowledged", "investigating", "waiting_on_customer"]
    channels = ["counter", "phone", "letter", "email", "online_form"]

    now = timezone.now()
    start = time.perf_counter()
    columns = (
        "reference, public_token, branch_id, customer_id, contact_name, contact_phone, "
        "contact_email, language, channel, product_id, category_id, description, "
        "desired_outcome, currency, received_at, pack_id, is_payment_services, status, "
        "is_repeat, resolution_proposal, decided_at, decision_reasons, ended_at, "
        "reopened_count, escalation_level, root_cause_note, created_by_id, created_at, updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM complaints_complaint")
        first_id = cursor.fetchone()[0] + 1
    for first in range(0, count, BATCH):
        n = min(BATCH, count - first)
        complaints, deadlines = io.StringIO(), io.StringIO()
        for i in range(first, first + n):
            received = now - dt.timedelta(minutes=rng.randint(1, DAYS * 24 * 60))
            roll = rng.random()
            age = (now - received).days
            if age > 60 or roll < 0.7:
                status = decided[i % 4] if roll < 0.92 else "withdrawn"
            else:
                status = rng.choice(open_)
            ended = status in decided or status == "withdrawn"
            closed_at = received + dt.timedelta(days=rng.randint(1, 20)) if ended else None
            due = received + dt.timedelta(days=15)
            complaints.write(
                "\t".join(
                    [
                        f"CPB{i:010d}",
                        f"tok{i:012d}",
                        str(branches[i % len(branches)].pk),
                        str(rng.choice(customers)),
                        "",
                        "",
                        "",
                        "",
                        rng.choice(channels),
                        str(rng.choice(products)) if roll < 0.8 else "\\N",
                        str(rng.choice(categories)),
                        "bench",
                        "",
                        "",
                        received.isoformat(),
                        str(pack.pk),
                        "f",
                        status,
                        "f",
                        "",
                        closed_at.isoformat() if status in decided else "\\N",
                        "reasons" if status in decided else "",
                        closed_at.isoformat() if status == "withdrawn" else "\\N",
                        "0",
                        "0",
                        "",
                        str(creator),
                        received.isoformat(),
                        received.isoformat(),
                    ]
                )
                + "\n"
            )
            state = "met" if status in decided else ("cancelled" if ended else "open")
            deadlines.write(
                "\t".join(
                    [
                        str(subject_type),
                        str(first_id + i),
                        "complaint.decision",
                        "complaint.calendar_days",
                        "calendar_days",
                        str(branches[i % len(branches)].pk),
                        state,
                        received.isoformat(),
                        due.isoformat(),
                        (received + dt.timedelta(days=12)).isoformat(),
                        closed_at.isoformat() if state == "met" else "\\N",
                        closed_at.isoformat() if state == "cancelled" else "\\N",
                        "0 seconds",
                        "0",
                        "0",
                        "",
                    ]
                )
                + "\n"
            )
        _copy(f"COPY complaints_complaint ({columns}) FROM STDIN", complaints)
        _copy(
            "COPY sla_deadline (subject_type_id, subject_id, kind, policy, clock, branch_id, "
            "state, started_at, due_at, warn_at, met_at, cancelled_at, paused_total, "
            "extended_count, handler_failures, last_error) FROM STDIN",
            deadlines,
        )
        print(f"\r  complaints {first + n:,}/{count:,}", end="", flush=True)
    print(f"\r  {count:,} complaints written in {time.perf_counter() - start:.1f} s")
    return {
        "staff": staff,
        "branch": branches[0],
        "category": Category.objects.get(pk=categories[0]),
        "now": now,
    }


def _copy(sql: str, data: io.StringIO) -> None:
    from django.db import connection

    data.seek(0)
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        while chunk := data.read(1 << 20):
            copy.write(chunk)


def _explain(rows) -> None:
    """The plans of the page's two queries (the count and the first page)."""
    for query in (rows.values("pk").order_by(), rows[:PAGE_SIZE]):
        plan = query.explain(analyze=True) if hasattr(query, "explain") else ""
        print("\n".join("      " + line for line in plan.splitlines()[:12]))


def timed(fn, repeat: int) -> tuple[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
    return percentiles(times), len(captured.captured_queries)


def run(args) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    from django.core.management import call_command
    from django.core.paginator import Paginator
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from complaints.selectors import complaint_list

    setup_test_environment()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    if connection.vendor != "postgresql":
        raise SystemExit("COPY needs PostgreSQL: set DATABASE_URL")
    data = build(args.complaints, random.Random(7))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a settled table

    branch, category, now = data["branch"], data["category"], data["now"]
    month = (now - dt.timedelta(days=90), now - dt.timedelta(days=60))
    selector_filters = {
        "unfiltered": {},
        "branch": {"branch_id": branch.pk},
        "status investigating": {"status__in": ["investigating"]},
        "category": {"category_id": category.pk},
        "a month": {"received_at__gte": month[0], "received_at__lt": month[1]},
        "status + month": {
            "status__in": ["rejected"],
            "received_at__gte": month[0],
            "received_at__lt": month[1],
        },
    }
    api_filters = {
        "unfiltered": {},
        "branch": {"branch": branch.code},
        "status investigating": {"status": "investigating"},
        "category": {"category": category.code},
        "a month": {
            "received_after": month[0].isoformat(),
            "received_before": month[1].isoformat(),
        },
        "status + month": {
            "status": "rejected",
            "received_after": month[0].isoformat(),
            "received_before": month[1].isoformat(),
        },
    }
    page_filters = {
        "unfiltered": {},
        "branch": {"branch": branch.pk},
        "status investigating": {"status": "investigating"},
        "category": {"category": category.pk},
    }
    print(f"{'':46} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} queries")
    for who, user in data["staff"].items():
        print(who)
        for label, lookups in selector_filters.items():

            def selector_page(lookups=lookups, user=user):
                rows = complaint_list(user).filter(**lookups).order_by("-received_at", "-id")
                page = Paginator(rows, PAGE_SIZE).get_page(1)
                return list(page.object_list), page.paginator.count

            times, queries = timed(selector_page, args.repeat)
            print(f"  {'selector page: ' + label:44} {times} {queries:7}")
            if args.explain and who.startswith("head office"):
                _explain(complaint_list(user).filter(**lookups).order_by("-received_at", "-id"))
        client = Client()
        client.force_login(user)
        for kind, url, filters in (
            ("staff page", "/complaints/", page_filters),
            ("API list", "/api/v1/complaints", api_filters),
        ):
            for label, params in filters.items():

                def get(url=url, params=params, client=client):
                    response = client.get(url, params)
                    assert response.status_code == 200, (url, params, response.status_code)

                times, queries = timed(get, args.repeat)
                print(f"  {kind + ': ' + label:44} {times} {queries:7}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--explain", action="store_true", help="print head office's query plans (PostgreSQL)"
    )
    args = parser.parse_args()
    with scratch_database(SCRATCH_DB):
        run(args)


if __name__ == "__main__":
    main()
