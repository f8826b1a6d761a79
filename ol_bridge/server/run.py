"""Running the receiver: wiring config to the ingestor and to uvicorn.

uvicorn serves the Starlette app (see ``docs/server.md`` for why this stack). Tests and
the benchmark start the same :class:`uvicorn.Server` on a socket they bound themselves.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from ol_bridge.server.app import create_app
from ol_bridge.server.config import ServerConfig
from ol_bridge.server.ingest import DirectRelay, Ingestor, Relay
from ol_bridge.server.metrics import Metrics

log = logging.getLogger(__name__)


def relay_for(config: ServerConfig, metrics: Metrics) -> Relay:
    """The relay the config asks for (direct, or through the outbox; see docs/server.md)."""
    if config.outbox_path is not None:
        from ol_bridge.server.outbox_relay import OutboxRelay

        return OutboxRelay(config.relay, Path(config.outbox_path), metrics)
    return DirectRelay.from_config(config.relay, metrics)


def ingestor_factory(config: ServerConfig) -> Callable[[Metrics], Ingestor]:
    def build(metrics: Metrics) -> Ingestor:
        return Ingestor(config.datahub, relay=relay_for(config, metrics), metrics=metrics)

    return build


def build_app(config: ServerConfig, *, metrics: Metrics | None = None) -> Starlette:
    """The receiver app for ``config``, with its DataHub sink and relays."""
    return create_app(config, ingestor_factory(config), metrics=metrics)


def uvicorn_server(config: ServerConfig, *, metrics: Metrics | None = None) -> uvicorn.Server:
    """A uvicorn server for ``config`` (not started)."""
    settings = uvicorn.Config(
        build_app(config, metrics=metrics),
        host=config.host,
        port=config.port,
        lifespan="on",
        # The pure-Python parser: the same behaviour whatever optional wheels are present.
        http="h11",
        server_header=False,
        access_log=False,
        log_level="info",
    )
    return uvicorn.Server(settings)


def serve_http(config: ServerConfig, *, sock: socket.socket | None = None) -> None:
    """Serve until interrupted (SIGINT/SIGTERM finish in-flight requests, then stop)."""
    server = uvicorn_server(config)
    log.info(
        "ol-bridge receiver on http://%s:%s (DataHub sink: %s, relays: %s)",
        config.host,
        config.port,
        config.datahub.sink,
        sorted(config.relay) or "none",
    )
    server.run(sockets=[sock] if sock is not None else None)
