"""``ol-bridge demo``: the whole path on this machine, no servers needed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

# Heavy imports (dagster, openlineage, acryl-datahub) are made where they are used, so
# `ol-bridge <command> --help` stays fast (tests/test_cli.py checks it).
if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient


def demo_client(events_file: Path, lite_path: Path) -> OpenLineageClient:
    """The embedded default, configured the OpenLineage way: a composite transport writing
    an events file and converting into DataHub Lite with ol-bridge's ``datahub`` transport."""
    from openlineage.client import OpenLineageClient

    return OpenLineageClient(
        config={
            "transport": {
                "type": "composite",
                "continue_on_failure": False,
                "transports": {
                    "events_file": {
                        "type": "file",
                        "log_file_path": str(events_file),
                        "append": True,
                    },
                    "datahub": {"type": "datahub", "sink": "lite", "lite_path": str(lite_path)},
                },
            }
        }
    )


def write_datahubenv(path: Path, lite_path: Path) -> None:
    """A DataHub CLI config pointing ``datahub lite`` at the demo's DuckDB file."""
    path.write_text(
        "gms:\n  server: http://localhost:8080\n"
        f"lite:\n  type: duckdb\n  config:\n    file: {lite_path.resolve()}\n",
        encoding="utf-8",
    )


@click.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".ol-bridge/demo"),
    show_default=True,
    help="Where the demo keeps its Dagster instance, DuckDB file and outputs.",
)
def demo(workdir: Path) -> None:
    """Run example Dagster jobs and show the lineage ol-bridge emits for them."""
    from ol_bridge.demo import lite_report
    from ol_bridge.demo.report import render, summarize
    from ol_bridge.demo.runner import read_events, run_demo

    click.echo(f"Running the example jobs on a temporary Dagster instance in {workdir} ...")
    lite_path = workdir / "datahub-lite.duckdb"
    lite_path.unlink(missing_ok=True)
    result = run_demo(workdir, lambda events_file: demo_client(events_file, lite_path))
    write_datahubenv(workdir / ".datahubenv", lite_path)
    events = read_events(result.events_file)
    click.echo(f"The sensor emitted {len(events)} OpenLineage events in {result.ticks} ticks.\n")
    click.echo(render(summarize(events)))
    click.echo("")
    click.echo(lite_report.render(lite_report.read_lite(lite_path), lite_path))
    click.echo(
        "\nNext:\n"
        f"  browse DataHub Lite:   HOME={workdir.resolve()} datahub lite list-urns\n"
        "                         (the DataHub CLI reads its Lite location from ~/.datahubenv;\n"
        f"                         the demo wrote one to {workdir.resolve()}/.datahubenv)\n"
        f"  events (JSON Lines):   {result.events_file}\n"
        "  a real DataHub:        OPENLINEAGE_URL=http://datahub-gms:8080\n"
        "                         OPENLINEAGE_ENDPOINT=openapi/openlineage/api/v1/lineage\n"
        "  Marquez:               OPENLINEAGE_URL=http://marquez:5000"
    )
