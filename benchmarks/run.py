"""Run every benchmark and render the results: ``bash benchmarks/run.sh`` calls this.

1. Executes the scenarios' Dagster runs once into on-disk instances (``generate.py``;
   skipped for instances that already exist with ``--reuse``).
2. Starts two counting loopback endpoints in this process (OpenLineage, GMS).
3. For each scenario and integration, one ``worker.py`` process: ol-bridge's in the
   ol-bridge benchmark venv, the anchors in their own venv.
4. Micro-benchmarks (``micro.py``), the machine description, then ``report.py``.

Everything goes to ``benchmarks/results/results.jsonl`` (one JSON object per line),
``RESULTS.md``, ``chart.png`` and ``profiles/``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import integrations  # noqa: E402
import loopback  # noqa: E402

BENCH_PY = HERE / ".venv-bench" / "bin" / "python"
ANCHORS_PY = HERE / ".venv-anchors" / "bin" / "python"
RESULTS = HERE / "results"
WORK = HERE / ".work"


def scenario_names(args: argparse.Namespace) -> list[str]:
    names = [f"sql_assets_{n}" for n in args.sizes] + [f"ops_{n}" for n in args.sizes]
    names += ["failing_10", f"partitioned_{args.partitions}", f"backlog_{args.backlog}"]
    if args.scenarios:
        names = [n for n in names if n in args.scenarios]
    return names


def generate(names: list[str], reuse: bool) -> list[dict[str, Any]]:
    todo = [n for n in names if not (reuse and (WORK / n / "dagster.yaml").exists())]
    rows: list[dict[str, Any]] = []
    if todo:
        print(f"executing scenario runs: {', '.join(todo)}", flush=True)
        with (WORK / "generate.log").open("a") as log:
            out = subprocess.run(
                [str(BENCH_PY), str(HERE / "generate.py"), "--work", str(WORK), *todo],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                check=True,
            ).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return rows


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kb / 2**20:.1f} GiB"
    import os

    def versions(python: Path) -> dict[str, str]:
        names = [
            "dagster",
            "openlineage-python",
            "acryl-datahub",
            "sqlglot",
            "ol-bridge",
            "acryl-datahub-dagster-plugin",
            "dagster-openlineage",
        ]
        code = (
            "import importlib.metadata as m, json, sys\n"
            "out = {}\n"
            "for n in sys.argv[1:]:\n"
            "    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))"
        )
        done = subprocess.run(
            [str(python), "-c", code, *names], capture_output=True, text=True, check=True
        )
        return dict(json.loads(done.stdout))

    snapshot = WORK / "src" / "COMMIT"
    measured = (
        f"{snapshot.read_text().strip()} (committed snapshot)"
        if snapshot.exists()
        else "work tree (OL_BRIDGE_SRC)"
    )
    return {
        "kind": "machine",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "ol_bridge_measured": measured,
        "bench_venv": versions(BENCH_PY),
        "anchors_venv": versions(ANCHORS_PY),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def run_worker(
    name: str, scenario: str, urls: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    python = BENCH_PY if name in integrations.OL_BRIDGE else ANCHORS_PY
    slug = f"{scenario}--{name.replace('/', '-')}"
    command = [
        str(python),
        str(HERE / "worker.py"),
        "--integration",
        name,
        "--scenario",
        scenario,
        "--instance",
        str(WORK / scenario),
        "--repeats",
        str(args.big_repeats if _size(scenario) >= 1000 else args.repeats),
        "--ol-url",
        urls["ol"],
        "--gms-url",
        urls["gms"],
    ]
    if _size(scenario) > args.memory_max_size:
        command.append("--no-memory")
    if name == "ol-bridge/ol-http" and scenario == args.capture_scenario:
        command += ["--capture", str(WORK / f"events-{scenario}.jsonl")]
    if name in integrations.OL_BRIDGE and scenario in args.profile:
        command += ["--profile", str(RESULTS / "profiles" / f"{slug}.txt")]
    started = time.perf_counter()
    log_path = WORK / "logs" / f"{slug}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        try:
            done = subprocess.run(
                command,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                timeout=args.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return _failed(scenario, name, f"timed out after {args.timeout} s")
    if done.returncode != 0 or not done.stdout.strip():
        return _failed(scenario, name, f"exit {done.returncode}; see {log_path.name}")
    row = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    row["process_s"] = round(time.perf_counter() - started, 1)
    return row


def _size(scenario: str) -> int:
    return int(scenario.rsplit("_", 1)[1])


def _failed(scenario: str, name: str, why: str) -> dict[str, Any]:
    return {"kind": "scenario", "scenario": scenario, "integration": name, "error": why}


def main() -> None:  # noqa: PLR0915  (a flat script: options, then steps)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--backlog", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--big-repeats", type=int, default=5, help="repeats for scenarios of size >= 1000"
    )
    parser.add_argument(
        "--memory-max-size",
        type=int,
        default=100000,
        help="skip the tracemalloc pass above this size (it doubles a worker's time)",
    )
    parser.add_argument("--out", default="results.jsonl", help="file name in results/")
    parser.add_argument("--no-micro", action="store_true")
    parser.add_argument("--scenarios", nargs="*", help="only these scenario names")
    parser.add_argument(
        "--integrations", nargs="*", default=list(integrations.ALL), choices=integrations.ALL
    )
    parser.add_argument(
        "--lite-max-size",
        type=int,
        default=100,
        help="skip ol-bridge/datahub-lite above this scenario size (it is slow; see README)",
    )
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per worker")
    parser.add_argument("--reuse", action="store_true", help="keep existing instances")
    parser.add_argument("--capture-scenario", default="sql_assets_100")
    parser.add_argument("--profile", nargs="*", default=["sql_assets_100"])
    parser.add_argument("--quick", action="store_true", help="small sizes, 5 repeats: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.backlog, args.partitions = [10, 100], 50, 3
    if args.capture_scenario not in [f"sql_assets_{n}" for n in args.sizes]:
        args.capture_scenario = f"sql_assets_{max(args.sizes)}"

    WORK.mkdir(exist_ok=True)
    (RESULTS / "profiles").mkdir(parents=True, exist_ok=True)
    out = RESULTS / args.out
    names = scenario_names(args)
    rows: list[dict[str, Any]] = [machine()]
    log = WORK / "generated.jsonl"
    with log.open("a") as appended:
        for generated in generate(names, args.reuse):
            appended.write(json.dumps(generated) + "\n")
    known = {}
    for line in log.read_text().splitlines():
        if line.strip():
            known[json.loads(line)["scenario"]] = json.loads(line)
    rows += [{"kind": "generated", **known[n]} for n in names if n in known]

    with loopback.serving() as ol_url, loopback.serving() as gms_url:
        urls = {"ol": ol_url, "gms": gms_url}
        for scenario in names:
            size = _size(scenario)
            for name in args.integrations:
                if name == "ol-bridge/datahub-lite" and size > args.lite_max_size:
                    rows.append(
                        _failed(
                            scenario, name, f"skipped (size > --lite-max-size {args.lite_max_size})"
                        )
                    )
                    continue
                print(f"{scenario:>18}  {name:<30}", end=" ", flush=True)
                row = run_worker(name, scenario, urls, args)
                rows.append(row)
                summary = (
                    row.get("error") or f"cpu {row['cpu_s']:.3f} s, wall {row['wall_s']:.3f} s"
                )
                print(summary, flush=True)
                out.write_text("".join(json.dumps(r) + "\n" for r in rows))
        events = WORK / f"events-{args.capture_scenario}.jsonl"
        if events.exists() and not args.no_micro:
            print("micro-benchmarks", flush=True)
            done = subprocess.run(
                [
                    str(BENCH_PY),
                    str(HERE / "micro.py"),
                    "--events",
                    str(events),
                    "--instance",
                    str(WORK / args.capture_scenario),
                    "--scenario",
                    args.capture_scenario,
                    "--ol-url",
                    ol_url,
                ],
                stdout=subprocess.PIPE,
                stderr=(WORK / "logs" / "micro.log").open("w"),
                text=True,
                check=True,
            )
            rows += [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    subprocess.run([str(BENCH_PY), str(HERE / "report.py"), str(out)], check=True)


if __name__ == "__main__":
    main()
