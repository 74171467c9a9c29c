"""Business-calendar imports (CSV and iCalendar), the shipped calendars, and import_calendar."""

import datetime as dt
import io
from importlib import resources

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from bankservice.branches.models import BusinessCalendar, CalendarDay
from bankservice.branches.services import calendar_import
from bankservice.sla.clock import BusinessClock
from tests.factories import CalendarFactory

DATA = resources.files("bankservice.branches").joinpath("data")


def shipped(name: str) -> str:
    return DATA.joinpath(name).read_text("utf-8")


def ical(*events: tuple[str, str, str]) -> str:
    """A minimal iCalendar file; events are (summary, DTSTART, DTEND exclusive) as YYYYMMDD."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//calendar//EN"]
    for number, (summary, start, end) in enumerate(events):
        lines += [
            "BEGIN:VEVENT",
            f"UID:test-{number}@example.com",
            "DTSTAMP:20250101T000000Z",
            f"DTSTART;VALUE=DATE:{start}",
            f"DTEND;VALUE=DATE:{end}",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def days_of(calendar) -> dict[dt.date, str]:
    return dict(calendar.days.values_list("date", "kind"))


@pytest.fixture
def calendar(db):
    return CalendarFactory(code="cn", weekend_days=[6, 7])


CSV = "date,kind,name\n2026-02-14,workday,春节调休上班\n2026-02-16,holiday,春节\n"


def test_csv_import_creates_holidays_and_make_up_days(calendar):
    result = calendar_import(calendar=calendar, content=CSV, fmt="csv")

    assert (result.created, result.updated) == (2, 0)
    assert days_of(calendar) == {
        dt.date(2026, 2, 14): CalendarDay.Kind.WORKDAY,
        dt.date(2026, 2, 16): CalendarDay.Kind.HOLIDAY,
    }
    assert calendar.days.get(date=dt.date(2026, 2, 14)).name == "春节调休上班"


def test_csv_reimport_creates_nothing_new(calendar):
    calendar_import(calendar=calendar, content=CSV, fmt="csv")

    result = calendar_import(calendar=calendar, content=CSV, fmt="csv")

    assert (result.created, result.updated) == (0, 2)
    assert calendar.days.count() == 2


@pytest.mark.parametrize(
    ("content", "line", "value"),
    [
        ("date,kind,name\n2026-02-14,workday,x\n2026-02-30,holiday,y\n", 3, "2026-02-30"),
        ("date,kind,name\n14/02/2026,workday,x\n", 2, "14/02/2026"),
        ("date,kind,name\n2026-02-14,weekend,x\n", 2, "weekend"),
    ],
)
def test_csv_errors_name_the_line(calendar, content, line, value):
    with pytest.raises(ValidationError) as excinfo:
        calendar_import(calendar=calendar, content=content, fmt="csv")

    message = " ".join(excinfo.value.messages)
    assert f"Line {line}" in message
    assert value in message
    assert calendar.days.count() == 0  # nothing half-imported


def test_csv_without_the_columns_is_refused(calendar):
    with pytest.raises(ValidationError, match="columns"):
        calendar_import(calendar=calendar, content="day;type\n2026-01-01;holiday\n", fmt="csv")


def test_shipped_gb_ical_has_the_2026_bank_holidays(db):
    calendar = CalendarFactory(code="gb-eaw", name="England and Wales")

    result = calendar_import(calendar=calendar, content=shipped("gb-eaw-2026.ics"), fmt="ical")

    assert result.created == 8
    days = days_of(calendar)
    assert set(days.values()) == {CalendarDay.Kind.HOLIDAY}
    assert sorted(days) == [
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 3),
        dt.date(2026, 4, 6),
        dt.date(2026, 5, 4),
        dt.date(2026, 5, 25),
        dt.date(2026, 8, 31),
        dt.date(2026, 12, 25),
        dt.date(2026, 12, 28),
    ]
    assert calendar.days.get(date=dt.date(2026, 12, 28)).name == "Boxing Day (substitute day)"


def test_ical_make_up_event_becomes_a_workday(calendar):
    content = ical(("补班", "20260214", "20260215"), ("春节", "20260216", "20260217"))

    calendar_import(calendar=calendar, content=content, fmt="ical")

    assert days_of(calendar) == {
        dt.date(2026, 2, 14): CalendarDay.Kind.WORKDAY,
        dt.date(2026, 2, 16): CalendarDay.Kind.HOLIDAY,
    }


def test_ical_multi_day_event_covers_each_day_dtend_exclusive(calendar):
    content = ical(("春节", "20260215", "20260224"))

    result = calendar_import(calendar=calendar, content=content, fmt="ical")

    assert result.created == 9
    assert sorted(days_of(calendar)) == [dt.date(2026, 2, 15) + dt.timedelta(n) for n in range(9)]
    assert not calendar.days.filter(date=dt.date(2026, 2, 24)).exists()


def test_not_an_ical_file_is_refused(calendar):
    with pytest.raises(ValidationError):
        calendar_import(calendar=calendar, content="this is not a calendar", fmt="ical")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2026, 2, 14), True),  # Saturday make-up day for the Spring Festival
        (dt.date(2026, 2, 16), False),  # Monday inside the Spring Festival
        (dt.date(2026, 3, 2), True),  # ordinary Monday
        (dt.date(2026, 3, 7), False),  # ordinary Saturday
        (dt.date(2026, 10, 10), True),  # Saturday make-up day after National Day
        (dt.date(2026, 9, 25), False),  # Mid-Autumn Festival, a Friday
    ],
)
def test_is_working_day_after_loading_the_2026_chinese_calendar(calendar, day, working):
    calendar_import(calendar=calendar, content=shipped("cn-2026.csv"), fmt="csv")

    clock = BusinessClock(zone="Asia/Shanghai", calendar=calendar)
    assert clock.is_working_day(day) is working


def test_shipped_chinese_calendars_match_the_state_council_notices(calendar):
    calendar_import(calendar=calendar, content=shipped("cn-2025.csv"), fmt="csv")
    calendar_import(calendar=calendar, content=shipped("cn-2026.csv"), fmt="csv")

    days = days_of(calendar)
    for year, holidays, make_up in [(2025, 28, 5), (2026, 33, 6)]:
        kinds = [kind for day, kind in days.items() if day.year == year]
        assert kinds.count(CalendarDay.Kind.HOLIDAY) == holidays
        assert kinds.count(CalendarDay.Kind.WORKDAY) == make_up
    # Every make-up working day falls on a weekend; otherwise it would change nothing.
    assert all(
        day.isoweekday() in (6, 7) for day, kind in days.items() if kind == CalendarDay.Kind.WORKDAY
    )
    assert days[dt.date(2025, 1, 26)] == CalendarDay.Kind.WORKDAY
    assert days[dt.date(2025, 10, 8)] == CalendarDay.Kind.HOLIDAY


def run_import(*args: str) -> str:
    out = io.StringIO()
    call_command("import_calendar", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_import_calendar_command_creates_the_calendar_and_imports():
    path = str(DATA.joinpath("gb-eaw-2026.ics"))

    output = run_import("gb-eaw", path, "--name", "England and Wales")

    calendar = BusinessCalendar.objects.get(code="gb-eaw")
    assert (calendar.name, calendar.weekend_days) == ("England and Wales", [6, 7])
    assert calendar.days.count() == 8
    assert "8 day(s) created, 0 updated" in output

    again = run_import("gb-eaw", path)

    assert "0 day(s) created, 8 updated" in again
    assert BusinessCalendar.objects.get(code="gb-eaw").name == "England and Wales"


@pytest.mark.django_db
def test_import_calendar_command_sets_the_weekend(tmp_path):
    path = tmp_path / "gulf.csv"
    path.write_text("date,kind,name\n2026-03-20,holiday,Eid al-Fitr\n", encoding="utf-8")

    run_import("ae", str(path), "--weekend", "6,7")
    run_import("ae", str(path), "--weekend", "5,6")

    assert BusinessCalendar.objects.get(code="ae").weekend_days == [5, 6]


@pytest.mark.django_db
def test_import_calendar_command_reads_a_csv_with_a_bom(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("date,kind,name\n2026-01-01,holiday,元旦\n", encoding="utf-8-sig")

    run_import("cn", str(path))

    assert days_of(BusinessCalendar.objects.get(code="cn")) == {
        dt.date(2026, 1, 1): CalendarDay.Kind.HOLIDAY
    }


@pytest.mark.django_db
def test_import_calendar_command_reports_a_bad_file_and_keeps_nothing(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("date,kind,name\n2026-02-30,holiday,x\n", encoding="utf-8")

    with pytest.raises(CommandError, match=r"bad\.csv: Line 2: 2026-02-30 is not a date"):
        run_import("new-cal", str(path))

    assert not BusinessCalendar.objects.filter(code="new-cal").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("holidays.txt", [], "use a .csv or .ics file"),
        ("missing.csv", [], "no such file"),
        ("ok.csv", ["--weekend", "6,8"], "ISO weekdays"),
        ("ok.csv", ["--weekend", "sat"], "ISO weekdays"),
    ],
)
def test_import_calendar_command_errors(tmp_path, name, args, message):
    (tmp_path / "holidays.txt").write_text("date,kind\n", encoding="utf-8")
    (tmp_path / "ok.csv").write_text("date,kind\n2026-01-01,holiday\n", encoding="utf-8")

    with pytest.raises(CommandError, match=message):
        run_import("new-cal", str(tmp_path / name), *args)

    # The rule packs' migration ships calendars (cn, gb-eaw, us); the failed import adds none.
    assert not BusinessCalendar.objects.filter(code="new-cal").exists()


@pytest.mark.django_db
def test_import_calendar_command_refuses_a_bad_calendar_code(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("date,kind\n2026-01-01,holiday\n", encoding="utf-8")

    with pytest.raises(CommandError, match="Calendar not a slug!"):
        run_import("not a slug!", str(path))
