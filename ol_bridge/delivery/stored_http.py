"""Posting an outbox event through an OpenLineage HTTP transport without rebuilding it.

The outbox already holds each event as the exact JSON ``Serde.to_json`` gives
(``ol_bridge.serialize.event_json``). ``HttpTransport.emit`` would need a ``RunEvent``
rebuilt from it and would then serialise it again (``attrs.asdict``, a null-stripping walk,
``json.dumps``): two thirds of the CPU a delivered event cost besides the request itself.
:func:`post_stored` sends the stored JSON with the transport's own session, URL, headers,
authentication, compression and timeout, so the request is the one ``emit`` would make
(``tests/delivery/test_stored_http.py`` compares them byte for byte).

Only a plain ``HttpTransport`` without a client certificate takes this path; a subclass, a
certificate (``emit`` then refuses redirects) or an openlineage-python whose transport no
longer has the attributes used here falls back to ``emit``.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from urllib.parse import urljoin

from openlineage.client.transport import Transport
from openlineage.client.transport.http import HttpTransport

from ol_bridge.delivery.payload import from_payload

#: what ``post_stored`` reads from the transport (all set by ``HttpTransport.__init__``)
_USED = ("_prepare_request", "session", "url", "endpoint", "timeout", "verify")

Send = Callable[[str], None]


def sender(transport: Transport) -> Send:
    """The cheapest way to deliver a stored payload to ``transport`` with ``emit``'s effect."""
    if (
        type(transport) is HttpTransport
        and all(hasattr(transport, name) for name in _USED)
        and getattr(transport, "cert", None) is None
    ):
        http_transport = transport

        def send(payload: str) -> None:
            post_stored(http_transport, payload)

        return send

    def emit(payload: str) -> None:
        # job and dataset events stay dicts: Serde, which every transport uses, takes them
        transport.emit(from_payload(payload))  # type: ignore[arg-type]

    return emit


def post_stored(transport: HttpTransport, payload: str) -> None:
    """POST ``payload`` (an event's ``Serde.to_json``) as ``transport.emit`` would.

    Raises ``requests`` errors as ``emit`` does (``HTTPError`` for a 4xx/5xx answer).
    """
    # as emit does: a debuglevel set elsewhere must not print the token to the log
    previous = http.client.HTTPConnection.debuglevel
    http.client.HTTPConnection.debuglevel = 0
    try:
        body, headers = transport._prepare_request(payload)
        response = transport.session.post(
            url=urljoin(transport.url, transport.endpoint),
            data=body,
            headers=headers,
            timeout=transport.timeout,
            verify=transport.verify,
        )
        response.close()
        response.raise_for_status()
    finally:
        http.client.HTTPConnection.debuglevel = previous
