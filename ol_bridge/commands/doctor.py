"""``ol-bridge doctor``: what is configured, what works, what to fix."""

from __future__ import annotations

import sys

import click

from ol_bridge.doctor import DEFAULT_TIMEOUT_SECONDS, render, run_checks


@click.command()
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds to wait for each backend.",
)
def doctor(timeout: float) -> None:
    """Check the OpenLineage configuration, the backends it points at, and DAGSTER_HOME.

    Exits with 1 when a check FAILs.
    """
    checks = run_checks(timeout=timeout)
    click.echo(render(checks))
    if any(check.status == "FAIL" for check in checks):
        sys.exit(1)
