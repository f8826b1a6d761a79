"""A sensor process for the kill test: ticks the real sensor in a loop against the on-disk
instance in $DAGSTER_HOME, storing the cursor after each tick returns (as Dagster's daemon
does), until the sensor is idle and the outbox is empty.

Usage: python -m tests.delivery.ticker CURSOR_FILE   (OPENLINEAGE_URL etc. from the env)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg

from ol_bridge.dagster import TickLimits, build_openlineage_sensor
from ol_bridge.delivery import DeliveryConfig, Outbox


def main(cursor_file: Path) -> None:
    instance = dg.DagsterInstance.get()
    delivery = DeliveryConfig(backoff_seconds=0.01, max_backoff_seconds=0.01)
    sensor = build_openlineage_sensor(limits=TickLimits(max_new_runs=3), delivery=delivery)
    outbox_path = delivery.outbox_path(instance.root_directory)
    idle = 0
    while idle < 2:
        cursor = cursor_file.read_text() if cursor_file.exists() else None
        print("tick", flush=True)
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
        if result.cursor is not None:
            tmp = cursor_file.with_suffix(".tmp")
            tmp.write_text(result.cursor)
            os.replace(tmp, cursor_file)
        with Outbox(outbox_path) as outbox:
            waiting = sum(s.queued for s in outbox.stats())
        idle = idle + 1 if result.cursor == cursor and not waiting else 0


if __name__ == "__main__":
    main(Path(sys.argv[1]))
