"""Micro-benchmarks of ol-bridge's pure parts and of its idle tick.

* converter: ``ol_bridge.datahub.convert_event`` over the events the sensor really
  emitted for a scenario (captured by ``worker.py --capture``), events/s on one core,
  next to ``json.dumps`` of the same events;
* DataHub Lite sink: the same events converted once, written and indexed into a fresh
  DataHub Lite file, events/s;
* SQL lineage: ``ol_bridge.sql.extract_sql_lineage`` on the scenarios' CTAS queries,
  parses/s cold (``cache_clear()`` before every parse) and cached;
* idle tick: the sensor with nothing new to do, on a drained instance, its time and the
  socket connects and loopback requests it makes (both must be zero).

Prints one JSON object per benchmark on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loopback
import scenarios
from worker import counting_connects


def _pin_one_core() -> str:
    """Run on one core, so "events/s on one core" means what it says."""
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity)"


def _rate(fn: Callable[[], int], seconds: float = 2.0) -> tuple[float, int]:
    """Items per CPU second: repeat ``fn`` (returns items done) for about ``seconds``."""
    done = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        done += fn()
    return done / (time.process_time() - start), done


def converter(events_file: Path) -> dict[str, Any]:
    from ol_bridge.datahub.config import ConverterConfig
    from ol_bridge.datahub.converter import convert_event

    events = [json.loads(line) for line in events_file.read_text().splitlines() if line]
    config = ConverterConfig()
    proposals = sum(len(convert_event(e, config)) for e in events)  # also warms caches

    def convert_all() -> int:
        for event in events:
            convert_event(event, config)
        return len(events)

    def dump_all() -> int:
        for event in events:
            json.dumps(event)
        return len(events)

    samples = [_rate(convert_all, 1.0)[0] for _ in range(5)]
    dumps = [_rate(dump_all, 0.5)[0] for _ in range(5)]
    rate, dump_rate = statistics.median(samples), statistics.median(dumps)
    return {
        "kind": "micro",
        "name": "converter",
        "events": len(events),
        "proposals_per_event": proposals / len(events),
        "events_per_s": rate,
        "json_dumps_events_per_s": dump_rate,
        "overhead_vs_json_dumps": dump_rate / rate,
        "source": events_file.name,
    }


def lite_sink(events_file: Path) -> dict[str, Any]:
    """The DataHub Lite sink alone: the run's events, converted and coalesced once as the
    transport does, written and indexed into a fresh file (write + flush), events/s."""
    from ol_bridge.datahub.converter import convert_events
    from ol_bridge.datahub.sinks.lite import LiteSink

    events = [json.loads(line) for line in events_file.read_text().splitlines() if line]
    proposals = convert_events(events)
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(6):
            sink = LiteSink(Path(tmp) / f"lite-{repeat}.duckdb")
            start = time.process_time()
            sink.write(proposals)
            sink.flush()
            seconds.append(time.process_time() - start)
    best = statistics.median(seconds[1:])  # the first pays imports and first-use caches
    return {
        "kind": "micro",
        "name": "lite_sink",
        "events": len(events),
        "proposals": len(proposals),
        "events_per_s": len(events) / best,
        "cpu_s": best,
        "source": events_file.name,
    }


def sql(count: int) -> dict[str, Any]:
    from ol_bridge.sql import cache_clear, extract_sql_lineage

    queries = [scenarios.query_for(i) for i in range(count)]

    def parse_all() -> int:
        for query in queries:
            extract_sql_lineage(query, dialect="snowflake")
        return len(queries)

    def parse_all_cold() -> int:
        for query in queries:
            cache_clear()
            extract_sql_lineage(query, dialect="snowflake")
        return len(queries)

    cold = statistics.median(_rate(parse_all_cold, 2.0)[0] for _ in range(3))
    parse_all()
    cached = statistics.median(_rate(parse_all, 0.5)[0] for _ in range(3))
    return {
        "kind": "micro",
        "name": "sql_lineage",
        "queries": len(queries),
        "cold_parses_per_s": cold,
        "cached_parses_per_s": cached,
    }


def idle_tick(instance_dir: Path, scenario: str, ol_url: str, ticks: int) -> dict[str, Any]:
    """ol-bridge's sensor (OL HTTP transport to the loopback) on a drained instance."""
    import dagster as dg
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.http import HttpConfig, HttpTransport

    from ol_bridge.dagster.sensor import build_openlineage_sensor

    instance = scenarios.open_instance(instance_dir)
    repo = scenarios.scenario_by_name(scenario).build().get_repository_def()
    client = OpenLineageClient(transport=HttpTransport(HttpConfig.from_dict({"url": ol_url})))
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp:
        options: dict[str, Any] = {}
        try:
            from ol_bridge.delivery.config import DeliveryConfig

            options["delivery"] = DeliveryConfig(path=Path(tmp) / "outbox.sqlite")
        except ImportError:
            pass  # before the outbox landed the sensor emitted directly
        sensor = build_openlineage_sensor(client=client, start="beginning", **options)
        cursor = None
        for _ in range(1000):  # drain first (not measured)
            context = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repo)
            new = sensor.evaluate_tick(context).cursor
            if new == cursor:
                break
            cursor = new
        before = loopback.stats(ol_url)["requests"]
        times, cpu = [], []
        with counting_connects() as connects:
            for _ in range(ticks):
                context = dg.build_sensor_context(
                    instance=instance, cursor=cursor, repository_def=repo
                )
                w0, c0 = time.perf_counter(), time.process_time()
                cursor = sensor.evaluate_tick(context).cursor
                times.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
        after = loopback.stats(ol_url)["requests"]
    return {
        "kind": "micro",
        "name": "idle_tick",
        "scenario": scenario,
        "ticks": ticks,
        "idle_tick_ms": statistics.median(times) * 1000,
        "idle_tick_cpu_ms": statistics.median(cpu) * 1000,
        "idle_tick_p95_ms": sorted(times)[int(0.95 * (len(times) - 1))] * 1000,
        "socket_connects": len(connects),
        "loopback_requests": after - before,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--ol-url", required=True)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--idle-ticks", type=int, default=50)
    args = parser.parse_args()
    pinned = _pin_one_core()
    for row in (
        converter(args.events),
        lite_sink(args.events),
        sql(args.queries),
        idle_tick(args.instance, args.scenario, args.ol_url, args.idle_ticks),
    ):
        row["cpu"] = pinned
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
