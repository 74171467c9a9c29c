"""Fixtures shared by the resilience tests (each test file keeps its own)."""

import pytest
from django.conf import settings as django_settings
from django.db import connection

from .processes import App, Receiver, RedisServer, redis_server_installed

# --- The product's own processes on a private Redis (test_broker_down, test_worker_killed).


@pytest.fixture
def resilience_redis(tmp_path):
    """A private redis-server (cache and broker of `resilience_app`), stopped at the end."""
    if not redis_server_installed():
        pytest.skip("needs redis-server (a private Redis this test stops and starts)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def resilience_app(tmp_path, resilience_redis):
    """App(...) factory: the product's processes on the test database (committed data: use
    transactional tests) and `resilience_redis`; all of them stopped at the end."""
    settings = connection.settings_dict
    credentials = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    database_url = (
        f"postgres://{credentials}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
        f"/{settings['NAME']}"
    )
    apps = []

    def make(**env):
        app = App(
            tmp_path,
            database_url=database_url,
            redis_url=resilience_redis.url(),
            secret_key=django_settings.SECRET_KEY,
            **env,
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.stop()


@pytest.fixture
def resilience_receiver():
    """Receiver(delay=...) factory: webhook receivers in threads, shut down at the end."""
    receivers = []

    def make(delay: float = 0.0):
        receiver = Receiver(delay).__enter__()
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.__exit__(None, None, None)
