"""Destinations: the transports events are delivered to, each with its own queue.

A ``composite`` transport (fan-out) is split into its children, so one child being down
neither blocks nor duplicates the others. Any other transport is one destination. A
composite with ``continue_on_success: false`` is a fail-over chain, not a fan-out: it stays
one destination so its semantics are kept.

A destination's name keys its queue in the outbox, so it must stay the same across
restarts: the transport's ``name`` (the key in a dict-style composite config) when it has
one, else its kind and target (URL without credentials, file path, topic).
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
from openlineage.client.transport import Transport
from openlineage.client.transport.composite import CompositeTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport
from openlineage.client.transport.noop import NoopTransport

from ol_bridge.delivery.redact import redact

log = logging.getLogger(__name__)

#: The HTTP transport's own default retries sleep up to ~9 s per event; the outbox retries
#: across ticks instead, so a destination that is down costs one quick attempt per tick.
OUTBOX_HTTP_RETRY: dict[str, Any] = {
    "total": 0,
    "read": 0,
    "connect": 0,
    "status_forcelist": [],
    "allowed_methods": ["HEAD", "POST"],
}


@attrs.frozen
class Destination:
    name: str
    transport: Transport = attrs.field(eq=False)


def split_destinations(transport: Transport) -> list[Destination]:
    """The destinations of a client's transport, in configuration order."""
    if isinstance(transport, NoopTransport):
        return []
    children = [transport]
    if isinstance(transport, CompositeTransport) and transport.config.continue_on_success:
        children = [child for child in transport.transports if not isinstance(child, NoopTransport)]
    result: list[Destination] = []
    seen: set[str] = set()
    for child in children:
        _quick_http_retries(child)
        name = destination_name(child)
        unique, n = name, 1
        while unique in seen:
            n += 1
            unique = f"{name}#{n}"
        seen.add(unique)
        result.append(Destination(unique, child))
    return result


def destination_name(transport: Transport) -> str:
    if transport.name:
        return str(transport.name)
    kind = transport.kind or type(transport).__name__
    target = redact(_target(transport))
    if isinstance(transport, HttpTransport):
        return target  # the URL says it all
    return f"{kind}:{target}" if target else str(kind)


def _target(transport: Transport) -> str:
    config = getattr(transport, "config", None)
    if isinstance(transport, HttpTransport):
        return f"{transport.url.rstrip('/')}/{transport.endpoint.lstrip('/')}"
    for field in ("log_file_path", "topic", "sink"):
        value = getattr(config, field, None)
        if isinstance(value, str) and value:
            return value
    return ""


def _quick_http_retries(transport: Transport) -> None:
    if not isinstance(transport, HttpTransport):
        return
    config = transport.config
    # Only the library default is replaced: a retry policy the user configured is kept. The
    # adapter is built from config.retry when the session is first used, which is after this.
    default = attrs.fields(HttpConfig).retry.default
    if config.retry == default and config.adapter is None and config.session is None:
        config.retry = dict(OUTBOX_HTTP_RETRY)
