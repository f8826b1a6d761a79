"""openlineage-sql (OpenLineage's Rust parser) on the SQL corpus: lineage and cold parse time.

Runs inside benchmarks/.venv-olsql, started by ``benchmarks/sql_lineage.py``; same stdin /
stdout JSON as ``sql_datahub_worker.py``. openlineage-sql takes no column schema and no
default database, so both runs of a case (with and without schema) are the same call.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version
from typing import Any

import openlineage_sql

_DIALECT = {"tsql": "mssql", "dremio": "generic", "teradata": "generic", "oracle": "generic"}


def _name(table: Any) -> str | None:
    if table is None:
        return None
    return ".".join(part for part in (table.database, table.schema, table.name) if part)


def _run(case: dict[str, Any]) -> Any:
    return openlineage_sql.parse(
        [case["sql"]],
        dialect=_DIALECT.get(case["dialect"], case["dialect"] or "generic"),
        default_schema=case.get("default_schema"),
    )


def _lineage(meta: Any) -> dict[str, Any]:
    outputs = [_name(table) for table in meta.out_tables]
    single_output = outputs[0] if len(outputs) == 1 else None
    columns = [
        [
            _name(item.descendant.origin) or single_output,
            item.descendant.name,
            [[_name(column.origin), column.name] for column in item.lineage],
        ]
        for item in meta.column_lineage
    ]
    return {"inputs": [_name(t) for t in meta.in_tables], "outputs": outputs, "columns": columns}


def _safe(case: dict[str, Any]) -> dict[str, Any]:
    try:
        return _lineage(_run(case))
    except Exception as error:  # the parser raises its own error types
        return {"error": str(error)[:300]}


def main() -> None:
    request = json.load(sys.stdin)
    runs = [(case, flag) for case in request["cases"] for flag in (True, False)]
    results = {
        f"{case['id']}|{'schema' if flag else 'noschema'}": _safe(case) for case, flag in runs
    }
    seconds = []
    for _ in range(request["repeats"]):
        started = time.perf_counter()
        for case, _flag in runs:
            _safe(case)
        seconds.append(time.perf_counter() - started)
    json.dump(
        {"version": version("openlineage-sql"), "results": results, "seconds": seconds},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
