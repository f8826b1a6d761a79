"""Real Dagster runs emitted by the real ol-bridge sensor, for the DataHub tests.

``emit_runs`` executes jobs in process on a test instance, then ticks the sensor (built
around the given OpenLineage client) until it is idle, exactly as the daemon would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
from openlineage.client import OpenLineageClient
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.dagster.sensor import IDLE_MESSAGE
from ol_bridge.naming import NamingConfig
from tests.dagster.helpers import tick

NAMING = NamingConfig.from_dict({"connections": {"duckdb": "duckdb:///data/warehouse.duckdb"}})


class RecordingTransport(Transport):
    """Keeps each event as the JSON dict a real transport would send."""

    kind = "recording"

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: Any) -> None:
        self.events.append(Serde.to_dict(event))


def make_sensor(client: OpenLineageClient) -> dg.SensorDefinition:
    translator = OpenLineageTranslator(naming=NAMING, dagster_url="http://dagster.local:3000")
    return build_openlineage_sensor(client=client, translator=translator)


def emit_runs(
    instance: dg.DagsterInstance,
    client: OpenLineageClient,
    definitions: Callable[[dg.SensorDefinition], dg.Definitions],
    job_names: list[str],
    *,
    on_tick: Callable[[], None] = lambda: None,
    max_ticks: int = 20,
) -> list[str]:
    """Run ``job_names``, tick the sensor until idle; returns the Dagster run ids.

    ``on_tick`` is called after every tick (e.g. to count HTTP requests per tick).
    """
    sensor = make_sensor(client)
    defs = definitions(sensor)
    run_ids = []
    for name in job_names:
        result = defs.resolve_job_def(name).execute_in_process(
            instance=instance, raise_on_error=False
        )
        run_ids.append(str(result.run_id))
    cursor = None
    for _ in range(max_ticks):
        result, cursor = tick(sensor, instance, defs, cursor)
        on_tick()
        if result.skip_message == IDLE_MESSAGE:
            return run_ids
    raise AssertionError(f"sensor still emitting after {max_ticks} ticks")
