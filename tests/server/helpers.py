"""Starting the real receiver (uvicorn) on 127.0.0.1 for tests, and a recording Marquez."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs

from ol_bridge.datahub.sinks.lite import lite_lock, open_lite
from ol_bridge.server.config import ServerConfig
from ol_bridge.server.metrics import Metrics
from ol_bridge.server.run import uvicorn_server


@attrs.frozen
class Running:
    url: str
    metrics: Metrics


def wait_for(condition: Any, what: str, timeout: float = 30.0) -> None:
    """Wait until ``condition()`` holds (deliveries are asynchronous); fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def server_config(tmp_path: Path, **settings: Any) -> ServerConfig:
    """A receiver with its outbox (and, unless given, its DataHub Lite file) in ``tmp_path``."""
    settings.setdefault("datahub", {"lite_path": str(tmp_path / "lite.duckdb")})
    delivery = {"path": str(tmp_path / "outbox.sqlite"), "backoff_seconds": 0.05}
    settings["delivery"] = {**delivery, **settings.get("delivery", {})}
    return ServerConfig.from_dict(settings)


@contextlib.contextmanager
def running_server(config: ServerConfig) -> Iterator[Running]:
    """The real uvicorn + Starlette receiver in a thread, on a port the OS picked."""
    # proto IPPROTO_TCP, as uvicorn's own binding gets from getaddrinfo: asyncio sets
    # TCP_NODELAY only on such sockets; without it every answer waits 40 ms for an ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    metrics = Metrics()
    server = uvicorn_server(config, metrics=metrics)
    server.config.log_level = "warning"
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the receiver did not start")
        time.sleep(0.01)
    try:
        yield Running(f"http://127.0.0.1:{sock.getsockname()[1]}", metrics)
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def lite_contents(path: Path) -> dict[str, dict[str, Any]]:
    """Every entity in a DataHub Lite file: urn -> aspect name -> aspect (as JSON)."""
    with lite_lock(path):
        lite = open_lite(path, read_only=True)
        try:
            return {urn: dict(lite.get(urn, None) or {}) for urn in lite.list_ids()}
        finally:
            lite.close()


class FakeMarquez:
    """Marquez's lineage endpoint: 201 and an empty body; records what it got.

    ``down`` makes it answer 503, as a restarting Marquez behind a proxy does.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.down = False
        self.authorizations: list[str | None] = []
        marquez = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                marquez.authorizations.append(self.headers.get("Authorization"))
                if marquez.down:
                    self.send_response(503)
                elif self.path != "/api/v1/lineage":
                    self.send_response(404)
                else:
                    marquez.events.append(json.loads(body))
                    self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeMarquez:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
