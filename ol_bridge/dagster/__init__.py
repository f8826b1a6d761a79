"""Dagster side of ol-bridge: the sensor, its translator and IO managers."""

from __future__ import annotations

from ol_bridge import register_transports
from ol_bridge.dagster.component import OpenLineageSensorComponent
from ol_bridge.dagster.sensor import build_openlineage_sensor
from ol_bridge.dagster.tick import TickLimits
from ol_bridge.dagster.translator import OpenLineageTranslator, StepLineage

__all__ = [
    "OpenLineageSensorComponent",
    "OpenLineageTranslator",
    "StepLineage",
    "TickLimits",
    "build_openlineage_sensor",
]

# `type: datahub` in OpenLineage configurations resolves before any client is built here
register_transports()
