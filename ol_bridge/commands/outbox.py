"""``ol-bridge outbox``: see, drain and discard the events waiting for delivery."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import click

# Heavy imports (dagster, openlineage, acryl-datahub) are made where they are used, so
# `ol-bridge <command> --help` stays fast (tests/test_cli.py checks it).
if TYPE_CHECKING:
    from ol_bridge.delivery.store import DestinationStats, Outbox


@click.group()
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The outbox file. Default: $DAGSTER_HOME/ol-bridge/outbox.sqlite, "
    "else ./.ol-bridge/outbox.sqlite.",
)
@click.pass_context
def outbox(ctx: click.Context, path: Path | None) -> None:
    """Events handed off by the sensor that wait for delivery, per destination."""
    ctx.obj = path


def _open(ctx: click.Context) -> Outbox:
    from ol_bridge.delivery.config import default_outbox_path
    from ol_bridge.delivery.store import Outbox

    # resolved here, not in the group, so `outbox <command> --help` imports nothing heavy
    path: Path = ctx.obj or default_outbox_path()
    ctx.obj = path
    if not path.exists():
        raise click.ClickException(
            f"no outbox at {path}. Pass --path, or set DAGSTER_HOME to the Dagster home "
            "the sensor runs in."
        )
    return Outbox(path)


@outbox.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (metrics).")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Pending events, oldest age, last error and counters per destination."""
    with _open(ctx) as box:
        stats = box.stats()
        duplicates = box.counter("duplicates_dropped")
    if as_json:
        payload = {
            "path": str(ctx.obj),
            "duplicates_dropped": duplicates,
            "destinations": [attrs.asdict(s) for s in stats],
        }
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
        return
    click.echo(f"outbox {ctx.obj}")
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
@click.pass_context
def drain(ctx: click.Context, seconds: float) -> None:
    """Deliver what waits now, ignoring backoff, to the destinations of the OpenLineage
    configuration (OPENLINEAGE_CONFIG / openlineage.yml / OPENLINEAGE_URL...) that the
    sensor uses."""
    from openlineage.client import OpenLineageClient

    from ol_bridge.delivery.deliver import drain as drain_outbox
    from ol_bridge.delivery.destinations import split_destinations

    destinations = split_destinations(OpenLineageClient().transport)
    with _open(ctx) as box:
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
@click.pass_context
def discard(
    ctx: click.Context, destination: str, rejected_only: bool, requeue: bool, yes: bool
) -> None:
    """Drop the events waiting for DESTINATION (they are then never delivered to it)."""
    with _open(ctx) as box:
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
