"""Receivers on 127.0.0.1 and a sensor wired to them through the standard OL config."""

from __future__ import annotations

from typing import Any

import dagster as dg
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.delivery import DeliveryConfig
from tests.delivery.receiver import Receiver

#: retries every tick in tests, where ticks are milliseconds apart
FAST = {"backoff_seconds": 0.01, "max_backoff_seconds": 0.01}


def http(receiver: Receiver, **extra: Any) -> dict[str, Any]:
    return {"type": "http", "url": receiver.url, "endpoint": "api/v1/lineage", **extra}


def client_for(transport: dict[str, Any]) -> OpenLineageClient:
    """A client built the way users configure one (``openlineage.yml``'s ``transport``)."""
    return OpenLineageClient(config={"transport": transport})


def sensor_for(client: OpenLineageClient, **delivery: Any) -> dg.SensorDefinition:
    return build_openlineage_sensor(client=client, delivery=DeliveryConfig(**{**FAST, **delivery}))


def tick(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None
) -> tuple[Any, str | None]:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = sensor.evaluate_tick(context)
    return result, result.cursor
