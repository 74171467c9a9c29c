"""Notification test fixtures: a local SMS gateway, a local SMTP server, an in-memory broker."""

import base64
import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from tests.factories import CustomerFactory

GATEWAY_USER = "bank-desk"
GATEWAY_PASSWORD = "gw-pass-123"


@pytest.fixture(autouse=True)
def _notify_settings(settings, tmp_path):
    # Quiet hours depend on the wall clock; tests that want them set them.
    settings.NOTIFY_QUIET_HOURS = "off"
    settings.NOTIFY_SMS_CHANNEL = "console"
    settings.NOTIFY_EMAIL_CHANNEL = "email"
    settings.NOTIFY_FILE_PATH = str(tmp_path / "notifications.jsonl")
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_RETRY_BASE_SECONDS = 30


@pytest.fixture
def customer(db, branch_a):
    return CustomerFactory(
        home_branch=branch_a,
        full_name="Chen Yi",
        phone="+8613912345678",
        email="chen.yi@example.cn",
        preferred_language="en",
        consent_sms=True,
        consent_email=True,
    )


@pytest.fixture
def customer_zh(db, branch_a):
    return CustomerFactory(
        home_branch=branch_a,
        full_name="王芳",
        phone="+8613987654321",
        email="wang.fang@example.cn",
        preferred_language="zh-hans",
        consent_sms=True,
        consent_email=True,
    )


# --- A local SMS gateway.


@dataclass
class Gateway:
    url: str = ""
    requests: list = field(default_factory=list)
    # (status, JSON body) answered in turn; afterwards 200 with a fresh message id.
    script: list = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def texts(self) -> list[str]:
        return [r["json"]["text"] for r in self.requests]


@pytest.fixture
def sms_gateway(settings):
    gateway = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with gateway.lock:
                gateway.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "idempotency_key": self.headers.get("Idempotency-Key"),
                        "json": json.loads(raw),
                    }
                )
                number = len(gateway.requests)
                status, body = (
                    gateway.script.pop(0)
                    if gateway.script
                    else (200, {"message_id": f"gw-{number}"})
                )
            if gateway.delay:
                time.sleep(gateway.delay)
            expected = (
                "Basic " + base64.b64encode(f"{GATEWAY_USER}:{GATEWAY_PASSWORD}".encode()).decode()
            )
            if self.headers.get("Authorization") != expected:
                status, body = 401, {"error": "bad credentials"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/v1/sms"
    settings.NOTIFY_SMS_CHANNEL = "gateway"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_USERNAME = GATEWAY_USER
    settings.SMS_GATEWAY_PASSWORD = GATEWAY_PASSWORD
    settings.SMS_SENDER_ID = "BANKDESK"
    settings.SMS_GATEWAY_TIMEOUT = 5.0
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()


# --- A local SMTP server.


@dataclass
class Inbox:
    messages: list = field(default_factory=list)
    envelopes: list = field(default_factory=list)
    # An SMTP reply to every RCPT TO, e.g. "550 5.1.1 <x@y>: no such user"; None accepts.
    rcpt_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "service-desk@bank.example"
    settings.NOTIFY_EMAIL_TIMEOUT = 5.0
    try:
        yield inbox
    finally:
        controller.stop()
