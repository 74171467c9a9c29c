"""Notifications to contacts who are not customers (public bookings, remote check-in)."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse

from bankservice.core.errors import BadInput
from bankservice.events.models import Event
from bankservice.notify.models import BranchQuietHours, Notification, NotificationStatus, SkipReason
from bankservice.notify.services import (
    Contact,
    notification_retry,
    notification_send,
    notification_sweep,
)
from bankservice.notify.tasks import send_notification

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

ZHANG = Contact(
    name="Zhang  Wei ",
    phone="139 1234 5678",  # national format, as people type it
    email="zhang.wei@example.cn",
    language="en",
    consent_sms=True,
    consent_email=True,
)


def send_to(contact, branch, *, channel="sms", dedupe_key=None, text="See you at 10:30."):
    return notification_send(
        contact=contact,
        branch=branch,
        channel=channel,
        template="generic.message",
        context={"text": text},
        dedupe_key=dedupe_key,
    )


def test_sms_to_a_contact_reaches_the_gateway_in_the_contacts_name(sms_gateway, branch_a):
    n = send_to(ZHANG, branch_a)
    assert (n.customer, n.status, n.language) == (None, NotificationStatus.PENDING, "en")
    # Only the channel's address is stored, normalised; the e-mail address is not kept.
    assert (n.contact_address, n.contact_name) == ("+8613912345678", "Zhang Wei")
    assert "zhang.wei" not in str(n.__dict__)
    assert send_notification(n.pk) == "sent"
    [request] = sms_gateway.requests
    assert request["json"]["to"] == "+8613912345678"
    assert request["json"]["text"] == "Dear Zhang Wei, See you at 10:30. (Branch A)"
    n.refresh_from_db()
    assert (n.status, n.provider_id, n.recipient_masked) == (
        NotificationStatus.SENT,
        "gw-1",
        "+86139****5678",
    )


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Dear customer, You are next. (Branch A)"),
        ("zh-hans", "客户您好：You are next.【Branch A】"),
    ],
)
def test_a_contact_without_a_name_is_greeted_politely(sms_gateway, branch_a, language, text):
    """A remote check-in may leave only a phone number."""
    contact = Contact(phone="+8613912345678", language=language, consent_sms=True)
    send_notification(send_to(contact, branch_a, text="You are next.").pk)
    assert sms_gateway.texts == [text]


def test_events_carry_the_masked_address_only(sms_gateway, branch_a):
    n = send_to(ZHANG, branch_a)
    send_notification(n.pk)
    events = list(Event.objects.filter(type__startswith="notification.").order_by("id"))
    assert [e.type for e in events] == ["notification.queued", "notification.sent"]
    for event in events:
        assert (event.customer, event.branch) == (None, branch_a)
        assert event.payload["recipient"] == "+86139****5678"
        assert "13912345678" not in str(event.payload)
        assert "Zhang" not in str(event.payload)


@pytest.mark.parametrize(
    ("language", "subject", "greeting"),
    [
        ("en", "A message from Branch A", "Dear Li Lei,\n"),
        ("zh-hans", "来自Branch A的消息", "尊敬的Li Lei：\n"),
        ("zh-CN", "来自Branch A的消息", "尊敬的Li Lei：\n"),  # a browser's code, mapped
        ("fr", "来自Branch A的消息", "尊敬的Li Lei：\n"),  # no such language: the fallback
    ],
)
def test_mail_to_a_contact_in_the_contacts_language(
    smtp_server, branch_a, language, subject, greeting
):
    contact = Contact(
        name="Li Lei", email=" li.lei@example.cn ", language=language, consent_email=True
    )
    n = send_to(contact, branch_a, channel="email")
    assert send_notification(n.pk) == "sent"
    [mail] = smtp_server.messages
    assert mail["To"] == "li.lei@example.cn"
    assert mail["Subject"] == subject
    assert mail.get_content().replace("\r\n", "\n").startswith(greeting)
    n.refresh_from_db()
    assert n.recipient_masked == "l*****@example.cn"


@pytest.mark.parametrize(
    ("channel", "contact", "reason"),
    [
        ("sms", Contact(phone="13912345678", consent_email=True), SkipReason.NO_CONSENT),
        ("email", Contact(email="li@example.cn", consent_sms=True), SkipReason.NO_CONSENT),
        ("sms", Contact(email="li@example.cn", consent_sms=True), SkipReason.NO_ADDRESS),
        ("email", Contact(phone="13912345678", consent_email=True), SkipReason.NO_ADDRESS),
    ],
)
def test_contact_without_consent_or_address_is_skipped(
    sms_gateway, smtp_server, branch_a, channel, contact, reason
):
    n = send_to(contact, branch_a, channel=channel)
    n.refresh_from_db()
    assert (n.status, n.skip_reason) == (NotificationStatus.SKIPPED, reason)
    # Nothing will be sent, so the full address is not kept (the masked one is).
    assert n.contact_address == ""
    assert send_notification(n.pk) == "not_claimed"
    assert notification_sweep().delivered == 0
    assert sms_gateway.requests == [] and smtp_server.messages == []
    event = Event.objects.get(type="notification.skipped")
    assert event.payload["reason"] == reason


def test_exactly_one_of_customer_and_contact(customer, branch_a):
    with pytest.raises(BadInput) as both:
        notification_send(
            customer=customer,
            contact=ZHANG,
            branch=branch_a,
            channel="sms",
            template="customer.welcome",
        )
    assert both.value.status_code == 400
    with pytest.raises(BadInput):
        notification_send(channel="sms", template="customer.welcome", branch=branch_a)
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"contact": ZHANG}, "branch"),
        ({"contact": Contact(phone="12345", consent_sms=True)}, "phone"),
        (
            {"contact": Contact(email="not-an-address", consent_email=True), "channel": "email"},
            "email",
        ),
        ({"contact": Contact(name="x" * 201, phone="13912345678")}, "name"),
        ({"contact": {"phone": "13912345678"}}, "contact"),
    ],
)
def test_bad_contacts_are_refused_with_the_field(branch_a, kwargs, field):
    kwargs = {"branch": branch_a, "channel": "sms", **kwargs}
    if field == "branch":
        del kwargs["branch"]
    with pytest.raises(BadInput) as error:
        notification_send(template="customer.welcome", **kwargs)
    assert error.value.status_code == 400
    assert list(error.value.as_dict()) == [field]
    assert not Notification.objects.exists()


def test_dedupe_key_works_for_contacts(sms_gateway, branch_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = send_to(ZHANG, branch_a, dedupe_key="appointment.reminder:7:sms")
        second = send_to(ZHANG, branch_a, dedupe_key="appointment.reminder:7:sms")
    assert first.pk == second.pk
    assert len(callbacks) == 1
    assert Event.objects.filter(type="notification.queued").count() == 1
    send_notification(first.pk)
    send_notification(second.pk)
    assert len(sms_gateway.requests) == 1


def test_a_retry_reaches_the_stored_address(sms_gateway, branch_a, make_staff):
    sms_gateway.script = [(503, {}), (400, {"error": "invalid"})]
    n = send_to(ZHANG, branch_a)
    assert send_notification(n.pk) == "retry"
    n.refresh_from_db()
    with time_machine.travel(n.next_attempt_at + dt.timedelta(seconds=1)):
        notification_sweep()
    n.refresh_from_db()
    assert n.status == NotificationStatus.FAILED
    notification_retry(notification=n, actor=make_staff("admin"))
    assert send_notification(n.pk) == "sent"
    assert [r["json"]["to"] for r in sms_gateway.requests] == ["+8613912345678"] * 3


def test_the_database_refuses_a_row_with_nowhere_to_send(customer, branch_a):
    base = {"branch": branch_a, "channel": "sms", "template": "customer.welcome", "language": "en"}
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(**base)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(customer=customer, contact_address="+8613912345678", **base)
    # A skipped contact row may have no address: it is never sent.
    Notification.objects.create(status=NotificationStatus.SKIPPED, **base)


def test_admin_shows_the_contact_masked(admin_client, sms_gateway, branch_a):
    n = send_to(ZHANG, branch_a)
    send_notification(n.pk)
    for url in (
        reverse("admin:notify_notification_changelist"),
        reverse("admin:notify_notification_change", args=[n.pk]),
    ):
        page = admin_client.get(url).content.decode()
        assert "+86139****5678" in page
        assert "Zhang Wei" in page
        assert "13912345678" not in page


def test_the_given_branchs_quiet_hours_apply(sms_gateway, branch_a, branch_b):
    BranchQuietHours.objects.create(branch=branch_b, starts_at=dt.time(21), ends_at=dt.time(8))
    night = dt.datetime(2026, 3, 10, 22, 30, tzinfo=SHANGHAI)
    with time_machine.travel(night):
        here = send_to(ZHANG, branch_a)
        there = send_to(ZHANG, branch_b)
        assert here.not_before is None
        assert there.not_before == dt.datetime(2026, 3, 11, 8, tzinfo=SHANGHAI)
        assert send_notification(there.pk) == "not_claimed"
    with time_machine.travel(there.not_before + dt.timedelta(seconds=30)):
        assert notification_sweep().delivered == 2
    assert len(sms_gateway.requests) == 2
