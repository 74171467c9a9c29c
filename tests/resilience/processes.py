"""Real processes for the resilience tests: a private redis-server, gunicorn, a Celery worker,
tasks queued by name as beat queues them, and a webhook receiver in a thread. Every wait is bounded; every process is
started in its own session and stopped (its whole group) by whoever started it."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import redis
from celery import Celery

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Ports 6390-6395 are this suite's own redis-servers (the suite's Redis is elsewhere).
REDIS_PORTS = range(6390, 6396)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.2, log=None):
    """Poll `predicate` until it returns something truthy (returned); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"\n{tail(log)}" if log is not None else ""
            raise AssertionError(f"{what}: not after {timeout} s{detail}")
        time.sleep(interval)


def tail(log: Path, lines: int = 60) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 20) -> None:
    """Signal the process group `proc` leads; SIGKILL it if it outlives `wait` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    # Children (pool processes) may outlive their leader for a moment.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def redis_server_installed() -> bool:
    return shutil.which("redis-server") is not None


class RedisServer:
    """A redis-server on a port of REDIS_PORTS with its data in `directory`; `stop()` (with
    the data saved if asked) and `start()` again on the same port, as an outage."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = next((p for p in REDIS_PORTS if _port_free(p)), None)
        if self.port is None:
            raise RuntimeError(f"no free port in {REDIS_PORTS}")
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_for(lambda: self._pings(client), timeout=20, what="redis-server answering PING")

    @staticmethod
    def _pings(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self, *, save: bool = False) -> None:
        """Kill the server, as a crash; with `save`, its data is written first (SAVE) and
        comes back with the next start."""
        if self.proc is None:
            return
        if save:
            redis.Redis(port=self.port).save()
        stop_group(self.proc, signal.SIGKILL, wait=10)
        self.proc = None


class Receiver:
    """A webhook receiver on a free loopback port: records each request's X-Event-Id and
    X-Delivery-Id (if any) and answers 200 after `delay` seconds."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.event_ids: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.event_ids.append(self.headers.get("X-Event-Id", ""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def counts(self) -> Counter:
        with self.lock:
            return Counter(self.event_ids)


class App:
    """The product's processes on the test database and a private Redis (cache and broker)."""

    def __init__(
        self, tmp: Path, *, database_url: str, redis_url: str, secret_key: str, **env: str
    ):
        self.tmp = tmp
        self.port = free_port()
        self.env = {
            **os.environ,
            "DEBUG": "false",
            # The test's own key: sessions it signs in are valid there (session auth hash).
            "SECRET_KEY": secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "DATABASE_URL": database_url,
            "DATABASE_POOL_MIN": "1",
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": "",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "NOTIFY_SMS_CHANNEL": "file",
            "NOTIFY_EMAIL_CHANNEL": "file",
            "NOTIFY_FILE_PATH": str(tmp / "notifications.jsonl"),
            "NOTIFY_QUIET_HOURS": "off",
            "MEDIA_ROOT": str(tmp / "media"),
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "bankservice.settings",
            **env,
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.worker_starts = 0
        self.sender: Celery | None = None

    def _popen(self, args: list[str], log: Path, **env: str) -> subprocess.Popen:
        with log.open("ab") as out:
            return subprocess.Popen(
                args,
                cwd=REPO,
                env={**self.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def web_log(self) -> Path:
        return self.tmp / "web.log"

    @property
    def worker_log(self) -> Path:
        return self.tmp / "worker.log"

    def start_web(self) -> None:
        self.web = self._popen(
            [
                str(VENV_BIN / "gunicorn"),
                "bankservice.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "60",
            ],
            self.web_log,
        )
        wait_for(self._web_answers, timeout=60, what="gunicorn answering", log=self.web_log)

    def _web_answers(self) -> bool:
        assert self.web.poll() is None, f"gunicorn exited:\n{tail(self.web_log)}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5):
                return True
        except urllib.error.HTTPError:
            return True  # answering, whatever it thinks of its dependencies
        except OSError:
            return False

    def start_worker(self, *, concurrency: int = 1, **env: str) -> None:
        """A worker: solo pool, or prefork with `concurrency` processes (tasks side by side)."""
        self.worker_starts += 1
        pool = ["solo"] if concurrency == 1 else ["prefork", "--concurrency", str(concurrency)]
        self.worker = self._popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "bankservice",
                "worker",
                "--pool",
                *pool,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"resilience-{self.worker_starts}@%h",
            ],
            self.worker_log,
            **env,
        )
        wait_for(
            lambda: (
                "ready."
                in self.worker_log.read_text(errors="replace").split(
                    f"resilience-{self.worker_starts}@"
                )[-1]
            ),
            timeout=60,
            what="celery worker ready",
            log=self.worker_log,
        )

    def kill_worker(self) -> None:
        """SIGKILL to the worker's whole process group: no clean-up, no acknowledgements."""
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)

    def call(self, *task_names: str) -> None:
        """Queue the periodic tasks by name, as beat does (a bare Celery client on the broker)."""
        if self.sender is None:
            self.sender = Celery("resilience-sender", broker=self.env["REDIS_URL"])
        for name in task_names:
            self.sender.send_task(name)

    def stop(self) -> None:
        if self.sender is not None:
            self.sender.close()
        for proc in (self.web, self.worker):
            if proc is not None and proc.poll() is None:
                stop_group(proc)

    def notification_lines(self) -> list[dict]:
        path = self.tmp / "notifications.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def staff_http_session(user) -> tuple[dict, dict]:
    """Cookies and headers of a signed-in staff browser (a session row in the database, a CSRF
    secret in its cookie and header) for requests to the product's own gunicorn."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
    return cookies, {"X-CSRFToken": csrf, "Accept-Language": "en"}
