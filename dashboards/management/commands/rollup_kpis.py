"""Rebuild the KPI rollups for a date range: after a backfill, a fix or a new measure.

manage.py rollup_kpis --from 2026-01-01 --to 2026-06-30
"""

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from dashboards.rollups import rollup


class Command(BaseCommand):
    help = "Rebuild the dashboards' daily and hourly KPI rollups for a range of days."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, required=True)
        parser.add_argument("--to", dest="end", type=dt.date.fromisoformat)

    def handle(self, *args, start, end, **options):
        end = end or timezone.localdate()
        if start > end:
            raise CommandError("--from is after --to")
        days = (end - start).days + 1
        with tqdm(total=days, desc="days", unit="", file=sys.stderr, disable=None) as bar:
            rows = rollup(start, end, progress=lambda day, count: bar.update(1))
        self.stdout.write(f"{days} days rolled up: {rows} rows")
