"""What every benchmark shares: a scratch database and latency percentiles.

SQLite in a temporary directory by default; with DATABASE_URL set to PostgreSQL, a database of
the given name is created on that server and dropped afterwards.
"""

import contextlib
import os
import sys
import tempfile
import warnings
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Benchmarks run without collectstatic; whitenoise's warning about it is noise here.
warnings.filterwarnings("ignore", message="No directory at")


@contextlib.contextmanager
def scratch_database(name: str):
    """Point Django's settings (read from the environment) at a fresh database for the run."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankservice.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCD")
    os.environ["DEBUG"] = "false"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as scratch:
        if not url.startswith("postgres"):
            os.environ["DATABASE_URL"] = ""
            os.environ["SQLITE_PATH"] = str(Path(scratch) / "bench.sqlite3")
            yield
            return
        import psycopg

        parts = urlparse(url)
        admin = urlunparse(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = urlunparse(parts._replace(path=f"/{name}"))
        try:
            yield
        finally:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def percentiles(samples: list[float]) -> str:
    """p50, p95 and max of latencies in milliseconds, as aligned columns."""
    samples = sorted(samples)
    p50 = samples[len(samples) // 2]
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    return f"{p50:8.1f} {p95:8.1f} {samples[-1]:8.1f}"
