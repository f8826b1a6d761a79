"""Load run of ``ol-bridge serve`` on loopback: sustained events/s, latency, nothing lost.

Starts the real receiver (``python -m ol_bridge.cli serve``) in a subprocess writing to a
fresh DataHub Lite file, sends ``--events`` distinct RunEvents from ``--concurrency``
client threads (one keep-alive connection each, ``--batch`` events per request) until all
are sent or ``--seconds`` pass, then checks that every acknowledged event is in DataHub
Lite (one dataProcessInstance per run id) and prints the figures::

    python benchmarks/server_load.py --events 2000 --concurrency 16 --seconds 120
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from ol_bridge.datahub.sinks.lite import open_lite
from ol_bridge.server.writer import lite_lock

PRODUCER = "https://github.com/ol-bridge/ol-bridge/benchmarks/server_load.py"


def event(index: int) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-05-01T12:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"load-{index}"))},
        "job": {"namespace": "load", "name": f"job_{index % 50}"},
        "inputs": [{"namespace": "postgres://db:5432", "name": f"public.src_{index % 50}"}],
        "outputs": [{"namespace": "postgres://db:5432", "name": f"public.dst_{index % 50}"}],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(lite: Path, port: int, gms_url: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OL_BRIDGE_SERVER__DATAHUB__LITE_PATH": str(lite)}
    if gms_url:
        env["OL_BRIDGE_SERVER__DATAHUB__SINK"] = "rest"
        env["OL_BRIDGE_SERVER__DATAHUB__SERVER"] = gms_url
    process = subprocess.Popen(
        [sys.executable, "-m", "ol_bridge.cli", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the receiver did not start within 60 s")


def load(url: str, args: argparse.Namespace) -> tuple[list[float], int, float]:
    """Send the events; returns (request latencies in s, events acknowledged, elapsed s)."""
    next_index = 0
    lock = threading.Lock()
    latencies: list[float] = []
    acked = 0
    failures: list[str] = []
    deadline = time.monotonic() + args.seconds

    def worker() -> None:
        nonlocal next_index, acked
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    start, next_index = next_index, min(next_index + args.batch, args.events)
                if start >= args.events:
                    return
                body = [event(i) for i in range(start, next_index)]
                began = time.perf_counter()
                answer = client.post(url, json=body)
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    if answer.status_code == 201:
                        acked += len(body)
                    else:
                        failures.append(f"{answer.status_code} {answer.text[:200]}")

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    if failures:
        print(f"{len(failures)} failed requests, first: {failures[0]}")
    return latencies, acked, elapsed


def stored_run_ids(lite: Path, gms: Any) -> int:
    if gms is not None:
        return len(
            {
                p["entityUrn"]
                for p in gms.proposals
                if p["entityUrn"].startswith("urn:li:dataProcessInstance:")
            }
        )
    with lite_lock(lite):
        store = open_lite(lite, read_only=True)
        try:
            return sum(
                1 for urn in store.list_ids() if urn.startswith("urn:li:dataProcessInstance:")
            )
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1, help="events per request")
    parser.add_argument("--seconds", type=float, default=120.0, help="time cap of the load")
    parser.add_argument(
        "--sink",
        choices=["lite", "rest"],
        default="lite",
        help="DataHub Lite, or the rest sink against the loopback GMS of tests/fakes",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        gms = None
        if args.sink == "rest":
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.fakes.gms import running_gms

            gms = stack.enter_context(running_gms())
        lite = Path(tmp) / "lite.duckdb"
        port = free_port()
        server = start_server(lite, port, gms.url if gms else None)
        try:
            latencies, acked, elapsed = load(f"http://127.0.0.1:{port}/api/v1/lineage", args)
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
        stored = stored_run_ids(lite, gms)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    stored_line = next(x for x in metrics.splitlines() if x.startswith("ol_bridge_events_stored"))
    print(
        f"events sent: {args.events if acked == args.events else acked}/{args.events} "
        f"in {elapsed:.1f} s ({args.concurrency} clients, {args.batch} event(s)/request)\n"
        f"sustained: {acked / elapsed:.0f} events/s acknowledged (201)\n"
        f"latency per request: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms\n"
        f"server metric: {stored_line}\n"
        f"in DataHub ({args.sink}): {stored} runs; lost: {acked - stored}"
    )
    if stored != acked:
        raise SystemExit("events were lost")


if __name__ == "__main__":
    main()
