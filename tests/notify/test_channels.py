"""Channel building blocks: payload templates, configuration, console and file channels."""

import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from bankservice.notify.channels import (
    Channel,
    ConsoleChannel,
    EmailChannel,
    FileChannel,
    OutgoingMessage,
    SendResult,
    SmsGatewayChannel,
    _dig,
    channel_for,
    fill_payload,
)
from bankservice.notify.models import NotificationStatus
from bankservice.notify.services import notification_send
from bankservice.notify.tasks import send_notification

MESSAGE = OutgoingMessage(
    reference="r-1", kind="sms", to="+8613912345678", body='say "hi"\nbye', language="en"
)


def test_fill_payload_keeps_json_valid_whatever_the_text():
    template = json.loads('{"to": "{to}", "msg": "[{sender}] {text}", "n": 1, "list": ["{to}"]}')
    filled = fill_payload(template, {"to": "+86", "text": 'say "hi"\n{to}', "sender": "BANK"})
    assert filled == {"to": "+86", "msg": '[BANK] say "hi"\n{to}', "n": 1, "list": ["+86"]}
    json.dumps(filled)
    with pytest.raises(ImproperlyConfigured):
        fill_payload({"x": "{nope}"}, {"to": "+86"})


def test_dig():
    assert _dig({"data": [{"id": 7}]}, "data.0.id") == "7"
    assert _dig({"data": []}, "data.0.id") == ""
    assert _dig({"id": None}, "id") == ""
    assert _dig({"id": {"a": 1}}, "id") == ""


def test_channel_configuration(settings):
    settings.NOTIFY_SMS_CHANNEL = "console"
    settings.NOTIFY_EMAIL_CHANNEL = "file"
    assert isinstance(channel_for("sms"), ConsoleChannel)
    assert isinstance(channel_for("email"), FileChannel)
    settings.NOTIFY_EMAIL_CHANNEL = "bankservice.notify.channels.EmailChannel"
    assert isinstance(channel_for("email"), EmailChannel)
    settings.NOTIFY_SMS_CHANNEL = "gateway"
    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(ImproperlyConfigured):
        channel_for("sms")
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"
    settings.SMS_GATEWAY_PAYLOAD = "{not json"
    with pytest.raises(ImproperlyConfigured):
        channel_for("sms")
    settings.NOTIFY_SMS_CHANNEL = "bankservice.notify.models.Notification"
    with pytest.raises(ImproperlyConfigured):
        channel_for("sms")


def test_settings_default_sms_to_the_console_without_a_gateway():
    from django.conf import settings

    assert settings.NOTIFY_SMS_CHANNEL in {"console", "gateway"}
    assert (settings.NOTIFY_SMS_CHANNEL == "gateway") == bool(settings.SMS_GATEWAY_URL)


def test_console_channel_logs(caplog):
    with caplog.at_level(logging.INFO, logger="bankservice.notify.channels"):
        result = ConsoleChannel().send(MESSAGE)
    assert result.provider_id == "console-r-1"
    assert 'say "hi"' in caplog.text


def test_file_channel_appends_json_lines(settings, tmp_path):
    settings.NOTIFY_FILE_PATH = str(tmp_path / "out" / "n.jsonl")
    FileChannel().send(MESSAGE)
    FileChannel().send(MESSAGE)
    lines = (tmp_path / "out" / "n.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["body"] == 'say "hi"\nbye'


@pytest.mark.django_db
def test_a_custom_channel_class_from_settings(settings, customer):
    sent = []

    class Pigeon(Channel):
        name = "pigeon"

        def send(self, message):
            sent.append(message)
            return SendResult(provider_id="coo-1")

    import sys
    import types

    module = types.ModuleType("pigeon_post")
    module.Pigeon = Pigeon
    sys.modules["pigeon_post"] = module
    try:
        settings.NOTIFY_SMS_CHANNEL = "pigeon_post.Pigeon"
        n = notification_send(customer=customer, channel="sms", template="customer.welcome")
        assert send_notification(n.pk) == "sent"
    finally:
        del sys.modules["pigeon_post"]
    n.refresh_from_db()
    assert (n.status, n.provider_id) == (NotificationStatus.SENT, "coo-1")
    assert n.attempt_log.get().channel == "sms:pigeon"
    assert sent[0].to == "+8613912345678"
    assert sent[0].body.startswith("Dear Chen Yi, welcome to Branch A.")


@pytest.mark.django_db
def test_a_misconfigured_channel_fails_the_notification_not_the_worker(settings, customer):
    settings.NOTIFY_SMS_CHANNEL = "gateway"
    settings.SMS_GATEWAY_URL = ""
    n = notification_send(customer=customer, channel="sms", template="customer.welcome")
    assert send_notification(n.pk) == "failed"
    n.refresh_from_db()
    assert "SMS_GATEWAY_URL" in n.last_error


def test_gateway_channel_is_the_sms_gateway():
    assert SmsGatewayChannel.name == "gateway"
