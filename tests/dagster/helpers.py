"""Driving the real sensor tick after tick, and finding events in what it emitted."""

from __future__ import annotations

from typing import Any

import dagster as dg

from ol_bridge.dagster.sensor import IDLE_MESSAGE


def tick(
    sensor: dg.SensorDefinition,
    instance: dg.DagsterInstance,
    definitions: dg.Definitions,
    cursor: str | None,
) -> tuple[Any, str | None]:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=definitions)
    result = sensor.evaluate_tick(context)
    return result, result.cursor


def tick_until_idle(
    sensor: dg.SensorDefinition,
    instance: dg.DagsterInstance,
    definitions: dg.Definitions,
    cursor: str | None = None,
    max_ticks: int = 50,
) -> tuple[str | None, int]:
    """Tick until a tick emits nothing; returns the cursor and the number of ticks."""
    for ticks in range(1, max_ticks + 1):
        result, cursor = tick(sensor, instance, definitions, cursor)
        if result.skip_message == IDLE_MESSAGE:
            return cursor, ticks
    raise AssertionError(f"sensor still emitting after {max_ticks} ticks")


def run(definitions: dg.Definitions, job: str, instance: dg.DagsterInstance, **kwargs: Any) -> str:
    result = definitions.resolve_job_def(job).execute_in_process(
        instance=instance, raise_on_error=False, **kwargs
    )
    return str(result.run_id)


def by_job(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [event for event in events if event["job"]["name"] == name]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["eventType"] for event in events]
