"""E-mail through Django's SMTP backend against a real local SMTP server (aiosmtpd)."""

import pytest

from bankservice.notify.models import AttemptStatus, NotificationStatus
from bankservice.notify.services import notification_send
from bankservice.notify.tasks import send_notification

pytestmark = pytest.mark.django_db


def test_mail_arrives_in_the_customers_language(smtp_server, customer, customer_zh):
    english = notification_send(customer=customer, channel="email", template="customer.welcome")
    chinese = notification_send(customer=customer_zh, channel="email", template="customer.welcome")
    assert send_notification(english.pk) == "sent"
    assert send_notification(chinese.pk) == "sent"

    by_recipient = {m["To"]: m for m in smtp_server.messages}
    mail = by_recipient["chen.yi@example.cn"]
    assert mail["Subject"] == "Welcome to Branch A"
    assert mail["From"] == "service-desk@bank.example"
    assert mail["X-Notification-Reference"] == str(english.reference)
    body = mail.get_content().replace("\r\n", "\n")
    assert body.startswith("Dear Chen Yi,\n")
    assert "Thank you for choosing Branch A." in body
    assert "&amp;" not in body

    mail = by_recipient["wang.fang@example.cn"]
    assert mail["Subject"] == "欢迎您成为Branch A的客户"
    assert mail.get_content().replace("\r\n", "\n").startswith("尊敬的王芳：\n")

    english.refresh_from_db()
    assert english.provider_id == mail_id(smtp_server, "chen.yi@example.cn")
    assert english.attempt_log.get().response_code == 250
    assert english.recipient_masked == "c******@example.cn"


def mail_id(inbox, to):
    return next(m["Message-ID"] for m in inbox.messages if m["To"] == to)


def test_rejected_recipient_fails_permanently(smtp_server, customer):
    smtp_server.rcpt_reply = "550 5.1.1 <chen.yi@example.cn>: Recipient address rejected"
    n = notification_send(customer=customer, channel="email", template="customer.welcome")
    assert send_notification(n.pk) == "failed"
    n.refresh_from_db()
    assert n.status == NotificationStatus.FAILED
    attempt = n.attempt_log.get()
    assert (attempt.status, attempt.response_code) == (AttemptStatus.PERMANENT_FAILURE, 550)
    # The server echoed the address; the log keeps only the masked form.
    assert "chen.yi@" not in attempt.error and "c******@example.cn" in attempt.error
    assert smtp_server.messages == []


def test_greylisting_4xx_is_retried(smtp_server, customer):
    smtp_server.rcpt_reply = "451 4.7.1 Greylisted, try again later"
    n = notification_send(customer=customer, channel="email", template="customer.welcome")
    assert send_notification(n.pk) == "retry"
    n.refresh_from_db()
    assert n.status == NotificationStatus.PENDING
    assert n.attempt_log.get().response_code == 451


def test_mail_server_down_is_temporary(customer, settings):
    from tests.notify.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    n = notification_send(customer=customer, channel="email", template="customer.welcome")
    assert send_notification(n.pk) == "retry"
    n.refresh_from_db()
    assert "ConnectionRefused" in n.last_error


def test_no_mail_without_consent(smtp_server, customer):
    customer.consent_email = False
    customer.save()
    n = notification_send(customer=customer, channel="email", template="customer.welcome")
    assert n.status == NotificationStatus.SKIPPED
    assert send_notification(n.pk) == "not_claimed"
    assert smtp_server.messages == []
