"""Load holidays and make-up working days into a business calendar from a CSV or .ics file."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bankservice.branches.services import calendar_ensure, calendar_import

FORMATS = {".csv": "csv", ".ics": "ical", ".ical": "ical", ".ifb": "ical"}


def parse_weekend(value: str) -> list[int]:
    """'6,7' -> [6, 7]; ISO weekdays, Monday = 1 … Sunday = 7; '' means no weekend."""
    try:
        days = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise CommandError(f"--weekend takes ISO weekdays such as 6,7, not {value!r}.") from None
    if not all(1 <= day <= 7 for day in days):
        raise CommandError(f"--weekend takes ISO weekdays from 1 (Mon) to 7 (Sun), not {value!r}.")
    return days


class Command(BaseCommand):
    help = (
        "Create the business calendar CALENDAR_CODE if missing and import holidays and make-up "
        "working days from PATH: CSV (columns date,kind,name) or iCalendar (.ics), chosen by the "
        "file's extension. Re-importing a file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("calendar_code", help="Calendar code, e.g. cn or gb-eaw.")
        parser.add_argument("path", help="A .csv or .ics file.")
        parser.add_argument(
            "--name", help="The calendar's name (set when it is created, or changed to this)."
        )
        parser.add_argument(
            "--weekend",
            help="Weekly days off as ISO weekdays, e.g. 6,7 (the default for a new calendar).",
        )

    def handle(self, *args, calendar_code, path, name=None, weekend=None, **options):
        file = Path(path)
        fmt = FORMATS.get(file.suffix.lower())
        if fmt is None:
            raise CommandError(f"{file.name}: use a .csv or .ics file.")
        try:
            content = file.read_text(encoding="utf-8-sig")  # -sig: Excel writes a BOM
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: cannot read it as UTF-8 text ({exc}).") from None
        weekend_days = parse_weekend(weekend) if weekend is not None else None

        # One transaction: a bad file leaves neither a new empty calendar nor half its days.
        try:
            with transaction.atomic():
                try:
                    calendar, created = calendar_ensure(
                        code=calendar_code, name=name, weekend_days=weekend_days
                    )
                except ValidationError as exc:
                    raise CommandError(
                        f"Calendar {calendar_code}: {'; '.join(exc.messages)}"
                    ) from None
                result = calendar_import(calendar=calendar, content=content, fmt=fmt)
        except ValidationError as exc:
            raise CommandError(f"{file.name}: {'; '.join(exc.messages)}") from None

        if created:
            self.stdout.write(f"Created calendar {calendar.code} ({calendar.name}).")
        self.stdout.write(
            self.style.SUCCESS(
                f"{calendar.code}: {result.created} day(s) created, {result.updated} updated "
                f"from {file.name}."
            )
        )
