"""Lineage of one parsed SQL statement: which tables it reads, writes, and how columns flow.

Statements handled: a bare query, CREATE TABLE/VIEW ... AS, INSERT ... SELECT/VALUES,
MERGE, UPDATE and DELETE (tables only). Anything else (DDL without a query, USE, SET,
statements sqlglot keeps as an opaque command) has no lineage and yields ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

import attrs
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import MappingSchema

from ol_bridge.errors import SqlLineageError
from ol_bridge.sql._columns import (
    ColumnTracer,
    is_physical_table,
    projections,
    table_ref,
)
from ol_bridge.sql.models import (
    IDENTITY,
    ColumnLineageEntry,
    ColumnRef,
    IndirectInput,
    TableRef,
    strongest,
)


@attrs.frozen
class StatementLineage:
    """What one statement contributes to the lineage of the whole SQL text."""

    inputs: frozenset[TableRef]
    outputs: frozenset[TableRef]
    column_lineage: tuple[ColumnLineageEntry, ...] = ()
    indirect_inputs: tuple[IndirectInput, ...] = ()


@attrs.frozen
class QualifyOptions:
    """How to complete table and column names that the SQL leaves out."""

    dialect: str | None
    database: str | None
    schema_name: str | None
    schema: MappingSchema | None


def statement_lineage(statement: exp.Expr, options: QualifyOptions) -> StatementLineage | None:
    """Lineage of one statement, or ``None`` for a statement that moves no data."""
    if isinstance(statement, exp.Insert):
        _move_leading_ctes_into_query(statement)
    if not isinstance(statement, (exp.Query, exp.Create, exp.Insert, exp.Merge, exp.Update)) and (
        not isinstance(statement, exp.Delete)
    ):
        return None
    statement = _qualify(statement, options)
    if isinstance(statement, exp.Query):
        return _query_lineage(statement, _select_into(statement), [], options.dialect)
    if isinstance(statement, exp.Merge):
        return _merge_lineage(statement, options)
    if isinstance(statement, (exp.Update, exp.Delete)):
        return _dml_tables(statement)
    return _write_lineage(statement, options.dialect)


def _qualify(statement: exp.Expr, options: QualifyOptions) -> exp.Expr:
    try:
        return _run_qualify(statement, options, qualify_columns=True)
    except OptimizeError:
        # Without a schema, sqlglot cannot always tell which source an unqualified
        # column belongs to (e.g. inside a correlated subquery). Tables and identifier
        # case are still right; columns are then resolved best effort by the tracer.
        return _run_qualify(statement, options, qualify_columns=False)


def _run_qualify(
    statement: exp.Expr, options: QualifyOptions, *, qualify_columns: bool
) -> exp.Expr:
    try:
        return qualify(
            statement,
            dialect=options.dialect,
            schema=options.schema,
            catalog=options.database,
            db=options.schema_name,
            qualify_columns=qualify_columns,
            # Unknown columns are normal here (no schema); lineage stays best effort.
            validate_qualify_columns=False,
            identify=False,
        )
    except OptimizeError:
        if qualify_columns:
            raise
        raise_unresolvable(statement, options)
    except SqlglotError as error:
        raise_unresolvable(statement, options, error)


def raise_unresolvable(
    statement: exp.Expr, options: QualifyOptions, error: Exception | None = None
) -> NoReturn:
    """Fail with a message that names the statement, the dialect and what to check."""
    raise SqlLineageError(
        f"sqlglot could not resolve the names in {statement.sql(dialect=options.dialect)!r}"
        f" (dialect {options.dialect or 'sqlglot default'}){f': {error}' if error else ''}."
        " Check that the schema passed for column lineage matches the tables the SQL reads."
    ) from error


def _move_leading_ctes_into_query(insert: exp.Insert) -> None:
    # ``WITH c AS (...) INSERT INTO t SELECT ... FROM c``: the CTEs belong to the query,
    # otherwise ``c`` would be taken for a physical table.
    with_clause = insert.args.get("with_")
    query = insert.expression
    if (
        isinstance(with_clause, exp.With)
        and isinstance(query, exp.Query)
        and not query.args.get("with_")
    ):
        query.set("with_", with_clause)
        insert.set("with_", None)


def _target(statement: exp.Expr) -> tuple[exp.Table | None, list[str]]:
    """The table a statement writes and its explicit column list, if any."""
    target = statement.this
    columns: list[str] = []
    if isinstance(target, exp.Schema):
        columns = [column.name for column in target.expressions]
        target = target.this
    if isinstance(target, exp.Table) and is_physical_table(target):
        return target, columns
    return None, columns


def _select_into(query: exp.Query) -> TableRef | None:
    """The table of ``SELECT ... INTO t`` (SQL Server, Postgres), which creates ``t``."""
    into = query.args.get("into")
    target = into.this if isinstance(into, exp.Into) else None
    return table_ref(target) if isinstance(target, exp.Table) else None


def _unwrap(query: exp.Expr) -> exp.Expr:
    while isinstance(query, exp.Subquery):
        query = query.this
    return query


def _write_lineage(statement: exp.Expr, dialect: str | None) -> StatementLineage | None:
    target, columns = _target(statement)
    if target is None:
        return None
    query = _unwrap(statement.expression) if statement.expression else None
    if isinstance(query, exp.Query):
        return _query_lineage(query, table_ref(target), columns, dialect)
    return StatementLineage(inputs=frozenset(), outputs=frozenset({table_ref(target)}))


def _query_lineage(
    query: exp.Query, output: TableRef | None, columns: list[str], dialect: str | None
) -> StatementLineage:
    root = build_scope(query)
    if root is None:
        return StatementLineage(
            inputs=_tables_in(query), outputs=frozenset({output} if output else ())
        )
    inputs = frozenset(
        table_ref(source)
        for scope in root.traverse()
        for source in scope.sources.values()
        if isinstance(source, exp.Table) and is_physical_table(source)
    )
    tracer = ColumnTracer()
    entries = _entries(root, tracer, output, columns, dialect)
    return StatementLineage(
        inputs=inputs,
        outputs=frozenset({output} if output else ()),
        column_lineage=_merge_duplicate_columns(entries),
        indirect_inputs=tuple(tracer.indirect_inputs(root)),
    )


def _entries(
    root: Scope,
    tracer: ColumnTracer,
    output: TableRef | None,
    columns: list[str],
    dialect: str | None,
) -> list[ColumnLineageEntry]:
    entries: list[ColumnLineageEntry] = []
    for index, projection in enumerate(projections(root)):
        name = columns[index] if index < len(columns) else projection.alias_or_name
        resolved = tracer.trace_index(root, index)
        if not name or name == "*" or not resolved:
            continue
        subtype = _overall(resolved.values())
        entries.append(
            ColumnLineageEntry(
                output_column=name,
                inputs=tuple(sorted(resolved, key=ColumnRef.sort_key)),
                transformation=subtype,
                description=projection.unalias().sql(dialect=dialect),
                output_table=output,
            )
        )
    return entries


def _overall(subtypes: Iterable[str]) -> str:
    result = IDENTITY
    for subtype in subtypes:
        result = strongest(result, subtype)
    return result


def _tables_in(expression: exp.Expr) -> frozenset[TableRef]:
    return frozenset(
        table_ref(table) for table in expression.find_all(exp.Table) if is_physical_table(table)
    )


def _dml_tables(statement: exp.Update | exp.Delete) -> StatementLineage | None:
    target, _ = _target(statement)
    if target is None:
        return None
    output = table_ref(target)
    return StatementLineage(inputs=_tables_in(statement) - {output}, outputs=frozenset({output}))


def _merge_lineage(merge: exp.Merge, options: QualifyOptions) -> StatementLineage | None:
    target, _ = _target(merge)
    source = merge.args.get("using")
    if target is None or not isinstance(source, exp.Expr):
        return None
    output = table_ref(target)
    names, values = _merge_assignments(merge)
    if not values:
        lineage = StatementLineage(inputs=_tables_in(source), outputs=frozenset({output}))
        return lineage
    # Evaluate the assigned values as the projections of a query over the source joined
    # to the target; the aliases the MERGE uses resolve the same way there.
    query = (
        exp.select(*values)
        .from_(source.copy())
        .join(target.copy(), on=merge.args["on"].copy() if merge.args.get("on") else None)
    )
    lineage = _query_lineage(query, output, names, options.dialect)
    return attrs.evolve(lineage, inputs=_tables_in(source))


def _merge_assignments(merge: exp.Merge) -> tuple[list[str], list[exp.Expr]]:
    names: list[str] = []
    values: list[exp.Expr] = []
    whens = merge.args.get("whens")
    for when in whens.expressions if isinstance(whens, exp.Whens) else []:
        action = when.args.get("then")
        if isinstance(action, exp.Update):
            for assignment in action.expressions:
                names.append(assignment.this.name)
                values.append(assignment.expression.copy())
        elif isinstance(action, exp.Insert) and isinstance(action.this, exp.Tuple):
            inserted = action.expression
            if isinstance(inserted, exp.Tuple):
                for column, value in zip(
                    action.this.expressions, inserted.expressions, strict=False
                ):
                    names.append(column.name)
                    values.append(value.copy())
    return names, values


def _merge_duplicate_columns(
    entries: list[ColumnLineageEntry],
) -> tuple[ColumnLineageEntry, ...]:
    # One entry per output column: MERGE may set a column in both WHEN MATCHED and
    # WHEN NOT MATCHED, and ``SELECT *`` over a join may repeat a name.
    by_name: dict[str, ColumnLineageEntry] = {}
    for entry in entries:
        previous = by_name.get(entry.output_column)
        if previous is None:
            by_name[entry.output_column] = entry
            continue
        by_name[entry.output_column] = attrs.evolve(
            previous,
            inputs=tuple(sorted(set(previous.inputs) | set(entry.inputs), key=ColumnRef.sort_key)),
            transformation=strongest(previous.transformation, entry.transformation),
            description=f"{previous.description}; {entry.description}",
        )
    return tuple(by_name.values())
