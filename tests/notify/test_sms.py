"""SMS through a real local HTTP gateway: payload, credentials, retries, failures, consent."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from bankservice.events.models import Event
from bankservice.notify.models import AttemptStatus, NotificationStatus, SkipReason
from bankservice.notify.services import notification_send, notification_sweep
from bankservice.notify.tasks import send_notification

pytestmark = pytest.mark.django_db


def queue_sms(customer, text="Your card is ready for collection."):
    return notification_send(
        customer=customer, channel="sms", template="generic.message", context={"text": text}
    )


def test_payload_and_credentials_reach_the_gateway(sms_gateway, customer):
    n = queue_sms(customer, text='Bring your "old" card & ID.\nThanks')
    assert send_notification(n.pk) == "sent"
    [request] = sms_gateway.requests
    assert request["path"] == "/v1/sms"
    assert request["json"] == {
        "to": "+8613912345678",
        "text": 'Dear Chen Yi, Bring your "old" card & ID.\nThanks (Branch A)',
        "sender": "BANKDESK",
        "reference": str(n.reference),
    }
    assert request["idempotency_key"] == str(n.reference)
    n.refresh_from_db()
    assert (n.status, n.provider_id, n.attempts) == (NotificationStatus.SENT, "gw-1", 1)
    assert n.sent_at is not None
    event = Event.objects.get(type="notification.sent")
    assert event.payload["provider_id"] == "gw-1"


def test_chinese_customer_gets_chinese_text(sms_gateway, customer_zh):
    n = queue_sms(customer_zh, text="您的银行卡已可领取。")
    send_notification(n.pk)
    assert sms_gateway.texts == ["王芳您好：您的银行卡已可领取。【Branch A】"]


def test_payload_template_from_settings(sms_gateway, customer, settings):
    settings.SMS_GATEWAY_PAYLOAD = (
        '{"account": "{username}", "messages": [{"msisdn": "{to_digits}", "body": "{text}",'
        ' "ref": "{reference}", "lang": "{language}"}], "priority": 1}'
    )
    settings.SMS_GATEWAY_PROVIDER_ID_FIELD = "result.0.id"
    sms_gateway.script = [(200, {"result": [{"id": "abc-77"}]})]
    n = queue_sms(customer, text="hi")
    send_notification(n.pk)
    payload = sms_gateway.requests[0]["json"]
    assert payload["messages"][0]["msisdn"] == "8613912345678"
    assert payload["messages"][0]["lang"] == "en"
    assert payload["account"] == "bank-desk"
    assert payload["priority"] == 1
    n.refresh_from_db()
    assert n.provider_id == "abc-77"


def test_503_then_200_retries_with_backoff_then_sends(sms_gateway, customer):
    sms_gateway.script = [(503, {"error": "busy"})]
    n = queue_sms(customer)
    start = timezone.now()
    assert send_notification(n.pk) == "retry"
    n.refresh_from_db()
    assert n.status == NotificationStatus.PENDING
    assert n.attempts == 1
    assert "503" in n.last_error
    # Backoff: base 30 s for the first retry, with jitter between half and all of it.
    assert start + dt.timedelta(seconds=14) <= n.next_attempt_at <= start + dt.timedelta(seconds=31)
    # A duplicate or early run does nothing before the backoff is over.
    assert send_notification(n.pk) == "not_claimed"
    assert len(sms_gateway.requests) == 1

    with time_machine.travel(n.next_attempt_at + dt.timedelta(seconds=1)):
        report = notification_sweep()
    assert report.delivered == 1
    n.refresh_from_db()
    assert (n.status, n.attempts, n.provider_id) == (NotificationStatus.SENT, 2, "gw-2")
    attempts = list(n.attempt_log.values_list("number", "status", "response_code", "channel"))
    assert attempts == [
        (1, AttemptStatus.TEMPORARY_FAILURE, 503, "sms:gateway"),
        (2, AttemptStatus.SENT, 200, "sms:gateway"),
    ]
    assert all(a.latency_ms is not None for a in n.attempt_log.all())
    assert len(sms_gateway.requests) == 2


def test_the_task_queues_a_prompt_retry(sms_gateway, customer, monkeypatch):
    queued = []
    monkeypatch.setattr(
        send_notification, "apply_async", lambda args, **kw: queued.append((args, kw))
    )
    sms_gateway.script = [(502, {})]
    n = queue_sms(customer)
    assert send_notification(n.pk) == "retry"
    [(args, kwargs)] = queued
    assert args == [n.pk]
    assert 10 <= kwargs["countdown"] <= 31


def test_4xx_fails_at_once_without_retry(sms_gateway, customer):
    sms_gateway.script = [(400, {"error": "invalid number"})]
    n = queue_sms(customer)
    assert send_notification(n.pk) == "failed"
    n.refresh_from_db()
    assert n.status == NotificationStatus.FAILED
    assert "400" in n.last_error and "invalid number" in n.last_error
    assert list(n.attempt_log.values_list("status", "response_code")) == [
        (AttemptStatus.PERMANENT_FAILURE, 400)
    ]
    with time_machine.travel(timezone.now() + dt.timedelta(hours=3)):
        assert notification_sweep().delivered == 0
    assert len(sms_gateway.requests) == 1
    assert Event.objects.filter(type="notification.failed").count() == 1


def test_wrong_credentials_fail_permanently(sms_gateway, customer, settings):
    settings.SMS_GATEWAY_PASSWORD = "wrong"
    n = queue_sms(customer)
    assert send_notification(n.pk) == "failed"
    n.refresh_from_db()
    assert n.attempt_log.get().response_code == 401


def test_gives_up_after_max_attempts(sms_gateway, customer, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    sms_gateway.script = [(503, {})] * 5
    n = queue_sms(customer)
    send_notification(n.pk)
    for _ in range(2):
        n.refresh_from_db()
        with time_machine.travel(n.next_attempt_at + dt.timedelta(seconds=1)):
            notification_sweep()
    n.refresh_from_db()
    assert (n.status, n.attempts) == (NotificationStatus.FAILED, 3)
    assert (
        list(n.attempt_log.values_list("status", flat=True))
        == [AttemptStatus.TEMPORARY_FAILURE] * 3
    )
    assert len(sms_gateway.requests) == 3


def test_timeout_is_temporary(sms_gateway, customer, settings):
    settings.SMS_GATEWAY_TIMEOUT = 0.2
    sms_gateway.delay = 1.0
    n = queue_sms(customer)
    assert send_notification(n.pk) == "retry"
    n.refresh_from_db()
    assert "Timeout" in n.last_error
    assert n.attempt_log.get().status == AttemptStatus.TEMPORARY_FAILURE


def test_gateway_down_is_temporary(customer, settings):
    from tests.notify.conftest import free_port

    settings.NOTIFY_SMS_CHANNEL = "gateway"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{free_port()}/sms"
    n = queue_sms(customer)
    assert send_notification(n.pk) == "retry"


def test_no_sms_without_consent(sms_gateway, customer):
    customer.consent_sms = False
    customer.save()
    n = queue_sms(customer)
    assert n.status == NotificationStatus.SKIPPED
    assert send_notification(n.pk) == "not_claimed"
    assert notification_sweep().delivered == 0
    assert sms_gateway.requests == []


def test_opt_out_between_queue_and_send_skips(sms_gateway, customer):
    n = queue_sms(customer)
    customer.consent_sms = False
    customer.save()
    assert send_notification(n.pk) == "skipped"
    n.refresh_from_db()
    assert (n.status, n.skip_reason, n.attempts) == (
        NotificationStatus.SKIPPED,
        SkipReason.NO_CONSENT,
        0,
    )
    assert sms_gateway.requests == []
    event = Event.objects.filter(type="notification.skipped").get()
    assert event.payload["at_send"] is True


def test_the_current_phone_number_is_used(sms_gateway, customer):
    n = queue_sms(customer)
    customer.phone = "+8613700001111"
    customer.save()
    send_notification(n.pk)
    assert sms_gateway.requests[0]["json"]["to"] == "+8613700001111"
    n.refresh_from_db()
    assert n.recipient_masked == "+86137****1111"


def test_gateway_error_echoing_the_number_is_masked(sms_gateway, customer):
    sms_gateway.script = [(422, {"error": "+8613912345678 is barred"})]
    n = queue_sms(customer)
    send_notification(n.pk)
    n.refresh_from_db()
    assert "13912345678" not in n.last_error
    assert "+86139****5678 is barred" in n.last_error
    assert "13912345678" not in n.attempt_log.get().error


def test_a_merged_duplicate_speaks_for_the_survivor(sms_gateway, customer, branch_a):
    from bankservice.customers.models import Customer
    from tests.factories import CustomerFactory

    duplicate = CustomerFactory(home_branch=branch_a, phone="+8613600000000", consent_sms=True)
    queued_before = queue_sms(duplicate)
    Customer.objects.filter(pk=duplicate.pk).update(merged_into=customer)
    duplicate.refresh_from_db()
    queued_after = queue_sms(duplicate)
    assert queued_after.customer == customer
    send_notification(queued_before.pk)
    send_notification(queued_after.pk)
    # Both went to the survivor's number, in the survivor's name.
    assert [r["json"]["to"] for r in sms_gateway.requests] == ["+8613912345678"] * 2
    assert all(text.startswith("Dear Chen Yi,") for text in sms_gateway.texts)


def test_language_is_the_customers_preference_when_sent(sms_gateway, customer):
    n = queue_sms(customer, text="您的银行卡已可领取。")
    assert n.language == "en"
    customer.preferred_language = "zh-hans"
    customer.save()
    send_notification(n.pk)
    assert sms_gateway.texts == ["Chen Yi您好：您的银行卡已可领取。【Branch A】"]
    n.refresh_from_db()
    assert n.language == "zh-hans"
