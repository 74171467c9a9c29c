"""A real HTTP receiver for webhook tests: a ThreadingHTTPServer on 127.0.0.1 and a free port.

It records every request it answers and can be told to fail the next N requests, to fail a
given event N times, to answer every request with a status, to be slow, or to be stopped (the
port then refuses connections) and started again on the same port.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclasses.dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def event_id(self) -> int:
        return self.json["id"]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.port = 0
        self.delay = 0.0
        self._lock = threading.Lock()
        self._fail_next: list[int] = []
        self._fail_event: dict[int, list[int]] = {}
        self._always: int | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control -----------------------------------------------------------------------------
    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver._decide(body)
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, dict(self.headers.items()), body, status)
                    )
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver says no")

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail_next(self, times: int, status: int = 500) -> None:
        self._fail_next.extend([status] * times)

    def fail_event(self, event_id: int, times: int, status: int = 500) -> None:
        self._fail_event[event_id] = [status] * times

    def always(self, status: int | None) -> None:
        """Answer every request with this status (None: back to normal)."""
        self._always = status

    # --- what arrived ------------------------------------------------------------------------
    def ids(self, path: str | None = None, *, ok_only: bool = False) -> list[int]:
        return [
            r.event_id
            for r in self.requests
            if (path is None or r.path == path) and (r.ok or not ok_only)
        ]

    def _decide(self, body: bytes) -> int:
        with self._lock:
            if self._always is not None:
                return self._always
            if self._fail_next:
                return self._fail_next.pop(0)
            try:
                event_id = json.loads(body)["id"]
            except (ValueError, KeyError, TypeError):
                return 400
            planned = self._fail_event.get(event_id)
            if planned:
                return planned.pop(0)
            return 200
