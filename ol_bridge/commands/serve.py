"""``ol-bridge serve``: receive OpenLineage events over HTTP (or from Kafka) into DataHub.

Settings come from ``--config`` (YAML), ``OL_BRIDGE_SERVER__*`` variables and these flags
(flags win); see ``docs/server.md``. The bearer token is read from the config or
``OL_BRIDGE_SERVER__TOKEN`` only, never a flag, so it stays out of process listings.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ol_bridge.errors import ConfigError


@click.command()
@click.option("--host", default=None, help="Interface to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [default: 5000].")
@click.option(
    "--source",
    type=click.Choice(["http", "kafka"]),
    default=None,
    help="Receive over HTTP, or consume the `kafka.topic` as part of `kafka.group_id`.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML file of server settings (keys as in docs/server.md).",
)
def serve(host: str | None, port: int | None, source: str | None, config_path: Path | None) -> None:
    """Receive OpenLineage events, write them to DataHub and relay them onward."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        from ol_bridge.server.config import load_config

        config = load_config(config_path, overrides={"host": host, "port": port, "source": source})
    except ImportError as error:
        raise click.ClickException(
            f"ol-bridge serve needs the server extra: pip install 'ol-bridge[server]' ({error})"
        ) from error
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    if config.source == "kafka":
        from ol_bridge.server.kafka_source import run_worker

        run_worker(config)
        return
    from ol_bridge.server.run import serve_http

    serve_http(config)
