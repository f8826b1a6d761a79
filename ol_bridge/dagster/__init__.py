"""Dagster side of ol-bridge: the sensor, its translator, its settings and IO managers.

The names below are the public API (``from ol_bridge.dagster import ...``); the modules of
this package are internal.
"""

from __future__ import annotations

from ol_bridge import register_transports
from ol_bridge.dagster.component import OpenLineageSensorComponent
from ol_bridge.dagster.io_managers import AnnotatingIOManager, DuckDBTableIOManager
from ol_bridge.dagster.run_info import RunInfo, StepInfo
from ol_bridge.dagster.sensor import build_openlineage_sensor
from ol_bridge.dagster.tick import TickLimits
from ol_bridge.dagster.translator import OpenLineageTranslator, StepLineage
from ol_bridge.delivery import DeliveryConfig
from ol_bridge.naming import DatasetId, NamingConfig

__all__ = [
    "AnnotatingIOManager",
    "DatasetId",
    "DeliveryConfig",
    "DuckDBTableIOManager",
    "NamingConfig",
    "OpenLineageSensorComponent",
    "OpenLineageTranslator",
    "RunInfo",
    "StepInfo",
    "StepLineage",
    "TickLimits",
    "build_openlineage_sensor",
]

# `type: datahub` in OpenLineage configurations resolves before any client is built here
register_transports()
