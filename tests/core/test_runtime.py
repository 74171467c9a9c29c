"""The embedded default runs: SQLite database, SQLite Celery broker, web + worker + beat.

These tests start real processes from the repository root, each with an environment built
here: the values `make` writes into `.env` (from `.env.example`, DEBUG on), then temp-dir paths
for the database, broker and media, so neither a developer's `.env` nor the suite's
DATABASE_URL / REDIS_URL can leak in. Every wait is bounded and every process is stopped in
`finally`.
"""

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HEARTBEAT_WAIT = 90  # beat's first heartbeat is due 30 s after it starts
STOP_WAIT = 30


def env_example(*, commented: bool = False) -> dict[str, str]:
    """The variables `.env.example` sets, as `make` copies them into `.env`; with
    `commented`, also those it lists commented out (`# KEY=`), as empty strings."""
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match and (commented or not match[1]):
            values[match[2]] = "" if match[1] else match[3].strip()
    return values


def inherited_env() -> dict[str, str]:
    """This process's environment without anything `.env.example` names."""
    names = {*env_example(commented=True), "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {k: v for k, v in os.environ.items() if k not in names}


def path_without_venv() -> str:
    """PATH as for someone who never activated the virtualenv (`make run` must cope)."""
    entries = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(p for p in entries if p and Path(p).resolve() != VENV_BIN.resolve())


def runtime_env(tmp: Path, **overrides: str) -> dict[str, str]:
    """The environment `make run` gives (DEBUG on), with the database and broker in `tmp`."""
    env = inherited_env()
    env.update(env_example())
    env.update(
        {
            "DEBUG": "true",
            "SECRET_KEY": "runtime-test-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCD",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Empty means "the embedded default" (SQLite, local-memory cache).
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "SQLITE_PATH": str(tmp / "db.sqlite3"),
            "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp / 'broker.sqlite3'}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDIA_ROOT": str(tmp / "media"),
            "DEMO_DATA_ALLOWED": "false",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "bankservice.settings",
            "PATH": path_without_venv(),
        }
    )
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def heartbeat_count(db_path: Path) -> int:
    """How often the worker has beaten, read straight from the SQLite file (0 if never)."""
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)) as db:
        row = db.execute("SELECT count FROM core_heartbeat WHERE name = 'worker'").fetchone()
    return row[0] if row else 0


def healthz(port: int) -> tuple[int, dict]:
    """Status and JSON body of GET /healthz; (0, {}) while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except OSError:
        return 0, {}
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {"body": body[:200].decode(errors="replace")}


def tail(log: Path, lines: int = 60) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def process_tree(root_pid: int) -> set[int]:
    """`root_pid` and all its descendants, from /proc (they may sit in other sessions)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = set(), [root_pid]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(children.get(pid, []))
    return tree


def alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (exited, not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def kill_all(pids) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def stop(proc: subprocess.Popen, sig: int, pids=()) -> list[int]:
    """Send `sig` to the process group of `proc`; return the pids (of `pids` and `proc`) that
    outlived STOP_WAIT seconds, after killing them with SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    deadline = time.monotonic() + STOP_WAIT
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_WAIT)
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.2)
    survivors = [pid for pid in {proc.pid, *pids} if alive(pid)]
    kill_all(survivors)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    return survivors


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory) -> Path:
    """A SQLite file migrated by `manage.py migrate`, copied by each test."""
    tmp = tmp_path_factory.mktemp("migrated")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=REPO,
        env=runtime_env(tmp),
        check=True,
        timeout=300,
    )
    return tmp / "db.sqlite3"


def copy_db(source: Path, target: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def test_worker_runs_a_task_sent_through_the_sqlite_broker(tmp_path, migrated_db):
    copy_db(migrated_db, tmp_path / "db.sqlite3")
    env = runtime_env(tmp_path)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "bankservice",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Sent as beat sends it: the registered task's apply_async(), through the broker (the
        # worker may not be up yet; the message waits in the queue).
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-v0",
                "-c",
                "from bankservice.core.tasks import heartbeat; heartbeat.apply_async()",
            ],
            cwd=REPO,
            env=env,
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 60
        while heartbeat_count(tmp_path / "db.sqlite3") == 0:
            assert worker.poll() is None, f"worker exited early:\n{tail(log)}"
            assert time.monotonic() < deadline, f"no heartbeat row after 60 s:\n{tail(log)}"
            time.sleep(0.5)
        assert heartbeat_count(tmp_path / "db.sqlite3") == 1
    finally:
        survivors = stop(worker, signal.SIGTERM)
    assert not survivors, f"worker ignored SIGTERM for {STOP_WAIT} s:\n{tail(log)}"
    assert worker.returncode == 0, tail(log)


def make_run_start_command(env: dict[str, str]) -> str:
    """The shell line with which `make run` starts web, worker and beat (from `make -n run`)."""
    make = shutil.which("make", path=env["PATH"])
    if make is None:
        pytest.skip("`make run` needs GNU make, which is not installed")
    planned = subprocess.run(
        [make, "-n", "--no-print-directory", "run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    lines = [line for line in planned if re.search(r"\bhoncho\b.*\bstart\b", line)]
    assert len(lines) == 1, f"expected one `honcho ... start` line in `make -n run`: {planned}"
    return lines[0]


@pytest.mark.slow
def test_make_run_processes_beat_work_serve_and_stop_on_ctrl_c(tmp_path, migrated_db):
    """web + worker + beat started by `make run`'s own command line, on the embedded defaults:
    beat -> SQLite broker -> worker -> SQLite database, /healthz says so, Ctrl-C stops all."""
    copy_db(migrated_db, tmp_path / "db.sqlite3")
    port = free_port()
    env = runtime_env(tmp_path, WEB_PORT=str(port))
    # Honcho would also load the repository's .env, over our environment: point it elsewhere.
    empty_env_file = tmp_path / "honcho.env"
    empty_env_file.write_text("")
    command = re.sub(
        r"(\S*honcho)(\s)",
        lambda m: f"{m[1]} -e {shlex.quote(str(empty_env_file))}{m[2]}",
        make_run_start_command(env),
        count=1,
    )
    log = tmp_path / "honcho.log"
    with log.open("wb") as out:
        # Like make: the recipe line runs in /bin/sh; a new session stands in for the terminal,
        # whose Ctrl-C signals the whole foreground process group.
        shell = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pids: set[int] = set()
    try:
        deadline = time.monotonic() + HEARTBEAT_WAIT
        status, checks = 0, {}
        while True:
            assert shell.poll() is None, f"`{command}` exited early:\n{tail(log)}"
            pids |= process_tree(shell.pid)
            if heartbeat_count(tmp_path / "db.sqlite3"):
                status, checks = healthz(port)
                if status == 200 and checks.get("worker") == "ok":
                    break
            assert time.monotonic() < deadline, (
                f"no heartbeat and healthy /healthz after {HEARTBEAT_WAIT} s "
                f"(last /healthz: {status} {checks}):\n{tail(log)}"
            )
            time.sleep(1)
        assert checks["database"] == "ok"
        assert checks["cache"] == "ok"
        pids |= process_tree(shell.pid)
        assert len(pids) >= 6, pids  # sh, honcho, gunicorn master and workers, worker, beat
    finally:
        started = time.monotonic()
        survivors = stop(shell, signal.SIGINT, pids)
        stopped_in = time.monotonic() - started
    assert not survivors, f"still running {STOP_WAIT} s after Ctrl-C: {survivors}\n{tail(log)}"
    output = log.read_text(errors="replace")
    # Honcho SIGKILLs what has not stopped 5 s after its SIGTERM; a task in flight is then lost.
    assert "SIGKILL" not in output, (
        f"a process did not stop on SIGTERM within honcho's 5 s (stopped in {stopped_in:.1f} s):"
        f"\n{tail(log)}"
    )
    # Honcho signals each process group: pool processes must not be killed under their worker.
    assert not re.search(r"exited with 'signal \d+", output), (
        f"worker pool processes were killed by the signal, not stopped by their worker:\n{tail(log)}"
    )


def test_the_env_make_writes_selects_the_embedded_defaults():
    """`make` copies .env.example to .env; with its optional lines commented out, as shipped,
    the SQLite database, the SQLite broker and the media dir are the ones in var/."""
    env = inherited_env()
    env.update(env_example())
    env.update(
        DEBUG="true",
        SECRET_KEY="runtime-test-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCD",
        DJANGO_SETTINGS_MODULE="bankservice.settings",
    )
    # Settings also read the repository's .env (a developer's); this check must not see it.
    code = (
        "import environ, json; environ.Env.read_env = lambda *a, **k: None; "
        "import django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([str(s.VAR_DIR), str(s.DATABASES['default']['NAME']), "
        "s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'], str(s.MEDIA_ROOT)]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    var, name, broker, cache, media = json.loads(result.stdout.strip().splitlines()[-1])
    assert name == f"{var}/bankservice.sqlite3"
    assert broker == f"sqla+sqlite:///{var}/celery-broker.sqlite3"
    assert cache == "django.core.cache.backends.filebased.FileBasedCache"
    assert media == f"{var}/media"
