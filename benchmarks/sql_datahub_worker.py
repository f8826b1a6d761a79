"""DataHub's ``sqlglot_lineage`` on the SQL corpus: lineage and cold parse time, as JSON.

Runs inside benchmarks/.venv-datahub (``acryl-datahub[sql-parser]`` pins its own sqlglot),
started by ``benchmarks/sql_lineage.py``; never imports ol_bridge. Reads the cases as JSON on
stdin, writes one JSON document to stdout:

    {"version": ..., "sqlglot": ..., "results": {case_key: lineage | {"error": msg}},
     "seconds": [total seconds of each timed pass over all cases]}

``lineage`` is ``{"inputs": [...], "outputs": [...], "columns": [[out_table|null,
out_column, [[in_table, in_column], ...], is_direct_copy|null], ...]}`` with table names as
in the URNs.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from importlib.metadata import version
from typing import Any

import sqlglot
from datahub.ingestion.source.bigquery_v2.bigquery_audit import BigqueryTableIdentifier
from datahub.sql_parsing import sqlglot_lineage as dh
from datahub.sql_parsing.schema_resolver import SchemaResolver

_PLATFORM_BY_DIALECT = {"tsql": "mssql"}


def _table(urn: str | None) -> str | None:
    if urn is None:
        return None
    # urn:li:dataset:(urn:li:dataPlatform:p,name,ENV)
    return urn.split(",")[-2]


def _resolver(case: dict[str, Any], with_schema: bool) -> SchemaResolver:
    # No dialect: sqlglot's default one, under a platform name DataHub has no rules for.
    platform = _PLATFORM_BY_DIALECT.get(case["dialect"], case["dialect"] or "generic")
    resolver = SchemaResolver(platform=platform)
    if with_schema:
        for table, columns in (case.get("schema") or {}).items():
            urn = f"urn:li:dataset:(urn:li:dataPlatform:{platform},{table},PROD)"
            resolver.add_raw_schema_info(urn, columns)
    return resolver


def _run(case: dict[str, Any], with_schema: bool) -> Any:
    return dh._sqlglot_lineage_nocache(
        case["sql"],
        schema_resolver=_resolver(case, with_schema),
        default_db=case.get("default_db"),
        default_schema=case.get("default_schema"),
        override_dialect=None if case["dialect"] else sqlglot.Dialect.get_or_raise(None),
    )


def _safe(case: dict[str, Any], with_schema: bool) -> dict[str, Any]:
    try:
        return _lineage(_run(case, with_schema))
    except Exception as error:  # DataHub raises its own and sqlglot's errors
        return {"error": str(error)[:300]}


def _lineage(result: Any) -> dict[str, Any]:
    if result.debug_info.table_error is not None:
        return {"error": str(result.debug_info.table_error)[:300]}
    columns = [
        [
            _table(info.downstream.table),
            info.downstream.column,
            [[_table(up.table), up.column] for up in info.upstreams],
            # DataHub's only transformation type: a copy of its input, or not
            info.logic.is_direct_copy if info.logic is not None else None,
        ]
        for info in result.column_lineage or []
    ]
    return {
        "inputs": [_table(urn) for urn in result.in_tables],
        "outputs": [_table(urn) for urn in result.out_tables],
        "columns": columns,
    }


def main() -> None:
    logging.disable(logging.CRITICAL)
    BigqueryTableIdentifier._BQ_SHARDED_TABLE_SUFFIX = "_yyyymmdd"  # as DataHub's own tests
    request = json.load(sys.stdin)
    runs = [(case, flag) for case in request["cases"] for flag in (True, False)]
    results = {
        f"{case['id']}|{'schema' if flag else 'noschema'}": _safe(case, flag) for case, flag in runs
    }
    seconds = []
    for _ in range(request["repeats"]):
        started = time.perf_counter()
        for case, flag in runs:
            _safe(case, flag)
        seconds.append(time.perf_counter() - started)
    json.dump(
        {
            "version": version("acryl-datahub"),
            "sqlglot": sqlglot.__version__,
            "results": results,
            "seconds": seconds,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
