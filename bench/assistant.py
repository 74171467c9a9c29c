"""The assistant: training time, accuracy on Banking77 and suggestion latency per question.

1. Banking77 (../shared/data/banking77/train.csv, when present; never shipped with the product):
   a stratified 20% is held out; each installed backend is trained on the rest and measured
   (accuracy, top-3 accuracy, macro-F1, mean latency of one question).
2. The product path in a scratch database (SQLite in a temp dir by default; with DATABASE_URL
   set to PostgreSQL it creates and drops a database named bench_assistant): the shipped
   bilingual examples imported and trained with the demo articles, then p50/p95 latency of a
   suggestion through the service and through POST /api/v1/assistant/suggest, with its queries.

    .venv/bin/python bench/assistant.py [--banking77 PATH] [--queries 300]
"""

import argparse
import csv
import random
import time
from pathlib import Path

from _scratch import ROOT, percentiles, scratch_database

SCRATCH_DB = "bench_assistant"
BANKING77 = ROOT.parent / "shared" / "data" / "banking77" / "train.csv"


def banking77(path: Path) -> None:
    from sklearn.model_selection import train_test_split

    from consultation.assistant import engine

    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    texts, labels = [r["text"] for r in rows], [r["category"] for r in rows]
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=0.2, stratify=labels, random_state=7
    )
    print(
        f"Banking77: {len(rows):,} questions, {len(set(labels))} intents; "
        f"trained on {len(train_x):,}, measured on {len(test_x):,} held out"
    )
    print(f"{'backend':12} {'train s':>8} {'accuracy':>9} {'top-3':>7} {'macro-F1':>9} {'ms/q':>7}")
    for name in engine.available_backends():
        backend = engine.new_backend(name)
        started = time.perf_counter()
        backend.fit(train_x, train_y)
        seconds = time.perf_counter() - started
        s = engine.evaluate(backend, test_x, test_y)
        print(
            f"{name:12} {seconds:8.1f} {s.accuracy:9.3f} {s.top3_accuracy:7.3f} "
            f"{s.macro_f1:9.3f} {s.mean_latency_ms:7.2f}"
        )
    missing = sorted(set(engine.BACKENDS) - set(engine.available_backends()))
    if missing:
        print(f"(not installed: {', '.join(missing)})")


def product(args) -> None:
    from django.conf import settings

    settings.ASSISTANT_API_RATE = None  # measure the endpoint, not its rate limit
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    from django.core.management import call_command
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from rest_framework.test import APIClient

    from bankservice.branches.models import Role
    from bankservice.branches.services import membership_grant
    from consultation.assistant.hooks import EXAMPLES_CSV, seed_demo
    from consultation.assistant.services import (
        assistant_suggest,
        assistant_train,
        examples_from_csv,
    )
    from consultation.kb.demo import APPROVER, AUTHOR, seed_knowledge_base
    from reception.demo import seed_reception
    from tests.factories import BranchFactory, RegionFactory, UserFactory

    setup_test_environment()
    # One connection for the whole run, as the pool or CONN_MAX_AGE would in production.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    branch = BranchFactory(code="bench", region=RegionFactory(code="bench"))
    seed_reception(branches=[branch])
    for username, role in ((AUTHOR, Role.ADVISOR), (APPROVER, Role.BRANCH_MANAGER)):
        membership_grant(user=UserFactory(username=username), role=role, branch=branch)
    seed_knowledge_base()
    seed_demo(branches=[branch])  # intents, the shipped examples, a first model
    greeter = UserFactory(username="bench-greeter")
    membership_grant(user=greeter, role=Role.GREETER, branch=branch)

    examples = examples_from_csv(EXAMPLES_CSV.read_bytes())
    started = time.perf_counter()
    model = assistant_train(actor=None)
    print(
        f"\nProduct path on {connection.vendor}: trained on {model.example_count} examples "
        f"({model.metrics['article_examples']} article titles), {model.label_count} labels "
        f"in {time.perf_counter() - started:.2f} s"
    )

    rng = random.Random(7)
    questions = [rng.choice(examples).text for _ in range(args.queries)]
    assistant_suggest(principal=greeter, text=questions[0])  # loads the model
    service_ms = []
    for question in questions:
        started = time.perf_counter()
        assistant_suggest(principal=greeter, text=question)
        service_ms.append((time.perf_counter() - started) * 1000)

    api = APIClient()
    api.force_authenticate(greeter)
    api_ms = []
    for question in questions:
        started = time.perf_counter()
        response = api.post("/api/v1/assistant/suggest", {"text": question}, format="json")
        api_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    with CaptureQueriesContext(connection) as queries:
        api.post("/api/v1/assistant/suggest", {"text": questions[0]}, format="json")
    print(f"{'suggestion':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    print(f"{'service (model + search + log)':32} {percentiles(service_ms)}")
    print(f"{'POST /api/v1/assistant/suggest':32} {percentiles(api_ms)}  ({len(queries)} queries)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--banking77", type=Path, default=BANKING77)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    with scratch_database(SCRATCH_DB):
        import django

        django.setup()
        if args.banking77.exists():
            banking77(args.banking77)
        else:
            print(f"Banking77 not found at {args.banking77}: accuracy figures skipped.")
        product(args)


if __name__ == "__main__":
    main()
