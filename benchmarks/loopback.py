"""Counting loopback endpoints: an OpenLineage HTTP backend and a DataHub GMS.

They run in the orchestrator's process (``run.py``), never in a measured worker, so
their CPU is not charged to any integration. Each answers what the real service would
(enough for the clients under test) and counts requests, body bytes, OpenLineage events
and DataHub proposals. Workers read and reset the counters over ``/_bench/stats`` and
``/_bench/reset``, which are not counted.

GMS paths: ``GET /config`` (what acryl-datahub's emitter checks), ``POST
/aspects?action=ingestProposal[Batch]``, ``POST|PATCH /openapi/v3/entity/<type>``,
``POST /api/graphql`` (answered with empty data); any other ``GET`` (aspect reads, e.g.
for schema resolution during SQL parsing) is a 404, as for an entity GMS does not know.
OpenLineage paths: ``POST /api/v1/lineage`` and ``/openapi/openlineage/api/v1/lineage``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _fake_gms_config() -> dict[str, Any]:
    """What ``GET /config`` answers: the test suite's fake GMS holds the one definition.

    Loaded from its file (standard library only), so neither the repository's work tree
    nor its ``tests`` package ends up on a measured worker's import path.
    """
    path = Path(__file__).resolve().parents[1] / "tests" / "fakes" / "gms.py"
    spec = importlib.util.spec_from_file_location("_ol_bridge_fake_gms", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return dict(module.GMS_CONFIG)


GMS_CONFIG = _fake_gms_config()

OL_PATHS = ("/api/v1/lineage", "/openapi/openlineage/api/v1/lineage")


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.bytes = 0
        self.events = 0
        self.mcps = 0
        self.by_path: Counter[str] = Counter()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "bytes": self.bytes,
                "events": self.events,
                "mcps": self.mcps,
                "by_path": dict(self.by_path),
            }


def _count_mcps(path: str, query: dict[str, list[str]], body: Any) -> int:
    action = query.get("action", [""])[0]
    if path == "/aspects" and action == "ingestProposal":
        return 1
    if path == "/aspects" and action == "ingestProposalBatch":
        return len(body.get("proposals", []))
    if path.startswith("/openapi/v3/entity/") and isinstance(body, list):
        return sum(len([k for k in item if k != "urn"]) for item in body)
    return 0


def _handler(counters: Counters) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate writes; without TCP_NODELAY, Nagle plus the
        # client's delayed ACK add ~40 ms per keep-alive request, which would charge the
        # endpoint's latency to request-heavy integrations.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def _send(self, status: int, payload: Any) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self, path: str, size: int, events: int = 0, mcps: int = 0) -> None:
            with counters.lock:
                counters.requests += 1
                counters.bytes += size
                counters.events += events
                counters.mcps += mcps
                counters.by_path[f"{self.command} {path}"] += 1

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/_bench/stats":
                self._send(200, counters.snapshot())
                return
            self._record(path, 0)
            if path == "/config":
                self._send(200, GMS_CONFIG)
            else:
                self._send(404, {"message": f"not found: {path}"})

        def _ingest(self) -> None:
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if parts.path == "/_bench/reset":
                with counters.lock:
                    counters.reset()
                self._send(200, {})
                return
            body: Any = json.loads(raw) if raw else None
            if parts.path in OL_PATHS:
                events = len(body) if isinstance(body, list) else 1
                self._record(parts.path, len(raw), events=events)
                self._send(201, None)
                return
            if parts.path == "/api/graphql":
                self._record(parts.path, len(raw))
                self._send(200, {"data": {}})
                return
            mcps = _count_mcps(parts.path, parse_qs(parts.query), body)
            self._record(parts.path, len(raw), mcps=mcps)
            if parts.path.startswith("/openapi/v3/entity/"):
                self._send(200, [{"urn": item.get("urn")} for item in body or []])
            elif parts.path == "/aspects":
                self._send(200, {})
            else:
                self._send(404, {"message": f"no route {parts.path}"})

        def do_POST(self) -> None:
            self._ingest()

        def do_PATCH(self) -> None:
            self._ingest()

    return Handler


@contextmanager
def serving() -> Iterator[str]:
    """A counting loopback endpoint on 127.0.0.1 (free port); yields its base URL."""
    counters = Counters()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(counters))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def stats(url: str) -> dict[str, Any]:
    """The counters of the endpoint at ``url`` (stdlib only: works in every venv)."""
    import urllib.request

    with urllib.request.urlopen(f"{url}/_bench/stats", timeout=10) as response:
        return dict(json.loads(response.read()))


def reset(url: str) -> None:
    import urllib.request

    request = urllib.request.Request(f"{url}/_bench/reset", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
