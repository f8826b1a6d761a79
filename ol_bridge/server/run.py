"""Running the receiver: wiring config to the receiver and to uvicorn.

uvicorn serves the app (Starlette, the lineage endpoint in front of it; see ``docs/server.md``
for why this stack). Tests and the benchmark start the same :class:`uvicorn.Server` on a
socket they bound themselves.

Shutdown (SIGTERM, SIGINT): uvicorn stops accepting, closes idle connections and gives
requests in progress ``shutdown_timeout_sec`` to finish; then the receiver commits what
was submitted and gives deliveries in progress ``shutdown_timeout_sec`` more. Nothing
acknowledged is lost either way: it is in the outbox, delivered at the next start.
"""

from __future__ import annotations

import gc
import logging
import resource
import socket
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from ol_bridge.delivery.redact import install_log_redaction, redact
from ol_bridge.server.app import create_app
from ol_bridge.server.config import ServerConfig
from ol_bridge.server.metrics import Metrics
from ol_bridge.server.receiver import Receiver
from ol_bridge.server.timeouts import header_timeout_protocol

log = logging.getLogger(__name__)


def receiver_factory(config: ServerConfig) -> Callable[[Metrics], Receiver]:
    def build(metrics: Metrics) -> Receiver:
        return Receiver(config, metrics)

    return build


def build_app(config: ServerConfig, *, metrics: Metrics | None = None) -> ASGIApp:
    """The receiver app for ``config``, with its outbox and destinations."""
    return create_app(config, receiver_factory(config), metrics=metrics)


def uvicorn_server(config: ServerConfig, *, metrics: Metrics | None = None) -> uvicorn.Server:
    """A uvicorn server for ``config`` (not started)."""
    settings = uvicorn.Config(
        build_app(config, metrics=metrics),
        host=config.host,
        port=config.port,
        lifespan="on",
        # httptools (a declared dependency, so always this parser) with a header timeout
        # and a header size limit (timeouts.py)
        http=header_timeout_protocol(config.header_timeout_sec),
        timeout_keep_alive=max(1, round(config.keep_alive_timeout_sec)),
        timeout_graceful_shutdown=max(1, round(config.shutdown_timeout_sec)),
        limit_concurrency=config.max_connections,
        backlog=min(config.max_connections, 2048),
        server_header=False,
        access_log=False,
        # X-Forwarded-* rewrite the client address and scheme, which the receiver never
        # uses; checking the peer against the trusted proxies cost ~6% of its CPU
        proxy_headers=False,
        log_level="info",
    )
    return uvicorn.Server(settings)


def raise_open_file_limit(wanted: int) -> int:
    """Raise the soft limit of open files towards ``wanted`` (at most the hard limit), so
    ``max_connections`` sockets plus the outbox fit; returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


#: objects allocated before a young-generation collection (Python's default is 700)
GC_YOUNG_THRESHOLD = 10_000


def tune_gc_for_serving() -> None:
    """Fewer, cheaper garbage collections for a long-running receiver.

    Everything alive at start (imported modules, DataHub's metadata classes, the compiled
    schemas) is moved out of the collector's reach (``gc.freeze``), so collections stop
    re-scanning it; young collections run every 10,000 allocations instead of 700 (each
    converted event allocates thousands of short-lived objects). ~10% of the receiver's
    CPU under load (benchmarks/server_load.py); cyclic garbage is still collected.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def serve_http(config: ServerConfig, *, sock: socket.socket | None = None) -> None:
    """Serve until SIGTERM or SIGINT (see the module docstring for what happens then)."""
    limit = raise_open_file_limit(config.max_connections + 256)
    if limit < config.max_connections + 64:
        log.warning(
            "ol-bridge serve: the open-file limit is %d, below max_connections=%d; lower "
            "max_connections or raise the limit (ulimit -n)",
            limit,
            config.max_connections,
        )
    if config.token is None:
        log.warning(
            "ol-bridge serve: no token is set, so anyone who can reach %s:%s can write "
            "lineage; set OL_BRIDGE_SERVER__TOKEN (or `token`) to require one",
            config.host,
            config.port,
        )
    server = uvicorn_server(config)  # configures uvicorn's loggers: redact them too
    install_log_redaction()
    log.info(
        "ol-bridge receiver on http://%s:%s (outbox: %s; destinations: datahub (%s sink)%s)",
        config.host,
        config.port,
        redact(config.outbox_where()),
        config.datahub.sink,
        "".join(f", {name}" for name in sorted(config.relay)),
    )
    tune_gc_for_serving()
    server.run(sockets=[sock] if sock is not None else None)
