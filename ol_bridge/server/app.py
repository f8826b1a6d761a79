"""The HTTP receiver: a Starlette application speaking Marquez's and DataHub's lineage API.

Request checks run cheapest first, each with its own answer: 401 (bearer token), 415
(content type or encoding), 503 + ``Retry-After`` when the receiver cannot take more now
(decided from memory, before the body is read), 413 (size, enforced while the body streams
in, so an oversized body is never held in memory), 408 (the body is too slow), 400 (JSON,
OpenLineage schema, names, conversion to DataHub: naming the field); then the events are
committed to the outbox for every destination (201). Parsing, validation and conversion run
in worker threads, never on the event loop, so ``/health`` answers while a large batch is
checked. Every message a client gets passes :func:`~ol_bridge.delivery.redact.redact`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ol_bridge.delivery.redact import redact
from ol_bridge.errors import OutboxFullError
from ol_bridge.server.config import ServerConfig
from ol_bridge.server.convertible import UnconvertibleError
from ol_bridge.server.metrics import PROMETHEUS_CONTENT_TYPE, Metrics
from ol_bridge.server.parse import Rejection
from ol_bridge.server.receiver import Prepared, Receiver, Refusal

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
        body = {"error": self.reason, "field": self.field, "message": redact(str(self))}
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else {}
        if self.status == 408:  # the rest of a slow body is not waited for
            headers["Connection"] = "close"
        return JSONResponse(body, status_code=self.status, headers=headers or None)


def create_app(
    config: ServerConfig,
    receiver_factory: Callable[[Metrics], Receiver],
    *,
    metrics: Metrics | None = None,
) -> Starlette:
    """The receiver app; the receiver is built at start-up and closed at shutdown."""
    counters = metrics or Metrics()
    state: dict[str, Receiver] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["receiver"] = await run_in_threadpool(receiver_factory, counters)
        try:
            yield
        finally:
            await run_in_threadpool(state["receiver"].close)

    def unavailable(refusal: Refusal) -> JSONResponse:
        counters.add("unavailable", reason=refusal.reason)
        body: dict[str, Any] = {"error": refusal.reason, "message": redact(refusal.message)}
        if refusal.destination is not None:
            body["destination"] = refusal.destination
        return JSONResponse(
            body, status_code=503, headers={"Retry-After": str(config.retry_after_sec)}
        )

    async def lineage(request: Request) -> Response:
        receiver = state["receiver"]
        try:
            _check_token(request, config.token)
            _check_content_type(request)
            refusal = receiver.refusal()
            if refusal is not None:
                return unavailable(refusal)
            receiver.pending += 1  # on the event loop: no lock needed
            try:
                return await _take(request, receiver, config)
            finally:
                receiver.pending -= 1
        except _RefusedError as refused:
            counters.add("rejected", reason=refused.reason)
            return refused.response()
        except ClientDisconnect:
            counters.add("rejected", reason="client_disconnect")
            return Response(status_code=400)
        except OutboxFullError as error:
            return unavailable(Refusal("outbox_full", receiver._full_message() + f" ({error})"))
        except Exception as error:  # a bug, not the input: said, and the connection closed
            log.exception("ol-bridge serve: request failed")
            return JSONResponse(
                {"error": "internal_error", "message": redact(f"{type(error).__name__}: {error}")},
                status_code=500,
                headers={"Connection": "close"},
            )

    def allowed(request: Request) -> bool:
        if config.token is None or config.public_status:
            return True
        return _token_matches(request, config.token)

    async def health(request: Request) -> Response:
        status, body = state["receiver"].health(details=allowed(request))
        return JSONResponse(body, status_code=status)

    async def metrics_endpoint(request: Request) -> Response:
        if not allowed(request):
            return _RefusedError(
                401, "Authorization", "/metrics needs the bearer token", "unauthorized"
            ).response()
        text = await run_in_threadpool(counters.render)
        return PlainTextResponse(text, media_type=PROMETHEUS_CONTENT_TYPE)

    routes = [Route(path, lineage, methods=["POST"]) for path in LINEAGE_PATHS]
    routes += [
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def _take(request: Request, receiver: Receiver, config: ServerConfig) -> Response:
    try:
        with anyio.fail_after(config.body_timeout_sec):
            body = await _read_body(request, config.max_body_bytes)
    except TimeoutError as error:
        raise _RefusedError(
            408,
            "",
            f"the body did not arrive within {config.body_timeout_sec:g} s; send it faster "
            "or in smaller batches",
            "timeout",
        ) from error
    prepared = await run_in_threadpool(receiver.prepare, body)
    if isinstance(prepared, Rejection):
        raise _RefusedError(400, prepared.field, prepared.message, "invalid_event")
    if isinstance(prepared, UnconvertibleError):
        raise _RefusedError(400, prepared.field, str(prepared), "unconvertible_event")
    assert isinstance(prepared, Prepared)
    await asyncio.wrap_future(receiver.commit(prepared))
    return JSONResponse({"received": len(prepared.events)}, status_code=201)


def _token_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Starlette decodes header bytes as latin-1; these are the bytes the client sent. A
    # non-ASCII token may come UTF-8 encoded (httpx, curl) or latin-1 encoded (requests,
    # so openlineage-python's api_key auth): both are the token.
    sent = given.strip().encode("latin-1", "replace")
    candidates = [token.encode("utf-8")]
    with contextlib.suppress(UnicodeEncodeError):
        candidates.append(token.encode("latin-1"))
    return any(hmac.compare_digest(sent, candidate) for candidate in candidates)


def _check_token(request: Request, token: str | None) -> None:
    if token is None or _token_matches(request, token):
        return
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
            f"send application/json, not {media_type[:100] or 'no content type'}",
            "unsupported_media_type",
        )
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise _RefusedError(
            415,
            "Content-Encoding",
            f"Content-Encoding {encoding[:100]} is not supported; use gzip or none",
            "unsupported_media_type",
        )


async def _read_body(request: Request, limit: int) -> bytes:
    """The (decompressed) body, refusing with 413 as soon as it exceeds ``limit`` bytes.

    A gzip body may hold several members (RFC 1952): they are inflated one after the
    other. Bytes after the last member that are not another member are refused (400).
    """
    too_large = _RefusedError(
        413, "", f"the body exceeds the limit of {limit} bytes; send smaller batches", "too_large"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    gzip = request.headers.get("content-encoding", "").strip().lower() == "gzip"
    inflater = _Inflater(limit) if gzip else None
    chunks: list[bytes] = []
    size = 0
    async for received in request.stream():
        chunk = inflater.feed(received, limit - size) if inflater is not None else received
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    if inflater is not None:
        inflater.finish()
    return b"".join(chunks)


class _Inflater:
    """Streaming gunzip of one or more members, bounded by what the caller may still take."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        out: list[bytes] = []
        while data:
            self._started = True
            try:
                # max_length caps what one chunk may inflate to: no decompression bombs
                chunk = self._member.decompress(data, room + 1)
            except zlib.error as error:
                raise _RefusedError(
                    400, "", f"the gzip body is corrupt: {error}", "invalid_event"
                ) from error
            if self._member.unconsumed_tail:
                raise _RefusedError(
                    413,
                    "",
                    f"the body exceeds the limit of {self._limit} bytes; send smaller batches",
                    "too_large",
                )
            out.append(chunk)
            room -= len(chunk)
            data = b""
            if self._member.eof:
                rest = self._member.unused_data
                if rest and not (rest.startswith(b"\x1f\x8b") or b"\x1f\x8b".startswith(rest)):
                    raise _RefusedError(
                        400,
                        "",
                        "the gzip body has bytes after its end that are not another gzip "
                        "member; send one gzip stream",
                        "invalid_event",
                    )
                if rest:
                    self._member = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    data = rest
        return b"".join(out)

    def finish(self) -> None:
        if self._started and not self._member.eof:
            raise _RefusedError(400, "", "the gzip body is truncated", "invalid_event")
        if not self._started:
            raise _RefusedError(400, "", "the gzip body is empty", "invalid_event")
