"""A loopback DataHub GMS that speaks what acryl-datahub's ``DataHubRestEmitter`` sends.

Endpoints (the ones ``DataHubRestEmitter`` calls, in acryl-datahub 1.x):

* ``GET /config``: the server config; the emitter refuses a server whose ``noCode``
  is not the string ``"true"`` (that is how it tells GMS from the frontend).
* ``POST /aspects?action=ingestProposal``: ``{"proposal": <MCP>, "async": "false"}``.
* ``POST /aspects?action=ingestProposalBatch``: ``{"proposals": [<MCP>...], "async": ...}``.
* ``POST|PATCH /openapi/v3/entity/<entityType>?async=...``: OpenAPI v3 batch,
  ``[{"urn": ..., "<aspectName>": {"value": <aspect or patch>, "systemMetadata": ...}}]``.
* ``POST /openapi/openlineage/api/v1/lineage``: DataHub's OpenLineage endpoint; the raw
  events are kept in ``openlineage_events`` (GMS would convert them itself).

Every request is recorded (method, path, query, body size, headers) and every proposal
decoded into DataHub's file format (``entityType``, ``entityUrn``, ``changeType``,
``aspectName``, ``aspect`` as inline JSON). ``fail_next(n)`` makes the next ``n`` ingest
requests answer 503; ``required_token`` makes requests without ``Bearer <token>`` 401.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: What ``GET /config`` of a DataHub 1.x GMS answers (trimmed to the keys the emitter reads).
GMS_CONFIG: dict[str, Any] = {
    "noCode": "true",
    "statefulIngestionCapable": True,
    "supportsImpactAnalysis": True,
    "patchCapable": True,
    "timeZone": "GMT",
    "datahub": {"serverType": "prod", "serverEnv": "core"},
    "versions": {"acryldata/datahub": {"version": "v1.2.0", "commit": "0" * 40}},
    "managedIngestion": {"enabled": True, "defaultCliVersion": "1.2.0"},
    "telemetry": {"enabledCli": False, "enabledIngestion": False},
}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body_bytes: int
    headers: dict[str, str]
    status: int


@dataclass
class FakeGms:
    """State shared with the request handler; read it from tests."""

    required_token: str | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    openlineage_events: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _failures_left: int = 0
    _failure_status: int = 503
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` ingest requests with ``status`` (no proposal kept)."""
        with self._lock:
            self._failures_left, self._failure_status = count, status

    @property
    def ingest_requests(self) -> list[RecordedRequest]:
        """Requests that carried metadata (everything but ``GET /config``)."""
        return [r for r in self.requests if r.path != "/config"]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.proposals.clear()

    def _take_failure(self) -> int | None:
        with self._lock:
            if self._failures_left <= 0:
                return None
            self._failures_left -= 1
            return self._failure_status


def _decode_restli(mcp: dict[str, Any]) -> dict[str, Any]:
    aspect = mcp.get("aspect") or {}
    return {
        "entityType": mcp["entityType"],
        "entityUrn": mcp["entityUrn"],
        "changeType": mcp["changeType"],
        "aspectName": mcp["aspectName"],
        "aspect": json.loads(aspect["value"]) if "value" in aspect else None,
    }


def _decode_openapi(entity_type: str, method: str, items: list[Any]) -> list[dict[str, Any]]:
    decoded = []
    for item in items:
        for aspect_name, body in item.items():
            if aspect_name == "urn":
                continue
            decoded.append(
                {
                    "entityType": entity_type,
                    "entityUrn": item["urn"],
                    "changeType": "PATCH" if method == "PATCH" else "UPSERT",
                    "aspectName": aspect_name,
                    "aspect": body["value"],
                }
            )
    return decoded


def _handler(state: FakeGms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean."""

        def _reply(self, status: int, payload: Any, body_bytes: int) -> None:
            parts = urlsplit(self.path)
            state.requests.append(
                RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    body_bytes=body_bytes,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    status=status,
                )
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if state.required_token is None:
                return True
            return self.headers.get("Authorization") == f"Bearer {state.required_token}"

        def do_GET(self) -> None:
            if urlsplit(self.path).path != "/config":
                self._reply(HTTPStatus.NOT_FOUND, {"message": "not found"}, 0)
            elif not self._authorized():
                self._reply(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"}, 0)
            else:
                self._reply(HTTPStatus.OK, GMS_CONFIG, 0)

        def _ingest(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not self._authorized():
                self._reply(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"}, len(raw))
                return
            failure = state._take_failure()
            if failure is not None:
                self._reply(
                    failure, {"message": "Service Unavailable", "status": failure}, len(raw)
                )
                return
            parts = urlsplit(self.path)
            action = parse_qs(parts.query).get("action", [""])[0]
            body = json.loads(raw)
            if parts.path == "/aspects" and action == "ingestProposal":
                decoded = [_decode_restli(body["proposal"])]
                answer: Any = {"value": body["proposal"]["entityUrn"]}
            elif parts.path == "/aspects" and action == "ingestProposalBatch":
                decoded = [_decode_restli(p) for p in body["proposals"]]
                answer = {}
            elif parts.path == "/openapi/openlineage/api/v1/lineage":
                state.openlineage_events.append(body)
                decoded, answer = [], {}
            elif parts.path.startswith("/openapi/v3/entity/"):
                entity_type = parts.path.rsplit("/", 1)[1]
                decoded = _decode_openapi(entity_type, self.command, body)
                answer = [{"urn": item["urn"]} for item in body]
            else:
                self._reply(HTTPStatus.NOT_FOUND, {"message": f"no route {parts.path}"}, len(raw))
                return
            state.proposals.extend(decoded)
            self._reply(HTTPStatus.OK, answer, len(raw))

        def do_POST(self) -> None:
            self._ingest()

        def do_PATCH(self) -> None:
            self._ingest()

    return Handler


@contextmanager
def running_gms(required_token: str | None = None) -> Iterator[FakeGms]:
    """Serve a :class:`FakeGms` on 127.0.0.1 (a free port) for the ``with`` block."""
    state = FakeGms(required_token=required_token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
