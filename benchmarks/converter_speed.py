"""How many OpenLineage events per second the DataHub converter turns into proposals.

Run from the repository root: ``python benchmarks/converter_speed.py``. Two workloads:

* ``sensor``: the events ol-bridge's real sensor emits for the test jobs of
  ``tests/dagster/jobs.py`` (an asset job with SQL and column lineage, an ops job with
  nested graphs and dynamic steps, a failing job), produced by running them once;
* ``corpus``: every input of DataHub's compatibility corpus (Airflow, Spark, column lineage),
  vendored under ``tests/data/datahub-ol-compat``.

Each figure is the best of several timed rounds on one core (``convert_event`` only, no I/O),
so a busy machine lowers it less. Not a test: it prints, it does not assert.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sensor_events() -> list[dict[str, Any]]:
    import dagster as dg
    from openlineage.client import OpenLineageClient

    from tests.dagster import jobs
    from tests.datahub.sensor_runs import RecordingTransport, emit_runs

    recorder = RecordingTransport()
    with tempfile.TemporaryDirectory() as temp_dir, dg.instance_for_test(temp_dir=temp_dir) as inst:
        emit_runs(
            inst,
            OpenLineageClient(transport=recorder),
            jobs.definitions,
            ["asset_job", "ops_job", "failing_job"],
        )
    return recorder.events


def corpus_events() -> list[dict[str, Any]]:
    from ol_bridge.datahub import convert_event
    from ol_bridge.errors import ConversionError

    events = []
    for path in sorted((ROOT / "tests" / "data" / "datahub-ol-compat" / "input").rglob("*.json")):
        data = json.loads(path.read_text())
        events += data if isinstance(data, list) else [data]
    convertible = []
    for event in events:  # the corpus also holds events DataHub rejects (e.g. a non-UUID run id)
        try:
            convert_event(event)
        except ConversionError:
            continue
        convertible.append(event)
    return convertible


def events_per_second(events: list[dict[str, Any]], rounds: int = 7, seconds: float = 0.5) -> float:
    from ol_bridge.datahub import ConverterConfig, convert_event

    config = ConverterConfig()
    for event in events:  # warm the URN caches, as a long-running sensor has them
        convert_event(event, config)
    best = 0.0
    for _ in range(rounds):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            for event in events:
                convert_event(event, config)
            count += len(events)
        best = max(best, count / (time.perf_counter() - started))
    return best


def main() -> None:
    import logging

    logging.disable(logging.CRITICAL)
    workloads = {"sensor": sensor_events(), "corpus": corpus_events()}
    for name, events in workloads.items():
        if not events:
            print(f"{name:7s} (no events found)")
            continue
        rate = events_per_second(events)
        print(f"{name:7s} {len(events):4d} events  {rate:8,.0f} events/s")


if __name__ == "__main__":
    main()
