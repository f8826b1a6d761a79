"""Closing connections whose request headers never finish (slowloris).

uvicorn times out idle keep-alive connections, and the app times out slow bodies (408),
but nothing in uvicorn bounds the time a client may take to send a request's headers: a
connection that sends a byte now and then, or nothing at all, is held forever, and enough
of them exhaust the process's file descriptors. :func:`header_timeout_protocol` gives
uvicorn an ``h11`` protocol that closes a connection whose request headers are not
complete ``seconds`` after its first byte (or after the connection opened).

It extends uvicorn's ``H11Protocol``, whose hooks (``connection_made``, ``data_received``,
``connection_lost``, the ``cycle`` of the request in progress) are not a public API: this
module is the one place that relies on them, and ``tests/server/test_faults.py`` checks
the behaviour against the real uvicorn.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


class _HeaderTimeoutProtocol(H11Protocol):
    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        if before is None or before.response_complete:
            self._arm()  # bytes of a new request: its headers are now on the clock
        super().data_received(data)
        if self.cycle is not before:  # the headers arrived: the app's timeouts take over
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()


def header_timeout_protocol(seconds: float) -> type[H11Protocol]:
    """An h11 protocol class for ``uvicorn.Config(http=...)`` with that header timeout."""
    return type("HeaderTimeoutH11Protocol", (_HeaderTimeoutProtocol,), {"header_timeout": seconds})
