"""``ol-bridge outbox``: see, drain and discard the events waiting for delivery."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

# Heavy imports (dagster, openlineage, acryl-datahub) are made where they are used, so
# `ol-bridge <command> --help` stays fast (tests/test_cli.py checks it).
if TYPE_CHECKING:
    from ol_bridge.delivery.location import OutboxLocation
    from ol_bridge.delivery.status import DestinationStats
    from ol_bridge.delivery.store import Outbox


def _where_options(command: Any) -> Any:
    """``--path`` / ``--url`` / ``--dagster-home``, accepted by the group and by each command
    (``ol-bridge outbox --path X status`` and ``ol-bridge outbox status --path X``)."""
    options = [
        click.option(
            "--path",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="An outbox file (a sensor with DeliveryConfig(path=...), or serve's).",
        ),
        click.option(
            "--url",
            default=None,
            help="An outbox database URL (a sensor with DeliveryConfig(url=...), or serve's).",
        ),
        click.option(
            "--dagster-home",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="The Dagster instance the sensor runs in. Default: $DAGSTER_HOME. Its outbox "
            "is in the instance's PostgreSQL database, else next to the instance.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group()
@_where_options
@click.pass_context
def outbox(
    ctx: click.Context, path: Path | None, url: str | None, dagster_home: Path | None
) -> None:
    """Events handed off by the sensor (or a backfill, or serve) that wait for delivery,
    per destination."""
    ctx.obj = {"path": path, "url": url, "dagster_home": dagster_home}


def _open(ctx: click.Context, **given: Any) -> Outbox:
    """The outbox the options name: a command's own options over the group's; else the
    one the sensor of the ``DAGSTER_HOME`` instance uses (``delivery/location.py``)."""
    from ol_bridge.delivery.config import DeliveryConfig
    from ol_bridge.delivery.status import outbox_exists
    from ol_bridge.delivery.store import Outbox

    where = {**(ctx.obj or {}), **{k: v for k, v in given.items() if v is not None}}
    if where.get("path") is not None or where.get("url") is not None:
        from ol_bridge.delivery.location import locate

        location = locate(DeliveryConfig(path=where.get("path"), url=where.get("url")), None)
        how = "--path / --url"
    else:
        location = _instance_location(where.get("dagster_home"))
        how = f"the sensor's default for that instance ({location.reason})"
    ctx.obj = {**where, "where": location.where}
    if not outbox_exists(location.database):
        raise click.ClickException(
            f"no outbox in {location.where} ({how}): nothing was handed off there yet. Pass "
            "--path or --url if the sensor's DeliveryConfig sets one, or --dagster-home (or "
            "DAGSTER_HOME) for the instance the sensor runs in."
        )
    box = Outbox(location.database)
    for recovery in box.recoveries:  # a damaged file was moved aside on opening it
        click.echo(f"WARNING: {recovery.describe()}", err=True)
    return box


def _instance_location(dagster_home: Path | None) -> OutboxLocation:
    import os

    from ol_bridge.delivery.config import DeliveryConfig
    from ol_bridge.delivery.location import locate

    home = dagster_home or (
        Path(os.environ["DAGSTER_HOME"]) if "DAGSTER_HOME" in os.environ else None
    )
    if home is None:
        return locate(DeliveryConfig(), None)  # ./.ol-bridge/outbox.sqlite
    if not (home / "dagster.yaml").is_file():
        raise click.ClickException(
            f"{home} has no dagster.yaml: pass the Dagster home the sensor's instance uses "
            "(--dagster-home or DAGSTER_HOME), or the outbox itself (--path / --url)."
        )
    from dagster import DagsterInstance

    instance = DagsterInstance.from_config(str(home))
    return locate(DeliveryConfig(), instance)


@outbox.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (metrics).")
@_where_options
@click.pass_context
def status(ctx: click.Context, /, as_json: bool, **where: Any) -> None:
    """Pending events, oldest age, last error and counters per destination."""
    with _open(ctx, **where) as box:
        stats = box.stats()
        duplicates = box.counter("duplicates_dropped")
    if as_json:
        payload = {
            "outbox": ctx.obj["where"],
            "duplicates_dropped": duplicates,
            "destinations": [attrs.asdict(s) for s in stats],
        }
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
        return
    click.echo(f"outbox in {ctx.obj['where']}")
    if not stats:
        click.echo("no destinations yet: nothing was handed off")
    for s in stats:
        click.echo(_describe(s))
    click.echo(f"duplicate hand-offs dropped: {duplicates}")


def _describe(s: DestinationStats) -> str:
    lines = [f"{s.name}"]
    waiting = f"  waiting: {s.queued}"
    if s.rejected:
        waiting += f" (rejected for good: {s.rejected})"
    if s.oldest_age_seconds is not None:
        waiting += f", oldest {_age(s.oldest_age_seconds)} old"
    lines.append(waiting)
    lines.append(
        f"  delivered: {s.delivered}, failed attempts: {s.failed_attempts}, dropped: {s.dropped}"
    )
    if s.failures:
        lines.append(
            f"  failing: {s.failures} consecutive failures, next attempt in "
            f"{_age(s.next_attempt_in_seconds)}"
        )
    if s.last_error:
        when = "" if s.last_error_at is None else f" ({_age(time.time() - s.last_error_at)} ago)"
        lines.append(f"  last error{when}: {s.last_error}")
    return "\n".join(lines)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


@outbox.command()
@click.option("--seconds", type=float, default=60.0, show_default=True, help="Time box.")
@_where_options
@click.pass_context
def drain(ctx: click.Context, /, seconds: float, **where: Any) -> None:
    """Deliver what waits now, ignoring backoff, to the destinations of the OpenLineage
    configuration (OPENLINEAGE_CONFIG / openlineage.yml / OPENLINEAGE_URL...) that the
    sensor uses."""
    from openlineage.client import OpenLineageClient

    from ol_bridge.delivery.deliver import drain as drain_outbox
    from ol_bridge.delivery.destinations import split_destinations

    destinations = split_destinations(OpenLineageClient().transport)
    with _open(ctx, **where) as box:
        report = drain_outbox(box, destinations, seconds=seconds, ignore_backoff=True)
        left = {s.name: s.queued for s in box.stats()}
    configured = {d.name for d in destinations}
    for name, count in sorted(report.delivered.items()):
        line = f"{name}: delivered {count}, waiting {left.get(name, 0)}"
        if name in report.failed:
            line += f", failing: {report.failed[name]}"
        click.echo(line)
    for name in sorted(set(left) - configured):
        if left[name]:
            click.echo(
                f"{name}: {left[name]} waiting, but it is not in the OpenLineage "
                "configuration; restore it or `ol-bridge outbox discard` it"
            )
    if report.out_of_time:
        click.echo(f"time box of {seconds:.0f}s reached; run drain again for the rest")
    if report.failed:
        raise SystemExit(1)


@outbox.command()
@click.argument("destination")
@click.option("--rejected-only", is_flag=True, help="Only events it refused for good.")
@click.option("--requeue", is_flag=True, help="Retry its rejected events instead.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_where_options
@click.pass_context
def discard(
    ctx: click.Context,
    /,
    destination: str,
    rejected_only: bool,
    requeue: bool,
    yes: bool,
    **where: Any,
) -> None:
    """Drop the events waiting for DESTINATION (they are then never delivered to it)."""
    with _open(ctx, **where) as box:
        stats = {s.name: s for s in box.stats()}
        if destination not in stats:
            known = ", ".join(sorted(stats)) or "none"
            raise click.ClickException(
                f"no destination {destination!r} in the outbox; destinations: {known}"
            )
        if requeue:
            click.echo(f"{destination}: {box.requeue_rejected(destination)} events re-queued")
            return
        count = stats[destination].rejected if rejected_only else stats[destination].queued
        what = "rejected events" if rejected_only else "waiting events"
        if not yes:
            click.confirm(
                f"Discard {count} {what} for {destination}? They will never be delivered to it.",
                abort=True,
            )
        discarded = box.discard(destination, rejected_only=rejected_only)
    click.echo(f"{destination}: discarded {discarded} {what}")
