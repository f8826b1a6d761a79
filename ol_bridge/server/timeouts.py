"""The HTTP protocol the receiver runs: httptools, with limits on request headers.

uvicorn times out idle keep-alive connections, and the app times out slow bodies (408),
but nothing in uvicorn bounds the time a client may take to send a request's headers, nor
(with httptools) their size: a connection that sends a byte now and then, or nothing at
all, is held forever, enough of them exhaust the process's file descriptors, and one that
sends headers without end fills memory. :func:`header_timeout_protocol` gives uvicorn an
httptools protocol that closes a connection whose request headers are not complete
``seconds`` after its first byte (or after the connection opened), and answers 400 with
``Connection: close`` to headers over :data:`MAX_HEADER_BYTES`.

httptools (llhttp, in C) rather than uvicorn's pure-Python h11: parsing requests and
writing answers in h11 was ~13% of the receiver's CPU under load.

It extends uvicorn's ``HttpToolsProtocol``, whose hooks (``connection_made``,
``data_received``, ``connection_lost``, ``send_400_response``, the ``cycle`` of the request
in progress) are not a public API: this module is the one place that relies on them, and
``tests/server/test_faults.py`` checks the behaviour against the real uvicorn.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: most bytes a request's line and headers may take (h11's limit, which uvicorn used before)
MAX_HEADER_BYTES = 16 * 1024


class _HeaderTimeoutProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        #: between a request's first byte and the end of its headers
        self._in_headers = False
        self._header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        waiting = before is None or before.response_complete
        if waiting:
            self._arm()  # bytes of a new request: its headers are now on the clock
        in_headers = waiting or self._in_headers
        super().data_received(data)
        if self.cycle is not before:  # the headers arrived: the app's timeouts take over
            self._disarm()
        if in_headers and self._in_headers:  # all of ``data`` was headers
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
                self._disarm()
                self.send_400_response("Request headers too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers, self._header_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()

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


def header_timeout_protocol(seconds: float) -> type[HttpToolsProtocol]:
    """An httptools protocol class for ``uvicorn.Config(http=...)`` with that header
    timeout and the header size limit."""
    return type(
        "HeaderTimeoutHttpToolsProtocol", (_HeaderTimeoutProtocol,), {"header_timeout": seconds}
    )
