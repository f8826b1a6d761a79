"""The column schemas of an asset's upstream tables, in the form the SQL parser takes.

Dagster knows the columns of upstream assets (``dagster/column_schema`` of their definition
or last materialization, which dbt and the IO managers record). Given to the parser, they
let ``SELECT *`` and unqualified columns of a join resolve to per-column lineage.
"""

from __future__ import annotations

from collections.abc import Iterable

from dagster import TableSchema

from ol_bridge.naming import DatasetId


def sql_schema(
    output: DatasetId, upstream: Iterable[tuple[DatasetId, TableSchema | None]]
) -> dict[str, dict[str, str]] | None:
    """``{table name: {column: type}}`` of the upstream tables in the output's namespace.

    Only tables named with as many parts as the output are kept: the parser completes
    shorter names of the SQL with the output's database and schema, so the keys must be
    comparable. A column without a type gets ``UNKNOWN``; lineage needs only the names.
    """
    depth = len(output.name.split("."))
    schema: dict[str, dict[str, str]] = {}
    for dataset, columns in upstream:
        if columns is None or not columns.columns or dataset.namespace != output.namespace:
            continue
        if dataset == output or len(dataset.name.split(".")) != depth:
            continue
        schema[dataset.name] = {
            column.name: (column.type or "UNKNOWN") for column in columns.columns
        }
    return schema or None
