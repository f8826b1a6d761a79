"""Lineage of one parsed SQL statement: which tables it reads, writes, and how columns flow.

Statements handled: a bare query (also ``SELECT ... INTO``), CREATE TABLE/VIEW ... AS (also
ClickHouse ``... TO target``), CREATE TABLE ... LIKE / CLONE, INSERT ... SELECT/VALUES,
MERGE, UPDATE (with column lineage), DELETE, DROP, TRUNCATE, ALTER (RENAME reads the old
name and writes the new one). ``USE`` changes the defaults of the statements after it
(see :func:`apply_use`). Anything else (SET, statements sqlglot keeps as an opaque command)
has no lineage and yields ``None``.

UPDATE and MERGE are traced as the query that computes their new values: ``SELECT <assigned
values> FROM <target> JOIN <sources>``; that query is qualified once, like any other.
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
    physical_sources,
    projections,
    table_ref,
)
from ol_bridge.sql._names import name_unaliased_projections, qualified_table
from ol_bridge.sql.models import (
    DIRECT,
    IDENTITY,
    TRANSFORMATION,
    ColumnInput,
    ColumnLineageEntry,
    ColumnRef,
    IndirectInput,
    TableRef,
    combine,
    strongest,
)

# One-part ``USE x`` names a database in these dialects, a schema in the others.
_USE_NAMES_DATABASE = {"snowflake", "tsql", "trino", "presto", "athena"}


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


def apply_use(statement: exp.Expr, options: QualifyOptions) -> QualifyOptions | None:
    """The defaults after ``USE [DATABASE|SCHEMA|CATALOG] name``; None for other statements."""
    if not isinstance(statement, exp.Use) or not isinstance(statement.this, exp.Table):
        return None
    parts = _normalized_parts(statement.this, options.dialect)
    kind = statement.text("kind").upper()
    if len(parts) >= 2:
        return attrs.evolve(options, database=parts[-2], schema_name=parts[-1])
    if kind == "SCHEMA" or (not kind and options.dialect not in _USE_NAMES_DATABASE):
        return attrs.evolve(options, schema_name=parts[0])
    # A new database: its default schema is the database's own default, unknown here.
    return attrs.evolve(options, database=parts[0], schema_name=None)


def _normalized_parts(table: exp.Table, dialect: str | None) -> list[str]:
    ref = qualified_table(table, dialect, None, None)
    return [part for part in (ref.database, ref.schema, ref.name) if part]


def statement_lineage(statement: exp.Expr, options: QualifyOptions) -> StatementLineage | None:
    """Lineage of one statement, or ``None`` for a statement that moves no data."""
    if isinstance(statement, exp.Insert):
        _move_leading_ctes_into_query(statement)
    if isinstance(statement, (exp.Drop, exp.TruncateTable, exp.Alter)):
        return _ddl_lineage(statement, options)
    if isinstance(statement, exp.Update):
        return _update_lineage(statement, options)
    if isinstance(statement, exp.Merge):
        return _merge_lineage(statement, options)
    if not isinstance(statement, (exp.Query, exp.Create, exp.Insert, exp.Delete)):
        return None
    _prepare(statement, options)
    statement = _qualify(statement, options)
    if isinstance(statement, exp.Query):
        into = _select_into(statement, options)
        return _query_lineage(statement, into, [], options)
    if isinstance(statement, exp.Delete):
        return _delete_tables(statement)
    return _write_lineage(statement, options)


def _prepare(statement: exp.Expr, options: QualifyOptions) -> None:
    """Rewrites before qualification: names for unaliased columns, and BigQuery tables
    without their partition decorator (``t$20230101`` is a partition of ``t``)."""
    name_unaliased_projections(statement, options.dialect)
    if options.dialect == "bigquery":
        for table in statement.find_all(exp.Table):
            if isinstance(table.this, exp.Identifier) and "$" in table.name:
                stripped = table_ref(table).name
                if stripped != table.name:
                    table.this.set("this", stripped)


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
            # Quoting changes no name (identifiers are normalized already): skip the walk.
            quote_identifiers=False,
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


def _select_into(query: exp.Query, options: QualifyOptions) -> TableRef | None:
    """The table of ``SELECT ... INTO t`` (SQL Server, Postgres), which creates ``t``."""
    into = query.args.get("into")
    target = into.this if isinstance(into, exp.Into) else None
    if not isinstance(target, exp.Table):
        return None
    return qualified_table(target, options.dialect, options.database, options.schema_name)


def _unwrap(query: exp.Expr) -> exp.Expr:
    while isinstance(query, exp.Subquery):
        query = query.this
    return query


def _property(statement: exp.Expr, kind: type[exp.Expr]) -> exp.Expr | None:
    properties = statement.args.get("properties")
    if isinstance(properties, exp.Properties):
        for item in properties.expressions:
            if isinstance(item, kind):
                return item
    return None


def _write_lineage(statement: exp.Expr, options: QualifyOptions) -> StatementLineage | None:
    target, columns = _target(statement)
    if target is None:
        return None
    output = table_ref(target)
    # ClickHouse ``CREATE MATERIALIZED VIEW mv TO target AS SELECT``: rows go to ``target``.
    to_table = _property(statement, exp.ToTableProperty)
    if to_table is not None and isinstance(to_table.this, exp.Table):
        output = qualified_table(
            to_table.this, options.dialect, options.database, options.schema_name
        )
    query = _unwrap(statement.expression) if statement.expression else None
    if isinstance(query, exp.Query):
        return _query_lineage(query, output, columns, options)
    read: list[exp.Table] = []
    like = _property(statement, exp.LikeProperty)
    if like is not None and isinstance(like.this, exp.Table):
        read.append(like.this)
    clone = statement.args.get("clone")
    if isinstance(clone, exp.Clone) and isinstance(clone.this, exp.Table):
        read.append(clone.this)
    if query is not None:  # INSERT ... VALUES: tables read by subqueries among the values
        read += [table for table in query.find_all(exp.Table) if is_physical_table(table)]
    inputs = {
        qualified_table(table, options.dialect, options.database, options.schema_name)
        for table in read
    }
    return StatementLineage(inputs=frozenset(inputs), outputs=frozenset({output}))


def _query_lineage(
    query: exp.Query,
    output: TableRef | None,
    columns: list[str],
    options: QualifyOptions,
    *,
    skip_target_inputs: bool = False,
) -> StatementLineage:
    root = build_scope(query)
    if root is None:
        return StatementLineage(
            inputs=_tables_in(query), outputs=frozenset({output} if output else ())
        )
    inputs = frozenset(
        ref for scope in root.traverse() for ref in physical_sources(scope, options.schema_name)
    )
    if skip_target_inputs and output is not None:
        inputs = inputs - {output}
    tracer = ColumnTracer(options.schema, options.dialect)
    entries = _entries(root, tracer, output, columns, options.dialect)
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
        edges = tuple(
            ColumnInput(column=ref, transformations=resolved[ref])
            for ref in sorted(resolved, key=ColumnRef.sort_key)
        )
        entries.append(
            ColumnLineageEntry(
                output_column=name,
                inputs=tuple(edge.column for edge in edges),
                transformation=_overall(edges),
                description=projection.unalias().sql(dialect=dialect),
                output_table=output,
                edges=edges,
            )
        )
    return entries


def _overall(edges: Iterable[ColumnInput]) -> str:
    """The strongest DIRECT subtype of a column's edges; TRANSFORMATION when none is direct
    (the value is computed, from conditions or a window's order only)."""
    subtypes = [t.subtype for edge in edges for t in edge.transformations if t.type == DIRECT]
    if not subtypes:
        return TRANSFORMATION
    result = IDENTITY
    for subtype in subtypes:
        result = strongest(result, subtype)
    return result


def _tables_in(expression: exp.Expr) -> frozenset[TableRef]:
    ctes = {cte.alias_or_name for cte in expression.find_all(exp.CTE)}
    return frozenset(
        table_ref(table)
        for table in expression.find_all(exp.Table)
        if is_physical_table(table) and not (table.name in ctes and not table.db)
    )


def _delete_tables(statement: exp.Delete) -> StatementLineage | None:
    target, _ = _target(statement)
    if target is None:
        return None
    output = table_ref(target)
    return StatementLineage(inputs=_tables_in(statement) - {output}, outputs=frozenset({output}))


def _ddl_lineage(
    statement: exp.Drop | exp.TruncateTable | exp.Alter, options: QualifyOptions
) -> StatementLineage | None:
    def ref(table: exp.Table) -> TableRef:
        return qualified_table(table, options.dialect, options.database, options.schema_name)

    if isinstance(statement, exp.Drop):
        kind = statement.text("kind").upper()
        if kind not in {"TABLE", "VIEW", "MATERIALIZED VIEW", "DYNAMIC TABLE", ""}:
            return None  # DROP SCHEMA / DATABASE / FUNCTION ... name no table
        tables = statement.args.get("tables") or [statement.this]
        dropped = frozenset(ref(t) for t in tables if isinstance(t, exp.Table))
        return StatementLineage(inputs=frozenset(), outputs=dropped) if dropped else None
    if isinstance(statement, exp.TruncateTable):
        truncated = frozenset(ref(t) for t in statement.expressions if isinstance(t, exp.Table))
        return StatementLineage(inputs=frozenset(), outputs=truncated) if truncated else None
    if not isinstance(statement.this, exp.Table):
        return None
    altered = ref(statement.this)
    for action in statement.args.get("actions") or []:
        if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
            new = action.this
            renamed = ref(new) if new.db else attrs.evolve(altered, name=ref(new).name)
            return StatementLineage(inputs=frozenset({altered}), outputs=frozenset({renamed}))
    return StatementLineage(inputs=frozenset(), outputs=frozenset({altered}))


def _update_lineage(update: exp.Update, options: QualifyOptions) -> StatementLineage | None:
    target, _ = _target(update)
    if target is None:
        return None
    names, values = _assignments(update.expressions)
    sources: list[exp.Expr] = []
    from_clause = update.args.get("from_")
    if isinstance(from_clause, exp.From):
        sources.append(from_clause.this)
    sources += update.args.get("joins") or []
    aliased = _aliased_source(target, sources)
    # Built node by node: sqlglot's builder methods copy the whole query at every step.
    query = exp.Select(expressions=_aliased(names, values) or [exp.Star()])
    query.set("from_", exp.From(this=(aliased or target).copy()))
    for source in sources:
        if source is not aliased:
            join = source.copy() if isinstance(source, exp.Join) else exp.Join(this=source.copy())
            query.append("joins", join)
    if update.args.get("where"):
        query.set("where", update.args["where"].copy())
    if update.args.get("with_"):  # WITH c AS (...) UPDATE t ... FROM c: c is no table
        query.set("with_", update.args["with_"].copy())
    # The target is read too: its rows are the ones updated, and SET may use its values.
    lineage, _ = _traced_query(query, options)
    return lineage


def _aliased_source(target: exp.Table, sources: list[exp.Expr]) -> exp.Table | None:
    """SQL Server's ``UPDATE x SET ... FROM t AS x``: the target is the FROM table aliased x."""
    if target.db:
        return None
    for source in sources:
        table = source.this if isinstance(source, exp.Join) else source
        if isinstance(table, exp.Table) and table.alias == target.name:
            return table
    return None


def _traced_query(
    query: exp.Select, options: QualifyOptions
) -> tuple[StatementLineage, TableRef | None]:
    """Lineage of a query built from an UPDATE or MERGE: its FROM table is the output."""
    _prepare(query, options)
    qualified = _qualify(query, options)
    assert isinstance(qualified, exp.Query)  # qualify keeps the node's type
    from_clause = qualified.args.get("from_")
    target = from_clause.this if isinstance(from_clause, exp.From) else None
    output = table_ref(target) if isinstance(target, exp.Table) else None
    return _query_lineage(qualified, output, [], options), output


def _aliased(names: list[exp.Identifier], values: list[exp.Expr]) -> list[exp.Expr]:
    # The assigned column's identifier (quoted or not) names the output column, so the
    # dialect's normalization applies to it as to any other name.
    return [exp.Alias(this=value, alias=name) for name, value in zip(names, values, strict=True)]


def _assignments(
    expressions: Iterable[exp.Expr],
) -> tuple[list[exp.Identifier], list[exp.Expr]]:
    names: list[exp.Identifier] = []
    values: list[exp.Expr] = []
    for assignment in expressions:
        if isinstance(assignment, exp.EQ) and isinstance(assignment.this, exp.Column):
            names.append(assignment.this.this.copy())
            values.append(assignment.expression.copy())
    return names, values


def _merge_lineage(merge: exp.Merge, options: QualifyOptions) -> StatementLineage | None:
    target, _ = _target(merge)
    source = merge.args.get("using")
    if target is None or not isinstance(source, exp.Expr):
        return None
    names, values = _merge_assignments(merge, source)
    # Evaluate the assigned values as the projections of a query over the target joined
    # to the source; the aliases the MERGE uses resolve the same way there.
    on = merge.args.get("on")
    query = exp.Select(expressions=_aliased(names, values) or [exp.Star()])
    query.set("from_", exp.From(this=target.copy()))
    join = exp.Join(this=source.copy(), on=on.copy() if isinstance(on, exp.Expr) else None)
    query.append("joins", join)
    lineage, output = _traced_query(query, options)
    # The target is in the built query's FROM; it is an input only where the source or
    # a condition reads it as well.
    target_reads = sum(1 for table in query.find_all(exp.Table) if table.name == target.name)
    inputs = lineage.inputs if target_reads > 1 or output is None else lineage.inputs - {output}
    return attrs.evolve(
        lineage, inputs=inputs, column_lineage=lineage.column_lineage if values else ()
    )


def _merge_assignments(
    merge: exp.Merge, source: exp.Expr
) -> tuple[list[exp.Identifier], list[exp.Expr]]:
    names: list[exp.Identifier] = []
    values: list[exp.Expr] = []
    source_name = source.alias_or_name
    whens = merge.args.get("whens")
    for when in whens.expressions if isinstance(whens, exp.Whens) else []:
        action = when.args.get("then")
        if isinstance(action, exp.Update):
            more_names, more_values = _assignments(action.expressions)
            names += more_names
            values += more_values
        elif isinstance(action, exp.Insert) and isinstance(action.this, exp.Tuple):
            inserted = action.expression
            if isinstance(inserted, exp.Tuple):
                for column, value in zip(
                    action.this.expressions, inserted.expressions, strict=False
                ):
                    identifier = column.this if isinstance(column, exp.Column) else column
                    names.append(identifier.copy())
                    values.append(_from_source(value.copy(), source_name))
    return names, values


def _from_source(value: exp.Expr, source_name: str) -> exp.Expr:
    # WHEN NOT MATCHED THEN INSERT reads only the source row: its unqualified columns are
    # the source's, whatever columns the target has.
    if not source_name:
        return value
    for column in list(value.find_all(exp.Column)):
        if not column.table and not isinstance(column.this, exp.Star):
            column.set("table", exp.to_identifier(source_name))
    return value


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
        merged: dict[ColumnRef, ColumnInput] = {edge.column: edge for edge in previous.edges}
        for edge in entry.edges:
            earlier = merged.get(edge.column)
            both = (*earlier.transformations, *edge.transformations) if earlier else ()
            merged[edge.column] = (
                attrs.evolve(edge, transformations=combine(both)) if earlier else edge
            )
        edges = tuple(merged[ref] for ref in sorted(merged, key=ColumnRef.sort_key))
        by_name[entry.output_column] = attrs.evolve(
            previous,
            inputs=tuple(edge.column for edge in edges),
            transformation=_overall(edges),
            description=f"{previous.description}; {entry.description}",
            edges=edges,
        )
    return tuple(by_name.values())
