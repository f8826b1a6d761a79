"""Posting an outbox event through an OpenLineage HTTP transport without rebuilding it.

The outbox already holds each event as the exact JSON ``Serde.to_json`` gives
(``ol_bridge.serialize.event_json``). ``HttpTransport.emit`` would need a ``RunEvent``
rebuilt from it and would then serialise it again (``attrs.asdict``, a null-stripping walk,
``json.dumps``): two thirds of the CPU a delivered event cost besides the request itself.
:func:`post_stored` sends the stored JSON with the transport's own session, URL, headers,
authentication, compression and timeout, read from its public attributes and config, so
the request is the one ``emit`` would make (``tests/delivery/test_stored_http.py``
compares them byte for byte, which fails if a new openlineage-python builds it otherwise).

Only a plain ``HttpTransport`` without a client certificate takes this path; a subclass or
a certificate (``emit`` then refuses redirects) uses ``emit``. So does any send while
``http.client.HTTPConnection.debuglevel`` is on: ``emit`` turns it off around its request
so the token is not printed, a process-wide switch that is not thread-safe; ol-bridge does
not flip it, it leaves that case to ``emit``.
"""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Callable
from urllib.parse import urljoin

from openlineage.client.transport import Transport
from openlineage.client.transport.http import HttpCompression, HttpTransport

from ol_bridge.delivery.payload import from_payload

Send = Callable[[str], None]

#: ``HttpTransport`` compresses at this level (higher levels are twice as slow); gzip's
#: output at another level would still decompress to the same event
GZIP_LEVEL = 3


def sender(transport: Transport) -> Send:
    """The cheapest way to deliver a stored payload to ``transport`` with ``emit``'s effect."""

    def emit(payload: str) -> None:
        # job and dataset events stay dicts: Serde, which every transport uses, takes them
        transport.emit(from_payload(payload))  # type: ignore[arg-type]

    # ``cert``: openlineage-python >= 1.5x (``sslContext``); older ones have no certificates
    if type(transport) is not HttpTransport or getattr(transport, "cert", None) is not None:
        return emit
    http_transport = transport

    def send(payload: str) -> None:
        if http.client.HTTPConnection.debuglevel:
            emit(payload)  # emit hides the token from the debug output
        else:
            post_stored(http_transport, payload)

    return send


def post_stored(transport: HttpTransport, payload: str) -> None:
    """POST ``payload`` (an event's ``Serde.to_json``) as ``transport.emit`` would.

    Raises ``requests`` errors as ``emit`` does (``HTTPError`` for a 4xx/5xx answer).
    """
    body, headers = stored_request(transport, payload)
    response = transport.session.post(
        url=urljoin(transport.url, transport.endpoint),
        data=body,
        headers=headers,
        timeout=transport.timeout,
        verify=transport.verify,
    )
    response.close()
    response.raise_for_status()


def stored_request(transport: HttpTransport, payload: str) -> tuple[bytes | str, dict[str, str]]:
    """The body and headers ``emit`` sends for ``payload``: JSON content type, the token of
    the configured ``auth`` provider, the configured custom headers, optional gzip."""
    config = transport.config
    bearer = config.auth.get_bearer()
    headers = {
        "Content-Type": "application/json",
        **({"Authorization": bearer} if bearer else {}),
        **config.custom_headers,
    }
    if transport.compression == HttpCompression.GZIP:
        headers["Content-Encoding"] = "gzip"
        return gzip.compress(payload.encode("utf-8"), compresslevel=GZIP_LEVEL), headers
    return payload, headers
