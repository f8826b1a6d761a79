"""Reading Dagster metadata values the same way whether they come from definitions
(raw Python values) or from the event log (``MetadataValue`` wrappers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import (
    AssetKey,
    CodeReferencesMetadataValue,
    DataProvenance,
    LocalFileCodeReference,
    MetadataValue,
    PathMetadataValue,
    TableColumn,
    TableColumnLineage,
    TableSchema,
    UrlCodeReference,
)

from ol_bridge.sql.markdown import unfenced_sql

#: metadata keys whose value is SQL that produced the asset, in order of preference
SQL_KEYS = ("dagster/sql", "Query", "query", "sql")
ROW_COUNT_KEY = "dagster/row_count"
#: rows written by a partitioned run (Dagster's IO managers record it instead of
#: ``dagster/row_count`` when the output is one partition of the table)
PARTITION_ROW_COUNT_KEY = "dagster/partition_row_count"
#: where row counts are found, in order: Dagster's standard keys, then the plain
#: ``row_count`` of dagster-duckdb-polars and user code
ROW_COUNT_KEYS = (ROW_COUNT_KEY, PARTITION_ROW_COUNT_KEY, "row_count")
COLUMN_SCHEMA_KEY = "dagster/column_schema"
#: where column schemas are found, in order: Dagster's standard key, then what Dagster's
#: IO managers record (``dataframe_columns``: DuckDB, Snowflake and BigQuery pandas/polars;
#: ``table_columns``: dagster-deltalake)
COLUMN_SCHEMA_KEYS = (COLUMN_SCHEMA_KEY, "dataframe_columns", "table_columns")
COLUMN_LINEAGE_KEY = "dagster/column_lineage"
CODE_REFERENCES_KEY = "dagster/code_references"
#: acryl-datahub-dagster-plugin's keys for datasets an op reads / writes (DataHub URNs)
DATAHUB_INPUTS_KEY = "datahub.inputs"
DATAHUB_OUTPUTS_KEY = "datahub.outputs"


def plain(value: Any) -> Any:
    """The Python value inside a metadata entry (``TextMetadataValue("x")`` -> ``"x"``)."""
    if isinstance(value, PathMetadataValue):
        return str(value.path)
    if isinstance(value, MetadataValue):
        return value.value
    return value


def merged(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Later layers win: definition metadata first, then what the run recorded."""
    result: dict[str, Any] = {}
    for layer in layers:
        if layer:
            result.update(layer)
    return result


def sql_text(metadata: Mapping[str, Any]) -> str | None:
    """The SQL that produced the asset; a Markdown code fence around it (``MetadataValue.md``
    of a `````sql`` block, for the UI's highlighting) is not part of it."""
    for key in SQL_KEYS:
        value = plain(metadata.get(key))
        sql = unfenced_sql(value) if isinstance(value, str) else None
        if sql is not None and sql.strip():
            return sql
    return None


def row_count(metadata: Mapping[str, Any]) -> int | None:
    """Rows the materialization wrote: the table's, or the partition's for one partition."""
    for key in ROW_COUNT_KEYS:
        value = plain(metadata.get(key))
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    return None


def column_schema(metadata: Mapping[str, Any]) -> TableSchema | None:
    for key in COLUMN_SCHEMA_KEYS:
        value = plain(metadata.get(key))
        if isinstance(value, TableSchema):
            return value
    return None


def merged_column_schema(
    defined: TableSchema | None, recorded: TableSchema | None
) -> TableSchema | None:
    """The columns a run recorded (the table as it is: names, order, types), each with what
    the definition says of it where the run says nothing (description, tags).

    dagster-dbt's ``fetch_column_metadata()`` records types only; the dbt docs are in the
    definition. Columns only the definition lists are not in the table, so they are left
    out. Names match case-insensitively (warehouses fold case, docs often do not).
    """
    if recorded is None or defined is None:
        return recorded or defined
    documented = {column.name.lower(): column for column in defined.columns}
    columns = []
    for column in recorded.columns:
        doc = documented.get(column.name.lower())
        if doc is None:
            columns.append(column)
            continue
        columns.append(
            TableColumn(
                name=column.name,
                type=column.type if column.type and column.type != "?" else doc.type,
                description=column.description or doc.description,
                constraints=column.constraints,
                tags={**doc.tags, **column.tags},
            )
        )
    return TableSchema(columns=columns, constraints=recorded.constraints)


def column_lineage(metadata: Mapping[str, Any]) -> TableColumnLineage | None:
    value = plain(metadata.get(COLUMN_LINEAGE_KEY))
    return value if isinstance(value, TableColumnLineage) else None


def recorded_parents(tags: Mapping[str, str] | None) -> tuple[AssetKey, ...]:
    """The upstream assets a materialization was computed from, as Dagster records them on
    every materialization of an asset step (``dagster/input_data_version/<key>`` tags, for
    each of the asset's deps, materialized or not): the instance's own record of the asset's
    parents, for any code location."""
    provenance = DataProvenance.from_tags(dict(tags or {}))
    if provenance is None:
        return ()
    return tuple(sorted(provenance.input_data_versions, key=lambda key: list(key.path)))


def string_list(value: Any) -> list[str]:
    """A list of strings from a str, a list, or a JSON metadata value; [] otherwise."""
    value = plain(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [item for item in value if isinstance(item, str)]
    return []


def code_reference(metadata: Mapping[str, Any]) -> tuple[str, str, str | None] | None:
    """(type, url, path) of the first source-code reference: a URL (``git``) when the code
    references were linked to a repository, else the local file (``file``)."""
    value = metadata.get(CODE_REFERENCES_KEY)
    if not isinstance(value, CodeReferencesMetadataValue):
        return None
    references = value.code_references
    for reference in references:
        if isinstance(reference, UrlCodeReference):
            return ("git", reference.url, None)
    for reference in references:
        if isinstance(reference, LocalFileCodeReference):
            line = f"#L{reference.line_number}" if reference.line_number else ""
            return ("file", f"file://{reference.file_path}{line}", reference.file_path)
    return None
