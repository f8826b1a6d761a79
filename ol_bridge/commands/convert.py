"""``ol-bridge convert``: OpenLineage events from files -> DataHub metadata.

Without ``--sink`` the proposals are printed (or written to ``--output``) as one JSON
array in DataHub's metadata file format, which ``datahub ingest`` reads with a ``file``
source. With ``--sink`` they go to DataHub Lite, GMS over REST, or a metadata file,
through the same sinks as the ``datahub`` transport.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ol_bridge.errors import (
    ConfigError,
    ConversionError,
    DeliveryError,
    EventInputError,
    EventValidationError,
)
from ol_bridge.event_files import SourcedEvent, parse_events

# Heavy imports (dagster, openlineage, acryl-datahub) are made where they are used, so
# `ol-bridge <command> --help` stays fast (tests/test_cli.py checks it).
if TYPE_CHECKING:
    from ol_bridge.datahub.config import DatahubConfig
    from ol_bridge.datahub.sinks.base import Proposal


def _read_sources(paths: Sequence[str]) -> Iterator[SourcedEvent]:
    for path in paths:
        if path == "-":
            yield from parse_events(sys.stdin.read(), "<stdin>")
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise EventInputError(f"{path}: cannot read: {error}") from error
        yield from parse_events(text, path)


def convert_sourced(events: Sequence[SourcedEvent], config: DatahubConfig) -> list[Proposal]:
    """Convert every event, naming the event at fault if one cannot be converted."""
    from ol_bridge.datahub.transport import convert_one

    converter_config = config.converter_config()
    mcps: list[Proposal] = []
    for sourced in events:
        try:
            mcps.extend(convert_one(sourced.event, converter_config))
        except (ConversionError, EventValidationError) as error:
            raise EventInputError(f"{sourced.location}: cannot convert: {error}") from error
    return mcps


@click.command("convert")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--sink",
    type=click.Choice(["lite", "rest", "file"]),
    default=None,
    help="Send the proposals here instead of printing them.",
)
@click.option("--server", default=None, help="GMS address for --sink rest [env DATAHUB_GMS_URL].")
@click.option("--token", default=None, help="GMS token for --sink rest [env DATAHUB_GMS_TOKEN].")
@click.option(
    "--lite-path",
    default=None,
    help="DataHub Lite file for --sink lite [default $OL_BRIDGE_HOME/datahub-lite.duckdb "
    "or ./.ol-bridge/datahub-lite.duckdb].",
)
@click.option(
    "--output",
    "-o",
    default=None,
    type=click.Path(dir_okay=False, writable=True),
    help="Write the JSON array here instead of stdout (required with --sink file).",
)
def convert(
    *,
    paths: tuple[str, ...],
    sink: str | None,
    server: str | None,
    token: str | None,
    lite_path: str | None,
    output: str | None,
) -> None:
    """Convert OpenLineage events (JSON object, JSON array or JSON Lines; - for stdin)
    into DataHub metadata change proposals."""
    from ol_bridge.datahub.config import DatahubConfig
    from ol_bridge.datahub.transport import DatahubTransport

    if sink == "file" and output is None:
        raise click.UsageError("--sink file needs --output FILE (the metadata file to write).")
    try:
        params: dict[str, Any] = {"sink": sink or "lite", "server": server, "token": token}
        params.update(lite_path=lite_path, file_path=output)
        config = DatahubConfig.from_dict(params)
        events = list(_read_sources(paths))
        mcps = convert_sourced(events, config)
        if sink is None:
            _print(mcps, output)
            return
        # the datahub transport's own write: coalesce, batch, write, flush
        target = DatahubTransport(config)
        try:
            written = target.write(mcps)
        finally:
            target.close()
    except (EventInputError, ConfigError, DeliveryError) as error:
        raise click.ClickException(str(error)) from error
    where = {"lite": config.lite_path, "rest": config.server, "file": config.file_path}[sink]
    click.echo(f"Wrote {written} proposals from {len(events)} events to {sink}: {where}", err=True)


def _print(mcps: Sequence[Proposal], output: str | None) -> None:
    from ol_bridge.datahub.sinks.file import dumps_metadata_file

    text = dumps_metadata_file(mcps)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise DeliveryError(f"Cannot write {output}: {error}") from error
