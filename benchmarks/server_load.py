"""Load run of ``ol-bridge serve`` on loopback: events/s, events per CPU-second, latency as
connections grow, backpressure, nothing lost.

Starts the real receiver (``python -m ol_bridge.cli serve``) in a subprocess whose DataHub
destination is the loopback GMS of ``tests/fakes/gms.py`` (``rest`` sink), optionally with
a Marquez relay (``--relay``). For each ``--batch`` x ``--connections`` level, clients (one
keep-alive connection each, closed loop) send distinct RunEvents, ``--batch`` per request,
for ``--seconds``; then the run waits until every acknowledged event is in GMS (one
dataProcessInstance per run id) and prints, per level: events/s acknowledged, events per
CPU-second of the receiver process (its user + system time from the first request until
the last event is in GMS: the per-core figure, whatever else shares the machine), how
much of a core the receiver used, request latency p50/p99, and events lost.

The clients: ``wrk`` (C, epoll; Debian's ``wrk`` package) when it is on PATH, so the load
generator costs little CPU, else Python threads with httpx (``--client python``). With
``--pin`` (the default on a machine with 2 cores or more) the receiver runs on CPU 0 and
the clients and the fake GMS and Marquez (this process) on the others, so the receiver
has one core to itself. ``--profile DIR`` records the receiver with py-spy (``--gil``:
samples of the thread holding the GIL, i.e. where its CPU goes) during each level.

``--backpressure`` instead keeps the relay down with a small outbox limit and reports how
long until the first 503 (with its Retry-After), and the receiver's memory before and after
the overload::

    python benchmarks/server_load.py --connections 1 8 64 256 --batch 1 10 --seconds 10
    python benchmarks/server_load.py --relay --connections 8 64
    python benchmarks/server_load.py --backpressure
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
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

import attrs
import httpx
import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.gms import FakeGms, running_gms
from tests.server.helpers import FakeMarquez
from tests.server.kafka_broker import free_port

PRODUCER = "https://github.com/ol-bridge/ol-bridge/benchmarks/server_load.py"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
RUN_PREFIX = "urn:li:dataProcessInstance:"
TOKEN = "bench"
#: the CPU the receiver gets to itself with --pin
SERVE_CPU = 0


def event(index: int) -> dict[str, Any]:
    """The RunEvent the Python clients send (wrk sends the same shape, see WRK_SCRIPT)."""
    return {
        "eventType": "COMPLETE",
        "eventTime": "2024-05-01T12:00:00Z",
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"load-{index}"))},
        "job": {"namespace": "load", "name": f"etl.job_{index % 50}"},
        "inputs": [{"namespace": "postgres://db:5432", "name": f"public.src_{index % 50}"}],
        "outputs": [{"namespace": "postgres://db:5432", "name": f"public.dst_{index % 50}"}],
    }


#: wrk's per-thread script: distinct run ids (thread number, counter), ``batch`` events per
#: request, statuses and acknowledged events counted, latency percentiles printed at the end
WRK_SCRIPT = r"""
local threads = {}
local next_thread = 1
function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end
function init(args)
  batch = tonumber(args[1])
  counter = 0
  acked = 0
  statuses = {}
  pending = {}
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer TOKEN"
end
local function one(n)
  local k = n % 50
  return string.format(
    '{"eventType":"COMPLETE","eventTime":"2024-05-01T12:00:00Z","producer":"PRODUCER",' ..
    '"schemaURL":"SCHEMA_URL","run":{"runId":"%08x-0000-4000-8000-%012x"},' ..
    '"job":{"namespace":"load","name":"etl.job_%d"},' ..
    '"inputs":[{"namespace":"postgres://db:5432","name":"public.src_%d"}],' ..
    '"outputs":[{"namespace":"postgres://db:5432","name":"public.dst_%d"}]}',
    tid, n, k, k, k)
end
function request()
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    parts[i] = one(counter)
  end
  local body = parts[1]
  if batch > 1 then body = "[" .. table.concat(parts, ",") .. "]" end
  return wrk.format("POST", "/api/v1/lineage", nil, body)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then acked = acked + batch end
end
function done(summary, latency, requests)
  local acked_total = 0
  local seen = {}
  for _, thread in ipairs(threads) do
    acked_total = acked_total + thread:get("acked")
    for status, n in pairs(thread:get("statuses")) do
      seen[status] = (seen[status] or 0) + n
    end
  end
  io.write(string.format("RESULT acked=%d p50=%d p99=%d errors=%d\n", acked_total,
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout))
  for status, n in pairs(seen) do io.write(string.format("STATUS %d=%d\n", status, n)) end
end
"""


@attrs.frozen
class Load:
    """What one level's clients saw."""

    acknowledged: int
    statuses: dict[int, int]
    p50: float
    p99: float
    elapsed: float
    #: run ids acknowledged (Python clients only; wrk counts them)
    run_ids: frozenset[str] | None = None


def pin_supported() -> bool:
    return hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2


@contextlib.contextmanager
def receiver(
    settings: dict[str, Any], tmp: Path, *, pin: bool
) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    config = tmp / f"serve-{port}.yml"
    config.write_text(yaml.safe_dump({**settings, "port": port}))
    command = [sys.executable, "-m", "ol_bridge.cli", "serve", "--config", str(config)]
    if pin:
        command = ["taskset", "-c", str(SERVE_CPU), *command]
    process = subprocess.Popen(
        command,
        stderr=(tmp / f"serve-{port}.log").open("wb"),
        env={**os.environ, "OL_BRIDGE_SERVER__TOKEN": TOKEN},
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


def load_python(url: str, connections: int, batch: int, seconds: float, first: int) -> Load:
    """Closed loop: each connection sends its next request when the last is answered."""
    latencies: list[float] = []
    acknowledged: list[str] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = [first]
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {TOKEN}"}

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
    return Load(
        acknowledged=len(acknowledged),
        statuses=statuses,
        p50=statistics.median(latencies),
        p99=percentile(latencies, 0.99),
        elapsed=time.monotonic() - began,
        run_ids=frozenset(acknowledged),
    )


def load_wrk(url: str, connections: int, batch: int, seconds: float, tmp: Path) -> Load:
    script = tmp / "load.lua"
    text = WRK_SCRIPT.replace("PRODUCER", PRODUCER).replace("SCHEMA_URL", SCHEMA_URL)
    script.write_text(text.replace("TOKEN", TOKEN))
    threads = max(1, min(connections, len(os.sched_getaffinity(0))))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "120s",
        "-s",
        str(script),
        url,
        "--",
        str(batch),
    ]
    began = time.monotonic()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    elapsed = time.monotonic() - began
    result = re.search(r"RESULT acked=(\d+) p50=(\d+) p99=(\d+) errors=(\d+)", out)
    if result is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    statuses = {int(s): int(n) for s, n in re.findall(r"STATUS (\d+)=(\d+)", out)}
    if int(result[4]):
        statuses[0] = int(result[4])  # connection errors and timeouts
    return Load(
        acknowledged=int(result[1]),
        statuses=statuses,
        p50=int(result[2]) / 1e6,
        p99=int(result[3]) / 1e6,
        elapsed=elapsed,
    )


@contextlib.contextmanager
def profiled(process: psutil.Process, out: Path | None, seconds: float) -> Iterator[None]:
    """py-spy on the receiver for the load, when asked for."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    recorder = subprocess.Popen(
        [
            *(spy, "record", "-p", str(process.pid), "-d", str(max(1, int(seconds) - 1))),
            *("-r", "250", "--gil", "--nonblocking", "--format", "raw", "-o", str(out)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.wait(60)


def stored_runs(gms: FakeGms) -> set[str]:
    return {
        p["entityUrn"][len(RUN_PREFIX) :]
        for p in list(gms.proposals)
        if p["entityUrn"].startswith(RUN_PREFIX)
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def throughput(args: argparse.Namespace) -> None:
    client = args.client or ("wrk" if shutil.which("wrk") else "python")
    pin = args.pin if args.pin is not None else pin_supported()
    if pin:  # this process (clients, fake GMS, fake Marquez) off the receiver's CPU
        os.sched_setaffinity(0, os.sched_getaffinity(0) - {SERVE_CPU})
    placement = "pinned to CPU 0, clients and fakes on the others" if pin else "not pinned"
    print(f"client: {client}; receiver {placement}")
    print(
        "| events/request | connections | events/s acknowledged | events per CPU-second of "
        "serve | of which system | serve's CPU (cores) | p50 | p99 | lost |"
        + (" relayed |" if args.relay else "")
    )
    print(f"|---|---|---|---|---|---|---|---|---|{'---|' if args.relay else ''}")
    first = 0
    for batch in args.batch:
        for connections in args.connections:
            with tempfile.TemporaryDirectory() as tmp, running_gms() as gms:
                with contextlib.ExitStack() as stack:
                    settings: dict[str, Any] = {
                        "datahub": {"sink": "rest", "server": gms.url},
                        "delivery": {"path": str(Path(tmp) / "outbox.sqlite")},
                        "max_pending_requests": max(64, connections),
                        "max_connections": max(1000, connections * 2),
                    }
                    marquez = None
                    if args.relay:
                        marquez = stack.enter_context(FakeMarquez())
                        settings["relay"] = {"marquez": {"type": "http", "url": marquez.url}}
                    url, process = stack.enter_context(receiver(settings, Path(tmp), pin=pin))
                    profile = (
                        Path(args.profile) / f"serve-b{batch}-c{connections}.txt"
                        if args.profile
                        else None
                    )
                    cpu_before = cpu_seconds(process)
                    system_before = process.cpu_times().system
                    with profiled(process, profile, args.seconds):
                        if client == "wrk":
                            result = load_wrk(url, connections, batch, args.seconds, Path(tmp))
                        else:
                            result = load_python(url, connections, batch, args.seconds, first)
                    waiting = time.monotonic()
                    deadline = waiting + 300
                    while time.monotonic() < deadline and not delivered(gms, result):
                        time.sleep(0.05)
                    relayed = ""
                    if marquez is not None:
                        while time.monotonic() < deadline and len(marquez.events) < (
                            result.acknowledged
                        ):
                            time.sleep(0.2)
                        relayed = f" {len(marquez.events):,} |"
                    cpu = cpu_seconds(process) - cpu_before
                    system = process.cpu_times().system - system_before
                    wall = result.elapsed + time.monotonic() - waiting
                first += 10_000_000
                stored = stored_runs(gms)
                if result.run_ids is not None:
                    lost = len(result.run_ids - stored)
                else:
                    lost = max(0, result.acknowledged - len(stored))
                others = {k: v for k, v in result.statuses.items() if k != 201}
                print(
                    f"| {batch} | {connections} | {result.acknowledged / result.elapsed:,.0f} | "
                    f"{result.acknowledged / cpu:,.0f} | {system / cpu:.0%} | {cpu / wall:.2f} | "
                    f"{milliseconds(result.p50)} | {milliseconds(result.p99)} | {lost} |{relayed}"
                    + (f" other answers: {others}" if others else ""),
                    flush=True,
                )


def delivered(gms: FakeGms, result: Load) -> bool:
    stored = stored_runs(gms)
    if result.run_ids is not None:
        return result.run_ids <= stored
    return len(stored) >= result.acknowledged


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
        with receiver(settings, Path(tmp), pin=False) as (url, process):
            rss_before = process.memory_info().rss
            began = time.monotonic()
            result = load_python(url, 64, 10, args.seconds, 0)
            with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
                refused = client.post(f"{url}/api/v1/lineage", json=event(99_999_999))
                health = client.get(f"{url}/health").json()
            rss_after = process.memory_info().rss
    print(
        f"relay down, limit 20,000: {result.acknowledged:,} events acknowledged, then "
        f"answers {dict(sorted(result.statuses.items()))} over {result.elapsed:.0f} s; a "
        f"request now: {refused.status_code} Retry-After {refused.headers.get('retry-after')} "
        f"({refused.json().get('error')}); health {health['status']}; p99 latency "
        f"{milliseconds(result.p99)}; receiver RSS "
        f"{rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MiB "
        f"({time.monotonic() - began:.0f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8, 64, 256])
    parser.add_argument("--batch", type=int, nargs="+", default=[1], help="events per request")
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per level")
    parser.add_argument("--relay", action="store_true", help="also relay to a Marquez")
    parser.add_argument("--client", choices=["wrk", "python"], default=None)
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="receiver on CPU 0, everything else on the other CPUs (default: when >= 2 CPUs)",
    )
    parser.add_argument("--profile", metavar="DIR", help="py-spy --gil profiles of serve")
    parser.add_argument("--backpressure", action="store_true")
    args = parser.parse_args()
    if args.backpressure:
        backpressure(args)
    else:
        throughput(args)


if __name__ == "__main__":
    main()
