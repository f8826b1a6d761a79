"""Execute scenarios' runs into on-disk Dagster instances (one directory per scenario).

``python benchmarks/generate.py --work DIR sql_assets_100 backlog_1000 ...``; prints one
JSON line per scenario (runs, seconds). The runs are executed in process, once; every
integration's worker then reads the same instance.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    for name in args.names:
        scenario = scenarios.scenario_by_name(name)
        started = time.perf_counter()
        instance = scenarios.create_instance(args.work / name)
        runs = scenario.execute(scenario.build(), instance)
        instance.dispose()
        seconds = time.perf_counter() - started
        line = {"scenario": name, "runs": runs, "seconds": round(seconds, 1)}
        line["description"] = scenario.description
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
