"""Load run of ``ol-bridge serve`` on loopback: events/s, events per CPU-second, latency as
connections grow, backpressure, nothing lost.

Starts the real receiver (``python -m ol_bridge.cli serve``) in a subprocess whose DataHub
destination is the loopback GMS of ``tests/fakes/gms.py`` (``rest`` sink), optionally with
a Marquez relay (``--relay``). For each
``--connections`` level, client threads (one keep-alive connection each) send distinct
RunEvents, ``--batch`` per request, for ``--seconds``; then the run waits until every
acknowledged event is in GMS (one dataProcessInstance per run id) and prints, per level:
events/s acknowledged, events per CPU-second of the receiver process (its user + system
time, so "per core" does not depend on what else shares the machine: the clients and the
fake GMS run in this process), request latency p50/p99, and events lost.

``--backpressure`` instead keeps the relay down with a small outbox limit and reports how
long until the first 503 (with its Retry-After), and the receiver's memory before and after
a minute of overload::

    python benchmarks/server_load.py --connections 1 8 64 256 --seconds 20
    python benchmarks/server_load.py --relay --connections 8 64
    python benchmarks/server_load.py --backpressure
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.gms import FakeGms, running_gms
from tests.server.helpers import FakeMarquez
from tests.server.kafka_broker import free_port

PRODUCER = "https://github.com/ol-bridge/ol-bridge/benchmarks/server_load.py"
RUN_PREFIX = "urn:li:dataProcessInstance:"


def event(index: int) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-05-01T12:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"load-{index}"))},
        "job": {"namespace": "load", "name": f"etl.job_{index % 50}"},
        "inputs": [{"namespace": "postgres://db:5432", "name": f"public.src_{index % 50}"}],
        "outputs": [{"namespace": "postgres://db:5432", "name": f"public.dst_{index % 50}"}],
    }


@contextlib.contextmanager
def receiver(settings: dict[str, Any], tmp: Path) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    config = tmp / f"serve-{port}.yml"
    config.write_text(yaml.safe_dump({**settings, "port": port}))
    process = subprocess.Popen(
        [sys.executable, "-m", "ol_bridge.cli", "serve", "--config", str(config)],
        stderr=(tmp / f"serve-{port}.log").open("wb"),
        env={**os.environ, "OL_BRIDGE_SERVER__TOKEN": "bench"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health").status_code in (200, 503):
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        raise SystemExit("the receiver did not start within 60 s")
    try:
        yield url, psutil.Process(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def load(
    url: str, connections: int, batch: int, seconds: float, first: int
) -> tuple[list[float], list[str], dict[int, int], float]:
    """Closed loop: each connection sends its next request when the last is answered."""
    latencies: list[float] = []
    acknowledged: list[str] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = [first]
    stop = time.monotonic() + seconds
    headers = {"Authorization": "Bearer bench"}

    def worker() -> None:
        with httpx.Client(timeout=120, headers=headers) as client:
            while time.monotonic() < stop:
                with lock:
                    start = counter[0]
                    counter[0] += batch
                body = [event(i) for i in range(start, start + batch)]
                began = time.perf_counter()
                answer = client.post(f"{url}/api/v1/lineage", json=body if batch > 1 else body[0])
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                    if answer.status_code == 201:
                        acknowledged.extend(e["run"]["runId"] for e in body)

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, acknowledged, statuses, time.monotonic() - began


def stored_runs(gms: FakeGms) -> set[str]:
    return {
        p["entityUrn"][len(RUN_PREFIX) :]
        for p in list(gms.proposals)
        if p["entityUrn"].startswith(RUN_PREFIX)
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def throughput(args: argparse.Namespace) -> None:
    print(
        f"| connections | events/request | events/s acknowledged | events per CPU-second of "
        f"serve | p50 | p99 | lost |{' relayed |' if args.relay else ''}"
    )
    print(f"|---|---|---|---|---|---|---|{'---|' if args.relay else ''}")
    first = 0
    for connections in args.connections:
        with tempfile.TemporaryDirectory() as tmp, running_gms() as gms:
            with contextlib.ExitStack() as stack:
                settings: dict[str, Any] = {
                    "datahub": {"sink": "rest", "server": gms.url},
                    "delivery": {"path": str(Path(tmp) / "outbox.sqlite")},
                    "max_pending_requests": max(64, connections),
                }
                marquez = None
                if args.relay:
                    marquez = stack.enter_context(FakeMarquez())
                    settings["relay"] = {"marquez": {"type": "http", "url": marquez.url}}
                url, process = stack.enter_context(receiver(settings, Path(tmp)))
                cpu_before = cpu_seconds(process)
                latencies, acknowledged, statuses, elapsed = load(
                    url, connections, args.batch, args.seconds, first
                )
                wanted = set(acknowledged)
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline and not wanted <= stored_runs(gms):
                    time.sleep(0.2)
                cpu = cpu_seconds(process) - cpu_before
                relayed = ""
                if marquez is not None:
                    while time.monotonic() < deadline and len(marquez.events) < len(wanted):
                        time.sleep(0.2)
                    relayed = f" {len(marquez.events)} |"
                    cpu = cpu_seconds(process) - cpu_before
            first += 10_000_000
            lost = len(wanted - stored_runs(gms))
            others = {k: v for k, v in statuses.items() if k != 201}
            print(
                f"| {connections} | {args.batch} | {len(acknowledged) / elapsed:,.0f} | "
                f"{len(acknowledged) / cpu:,.0f} | {statistics.median(latencies) * 1000:.1f} ms | "
                f"{percentile(latencies, 0.99) * 1000:.1f} ms | {lost} |{relayed}"
                + (f" other answers: {others}" if others else "")
            )


def backpressure(args: argparse.Namespace) -> None:
    """The relay is down, the outbox may hold 20,000 events for it: how soon is the
    producer told, and does memory stay flat while it keeps sending?"""
    with tempfile.TemporaryDirectory() as tmp, running_gms() as gms, FakeMarquez() as marquez:
        marquez.down = True
        settings = {
            "datahub": {"sink": "rest", "server": gms.url},
            "relay": {"marquez": {"type": "http", "url": marquez.url}},
            "delivery": {
                "path": str(Path(tmp) / "outbox.sqlite"),
                "max_events_per_destination": 20_000,
            },
        }
        with receiver(settings, Path(tmp)) as (url, process):
            rss_before = process.memory_info().rss
            began = time.monotonic()
            latencies, acknowledged, statuses, elapsed = load(url, 64, 10, args.seconds, 0)
            with httpx.Client(headers={"Authorization": "Bearer bench"}) as client:
                refused = client.post(f"{url}/api/v1/lineage", json=event(99_999_999))
                health = client.get(f"{url}/health").json()
            rss_after = process.memory_info().rss
    print(
        f"relay down, limit 20,000: {len(acknowledged):,} events acknowledged, then "
        f"answers {dict(sorted(statuses.items()))} over {elapsed:.0f} s; a request now: "
        f"{refused.status_code} Retry-After {refused.headers.get('retry-after')} "
        f"({refused.json().get('error')}); health {health['status']}; p99 latency "
        f"{percentile(latencies, 0.99) * 1000:.0f} ms; receiver RSS "
        f"{rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MiB "
        f"({time.monotonic() - began:.0f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8, 64, 256])
    parser.add_argument("--batch", type=int, default=1, help="events per request")
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per level")
    parser.add_argument("--relay", action="store_true", help="also relay to a Marquez")
    parser.add_argument("--backpressure", action="store_true")
    args = parser.parse_args()
    if args.backpressure:
        backpressure(args)
    else:
        throughput(args)


if __name__ == "__main__":
    main()
