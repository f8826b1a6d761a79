"""One integration on one scenario, in its own process: ``run.py`` starts one per pair.

Measures only the integration's post-run work: the runs already sit in the instance
(``generate.py`` executed them); each repeat starts the integration from the beginning
of history and ticks its sensor until a tick changes nothing. Per repeat: wall and CPU
time of the working ticks (the final idle tick is not counted), ticks, and the requests
and bytes the loopback endpoint received (read between ticks, outside the timing). Then,
untimed: one repeat under tracemalloc (peak Python memory), idle ticks with socket
connects counted, for ol-bridge the events captured for the serialisation floor, and,
with ``--profile``, one repeat under pyinstrument.

Prints one JSON object (the result row) on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import socket
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import integrations
import loopback
import scenarios

MAX_TICKS = 20_000
IDLE_TICKS = 10


@contextmanager
def counting_connects() -> Iterator[list[Any]]:
    """Every ``socket.connect`` made inside the block (the proof an idle tick is offline)."""
    made: list[Any] = []
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        made.append(address)
        return original(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield made
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]


def drain(integration: integrations.Integration, url: str | None, work: Path) -> dict[str, Any]:
    """One repeat: fresh start, ticks until idle. Timing covers the ticks only."""
    integration.start(work)
    if url:
        loopback.reset(url)
    wall = cpu = 0.0
    ticks = 0
    per_tick: list[tuple[int, int, int]] = []  # (requests, proposals, events) per tick
    seen = mcps_seen = events_seen = 0
    cursor_before: Any = object()
    while ticks < MAX_TICKS:
        w0, c0 = time.perf_counter(), time.process_time()
        cursor = integration.tick()
        w1, c1 = time.perf_counter(), time.process_time()
        requests = loopback.stats(url)["requests"] if url else 0
        idle = cursor == cursor_before and requests == seen
        cursor_before = cursor
        if idle:
            break
        wall += w1 - w0
        cpu += c1 - c0
        ticks += 1
        per_tick.append(
            (requests - seen, integration.mcps - mcps_seen, integration.events - events_seen)
        )
        seen, mcps_seen, events_seen = requests, integration.mcps, integration.events
    counters = loopback.stats(url) if url else {}
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "ticks": ticks,
        "requests": counters.get("requests", 0),
        "bytes": counters.get("bytes", 0),
        "max_requests_per_tick": max(per_tick, default=(0, 0, 0))[0],
        "max_tick_mcps": max(per_tick, default=(0, 0, 0))[1],
        "max_tick_events": max(per_tick, default=(0, 0, 0))[2],
        "server_events": counters.get("events", 0),
        "server_mcps": counters.get("mcps", 0),
        "by_path": counters.get("by_path", {}),
        "events": integration.events,
        "mcps": integration.mcps,
    }


def idle_ticks(integration: integrations.Integration, url: str | None) -> dict[str, Any]:
    """After a drain: ticks with nothing to do; their time and any network use."""
    times: list[float] = []
    before = loopback.stats(url)["requests"] if url else 0
    with counting_connects() as connects:
        for _ in range(IDLE_TICKS):
            t0 = time.perf_counter()
            integration.tick()
            times.append(time.perf_counter() - t0)
    after = loopback.stats(url)["requests"] if url else 0
    return {
        "idle_tick_ms": statistics.median(times) * 1000,
        "idle_connects": len(connects) / IDLE_TICKS,
        "idle_requests": (after - before) / IDLE_TICKS,
    }


def _median_cpu(fn: Callable[[], object], repeats: int = 3) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        samples.append(time.process_time() - t0)
    return statistics.median(samples)


def serialisation_floor(events: list[Any]) -> dict[str, Any]:
    """Time to serialise the same events: ``json.dumps`` of their dicts (the floor), and
    openlineage-python's ``Serde.to_json`` (what its HTTP transport does per event)."""
    from openlineage.client.serde import Serde

    dicts = [Serde.to_dict(e) for e in events]

    return {
        "floor_json_dumps_s": _median_cpu(lambda: [json.dumps(d) for d in dicts], 5),
        "floor_serde_s": _median_cpu(lambda: [Serde.to_json(e) for e in events], 5),
        "event_bytes": sum(len(json.dumps(d)) for d in dicts),
        "event_dicts": dicts,
    }


def read_floor(instance: Any) -> float:
    """CPU to read what any sensor must read: every run record and every event-log record
    of every run, page by page, with Dagster's public API and nothing else done with them."""

    def read_all() -> None:
        for record in instance.get_run_records():
            cursor = None
            while True:
                page = instance.get_records_for_run(record.dagster_run.run_id, cursor, limit=1000)
                if not page.has_more:
                    break
                cursor = page.cursor

    return _median_cpu(read_all)


def wire_floor(payloads: list[str], url: str) -> float:
    """CPU to POST the same bodies to the same endpoint with a bare ``requests.Session``:
    what one-event-per-request HTTP costs any client (the OpenLineage HTTP API)."""
    import requests

    endpoint = url.rstrip("/") + "/api/v1/lineage"

    def post_all() -> None:
        with requests.Session() as session:
            for body in payloads:
                session.post(
                    endpoint, data=body, headers={"Content-Type": "application/json"}, timeout=30
                ).close()

    return _median_cpu(post_all)


def main() -> None:  # noqa: PLR0915  (a flat script: options, then passes)
    parser = argparse.ArgumentParser()
    parser.add_argument("--integration", required=True, choices=integrations.ALL)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--instance", required=True, type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ol-url", required=True)
    parser.add_argument("--gms-url", required=True)
    parser.add_argument("--capture", type=Path, help="write ol-bridge's events here (JSONL)")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile here")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    scenario = scenarios.scenario_by_name(args.scenario)
    instance = scenarios.open_instance(args.instance)
    defs = scenario.build()
    urls = {"ol": args.ol_url, "gms": args.gms_url}
    integration = integrations.make(args.integration, instance, defs, urls)
    url = urls.get(integration.destination)

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for repeat in range(args.repeats):
            work = Path(tmp) / f"r{repeat}"
            work.mkdir()
            rows.append(drain(integration, url, work))
            if repeat < args.repeats - 1:
                integration.close()
        idle = idle_ticks(integration, url)
        integration.close()

        peak: float | None = None
        if not args.no_memory:
            work = Path(tmp) / "memory"
            work.mkdir()
            tracemalloc.start()
            drain(integration, url, work)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            integration.close()

        floor: dict[str, Any] = {}
        if isinstance(integration, integrations.OlBridge):
            integration.capture = []
            work = Path(tmp) / "capture"
            work.mkdir()
            drain(integration, url, work)
            integration.close()
            floor = serialisation_floor(integration.capture)
            integration.capture = None
            dicts = floor.pop("event_dicts")
            floor["floor_read_s"] = read_floor(instance)
            if integration.destination == "ol" and url:
                from openlineage.client.serde import Serde

                floor["floor_wire_s"] = wire_floor([Serde.to_json(d) for d in dicts], url)
            if args.capture:
                args.capture.parent.mkdir(parents=True, exist_ok=True)
                args.capture.write_text("".join(json.dumps(d) + "\n" for d in dicts))

        if args.profile:
            from pyinstrument import Profiler

            work = Path(tmp) / "profile"
            work.mkdir()
            profiler = Profiler(interval=0.001)
            profiler.start()
            drain(integration, url, work)
            profiler.stop()
            integration.close()
            args.profile.parent.mkdir(parents=True, exist_ok=True)
            # Flat self-time first (the hot spots), then the call tree with library frames
            # shown (ol-bridge is installed in site-packages, which pyinstrument would hide).
            flat = profiler.output_text(flat=True, show_all=True)
            tree = profiler.output_text(show_all=True, processor_options={"filter_threshold": 0.01})
            args.profile.write_text(
                "## self time per function (flat)\n\n"
                + "\n".join(flat.splitlines()[:60])
                + "\n\n## call tree (frames >= 1% of the time)\n\n"
                + tree
            )

    first = rows[0]
    result = {
        "kind": "scenario",
        "scenario": args.scenario,
        "integration": integration.name,
        "destination": integration.destination,
        "repeats": len(rows),
        "wall_s": statistics.median(r["wall_s"] for r in rows),
        "cpu_s": statistics.median(r["cpu_s"] for r in rows),
        "wall_s_all": [round(r["wall_s"], 4) for r in rows],
        "cpu_s_all": [round(r["cpu_s"], 4) for r in rows],
        "ticks": first["ticks"],
        "requests": statistics.median(r["requests"] for r in rows),
        "bytes": statistics.median(r["bytes"] for r in rows),
        "max_requests_per_tick": max(r["max_requests_per_tick"] for r in rows),
        "max_tick_mcps": max(rows, key=lambda r: r["max_requests_per_tick"])["max_tick_mcps"],
        "max_tick_events": max(rows, key=lambda r: r["max_requests_per_tick"])["max_tick_events"],
        "requests_by_path": first["by_path"],
        "events": first["events"] or first["server_events"],
        "mcps": first["mcps"] or first["server_mcps"],
        "peak_alloc_mb": peak,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **idle,
        **floor,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
