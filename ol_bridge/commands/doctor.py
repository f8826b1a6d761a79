"""``ol-bridge doctor``: what is configured, what works, what to fix."""

from __future__ import annotations

import sys

import click

from ol_bridge.doctor.model import DEFAULT_TIMEOUT_SECONDS


@click.command()
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds to wait for each backend.",
)
def doctor(timeout: float) -> None:
    """Check the OpenLineage client the sensor would build here, each of its destinations
    (for real), and the Dagster instance in DAGSTER_HOME: where pending events live and
    whether an ol-bridge sensor is running.

    Run it with the environment, working directory and home of the code location server
    (where the sensor runs). Exits with 1 when a check FAILs.
    """
    from ol_bridge.doctor.model import failed, render
    from ol_bridge.doctor.run import run_checks

    checks = run_checks(timeout=timeout)
    click.echo(render(checks))
    if failed(checks):
        sys.exit(1)
