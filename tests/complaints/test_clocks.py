"""Each shipped pack's deadlines on concrete dates, computed by hand in the comments.

Regulatory days are counted after the day the clock starts and end at 24:00 of the last day
(asserted as 00:00 of the next day, local, then in UTC).
"""

import datetime as dt
from decimal import Decimal

import pytest

from complaints.clocks import clocks_for, due_at, pack_calendar, warn_at
from complaints.models import ClockNature, ClockUnit, NonWorkingEnd, PackClock
from complaints.services import pack_copy

from .conftest import LONDON, NEW_YORK, SHANGHAI, UTC, at

pytestmark = pytest.mark.django_db


def clock(pack, code) -> PackClock:
    return pack.clocks.get(code=code)


# --- CN: calendar days, a last day on a holiday moves to the next working day ------------------


def test_cn_received_before_national_day_counts_through_the_holiday(cn_pack, cn_branch):
    calendar = pack_calendar(cn_pack, branch=cn_branch)
    received = at(SHANGHAI, 2026, 9, 30, 16)  # Wednesday, the eve of National Day (1–7 Oct)
    # Day 1 is 1 October; day 15 is Thursday 15 October, a working day: the holiday week counts
    # (calendar days). Due at its end, 16 Oct 00:00 CST = 15 Oct 16:00 UTC.
    decision = clock(cn_pack, "decision")
    assert due_at(decision, received, calendar=calendar) == dt.datetime(
        2026, 10, 15, 16, tzinfo=UTC
    )
    # Extended to 30 days from receipt: Friday 30 October, to 31 Oct 00:00 CST.
    extension = clock(cn_pack, "extension")
    assert due_at(extension, received, calendar=calendar) == dt.datetime(
        2026, 10, 30, 16, tzinfo=UTC
    )
    # A further 30 days (60 from receipt): Sunday 29 November, not a working day, so the period
    # ends on Monday 30 November (民法典 art. 203): to 1 Dec 00:00 CST = 30 Nov 16:00 UTC.
    further = clock(cn_pack, "further_extension")
    assert due_at(further, received, calendar=calendar) == dt.datetime(2026, 11, 30, 16, tzinfo=UTC)


def test_cn_day_15_on_a_holiday_moves_past_the_golden_week(cn_pack, cn_branch):
    calendar = pack_calendar(cn_pack, branch=cn_branch)
    received = at(SHANGHAI, 2026, 9, 17, 10)  # Thursday
    # Day 15 is Friday 2 October (National Day holiday, off to the 7th); the first working day
    # after is Thursday 8 October: due 9 Oct 00:00 CST = 8 Oct 16:00 UTC.
    decision = clock(cn_pack, "decision")
    assert decision.non_working_end == NonWorkingEnd.NEXT_WORKING_DAY
    assert due_at(decision, received, calendar=calendar) == dt.datetime(2026, 10, 8, 16, tzinfo=UTC)


def test_a_pack_whose_clock_stays_on_the_holiday(cn_pack, cn_branch):
    # An administrator's copy that does not move the last day (say, a stricter internal reading).
    copy = pack_copy(pack=cn_pack, actor=None)
    copy.clocks.filter(code="decision").update(non_working_end=NonWorkingEnd.STAY)
    calendar = pack_calendar(copy, branch=cn_branch)
    # Same complaint as above: day 15 is Friday 2 October and stays there: 3 Oct 00:00 CST.
    due = due_at(clock(copy, "decision"), at(SHANGHAI, 2026, 9, 17, 10), calendar=calendar)
    assert due == dt.datetime(2026, 10, 2, 16, tzinfo=UTC)


def test_cn_a_make_up_working_day_is_a_working_last_day(cn_pack, cn_branch):
    calendar = pack_calendar(cn_pack, branch=cn_branch)
    # Received Saturday 5 September; day 15 is Sunday 20 September, a make-up working day
    # (国庆节调休上班), so it does not move: due 21 Sep 00:00 CST = 20 Sep 16:00 UTC.
    due = due_at(clock(cn_pack, "decision"), at(SHANGHAI, 2026, 9, 5, 11), calendar=calendar)
    assert due == dt.datetime(2026, 9, 20, 16, tzinfo=UTC)


def test_cn_warning_at_80_percent_of_the_decision_clock(cn_pack, cn_branch):
    calendar = pack_calendar(cn_pack, branch=cn_branch)
    received = at(SHANGHAI, 2026, 9, 30, 16)
    # From 30 Sep 16:00 to 16 Oct 00:00 CST is 15 days 8 hours = 368 h; 80 % is 294.4 h =
    # 12 days 6 h 24 min: 12 Oct 22:24 CST = 12 Oct 14:24 UTC.
    warning = warn_at(clock(cn_pack, "decision"), received, calendar=calendar)
    assert warning == dt.datetime(2026, 10, 12, 14, 24, tzinfo=UTC)


def test_cn_review_window_and_review_decision(cn_pack, cn_branch):
    calendar = pack_calendar(cn_pack, branch=cn_branch)
    decided = at(SHANGHAI, 2026, 10, 15, 11)  # the decision is sent on Thursday 15 October
    window = clock(cn_pack, "review_request_window")
    # 30 days after 15 October is Saturday 14 November; it moves to Monday 16 November:
    # a request is in time until 17 Nov 00:00 CST = 16 Nov 16:00 UTC.
    assert window.starts_on == "decision"
    assert due_at(window, decided, calendar=calendar) == dt.datetime(2026, 11, 16, 16, tzinfo=UTC)
    # The window is the complainant's, not ours: nobody is warned about it.
    assert warn_at(window, decided, calendar=calendar) is None
    # Review requested Monday 16 November 09:00: decided within 30 days, to Wednesday
    # 16 December (a working day): 17 Dec 00:00 CST = 16 Dec 16:00 UTC.
    review = clock(cn_pack, "review_decision")
    requested = at(SHANGHAI, 2026, 11, 16, 9)
    assert due_at(review, requested, calendar=calendar) == dt.datetime(2026, 12, 16, 16, tzinfo=UTC)


# --- UK: business days on the England and Wales calendar, across Easter 2026 ------------------


def test_uk_payment_services_complaint_across_easter(uk_pack, london_branch):
    calendar = pack_calendar(uk_pack, branch=london_branch)
    received = at(LONDON, 2026, 4, 1, 15)  # Wednesday 1 April, 15:00 BST (UTC+1)
    # Business days after the day of receipt: Thu 2 (1); Good Friday 3, the weekend and Easter
    # Monday 6 are off; Tue 7 (2), Wed 8 (3). Summary resolution by close of Wednesday 8 April:
    # 9 Apr 00:00 BST = 8 Apr 23:00 UTC.
    summary = clock(uk_pack, "summary_resolution")
    assert due_at(summary, received, calendar=calendar) == dt.datetime(2026, 4, 8, 23, tzinfo=UTC)
    # Its warning at 80 % of the business time from start to due: Wed 15:00–24:00 (9 h), Thu 2
    # (24 h), Tue 7 (24 h), Wed 8 (24 h) make 81 h; 80 % is 64.8 h: 9 + 24 + 24 leaves 7.8 h
    # into Wednesday 8 April: 07:48 BST = 06:48 UTC (Easter is not counted). The shipped
    # summary clock is a window and warns nobody; an administrator's copy with a warning:
    assert warn_at(summary, received, calendar=calendar) is None
    summary.warn_fraction = Decimal("0.80")
    assert warn_at(summary, received, calendar=calendar) == dt.datetime(
        2026, 4, 8, 6, 48, tzinfo=UTC
    )
    # 15 business days: 2, 7, 8, 9, 10, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24 April (Friday):
    # 25 Apr 00:00 BST = 24 Apr 23:00 UTC.
    psd = clock(uk_pack, "psd_final_response")
    assert due_at(psd, received, calendar=calendar) == dt.datetime(2026, 4, 24, 23, tzinfo=UTC)
    # 35 business days: 27–30 April and 1 May (16–20), the early May bank holiday (4 May) off,
    # 5–8 May (21–24), 11–15 (25–29), 18–22 (30–34), the spring bank holiday (25 May) off,
    # Tuesday 26 May (35): 27 May 00:00 BST = 26 May 23:00 UTC.
    extended = clock(uk_pack, "psd_extended_final_response")
    assert due_at(extended, received, calendar=calendar) == dt.datetime(2026, 5, 26, 23, tzinfo=UTC)
    # Prompt acknowledgement, five business days: 2, 7, 8, 9, 10 April: 11 Apr 00:00 BST.
    acknowledge = clock(uk_pack, "acknowledge")
    assert due_at(acknowledge, received, calendar=calendar) == dt.datetime(
        2026, 4, 10, 23, tzinfo=UTC
    )


def test_uk_payment_services_complaints_have_the_psd_clocks_instead_of_eight_weeks(uk_pack):
    psd = {c.code for c in clocks_for(uk_pack, payment_services=True)}
    other = {c.code for c in clocks_for(uk_pack, payment_services=False)}
    assert psd == {
        "acknowledge",
        "summary_resolution",
        "psd_final_response",
        "psd_extended_final_response",
    }
    assert other == {"acknowledge", "summary_resolution", "final_response"}


def test_uk_eight_weeks_across_the_clock_change(uk_pack, london_branch):
    calendar = pack_calendar(uk_pack, branch=london_branch)
    final = clock(uk_pack, "final_response")
    # Received Monday 2 March 10:00 GMT; 56 days after is Monday 27 April (BST since 29 March):
    # 28 Apr 00:00 BST = 27 Apr 23:00 UTC.
    received = at(LONDON, 2026, 3, 2, 10)
    assert due_at(final, received, calendar=calendar) == dt.datetime(2026, 4, 27, 23, tzinfo=UTC)
    # Received Saturday 7 March: eight weeks end on Saturday 2 May and stay there (DISP does not
    # move them): 3 May 00:00 BST = 2 May 23:00 UTC.
    received = at(LONDON, 2026, 3, 7, 12)
    assert due_at(final, received, calendar=calendar) == dt.datetime(2026, 5, 2, 23, tzinfo=UTC)


def test_business_hours_on_the_pack_calendar_and_the_branch_hours(uk_pack, london_branch):
    # The branch is open 09:00–17:00 Monday to Friday; its own calendar (Chinese) knows no Easter.
    copy = pack_copy(pack=uk_pack, actor=None)
    callback = PackClock.objects.create(
        pack=copy,
        code="internal_callback",
        name_zh="内部回电",
        name_en="Internal call back",
        nature=ClockNature.INTERNAL,
        duration=4,
        unit=ClockUnit.BUSINESS_HOURS,
        warn_fraction=None,
    )
    calendar = pack_calendar(copy, branch=london_branch)
    # Thursday 2 April 15:00 BST: 2 h to closing; Good Friday and Easter Monday are off on the
    # pack's calendar; 2 more hours from 09:00 Tuesday 7 April: 11:00 BST = 10:00 UTC.
    due = due_at(callback, at(LONDON, 2026, 4, 2, 15), calendar=calendar)
    assert due == dt.datetime(2026, 4, 7, 10, tzinfo=UTC)


# --- US: calendar days that never move, across a month end --------------------------------------


def test_us_response_across_a_month_end(us_pack, new_york_branch):
    calendar = pack_calendar(us_pack, branch=new_york_branch)
    received = at(NEW_YORK, 2026, 1, 20, 14)  # Tuesday 20 January, 14:00 EST (UTC-5)
    # 15 days after: 31 January is day 11, Wednesday 4 February day 15: 5 Feb 00:00 EST =
    # 5 Feb 05:00 UTC.
    response = clock(us_pack, "cfpb_response")
    assert due_at(response, received, calendar=calendar) == dt.datetime(2026, 2, 5, 5, tzinfo=UTC)
    # 60 days: 31 Jan (11), 28 Feb (39), Saturday 21 March (60), which stays; EDT since 8 March:
    # 22 Mar 00:00 EDT = 22 Mar 04:00 UTC.
    final = clock(us_pack, "cfpb_final_response")
    assert due_at(final, received, calendar=calendar) == dt.datetime(2026, 3, 22, 4, tzinfo=UTC)


# --- An administrator's internal target ---------------------------------------------------------


def test_internal_first_response_of_24_hours_counts_every_hour(uk_pack, london_branch):
    copy = pack_copy(pack=uk_pack, actor=None)
    first = PackClock.objects.create(
        pack=copy,
        code="internal_first_response",
        name_zh="内部首次响应",
        name_en="Internal first response",
        nature=ClockNature.INTERNAL,
        duration=24,
        unit=ClockUnit.HOURS,
        pausable=True,
    )
    calendar = pack_calendar(copy, branch=london_branch)
    received = at(LONDON, 2026, 4, 3, 18, 30)  # Good Friday, 18:30 BST
    # Real hours, holidays included: Saturday 4 April 18:30 BST = 17:30 UTC; warned at 80 %
    # (19 h 12 min): Saturday 13:42 BST = 12:42 UTC.
    assert due_at(first, received, calendar=calendar) == dt.datetime(2026, 4, 4, 17, 30, tzinfo=UTC)
    assert warn_at(first, received, calendar=calendar) == dt.datetime(
        2026, 4, 4, 12, 42, tzinfo=UTC
    )


def test_naive_start_is_refused(cn_pack, cn_branch):
    calendar = pack_calendar(cn_pack, branch=cn_branch)
    with pytest.raises(ValueError, match="aware"):
        due_at(clock(cn_pack, "decision"), dt.datetime(2026, 9, 30, 16), calendar=calendar)  # noqa: DTZ001


def test_exact_counting_from_the_moment_of_receipt(cn_pack, uk_pack, cn_branch, london_branch):
    cn_copy, uk_copy = pack_copy(pack=cn_pack, actor=None), pack_copy(pack=uk_pack, actor=None)
    cn_copy.clocks.filter(code="decision").update(counting="exact")
    uk_copy.clocks.filter(code="summary_resolution").update(counting="exact")
    # CN: 15 days after Thursday 17 September 10:00 is Friday 2 October 10:00, a holiday, moved
    # to the same time on Thursday 8 October: 10:00 CST = 02:00 UTC.
    due = due_at(
        clock(cn_copy, "decision"),
        at(SHANGHAI, 2026, 9, 17, 10),
        calendar=pack_calendar(cn_copy, branch=cn_branch),
    )
    assert due == dt.datetime(2026, 10, 8, 2, tzinfo=UTC)
    # UK: 3 business days from Wednesday 1 April 15:00: Thu 2 15:00 (1), Tue 7 15:00 (2), Wed 8
    # 15:00 (3) BST = 14:00 UTC, rather than the end of that day.
    due = due_at(
        clock(uk_copy, "summary_resolution"),
        at(LONDON, 2026, 4, 1, 15),
        calendar=pack_calendar(uk_copy, branch=london_branch),
    )
    assert due == dt.datetime(2026, 4, 8, 14, tzinfo=UTC)
