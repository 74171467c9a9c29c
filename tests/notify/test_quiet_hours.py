"""Quiet hours per branch: messages wait until the end of the window, then the sweep sends them."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from bankservice.notify.models import BranchQuietHours, NotificationStatus
from bankservice.notify.quiet import parse_window, quiet_until, window_for_branch
from bankservice.notify.services import notification_send, notification_sweep
from bankservice.notify.tasks import send_notification
from tests.factories import BranchFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LONDON = zoneinfo.ZoneInfo("Europe/London")
NIGHT = (dt.time(21), dt.time(8))


def at(zone, *args):
    return dt.datetime(*args, tzinfo=zone)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (at(SHANGHAI, 2026, 3, 10, 22, 30), at(SHANGHAI, 2026, 3, 11, 8)),
        (at(SHANGHAI, 2026, 3, 10, 21, 0), at(SHANGHAI, 2026, 3, 11, 8)),
        (at(SHANGHAI, 2026, 3, 11, 2, 15), at(SHANGHAI, 2026, 3, 11, 8)),
        (at(SHANGHAI, 2026, 3, 11, 8, 0), None),
        (at(SHANGHAI, 2026, 3, 11, 12, 0), None),
        (at(SHANGHAI, 2026, 3, 11, 20, 59), None),
    ],
)
def test_quiet_until_across_midnight(local, expected):
    assert quiet_until(local.astimezone(dt.UTC), NIGHT, SHANGHAI) == expected


def test_quiet_until_within_a_day_and_in_the_branch_zone():
    lunch = (dt.time(12), dt.time(13, 30))
    noon_london = at(LONDON, 2026, 7, 1, 12, 10)
    assert quiet_until(noon_london, lunch, LONDON) == at(LONDON, 2026, 7, 1, 13, 30)
    # The same instant is 19:10 in Shanghai: not quiet there.
    assert quiet_until(noon_london, lunch, SHANGHAI) is None
    assert quiet_until(noon_london, None, LONDON) is None


def test_quiet_until_across_a_dst_change():
    # London springs forward on 2026-03-29 at 01:00 UTC; the window ends at 08:00 BST.
    late = at(LONDON, 2026, 3, 28, 23, 0)
    assert quiet_until(late, (dt.time(22), dt.time(8)), LONDON) == dt.datetime(
        2026, 3, 29, 7, 0, tzinfo=dt.UTC
    )


def test_parse_window():
    assert parse_window("21:00-08:00") == NIGHT
    assert parse_window(" 12:00 - 13:30 ") == (dt.time(12), dt.time(13, 30))
    assert parse_window("off") is None
    with pytest.raises(ImproperlyConfigured):
        parse_window("9pm to 8am")
    with pytest.raises(ImproperlyConfigured):
        parse_window("08:00-08:00")


@pytest.mark.django_db
def test_branch_row_overrides_the_setting(settings, branch_a, branch_b):
    settings.NOTIFY_QUIET_HOURS = "21:00-08:00"
    BranchQuietHours.objects.create(branch=branch_a, starts_at="22:00", ends_at="07:00")
    BranchQuietHours.objects.create(
        branch=branch_b, starts_at="22:00", ends_at="07:00", enabled=False
    )
    assert window_for_branch(branch_a) == (dt.time(22), dt.time(7))
    assert window_for_branch(branch_b) is None
    plain = BranchFactory()
    assert window_for_branch(plain) == NIGHT
    settings.NOTIFY_QUIET_HOURS = "off"
    assert window_for_branch(plain) is None


@pytest.mark.django_db
def test_message_in_quiet_hours_waits_then_the_sweep_sends_it(settings, sms_gateway, customer):
    settings.NOTIFY_QUIET_HOURS = "21:00-08:00"
    with time_machine.travel(at(SHANGHAI, 2026, 3, 10, 22, 30), tick=False):
        n = notification_send(
            customer=customer, channel="sms", template="generic.message", context={"text": "Hi"}
        )
        assert n.status == NotificationStatus.PENDING
        assert n.not_before == at(SHANGHAI, 2026, 3, 11, 8)
        assert n.next_attempt_at == n.not_before
        assert send_notification(n.pk) == "not_claimed"
    with time_machine.travel(at(SHANGHAI, 2026, 3, 11, 7, 59)):
        assert notification_sweep().delivered == 0
    assert sms_gateway.requests == []
    with time_machine.travel(at(SHANGHAI, 2026, 3, 11, 8, 0, 30)):
        assert notification_sweep().delivered == 1
    n.refresh_from_db()
    assert n.status == NotificationStatus.SENT
    assert len(sms_gateway.requests) == 1


@pytest.mark.django_db
def test_a_late_send_is_deferred_again(settings, sms_gateway, customer):
    """Queued at 20:59, but the broker was down: the sweep at 21:10 must not send at night."""
    settings.NOTIFY_QUIET_HOURS = "21:00-08:00"
    with time_machine.travel(at(SHANGHAI, 2026, 3, 10, 20, 59)):
        n = notification_send(
            customer=customer, channel="sms", template="generic.message", context={"text": "Hi"}
        )
    assert n.not_before is None
    with time_machine.travel(at(SHANGHAI, 2026, 3, 10, 21, 10)):
        assert send_notification(n.pk) == "deferred"
    n.refresh_from_db()
    assert (n.status, n.attempts) == (NotificationStatus.PENDING, 0)
    assert n.next_attempt_at == at(SHANGHAI, 2026, 3, 11, 8)
    assert sms_gateway.requests == []
    with time_machine.travel(at(SHANGHAI, 2026, 3, 11, 8, 1)):
        notification_sweep()
    n.refresh_from_db()
    assert (n.status, n.attempts) == (NotificationStatus.SENT, 1)
