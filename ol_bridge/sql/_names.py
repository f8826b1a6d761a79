"""Names the SQL leaves to the database: unaliased output columns and default qualifiers.

sqlglot names an unaliased expression ``_col_0``; a database shows something else, and
that is the column lineage has to name. :func:`name_unaliased_projections` gives every
unaliased projection the name its database would show, before sqlglot qualifies the query.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from ol_bridge.sql.models import TableRef

# Databases that name an expression column after the function (Postgres ``count``,
# ``?column?`` for anything else), by position (Hive ``_c0``, BigQuery ``f0_``), or by the
# expression's text (MySQL, SQL Server, DuckDB, Spark, ClickHouse, Trino ...).
_FUNCTION_NAMED = {"postgres", "redshift", "materialize", "risingwave"}
_UPPER_CASED = {"snowflake", "oracle"}


def name_unaliased_projections(statement: exp.Expr, dialect: str | None) -> None:
    """Alias each unaliased expression projection as the database would name it."""
    for select in statement.find_all(exp.Select):
        unnamed = 0
        for index, projection in enumerate(select.expressions):
            if isinstance(projection, (exp.Alias, exp.Column, exp.Star, exp.Dot)) or (
                projection.alias
            ):
                continue
            name = _display_name(projection, dialect, index, unnamed)
            unnamed += 1
            projection.replace(exp.alias_(projection.copy(), name, quoted=True))


def _display_name(expression: exp.Expr, dialect: str | None, index: int, unnamed: int) -> str:
    if dialect == "bigquery":
        return f"f{unnamed}_"
    if dialect in {"hive", "spark2"}:
        return f"_c{index}"
    if dialect in _FUNCTION_NAMED:
        value = expression
        while isinstance(value, (exp.Cast, exp.Paren)):
            value = value.this
        if isinstance(value, exp.Column):
            return value.name
        if isinstance(value, exp.Func):
            return (value.name if isinstance(value, exp.Anonymous) else value.sql_name()).lower()
        return "?column?"
    text = expression.sql(dialect=dialect)
    if dialect == "duckdb" and isinstance(expression, exp.Binary):
        return f"({text})"  # DuckDB shows ``x + 1`` as ``(x + 1)``
    return text.upper() if dialect in _UPPER_CASED else text


def qualified_table(
    table: exp.Table, dialect: str | None, database: str | None, schema: str | None
) -> TableRef:
    """A table named outside any query (DDL, ``SELECT ... INTO``), completed like sqlglot
    completes the tables of a query: the default schema, then the default database."""
    table = table.copy()
    if not table.db and schema:
        table.set("db", exp.to_identifier(schema))
    if not table.catalog and table.db and database:
        table.set("catalog", exp.to_identifier(database))
    normalized = normalize_identifiers(table, dialect=dialect)
    assert isinstance(normalized, exp.Table)  # normalizing keeps the node's type
    return TableRef(
        database=normalized.catalog or None, schema=normalized.db or None, name=normalized.name
    )
