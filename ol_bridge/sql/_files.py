"""Files a query reads directly, as DuckDB allows: ``read_parquet('s3://b/k.parquet')``,
``read_csv(['a.csv', 'b.csv'])``, ``FROM '/data/events/*.csv'``.

They are datasets, not tables: each FROM item that reads files is rewritten, before
qualification, into a table whose (quoted) name carries the locations behind a marker, so
the rest of the analysis treats it as one source with columns. :func:`file_locations`
reads the locations back; the translator names them as it names any path or URI.
"""

from __future__ import annotations

from sqlglot import exp

#: DuckDB's table functions that read files; their first argument is a location or a list.
FILE_READERS = frozenset(
    {
        "read_parquet",
        "parquet_scan",
        "read_csv",
        "read_csv_auto",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "delta_scan",
        "iceberg_scan",
    }
)
#: Name suffixes DuckDB reads as files when a quoted table name ends with them.
FILE_SUFFIXES = (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".txt")
_COMPRESSION_SUFFIXES = (".gz", ".zst")
#: Dialects whose quoted table names may be file paths.
PATH_TABLE_DIALECTS = frozenset({"duckdb"})

_MARK = "\x1fol-bridge-files\x1f"
_SEPARATOR = "\x1f"


def mark_file_reads(statement: exp.Expr, dialect: str | None) -> tuple[str, ...]:
    """Rewrite every FROM item of ``statement`` that reads files into a marked table.

    Returns the file reads whose location is not written in the SQL (a parameter, an
    expression): as SQL text, so that the caller can say which lineage is missing.
    """
    unnamed: list[str] = []
    for table in list(statement.find_all(exp.Table)):
        locations = _read_locations(table, dialect)
        if locations is None and _is_file_reader(table):
            unnamed.append(table.this.sql(dialect=dialect))
        if not locations:
            continue
        marked = exp.Table(this=exp.to_identifier(_MARK + _SEPARATOR.join(locations), quoted=True))
        alias = table.args.get("alias")
        # DuckDB calls an unaliased ``read_parquet(...)`` by the function's name; an alias
        # keeps the rewritten name out of column qualifiers and descriptions.
        marked.set("alias", alias or exp.TableAlias(this=exp.to_identifier(_default_alias(table))))
        table.replace(marked)
    return tuple(unnamed)


def _is_file_reader(table: exp.Table) -> bool:
    return isinstance(table.this, exp.Func) and _function_name(table.this) in FILE_READERS


def file_locations(name: str) -> tuple[str, ...] | None:
    """The locations a marked table name stands for; None for any other table."""
    if not name.startswith(_MARK):
        return None
    return tuple(name.removeprefix(_MARK).split(_SEPARATOR))


def _read_locations(table: exp.Table, dialect: str | None) -> tuple[str, ...] | None:
    inner = table.this
    if isinstance(inner, exp.Identifier):
        quoted_path = (
            dialect in PATH_TABLE_DIALECTS
            and inner.quoted
            and not table.db
            and not table.catalog
            and _looks_like_file(inner.name)
        )
        return (inner.name,) if quoted_path else None
    if not isinstance(inner, exp.Func) or _function_name(inner) not in FILE_READERS:
        return None
    first = inner.this if isinstance(inner.this, exp.Expr) else None
    if first is None and inner.expressions:
        first = inner.expressions[0]
    if isinstance(first, exp.Literal) and first.is_string:
        return (first.name,)
    if isinstance(first, (exp.Array, exp.List)):
        items = first.expressions
        if items and all(isinstance(i, exp.Literal) and i.is_string for i in items):
            return tuple(dict.fromkeys(i.name for i in items))
    return None


def _function_name(function: exp.Func) -> str:
    if isinstance(function, exp.Anonymous):
        return function.name.lower()
    return function.sql_name().lower()


def _looks_like_file(name: str) -> bool:
    lowered = name.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        lowered = lowered.removesuffix(suffix)
    return (
        "://" in name
        or "/" in name
        or "\\" in name
        or "*" in name
        or lowered.endswith(FILE_SUFFIXES)
    )


def _default_alias(table: exp.Table) -> str:
    if isinstance(table.this, exp.Func):
        return _function_name(table.this)
    # DuckDB names ``FROM 'dir/events.csv'`` after the file, without its extension.
    base = table.name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return base.split(".", 1)[0] or "file"
