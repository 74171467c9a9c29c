"""Calendar arithmetic: Spring Festival 2026 with its make-up Saturdays, Easter 2026 in England,
opening hours across nights and weekends, DST in London, and one query per range of days."""

import datetime as dt

import pytest

from bankservice.branches.models import Branch, CalendarDay, OpeningHours
from bankservice.sla.clock import BusinessClock, Clock, NoWorkingTime
from tests.factories import BranchFactory, CalendarFactory

from .conftest import LONDON, SHANGHAI, SPRING_FESTIVAL_2026, at

UTC = dt.UTC
pytestmark = pytest.mark.django_db


def fresh(branch) -> Branch:
    """The branch as a service would load it (calendar joined, nothing else cached)."""
    return Branch.objects.select_related("calendar").get(pk=branch.pk)


# --- Working days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2026, 2, 13), True),  # Friday
        (dt.date(2026, 2, 14), True),  # Saturday, make-up working day
        (dt.date(2026, 2, 15), False),  # Sunday and holiday
        (dt.date(2026, 2, 16), False),  # Monday, holiday
        (dt.date(2026, 2, 23), False),  # Monday, last holiday
        (dt.date(2026, 2, 24), True),  # Tuesday, back to work
        (dt.date(2026, 2, 28), True),  # Saturday, make-up working day
        (dt.date(2026, 3, 1), False),  # Sunday
    ],
)
def test_working_days_around_spring_festival(cn_branch, day, working):
    assert BusinessClock.for_branch(cn_branch).is_working_day(day) is working


def test_exception_days_are_read_once_for_a_whole_walk(cn_branch, django_assert_num_queries):
    branch = fresh(cn_branch)
    with django_assert_num_queries(1):
        clock = BusinessClock.for_branch(branch)
        clock.add_business_days(at(SHANGHAI, 2026, 2, 12, 10), 5)
        clock.add_business_days(at(SHANGHAI, 2026, 2, 13, 10), 3)
        assert [clock.is_working_day(dt.date(2026, 2, d)) for d in (14, 15, 24)] == [
            True,
            False,
            True,
        ]


def test_opening_hours_cost_one_more_query(cn_branch, django_assert_num_queries):
    branch = fresh(cn_branch)
    with django_assert_num_queries(2):
        clock = BusinessClock.for_branch(branch)
        clock.add_business_hours(at(SHANGHAI, 2026, 2, 13, 16), 20)
        clock.business_hours_between(at(SHANGHAI, 2026, 2, 13), at(SHANGHAI, 2026, 3, 13))


def test_a_long_walk_stays_right(cn_branch, django_assert_num_queries):
    branch = fresh(cn_branch)
    with django_assert_num_queries(1):
        due = BusinessClock.for_branch(branch).add_business_days(at(SHANGHAI, 2026, 1, 5, 9), 250)
    expected = _count_working_days(dt.date(2026, 1, 5), 250, weekend={6, 7})
    assert due == at(SHANGHAI, expected.year, expected.month, expected.day, 9)


def test_days_outside_the_loaded_range_are_read_in_one_more_query(
    cn_branch, django_assert_num_queries
):
    clock = BusinessClock.for_branch(fresh(cn_branch))
    with django_assert_num_queries(1):
        assert clock.is_working_day(dt.date(2026, 2, 14))  # reads 14 Feb to mid April
        assert not clock.is_working_day(dt.date(2026, 2, 20))
        assert clock.is_working_day(dt.date(2026, 2, 28))
    with django_assert_num_queries(1):
        assert clock.is_working_day(dt.date(2026, 2, 2))  # reads the missing start of February
        assert not clock.is_working_day(dt.date(2026, 2, 15))
    with django_assert_num_queries(1):
        assert not clock.is_working_day(dt.date(2026, 12, 26))  # a Saturday, far ahead
    with django_assert_num_queries(0):
        assert not clock.is_working_day(dt.date(2026, 2, 23))


def _count_working_days(start: dt.date, n: int, *, weekend: set[int]) -> dt.date:
    """The slow, obvious way: step one date at a time and count the working ones."""
    day, counted = start, 0
    while counted < n:
        day += dt.timedelta(days=1)
        kind = SPRING_FESTIVAL_2026.get(day)
        if kind == CalendarDay.Kind.WORKDAY or (kind is None and day.isoweekday() not in weekend):
            counted += 1
    return day


@pytest.mark.parametrize("start_day", [2, 5, 9, 12, 13, 14, 24, 26, 27])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_business_days_agree_with_counting_day_by_day(cn_branch, start_day, n):
    # Every start here is a working day of February 2026.
    start = at(SHANGHAI, 2026, 2, start_day, 14, 30)
    due = BusinessClock.for_branch(cn_branch).add_business_days(start, n)
    expected = _count_working_days(start.date(), n, weekend={6, 7})
    assert due == at(SHANGHAI, expected.year, expected.month, expected.day, 14, 30)


# --- Business days --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "due"),
    [
        (1, at(SHANGHAI, 2026, 2, 13, 10)),  # Friday
        (2, at(SHANGHAI, 2026, 2, 14, 10)),  # the make-up Saturday counts
        (3, at(SHANGHAI, 2026, 2, 24, 10)),  # 15–23 February are skipped
        (5, at(SHANGHAI, 2026, 2, 26, 10)),
        (7, at(SHANGHAI, 2026, 2, 28, 10)),  # the second make-up Saturday
        (8, at(SHANGHAI, 2026, 3, 2, 10)),
    ],
)
def test_business_days_across_spring_festival(cn_branch, n, due):
    start = at(SHANGHAI, 2026, 2, 12, 10)  # Thursday
    result = BusinessClock.for_branch(cn_branch).add_business_days(start, n)
    assert result == due
    assert result.tzinfo == UTC


def test_five_business_days_from_thursday_12_february_is_thursday_26_february(cn_branch):
    due = BusinessClock.for_branch(cn_branch).add_business_days(at(SHANGHAI, 2026, 2, 12, 10), 5)
    assert due == dt.datetime(2026, 2, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def test_business_days_started_on_a_holiday_count_from_the_next_working_day(cn_branch):
    clock = BusinessClock.for_branch(cn_branch)
    # Received on the first day of the festival: the clock starts at 00:00 on Tue 24 February,
    # so one business day is the whole of the 24th (due at its end, 00:00 on the 25th).
    assert clock.add_business_days(at(SHANGHAI, 2026, 2, 16, 10), 1) == at(SHANGHAI, 2026, 2, 25)
    assert clock.add_business_days(at(SHANGHAI, 2026, 2, 21, 23), 5) == at(SHANGHAI, 2026, 3, 1)


def test_business_days_across_the_uk_easter_bank_holidays(london_branch):
    clock = BusinessClock.for_branch(london_branch)
    start = at(LONDON, 2026, 4, 2, 10)  # Thursday before Good Friday, 10:00 BST
    # Good Friday, the weekend and Easter Monday do not count: Tue 7 is day 1, Wed 8 day 2.
    assert clock.add_business_days(start, 1) == at(LONDON, 2026, 4, 7, 10)
    assert clock.add_business_days(start, 2) == dt.datetime(2026, 4, 8, 9, 0, tzinfo=UTC)
    assert not clock.is_working_day(dt.date(2026, 4, 3))
    assert not clock.is_working_day(dt.date(2026, 4, 6))


def test_business_days_keep_the_wall_time_across_the_spring_dst_change(london_branch):
    clock = BusinessClock.for_branch(london_branch)
    start = at(LONDON, 2026, 3, 27, 10)  # Friday 10:00 GMT = 10:00 UTC
    due = clock.add_business_days(start, 1)  # Monday 10:00 BST = 09:00 UTC
    assert due == dt.datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


# --- Business hours -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Across a night: Wed 16:00 + 2 h = Wed 16–17 and Thu 09–10.
        (at(SHANGHAI, 2026, 3, 4, 16), 2, at(SHANGHAI, 2026, 3, 5, 10)),
        # Across a weekend: Fri 15:00 + 4 h = Fri 15–17 and Mon 09–11.
        (at(SHANGHAI, 2026, 3, 6, 15), 4, at(SHANGHAI, 2026, 3, 9, 11)),
        # Started before opening: the clock starts at 09:00.
        (at(SHANGHAI, 2026, 3, 9, 7), 1, at(SHANGHAI, 2026, 3, 9, 10)),
        # Started on a Saturday night: Monday 09:00 + 1.5 h.
        (at(SHANGHAI, 2026, 3, 7, 22), 1.5, at(SHANGHAI, 2026, 3, 9, 10, 30)),
        # Ends exactly at closing time: that is the due time, not Monday 09:00.
        (at(SHANGHAI, 2026, 3, 6, 16), 1, at(SHANGHAI, 2026, 3, 6, 17)),
        # A whole week of opening hours: Mon 09:00 + 40 h = Fri 17:00.
        (at(SHANGHAI, 2026, 3, 9, 9), 40, at(SHANGHAI, 2026, 3, 13, 17)),
        # The make-up Saturday is worked with a weekday's hours: Fri 16–17, Sat 09–11.
        (at(SHANGHAI, 2026, 2, 13, 16), 3, at(SHANGHAI, 2026, 2, 14, 11)),
        # Across the festival: Sat 14 16–17, then Tue 24 09–10.
        (at(SHANGHAI, 2026, 2, 14, 16), 2, at(SHANGHAI, 2026, 2, 24, 10)),
    ],
)
def test_business_hours(cn_branch, start, hours, due):
    assert BusinessClock.for_branch(cn_branch).add_business_hours(start, hours) == due


def test_business_hours_across_a_uk_bank_holiday_weekend(london_branch):
    clock = BusinessClock.for_branch(london_branch)
    # Thu 2 April 16:00 + 3 h: Thu 16–17, then Tue 7 April 09–11 (BST).
    due = clock.add_business_hours(at(LONDON, 2026, 4, 2, 16), 3)
    assert due == at(LONDON, 2026, 4, 7, 11)
    assert due == dt.datetime(2026, 4, 7, 10, 0, tzinfo=UTC)


def test_business_hours_across_the_spring_dst_change(london_branch):
    clock = BusinessClock.for_branch(london_branch)
    start = dt.datetime(2026, 3, 27, 16, 0, tzinfo=UTC)  # Friday 16:00 GMT
    # Fri 16–17 GMT, Mon 09–10 BST: due Monday 10:00 BST = 09:00 UTC.
    assert clock.add_business_hours(start, 2) == dt.datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_a_lunch_break_is_not_business_time(cn_branch):
    branch = BranchFactory(code="lunch", calendar=cn_branch.calendar)
    OpeningHours.objects.filter(branch=branch).delete()
    for weekday in range(1, 6):
        OpeningHours.objects.create(
            branch=branch, weekday=weekday, opens_at="09:00", closes_at="12:00"
        )
        OpeningHours.objects.create(
            branch=branch, weekday=weekday, opens_at="13:30", closes_at="17:00"
        )
    clock = BusinessClock.for_branch(branch)
    assert clock.add_business_hours(at(SHANGHAI, 2026, 3, 9, 11), 2) == at(
        SHANGHAI, 2026, 3, 9, 14, 30
    )
    assert clock.business_hours_between(
        at(SHANGHAI, 2026, 3, 9, 0), at(SHANGHAI, 2026, 3, 10, 0)
    ) == dt.timedelta(hours=6, minutes=30)


def test_a_branch_without_opening_hours_uses_the_default_day(cn_branch):
    branch = BranchFactory(code="nohours", calendar=cn_branch.calendar)
    branch.opening_hours.all().delete()
    start = at(SHANGHAI, 2026, 3, 6, 15)  # Friday
    default = BusinessClock.for_branch(branch)  # 09:00–17:00
    assert default.add_business_hours(start, 2) == at(SHANGHAI, 2026, 3, 6, 17)
    early = BusinessClock.for_branch(branch, default_hours=[(dt.time(8, 30), dt.time(16, 30))])
    assert early.add_business_hours(start, 2) == at(SHANGHAI, 2026, 3, 9, 9)


def test_a_weekday_the_branch_is_closed_has_no_business_hours(cn_branch):
    OpeningHours.objects.filter(branch=cn_branch, weekday=3).delete()  # closed on Wednesdays
    clock = BusinessClock.for_branch(fresh(cn_branch))
    assert clock.add_business_hours(at(SHANGHAI, 2026, 3, 10, 16), 2) == at(
        SHANGHAI, 2026, 3, 12, 10
    )
    # Business days follow the calendar, not the branch's hours.
    assert clock.add_business_days(at(SHANGHAI, 2026, 3, 10, 16), 1) == at(
        SHANGHAI, 2026, 3, 11, 16
    )


# --- Elapsed business time ------------------------------------------------------------------------


def test_business_hours_between_two_instants(cn_branch):
    clock = BusinessClock.for_branch(cn_branch)
    start, end = at(SHANGHAI, 2026, 2, 13, 16), at(SHANGHAI, 2026, 2, 24, 10)
    # Fri 16–17, the make-up Saturday 09–17, Tue 24 09–10.
    assert clock.business_hours_between(start, end) == dt.timedelta(hours=10)
    assert clock.business_hours_between(end, start) == -dt.timedelta(hours=10)
    # Whole working days: Fri 16:00–24:00, all of the make-up Saturday, Tue 00:00–10:00.
    assert clock.elapsed(start, end, clock=Clock.BUSINESS_DAYS) == dt.timedelta(hours=42)
    assert clock.elapsed(start, end, clock=Clock.CALENDAR_DAYS) == end - start


@pytest.mark.parametrize("hours", [0.5, 1, 7, 8, 9, 23, 60])
def test_adding_what_elapsed_returns_the_same_instant(cn_branch, hours):
    clock = BusinessClock.for_branch(cn_branch)
    start = at(SHANGHAI, 2026, 2, 12, 11, 15)
    due = clock.add_business_hours(start, hours)
    assert clock.business_hours_between(start, due) == dt.timedelta(hours=hours)
    assert (
        clock.add(start, clock.business_hours_between(start, due), clock=Clock.BUSINESS_HOURS)
        == due
    )


# --- Calendar days, DST and rolling forward -------------------------------------------------------


def test_calendar_days_keep_the_wall_time_across_dst(london_branch):
    clock = BusinessClock.for_branch(london_branch)
    spring = clock.add_calendar_days(at(LONDON, 2026, 3, 28, 12), 1)  # 23 real hours
    assert spring == dt.datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    autumn = clock.add_calendar_days(at(LONDON, 2026, 10, 24, 12), 1)  # 25 real hours
    assert autumn == dt.datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    # 01:30 on 29 March does not exist in London: it is read as 02:30 BST.
    skipped = clock.add_calendar_days(at(LONDON, 2026, 3, 28, 1, 30), 1)
    assert skipped == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert skipped.astimezone(LONDON).hour == 2


def test_roll_forward_moves_a_holiday_due_date_to_the_next_working_day(cn_branch):
    clock = BusinessClock.for_branch(cn_branch)
    # Seven calendar days from Sun 8 February land on Sun 15, the festival's first day.
    due = clock.add_calendar_days(at(SHANGHAI, 2026, 2, 8, 15), 7)
    assert due == at(SHANGHAI, 2026, 2, 15, 15)
    assert clock.roll_forward(due) == at(SHANGHAI, 2026, 2, 24, 15)
    # A make-up Saturday is a working day: nothing moves.
    assert clock.roll_forward(at(SHANGHAI, 2026, 2, 14, 15)) == at(SHANGHAI, 2026, 2, 14, 15)
    assert clock.roll_forward(at(SHANGHAI, 2026, 3, 4, 15)) == at(SHANGHAI, 2026, 3, 4, 15)


def test_roll_forward_uses_the_branch_zone_not_utc(london_branch):
    clock = BusinessClock.for_branch(london_branch)
    # 23:30 on Thursday 2 April in UTC is 00:30 on Good Friday in London.
    moment = dt.datetime(2026, 4, 2, 23, 30, tzinfo=UTC)
    assert clock.roll_forward(moment) == at(LONDON, 2026, 4, 7, 0, 30)


# --- Guards ---------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused(cn_branch):
    clock = BusinessClock.for_branch(cn_branch)
    with pytest.raises(ValueError, match="aware"):
        clock.add_business_days(dt.datetime(2026, 2, 12, 10), 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        clock.add(at(SHANGHAI, 2026, 2, 12), -dt.timedelta(hours=1), clock=Clock.BUSINESS_HOURS)


def test_a_calendar_without_working_days_fails_loudly(db):
    calendar = CalendarFactory(code="never", weekend_days=[1, 2, 3, 4, 5, 6, 7])
    branch = BranchFactory(code="never", calendar=calendar)
    with pytest.raises(NoWorkingTime):
        BusinessClock.for_branch(branch).add_business_days(at(SHANGHAI, 2026, 2, 12), 1)


def test_without_a_branch_the_default_calendar_and_zone_apply(cn_branch, settings):
    settings.SLA_DEFAULT_CALENDAR = "cn"
    settings.TIME_ZONE = "Asia/Shanghai"
    clock = BusinessClock.for_branch(None)
    assert clock.add_business_days(at(SHANGHAI, 2026, 2, 13, 10), 2) == at(
        SHANGHAI, 2026, 2, 24, 10
    )
    settings.SLA_DEFAULT_CALENDAR = "missing"
    plain = BusinessClock.for_branch(None)  # Mon–Fri, no holidays
    assert plain.add_business_days(at(SHANGHAI, 2026, 2, 13, 10), 2) == at(
        SHANGHAI, 2026, 2, 17, 10
    )
