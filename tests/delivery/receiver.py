"""A Marquez-like OpenLineage receiver on 127.0.0.1 that tests stop and start.

``POST /api/v1/lineage`` -> 201 with an empty body; 400 when ``eventTime``, ``run.runId``,
``job`` or ``producer`` is missing. ``lost_acks`` makes the next N requests store the event
and then answer 503, as a backend that committed but whose reply never arrived.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []
        #: every request as sent: (path, headers, body before any gzip decoding)
        self.raw: list[tuple[str, dict[str, str], bytes]] = []
        self.requests = 0
        self.lost_acks = 0
        #: seconds each request takes, to make delivery slow enough to be interrupted
        self.delay = 0.0
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.raw.append((self.path, dict(self.headers), body))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                time.sleep(receiver.delay)
                status = receiver.receive(self.path, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def receive(self, path: str, body: bytes) -> int:
        with self._lock:
            self.requests += 1
            if path != "/api/v1/lineage":
                return 404
            event = json.loads(body)
            missing = [f for f in ("eventTime", "job", "producer") if f not in event]
            if "runId" not in event.get("run", {}):
                missing.append("run.runId")
            if missing:
                return 400
            self.events.append(event)
            self.bodies.append(body)
            if self.lost_acks:
                self.lost_acks -= 1
                return 503
            return 201

    def keys(self) -> list[tuple[str, str, str]]:
        return [(e["run"]["runId"], e["job"]["name"], e["eventType"]) for e in self.events]
