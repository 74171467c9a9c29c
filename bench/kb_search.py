"""Knowledge-base search with 20,000 bilingual articles.

Builds the articles and the search index in a scratch database (SQLite in a temp dir by default;
with DATABASE_URL set to PostgreSQL it creates and drops a database named bench_kb), then runs a
few hundred mixed queries (Chinese phrases inside sentences, English words, English typos)
through search_articles, the staff page and the API, and prints p50/p95/max latency and the
index build time.

    .venv/bin/python bench/kb_search.py [--articles 20000] [--queries 300]
"""

import argparse
import random
import time

from _scratch import percentiles, scratch_database

SCRATCH_DB = "bench_kb"


def _pools():
    from consultation.kb.demo import ARTICLES

    zh, en = [], []
    for row in ARTICLES:
        zh += [s for s in row[5].replace("，", "。").split("。") if len(s) >= 6]
        en += [s.strip() for s in row[7].split(".") if len(s.strip()) > 20]
    return zh, en


def build(count: int, rng: random.Random) -> None:
    from django.db import transaction

    from bankservice.customers.models import Product
    from consultation.kb.demo import ARTICLES, CATEGORIES, PRODUCTS
    from consultation.models import Article, ArticleVersion, Category
    from tests.factories import UserFactory

    author, approver = UserFactory(username="bench-author"), UserFactory(username="bench-approver")
    categories = [
        Category.objects.create(code=c, name_zh=zh, name_en=en, sort_order=o)
        for c, zh, en, o in CATEGORIES
    ]
    products = [
        Product.objects.create(code=c, family=f, name_zh=zh, name_en=en)
        for c, f, zh, en in PRODUCTS
    ]
    zh_pool, en_pool = _pools()
    start = time.perf_counter()
    for first in range(0, count, 1000):
        with transaction.atomic():
            n = min(1000, count - first)
            articles = Article.objects.bulk_create(
                Article(
                    category=rng.choice(categories),
                    owner=author,
                    review_due="2030-01-01",
                    kind="qa",
                )
                for _ in range(n)
            )
            versions = ArticleVersion.objects.bulk_create(
                ArticleVersion(
                    article=article,
                    number=1,
                    title_zh=f"{ARTICLES[i % len(ARTICLES)][4]}（{first + i}）",
                    title_en=f"{ARTICLES[i % len(ARTICLES)][6]} #{first + i}",
                    body_zh="。".join(rng.sample(zh_pool, 4)) + "。",
                    body_en=". ".join(rng.sample(en_pool, 3)) + ".",
                    status="published",
                    author=author,
                    reviewer=approver,
                )
                for i, article in enumerate(articles)
            )
            for article, version in zip(articles, versions, strict=True):
                article.published = version
            Article.objects.bulk_update(articles, ["published"])
            Article.products.through.objects.bulk_create(
                Article.products.through(article=a, product=rng.choice(products)) for a in articles
            )
        print(f"\r  articles {first + n:,}/{count:,}", end="", flush=True)
    print(f"\r  {count:,} articles written in {time.perf_counter() - start:.1f} s")


def queries(total: int, rng: random.Random) -> list[str]:
    zh_pool, en_pool = _pools()
    out = []
    for n in range(total):
        kind = n % 3
        if kind == 0:  # a Chinese phrase inside a sentence
            sentence = rng.choice(zh_pool)
            at = rng.randrange(0, max(1, len(sentence) - 4))
            out.append(f"请问{sentence[at : at + rng.randint(3, 6)]}怎么办")
        elif kind == 1:  # English words
            words = [w.strip(",;()").lower() for w in rng.choice(en_pool).split() if len(w) > 3]
            out.append(" ".join(rng.sample(words, min(3, len(words)))))
        else:  # an English word with two letters swapped
            words = [w.strip(",;()").lower() for w in rng.choice(en_pool).split() if len(w) > 5]
            word = rng.choice(words or ["mortgage"])
            i = rng.randrange(1, len(word) - 2)
            out.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    return out


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

    from bankservice.branches.models import Role
    from bankservice.branches.services import membership_grant
    from consultation.kb.search import index_rebuild, search_articles
    from consultation.models import SearchTerm
    from tests.factories import BranchFactory, RegionFactory, UserFactory

    setup_test_environment()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    print(f"database: {connection.vendor}")
    build(args.articles, rng)
    start = time.perf_counter()
    terms = index_rebuild(
        progress=lambda done, total: print(f"\r  indexed {done:,}/{total:,}", end="", flush=True)
    )
    if connection.vendor == "postgresql":
        # As autovacuum leaves a settled table: statistics, and the visibility map that lets
        # ranking read the covering index alone.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(
        f"\r  index built in {time.perf_counter() - start:.1f} s: {terms:,} terms, "
        f"{SearchTerm.objects.values('term').distinct().count():,} distinct"
    )

    mixed = queries(args.queries, rng)
    search_articles(mixed[0])  # load the vocabulary once, as a running process has it
    labels = ("Chinese phrase", "English words", "English typo")
    samples = {label: [] for label in labels}
    empty = 0
    for n, query in enumerate(mixed):
        started = time.perf_counter()
        hits = search_articles(query)
        samples[labels[n % 3]].append((time.perf_counter() - started) * 1000)
        empty += not hits
    print(f"{'search_articles':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label in labels:
        print(f"  {label:26} {percentiles(samples[label])}")
    print(
        f"  all {len(mixed)} queries{'':12} {percentiles([t for times in samples.values() for t in times])}"
    )
    print(f"  queries with no result: {empty}")

    branch = BranchFactory(code="bench0", region=RegionFactory(code="bench"))
    teller = UserFactory(username="bench-teller")
    membership_grant(user=teller, role=Role.TELLER, branch=branch)
    client = Client()
    client.force_login(teller)
    print(f"{'request (teller)':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, url in (
        ("staff page /consultation/kb/", "/consultation/kb/"),
        ("API /api/v1/kb/articles", "/api/v1/kb/articles"),
    ):
        times = []
        for query in mixed[: args.requests]:
            started = time.perf_counter()
            response = client.get(url, {"q": query})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        print(f"  {label:26} {percentiles(times)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with scratch_database(SCRATCH_DB):
        run(args)


if __name__ == "__main__":
    main()
