"""The code location of the redeploy test: a tiny job and the ol-bridge sensor, running,
ticking every second, retrying a failed destination on every tick. OpenLineage is
configured the standard way (``OPENLINEAGE_URL`` in the code server's environment)."""

from __future__ import annotations

import dagster as dg

from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.delivery import DeliveryConfig
from tests.delivery.jobs import tiny_job

defs = dg.Definitions(
    jobs=[tiny_job],
    sensors=[
        build_openlineage_sensor(
            minimum_interval_seconds=1,
            default_status=dg.DefaultSensorStatus.RUNNING,
            delivery=DeliveryConfig(backoff_seconds=0.01, max_backoff_seconds=0.01),
        )
    ],
)
