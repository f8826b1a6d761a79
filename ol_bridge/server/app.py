"""The HTTP receiver: a Starlette application speaking Marquez's and DataHub's lineage API.

Request checks run cheapest first, each with its own answer: 401 (bearer token), 415
(content type or encoding), 503 + ``Retry-After`` when the receiver cannot take more now
(decided from memory, before the body is read), 413 (size, enforced while the body streams
in, so an oversized body is never held in memory), 408 (the body is too slow), 400 (JSON,
OpenLineage schema, names, conversion to DataHub: naming the field); then the events are
committed to the outbox for every destination (201). Parsing, validation and conversion run
in worker threads, never on the event loop, so ``/health`` answers while a large batch is
checked. Every message a client gets passes :func:`~ol_bridge.delivery.redact.redact`.

The lineage endpoint is a plain ASGI function, and a ``POST`` to one of its paths reaches it
straight from uvicorn (:class:`_LineageFirst`): Starlette's middleware, routing and request
objects cost more per request than everything the receiver does on the event loop. Every
other request, and the lineage paths with another method, go through Starlette as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import sys
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ol_bridge.delivery.redact import redact
from ol_bridge.errors import OutboxFullError
from ol_bridge.server.awaiting import FutureWaiter
from ol_bridge.server.config import ServerConfig
from ol_bridge.server.metrics import PROMETHEUS_CONTENT_TYPE, Metrics
from ol_bridge.server.parse import Rejection
from ol_bridge.server.receiver import Receiver, Refusal, RefusedBodyError

log = logging.getLogger(__name__)

if sys.version_info >= (3, 11):
    _deadline = asyncio.timeout
else:  # pragma: no cover - anyio's costs ~7% of the receiver's CPU where asyncio's exists
    from anyio import fail_after

    @asynccontextmanager
    async def _deadline(seconds: float) -> AsyncIterator[None]:
        with fail_after(seconds):
            yield


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
) -> ASGIApp:
    """The receiver app; the receiver is built at start-up and closed at shutdown."""
    counters = metrics or Metrics()
    state: dict[str, Receiver] = {}
    waiters: dict[str, FutureWaiter] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["receiver"] = await run_in_threadpool(receiver_factory, counters)
        waiters["committed"] = FutureWaiter(asyncio.get_running_loop())
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

    async def lineage(scope: Scope, receive: Receive, send: Send) -> None:
        response = await answer(Headers(scope=scope), receive)
        await response(scope, receive, send)

    async def answer(headers: Headers, receive: Receive) -> Response:
        receiver = state["receiver"]
        try:
            _check_token(headers, config.token)
            _check_content_type(headers)
            refusal = receiver.refusal()
            if refusal is not None:
                return unavailable(refusal)
            receiver.pending += 1  # on the event loop: no lock needed
            try:
                return await _take(headers, receive, receiver, waiters["committed"], config)
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
        return _token_matches(request.headers, config.token)

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

    endpoint = _AsgiEndpoint(lineage)
    routes = [Route(path, endpoint, methods=["POST"]) for path in LINEAGE_PATHS]
    routes += [
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return _LineageFirst(lineage, Starlette(routes=routes, lifespan=lifespan))


class _AsgiEndpoint:
    """An ASGI function as a Starlette endpoint (Starlette wraps plain functions as
    request handlers; an object it calls as the ASGI app it is)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


class _LineageFirst:
    """``POST`` to a lineage path straight to ``lineage``; everything else to ``app``."""

    def __init__(self, lineage: ASGIApp, app: ASGIApp) -> None:
        self._lineage, self._app = lineage, app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] in LINEAGE_PATHS
            and not scope.get("root_path")
        ):
            await self._lineage(scope, receive, send)
        else:
            await self._app(scope, receive, send)


async def _take(
    headers: Headers,
    receive: Receive,
    receiver: Receiver,
    waiter: FutureWaiter,
    config: ServerConfig,
) -> Response:
    try:
        async with _deadline(config.body_timeout_sec):
            body = await _read_body(headers, receive, config.max_body_bytes)
    except TimeoutError as error:
        raise _RefusedError(
            408,
            "",
            f"the body did not arrive within {config.body_timeout_sec:g} s; send it faster "
            "or in smaller batches",
            "timeout",
        ) from error
    try:  # checked and committed on the committer thread, with other requests' bodies
        duplicates = await waiter.wait(receiver.submit(body))
    except RefusedBodyError as refused:
        answer = refused.answer
        if isinstance(answer, Rejection):
            raise _RefusedError(400, answer.field, answer.message, "invalid_event") from None
        raise _RefusedError(400, answer.field, str(answer), "unconvertible_event") from None
    return JSONResponse({"received": len(duplicates)}, status_code=201)


def _token_matches(headers: Headers, token: str) -> bool:
    scheme, _, given = headers.get("authorization", "").partition(" ")
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


def _check_token(headers: Headers, token: str | None) -> None:
    if token is None or _token_matches(headers, token):
        return
    raise _RefusedError(
        401,
        "Authorization",
        "a valid `Authorization: Bearer` token is required",
        "unauthorized",
    )


def _check_content_type(headers: Headers) -> None:
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
        raise _RefusedError(
            415,
            "Content-Type",
            f"send application/json, not {media_type[:100] or 'no content type'}",
            "unsupported_media_type",
        )
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise _RefusedError(
            415,
            "Content-Encoding",
            f"Content-Encoding {encoding[:100]} is not supported; use gzip or none",
            "unsupported_media_type",
        )


async def _read_body(headers: Headers, receive: Receive, limit: int) -> bytes:
    """The (decompressed) body, refusing with 413 as soon as it exceeds ``limit`` bytes.

    A gzip body may hold several members (RFC 1952): they are inflated one after the
    other. Bytes after the last member that are not another member are refused (400).
    """
    too_large = _RefusedError(
        413, "", f"the body exceeds the limit of {limit} bytes; send smaller batches", "too_large"
    )
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    gzip = headers.get("content-encoding", "").strip().lower() == "gzip"
    inflater = _Inflater(limit) if gzip else None
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        received = message.get("body", b"")
        more = message.get("more_body", False)
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
