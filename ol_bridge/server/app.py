"""The HTTP receiver: a Starlette application speaking Marquez's and DataHub's lineage API.

Request checks run cheapest first, each with its own answer: 401 (bearer token), 415
(content type or encoding), 413 (size, enforced while the body streams in, so an
oversized body is never held in memory), 400 (JSON and OpenLineage schema, naming the
field); then the events are converted, stored and relayed (201), or 503 with
``Retry-After`` when a destination is down.
"""

from __future__ import annotations

import hmac
import logging
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ol_bridge.errors import ConversionError, DestinationUnavailableError
from ol_bridge.server.config import ServerConfig
from ol_bridge.server.ingest import Ingestor
from ol_bridge.server.metrics import PROMETHEUS_CONTENT_TYPE, Metrics
from ol_bridge.server.parse import ParsedBody, parse_body

log = logging.getLogger(__name__)

#: Marquez's path (``OPENLINEAGE_ENDPOINT`` default) and DataHub's.
LINEAGE_PATHS = ("/api/v1/lineage", "/openapi/openlineage/api/v1/lineage")
_JSON_TYPES = ("application/json",)


class _RefusedError(Exception):
    """An answer other than 201, raised from deep inside request handling."""

    def __init__(self, status: int, field: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.field, self.reason = status, field, reason

    def response(self) -> JSONResponse:
        body = {"error": self.reason, "field": self.field, "message": str(self)}
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


def create_app(
    config: ServerConfig,
    ingestor_factory: Callable[[Metrics], Ingestor],
    *,
    metrics: Metrics | None = None,
) -> Starlette:
    """The receiver app; the ingestor is built at start-up and closed at shutdown."""
    counters = metrics or Metrics()
    state: dict[str, Ingestor] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["ingestor"] = await run_in_threadpool(ingestor_factory, counters)
        counters.set_queued(state["ingestor"].queued)
        try:
            yield
        finally:
            await run_in_threadpool(state["ingestor"].close)

    async def lineage(request: Request) -> Response:
        try:
            _check_token(request, config.token)
            _check_content_type(request)
            body = await _read_body(request, config.max_body_bytes)
            parsed = parse_body(body)
            if not isinstance(parsed, ParsedBody):
                raise _RefusedError(400, parsed.field, parsed.message, "invalid_event")
            counters.add("received", len(parsed.events))
            await run_in_threadpool(_ingest, state["ingestor"], parsed.events)
        except _RefusedError as refused:
            counters.add("rejected", reason=refused.reason)
            return refused.response()
        except ClientDisconnect:
            counters.add("rejected", reason="client_disconnect")
            return Response(status_code=400)
        except DestinationUnavailableError as error:
            return JSONResponse(
                {
                    "error": "destination_unavailable",
                    "destination": error.destination,
                    "message": f"{error}; nothing was acknowledged, send the events again",
                },
                status_code=503,
                headers={"Retry-After": str(config.retry_after_sec)},
            )
        return JSONResponse({"received": len(parsed.events)}, status_code=201)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "queued": state["ingestor"].queued()})

    async def metrics_endpoint(request: Request) -> Response:
        return PlainTextResponse(counters.render(), media_type=PROMETHEUS_CONTENT_TYPE)

    routes = [Route(path, lineage, methods=["POST"]) for path in LINEAGE_PATHS]
    routes += [
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _ingest(ingestor: Ingestor, events: Sequence[dict[str, Any]]) -> None:
    try:
        ingestor.ingest(events)
    except ConversionError as error:
        # Valid against the schema but not convertible (e.g. an empty job name).
        raise _RefusedError(400, "", str(error), "unconvertible_event") from error


def _check_token(request: Request, token: str | None) -> None:
    if token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # Compare bytes: compare_digest refuses non-ASCII str, and the header may hold any.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")
    ):
        raise _RefusedError(
            401,
            "Authorization",
            "a valid `Authorization: Bearer` token is required",
            "unauthorized",
        )


def _check_content_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
        raise _RefusedError(
            415,
            "Content-Type",
            f"send application/json, not {media_type or 'no content type'}",
            "unsupported_media_type",
        )
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise _RefusedError(
            415,
            "Content-Encoding",
            f"Content-Encoding {encoding} is not supported; use gzip or none",
            "unsupported_media_type",
        )


async def _read_body(request: Request, limit: int) -> bytes:
    """The (decompressed) body, refusing with 413 as soon as it exceeds ``limit`` bytes."""
    too_large = _RefusedError(
        413, "", f"the body exceeds the limit of {limit} bytes; send smaller batches", "too_large"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    gzip = request.headers.get("content-encoding", "").strip().lower() == "gzip"
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
    chunks: list[bytes] = []
    size = 0
    async for received in request.stream():
        chunk = received
        if inflater is not None:
            try:
                # max_length caps what one chunk may inflate to: no decompression bombs
                chunk = inflater.decompress(received, limit - size + 1)
            except zlib.error as error:
                raise _RefusedError(
                    400, "", f"the gzip body is corrupt: {error}", "invalid_event"
                ) from error
            if inflater.unconsumed_tail:
                raise too_large
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    if inflater is not None and not inflater.eof:
        raise _RefusedError(400, "", "the gzip body is truncated", "invalid_event")
    return b"".join(chunks)
