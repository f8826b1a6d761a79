"""Table and column lineage of SQL text, with sqlglot. Pure: no I/O, no global state but a cache.

:func:`extract_sql_lineage` parses the SQL once, qualifies it once (dialect identifier
normalization, default database/schema, optional column schema), then walks its scopes.
Results are cached on all arguments, so the same ``Query`` metadata seen on every
materialization of an asset is parsed once per process.

Identifier case follows the dialect, as the database would: unquoted names are
lower-cased for Postgres, DuckDB, BigQuery ... and upper-cased for Snowflake; quoted
names keep their case.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from sqlglot import Dialect, exp
from sqlglot import parse as sqlglot_parse
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.schema import MappingSchema

from ol_bridge.errors import SqlLineageError
from ol_bridge.sql._statements import (
    QualifyOptions,
    StatementLineage,
    apply_use,
    statement_lineage,
)
from ol_bridge.sql.dialects import dialect_for_platform
from ol_bridge.sql.models import (
    AGGREGATION,
    CONDITIONAL,
    DIRECT,
    FILTER,
    GROUP_BY,
    IDENTITY,
    INDIRECT,
    JOIN,
    SORT,
    TRANSFORMATION,
    WINDOW,
    ColumnInput,
    ColumnLineageEntry,
    ColumnRef,
    IndirectInput,
    SqlLineage,
    TableRef,
    Transformation,
)

__all__ = [
    "AGGREGATION",
    "CONDITIONAL",
    "DIRECT",
    "FILTER",
    "GROUP_BY",
    "IDENTITY",
    "INDIRECT",
    "JOIN",
    "SORT",
    "SQL_LINEAGE_CACHE_SIZE",
    "TRANSFORMATION",
    "WINDOW",
    "ColumnInput",
    "ColumnLineageEntry",
    "ColumnRef",
    "IndirectInput",
    "SqlLineage",
    "TableRef",
    "Transformation",
    "cache_clear",
    "cache_info",
    "dialect_for_platform",
    "extract_sql_lineage",
]

#: How many distinct (sql, dialect, defaults, schema) results are kept per process.
SQL_LINEAGE_CACHE_SIZE = 1024

# A column schema in hashable form: ((table key, ((column, type), ...)), ...).
_FrozenSchema = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


def extract_sql_lineage(
    sql: str,
    *,
    dialect: str | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    schema: Mapping[str, Mapping[str, str]] | None = None,
) -> SqlLineage:
    """Tables read and written by ``sql`` and where each output column comes from.

    Args:
        sql: one or more statements separated by ``;``; their lineage is united.
        dialect: a sqlglot dialect name (see :func:`dialect_for_platform`); None for
            sqlglot's default dialect.
        default_database: completes table names that leave out the top level
            (Snowflake database, BigQuery project, Trino catalog). Used only together
            with ``default_schema`` or for names that already give a schema.
        default_schema: completes table names that leave out the schema. For
            two-level platforms (MySQL, Hive) pass the database here.
        schema: column names and types per table, ``{"db.schema.table": {"col":
            "int"}}``; lets ``SELECT *`` and unqualified columns of joins resolve.

    Raises:
        SqlLineageError: the SQL does not parse in ``dialect``, the dialect is
            unknown, or the given schema does not fit the SQL.
    """
    return _extract_cached(sql, dialect, default_database, default_schema, _freeze(schema))


def cache_info() -> functools._CacheInfo:
    """Hits, misses and size of the parse cache (for benchmarks and tests)."""
    return _extract_cached.cache_info()


def cache_clear() -> None:
    """Empty the parse cache."""
    _extract_cached.cache_clear()


def _freeze(schema: Mapping[str, Mapping[str, str]] | None) -> _FrozenSchema | None:
    if schema is None:
        return None
    # Column order is kept: it is the order ``SELECT *`` expands to.
    return tuple(
        (table, tuple((column, str(kind)) for column, kind in columns.items()))
        for table, columns in sorted(schema.items())
    )


@functools.lru_cache(maxsize=SQL_LINEAGE_CACHE_SIZE)
def _extract_cached(
    sql: str,
    dialect: str | None,
    default_database: str | None,
    default_schema: str | None,
    schema: _FrozenSchema | None,
) -> SqlLineage:
    _check_dialect(dialect)
    options = QualifyOptions(
        dialect=dialect,
        database=default_database,
        schema_name=default_schema,
        schema=_mapping_schema(schema, dialect, default_database, default_schema),
    )
    parts: list[StatementLineage] = []
    for statement in _parse(sql, dialect):
        # ``USE db.schema`` sets where the unqualified tables of later statements live.
        used = apply_use(statement, options)
        if used is not None:
            options = used
        elif (part := statement_lineage(statement, options)) is not None:
            parts.append(part)
    return _unite(parts, dialect)


def _check_dialect(dialect: str | None) -> None:
    if dialect is None:
        return
    try:
        Dialect.get_or_raise(dialect)
    except ValueError as error:
        raise SqlLineageError(
            f"Unknown SQL dialect {dialect!r}: {error} Use a sqlglot dialect name such as"
            " 'snowflake', 'postgres' or 'duckdb', or map a platform name with"
            " ol_bridge.sql.dialect_for_platform()."
        ) from error


def _parse(sql: str, dialect: str | None) -> list[exp.Expr]:
    try:
        statements = sqlglot_parse(sql, dialect=dialect)
    except ParseError as error:
        details = "; ".join(
            f"{item.get('description')} at line {item.get('line')}, column {item.get('col')}"
            f" near {item.get('highlight')!r}"
            for item in error.errors
        )
        raise SqlLineageError(_parse_message(dialect, details or str(error))) from error
    except SqlglotError as error:  # the tokenizer's errors are not ParseErrors
        raise SqlLineageError(_parse_message(dialect, str(error))) from error
    return [statement for statement in statements if statement is not None]


def _parse_message(dialect: str | None, details: str) -> str:
    return (
        f"Could not parse SQL as dialect {dialect or 'sqlglot default'!r}: {details}."
        " Check that the query is valid SQL for the database it runs on and that the"
        " dialect (taken from the asset's platform) is right; lineage from this SQL is"
        " skipped until then."
    )


def _mapping_schema(
    schema: _FrozenSchema | None,
    dialect: str | None,
    default_database: str | None,
    default_schema: str | None,
) -> MappingSchema | None:
    if not schema:
        return None
    split = [
        (_split_table_key(key, dialect), {name: _type(kind, dialect) for name, kind in columns})
        for key, columns in schema
    ]
    depth = max(len(parts) for parts, _ in split)
    defaults = [default_database, default_schema][3 - depth :] if depth > 1 else []
    nested: dict[str, object] = {}
    for parts, columns in split:
        missing = depth - len(parts)
        prefix = defaults[:missing]
        if any(part is None for part in prefix):
            raise SqlLineageError(
                f"Schema key {'.'.join(parts)!r} has {len(parts)} name parts but other keys"
                f" have {depth}. Give every table in the schema the same number of parts,"
                " or pass default_database/default_schema to complete the short ones."
            )
        level = nested
        full = [str(part) for part in prefix] + parts
        for part in full[:-1]:
            child = level.setdefault(part, {})
            assert isinstance(child, dict)  # built here, always a dict
            level = child
        level[full[-1]] = columns
    try:
        return MappingSchema(nested, dialect=dialect)
    except SqlglotError as error:
        raise SqlLineageError(
            f"The column schema given for SQL lineage is not usable: {error}. Pass"
            " {'db.schema.table': {'column': 'type'}} with sqlglot-readable types."
        ) from error


def _type(kind: str, dialect: str | None) -> str:
    """The column type as given when sqlglot reads it, else UNKNOWN: lineage needs only
    the column names, and Dagster metadata types are free text (``struct``, ``text[]`` ...)."""
    try:
        exp.DataType.build(kind, dialect=dialect)
    except (SqlglotError, ValueError):
        return "UNKNOWN"
    return kind


def _split_table_key(key: str, dialect: str | None) -> list[str]:
    try:
        table = exp.to_table(key, dialect=dialect)
    except SqlglotError as error:
        raise SqlLineageError(
            f"Schema key {key!r} is not a table name: {error}. Use 'db.schema.table'."
        ) from error
    return [part for part in (table.catalog, table.db, table.name) if part]


def _unite(parts: list[StatementLineage], dialect: str | None) -> SqlLineage:
    inputs = {table for part in parts for table in part.inputs}
    outputs = {table for part in parts for table in part.outputs}
    indirect = dict.fromkeys(item for part in parts for item in part.indirect_inputs)
    return SqlLineage(
        inputs=tuple(sorted(inputs, key=TableRef.sort_key)),
        outputs=tuple(sorted(outputs, key=TableRef.sort_key)),
        column_lineage=tuple(entry for part in parts for entry in part.column_lineage),
        dialect=dialect,
        indirect_inputs=tuple(indirect),
    )
