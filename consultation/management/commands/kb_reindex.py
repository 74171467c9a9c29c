"""Rebuild the knowledge-base search index from the published articles (after a change of the
tokeniser or weights; publishing keeps the index current by itself)."""

import time

from django.core.management.base import BaseCommand

from consultation.kb.search import index_rebuild


class Command(BaseCommand):
    help = "Rebuild the knowledge-base search index, printing progress."

    def handle(self, *args, **options):
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"\r{done:,}/{total:,} articles", ending="")
            self.stdout.flush()

        terms = index_rebuild(progress=progress)
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"\nIndex rebuilt: {terms:,} terms in {seconds:.1f} s.")
        )
