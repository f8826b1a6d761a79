"""SQL lineage: completeness and cold parse speed of ol_bridge.sql, DataHub's sqlglot_lineage
and openlineage-sql, side by side on one corpus in one run.

    .venv/bin/python benchmarks/sql_lineage.py [--repeats 5] [--json out.json]
    .venv/bin/python benchmarks/sql_lineage.py --write-expected   # regenerate the goldens

The corpus (benchmarks/sql_corpus/*.yaml) is SQL from public SQL-lineage test suites, kept
as data with its source and licence. Expected lineage: benchmarks/sql_corpus/
datahub_expected.json, the output DataHub's own suite records in its golden files
(regenerated with ``--write-expected`` from the pinned DataHub release), with the cases where
ol-bridge differs on purpose replaced from deliberate_differences.yaml (each with its reason).

Every case runs twice, with the column schema it gives and without any schema. Scores are
micro-averaged over all cases: tables as (direction, table) pairs, columns as (output table,
output column, input table, input column) edges; names compared case-insensitively (DataHub
lower-cases its URNs, Snowflake upper-cases unquoted names; neither is a lineage error).

DataHub and openlineage-sql run in their own virtualenvs (benchmarks/.venv-datahub,
benchmarks/.venv-olsql), created on first use from PyPI: DataHub's parser pins its own sqlglot.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
import venv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "sql_corpus"
EXPECTED = CORPUS / "datahub_expected.json"
DIFFERENCES = CORPUS / "deliberate_differences.yaml"

DATAHUB_REQUIREMENT = "acryl-datahub[sql-parser]==1.7.0.17"
OLSQL_REQUIREMENT = "openlineage-sql"
MODES = ("schema", "noschema")

Lineage = dict[str, Any]


# -- corpus ------------------------------------------------------------------------------
def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(CORPUS.glob("*.yaml")):
        if path == DIFFERENCES:
            continue
        for case in yaml.safe_load(path.read_text())["cases"]:
            cases.append({**case, "suite": path.stem})
    return cases


def load_expected() -> tuple[dict[str, Lineage], dict[str, str]]:
    """Expected lineage per ``id|mode``, and the reason of each deliberate difference."""
    expected: dict[str, Lineage] = json.loads(EXPECTED.read_text())
    for case in load_cases():
        if "expect" in case:  # a suite with its own expectations (tables only)
            for mode in MODES:
                expected[f"{case['id']}|{mode}"] = {**case["expect"], "tables_only": True}
    reasons: dict[str, str] = {}
    for item in yaml.safe_load(DIFFERENCES.read_text())["differences"]:
        for mode in item.get("modes", MODES):
            key = f"{item['id']}|{mode}"
            base = expected[key]
            expected[key] = {
                "inputs": item.get("inputs", base.get("inputs", [])),
                "outputs": item.get("outputs", base.get("outputs", [])),
                "columns": item.get("columns", base.get("columns", [])),
                "tables_only": base.get("tables_only", False),
            }
            reasons[key] = item["reason"]
    return expected, reasons


# -- running the parsers -----------------------------------------------------------------
def ours(cases: list[dict[str, Any]], repeats: int) -> dict[str, Any]:
    from importlib.metadata import version

    import sqlglot

    from ol_bridge.errors import SqlLineageError
    from ol_bridge.sql import (
        DIRECT,
        IDENTITY,
        Transformation,
        cache_clear,
        extract_sql_lineage,
    )

    copied = (Transformation(DIRECT, IDENTITY),)

    def run(case: dict[str, Any], mode: str) -> Any:
        return extract_sql_lineage(
            case["sql"],
            dialect=case["dialect"],
            default_database=case.get("default_db"),
            default_schema=case.get("default_schema"),
            schema=case.get("schema") if mode == "schema" else None,
        )

    def lineage(case: dict[str, Any], mode: str) -> Lineage:
        try:
            parsed = run(case, mode)
        except SqlLineageError as error:
            return {"error": str(error)[:300]}
        return {
            "inputs": [t.qualified_name for t in parsed.inputs],
            "outputs": [t.qualified_name for t in parsed.outputs],
            "columns": [
                [
                    e.output_table.qualified_name if e.output_table else None,
                    e.output_column,
                    [[ref.table.qualified_name, ref.column] for ref in e.inputs],
                    # a copy in DataHub's sense: every edge DIRECT IDENTITY
                    all(edge.transformations == copied for edge in e.edges),
                ]
                for e in parsed.column_lineage
            ],
        }

    runs = [(case, mode) for case in cases for mode in MODES]
    results = {f"{case['id']}|{mode}": lineage(case, mode) for case, mode in runs}
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for case, mode in runs:
            cache_clear()  # cold: no result cached from an earlier call
            with contextlib.suppress(SqlLineageError):
                run(case, mode)
        seconds.append(time.perf_counter() - started)
    compiled = _sqlglot_build()
    return {
        "version": version("ol-bridge"),
        "sqlglot": f"{sqlglot.__version__} ({compiled})",
        "results": results,
        "seconds": seconds,
    }


def _sqlglot_build() -> str:
    # sqlglotc (sqlglot[c]) ships compiled modules beside the .py files; the package
    # __init__ files stay Python, so look at a module it compiles
    from sqlglot.optimizer import qualify_columns

    source = qualify_columns.__file__ or ""
    return "pure Python" if source.endswith(".py") else "compiled"


def ensure_venv(path: Path, requirement: str) -> Path:
    python = path / "bin" / "python"
    if not python.exists():
        print(f"creating {path.name} with {requirement} ...", file=sys.stderr)
        venv.create(path, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
    return python


def worker(python: Path, script: str, cases: list[dict[str, Any]], repeats: int) -> Any:
    request = json.dumps({"cases": cases, "repeats": repeats})
    done = subprocess.run(
        [str(python), str(HERE / script)],
        input=request,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


# -- scoring -----------------------------------------------------------------------------
def _low(name: str | None) -> str:
    return (name or "").lower()


def table_facts(lineage: Lineage) -> set[tuple[str, str]]:
    return {("in", _low(t)) for t in lineage.get("inputs", [])} | {
        ("out", _low(t)) for t in lineage.get("outputs", [])
    }


def column_facts(lineage: Lineage) -> set[tuple[str, str, str, str]]:
    return {
        (_low(out_table), _low(out_column), _low(in_table), _low(in_column))
        for out_table, out_column, upstreams, *_ in lineage.get("columns", [])
        for in_table, in_column in upstreams
    }


def copies(lineage: Lineage) -> dict[tuple[str, str, frozenset[tuple[str, str]]], bool]:
    """(output table, output column, its inputs) -> whether the column is a plain copy."""
    found = {}
    for out_table, out_column, upstreams, *copy in lineage.get("columns", []):
        if copy and copy[0] is not None and upstreams:
            inputs = frozenset((_low(table), _low(column)) for table, column in upstreams)
            found[(_low(out_table), _low(out_column), inputs)] = bool(copy[0])
    return found


def copy_agreement(
    ours: dict[str, Lineage], datahub: dict[str, Lineage], mode: str
) -> tuple[int, list[str]]:
    """How many columns both parsers trace to the same inputs, and where our IDENTITY
    (every edge DIRECT IDENTITY) and DataHub's ``is_direct_copy`` disagree."""
    same, differ = 0, []
    for key in sorted(ours):
        if not key.endswith(f"|{mode}"):
            continue
        theirs = copies(datahub.get(key, {}))
        for column, copy in copies(ours[key]).items():
            if column in theirs:
                same += 1
                if theirs[column] != copy:
                    differ.append(f"{key} {column[1]}: ours copy={copy}, DataHub {theirs[column]}")
    return same, differ


def score(results: dict[str, Lineage], expected: dict[str, Lineage], mode: str) -> dict[str, Any]:
    counts = {"tables": [0, 0, 0], "columns": [0, 0, 0]}  # true pos, false pos, false neg
    misses: list[str] = []
    for key, want in expected.items():
        if not key.endswith(f"|{mode}"):
            continue
        got = results.get(key, {})
        for kind, facts in (("tables", table_facts), ("columns", column_facts)):
            if kind == "columns" and want.get("tables_only"):
                continue
            have, need = facts(got), facts(want)
            counts[kind][0] += len(have & need)
            counts[kind][1] += len(have - need)
            counts[kind][2] += len(need - have)
            if have != need:
                misses.append(
                    f"{key} {kind}: extra {sorted(have - need)} missing {sorted(need - have)}"
                )
    summary: dict[str, Any] = {"misses": misses}
    for kind, (tp, fp, fn) in counts.items():
        summary[kind] = {
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
        }
    return summary


def _rate(report: dict[str, Any], statements: int) -> float:
    return statements / min(report["seconds"])


def _print_table(rows: Iterable[tuple[str, ...]]) -> None:
    rows = list(rows)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _print_copy_agreement(reports: dict[str, Any], full: dict[str, Any]) -> None:
    print("\nIDENTITY (ours) vs is_direct_copy (DataHub), on columns both trace alike:")
    for mode in MODES:
        compared, differ = copy_agreement(
            reports["ours"]["results"], reports["datahub"]["results"], mode
        )
        full.setdefault("copy_agreement", {})[mode] = {"compared": compared, "differ": differ}
        agree = (compared - len(differ)) / compared if compared else 1.0
        print(f"  {mode}: {agree:.1%} of {compared} columns agree")
        for line in differ:
            print(f"    differs: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed passes (best is kept)")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--write-expected", action="store_true")
    parser.add_argument("--show-misses", default="ours", help="whose misses to list")
    args = parser.parse_args()

    cases = load_cases()
    datahub_python = ensure_venv(HERE / ".venv-datahub", DATAHUB_REQUIREMENT)
    if args.write_expected:
        own = [case for case in cases if "expect" not in case]
        report = worker(datahub_python, "sql_datahub_worker.py", own, 0)
        EXPECTED.write_text(json.dumps(report["results"], indent=1, sort_keys=True) + "\n")
        print(f"wrote {EXPECTED} from acryl-datahub {report['version']}")
        return

    expected, reasons = load_expected()
    olsql_python: Path | None = None
    try:
        olsql_python = ensure_venv(HERE / ".venv-olsql", OLSQL_REQUIREMENT)
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"openlineage-sql left out: {error}", file=sys.stderr)
    # The parsers take turns, one timed pass each per round, so that a change in the
    # machine's load between them (2 shared cores) does not favour one.
    workers = {"datahub": (datahub_python, "sql_datahub_worker.py")}
    if olsql_python is not None:
        workers["openlineage-sql"] = (olsql_python, "sql_olsql_worker.py")
    reports: dict[str, Any] = {}
    for _ in range(args.repeats):
        for name in ["ours", *workers]:
            report = ours(cases, 1) if name == "ours" else worker(*workers[name], cases, 1)
            if name in reports:
                reports[name]["seconds"] += report["seconds"]
            else:
                reports[name] = report

    statements = len(cases) * len(MODES)
    rows = [("parser", "version", "mode", "tables P", "tables R", "columns P", "columns R")]
    full: dict[str, Any] = {"cases": len(cases), "deliberate_differences": reasons}
    for name, report in reports.items():
        full[name] = {"version": report["version"], "sqlglot": report.get("sqlglot")}
        for mode in MODES:
            summary = score(report["results"], expected, mode)
            full[name][mode] = summary
            rows.append(
                (
                    name,
                    report["version"],
                    mode,
                    f"{summary['tables']['precision']:.1%}",
                    f"{summary['tables']['recall']:.1%}",
                    f"{summary['columns']['precision']:.1%}",
                    f"{summary['columns']['recall']:.1%}",
                )
            )
        full[name]["statements_per_second"] = _rate(report, statements)
    suites = ", ".join(
        f"{suite}: {sum(1 for case in cases if case['suite'] == suite)}"
        for suite in sorted({case["suite"] for case in cases})
    )
    print(
        f"{len(cases)} cases ({suites}) x {len(MODES)} modes; {len(reasons)} expectations"
        " differ from the suite's on purpose (deliberate_differences.yaml)\n"
    )
    _print_table(rows)
    _print_copy_agreement(reports, full)
    print(f"\ncold parses ({statements} statements, best of {args.repeats} passes):")
    base = full["datahub"]["statements_per_second"]
    speed_rows = [("parser", "sqlglot", "statements/s", "vs DataHub")]
    for name, report in reports.items():
        rate = full[name]["statements_per_second"]
        speed_rows.append(
            (name, str(report.get("sqlglot") or "-"), f"{rate:,.0f}", f"{rate / base:.2f}x")
        )
    _print_table(speed_rows)
    if args.show_misses in full:
        for mode in MODES:
            for line in full[args.show_misses][mode]["misses"]:
                print(f"  miss [{args.show_misses}] {line}")
    if args.json:
        args.json.write_text(json.dumps(full, indent=1) + "\n")


if __name__ == "__main__":
    main()
