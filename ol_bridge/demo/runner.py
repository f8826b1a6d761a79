"""Run the demo: example jobs on a temporary Dagster instance, then the real sensor,
ticked until it has emitted everything, through the given OpenLineage client."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import dagster as dg
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.dagster.sensor import IDLE_MESSAGE
from ol_bridge.demo.pipeline import JOBS, build_definitions
from ol_bridge.event_files import read_events_file
from ol_bridge.naming import NamingConfig

#: keep Dagster's own console log (and the failing job's stack trace) out of the demo output
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@attrs.frozen
class DemoRun:
    events_file: Path
    database: Path
    run_ids: dict[str, str]
    ticks: int


def run_demo(
    workdir: Path,
    client_for: Callable[[Path], OpenLineageClient],
    *,
    max_ticks: int = 20,
) -> DemoRun:
    """Run the demo jobs in ``workdir`` and emit their lineage with ``client_for(events_file)``."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "iris.duckdb"
    events_file = workdir / "openlineage-events.jsonl"
    dagster_home = workdir / "dagster"
    # Each demo starts clean: the sensor emits the whole history of its instance.
    shutil.rmtree(dagster_home, ignore_errors=True)
    dagster_home.mkdir()
    for stale in (database, events_file):
        stale.unlink(missing_ok=True)
    translator = OpenLineageTranslator(
        naming=NamingConfig.from_dict(
            {"connections": {"duckdb": f"duckdb://{database.resolve()}"}}
        ),
    )
    client = client_for(events_file)
    sensor = build_openlineage_sensor(client=client, translator=translator)
    definitions = build_definitions(database, sensor)
    run_ids: dict[str, str] = {}
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        for job in JOBS:
            result = definitions.resolve_job_def(job).execute_in_process(
                instance=instance, raise_on_error=False, run_config=QUIET
            )
            run_ids[job] = result.run_id
        cursor: str | None = None
        ticks = 0
        while ticks < max_ticks:
            ticks += 1
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, definitions=definitions
            )
            result_data: Any = sensor.evaluate_tick(context)
            cursor = result_data.cursor
            if result_data.skip_message == IDLE_MESSAGE:
                break
    client.close()
    return DemoRun(events_file=events_file, database=database, run_ids=run_ids, ticks=ticks)


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events the demo wrote (JSON Lines)."""
    return read_events_file(path)
