"""Compile the gettext catalogues (.po -> .mo) in pure Python, so no gettext tools are needed."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo files (skips those already up to date)."

    def handle(self, *args, **options):
        compiled = 0
        for locale_dir in map(Path, settings.LOCALE_PATHS):
            for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
                if options["verbosity"] > 1:
                    self.stdout.write(f"compiled {po_path}")
        if options["verbosity"] > 1 or compiled:
            self.stdout.write(f"{compiled} catalogue(s) compiled.")
