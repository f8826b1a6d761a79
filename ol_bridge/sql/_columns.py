"""Walk the scopes of one qualified query and resolve columns to physical table columns.

One :class:`ColumnTracer` serves one statement: it memoizes what each (scope, column)
resolves to, so a chain of CTEs is walked once however many output columns use it.
This replaces ``sqlglot.lineage.lineage`` per column, which would qualify the query
again on every call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, find_all_in_scope
from sqlglot.schema import MappingSchema

from ol_bridge.sql._transformations import position_transformations
from ol_bridge.sql.models import (
    DIRECT,
    FILTER,
    GROUP_BY,
    IDENTITY_TRANSFORMATION,
    JOIN,
    SORT,
    TRANSFORMATION,
    ColumnRef,
    IndirectInput,
    TableRef,
    Transformation,
    chain,
    combine,
)

_PARTITION_DECORATOR = re.compile(r"\$(\d+|__UNPARTITIONED__|__NULL__)$")

#: Resolved inputs of one expression: physical column -> how it reaches the expression.
Resolved = dict[ColumnRef, tuple[Transformation, ...]]

_READ_AS_IS: tuple[Transformation, ...] = (IDENTITY_TRANSFORMATION,)
_DICTIONARY_LOOKUP: tuple[Transformation, ...] = (Transformation(DIRECT, TRANSFORMATION),)


def table_ref(table: exp.Table) -> TableRef:
    """The :class:`TableRef` of a (qualified) sqlglot table node."""
    # BigQuery partition decorator: ``t$20230101`` is a partition of ``t``.
    name = _PARTITION_DECORATOR.sub("", table.name) or table.name
    return TableRef(database=table.catalog or None, schema=table.db or None, name=name)


def is_physical_table(table: exp.Table) -> bool:
    """Whether a table node names a stored table rather than a table function."""
    return isinstance(table.this, exp.Identifier) and bool(table.name)


def read_table(table: exp.Table) -> exp.Table | None:
    """The stored table a FROM item reads: itself, or the table inside SEMANTIC_VIEW(...)
    (Snowflake) or ML.PREDICT(MODEL m, TABLE t) (BigQuery), whose columns pass through."""
    if is_physical_table(table):
        return table
    inner = table.this
    if isinstance(inner, exp.SemanticView) and isinstance(inner.this, exp.Table):
        return inner.this
    if isinstance(inner, exp.Predict) and isinstance(inner.expression, exp.Table):
        return inner.expression
    return None


def _is_dict_get(node: exp.Expr) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower().startswith("dictget")


def dictionary_ref(call: exp.Anonymous, default_schema: str | None) -> TableRef | None:
    """The dictionary ClickHouse's ``dictGet*(db.dict, 'attr', key)`` reads."""
    first = call.expressions[0] if call.expressions else None
    if isinstance(first, exp.Column):
        parts = [part for part in (first.table, first.name) if part]
    elif isinstance(first, exp.Literal) and first.is_string:
        parts = first.this.split(".")
    else:
        return None
    schema = parts[-2] if len(parts) > 1 else default_schema
    return TableRef(database=None, schema=schema, name=parts[-1])


def physical_sources(scope: Scope, default_schema: str | None) -> Iterator[TableRef]:
    """The stored tables (and ClickHouse dictionaries) one scope reads."""
    for source in scope.sources.values():
        if isinstance(source, exp.Table):
            table = read_table(source)
            if table is not None:
                yield table_ref(table)
            if isinstance(source.this, exp.Predict) and isinstance(source.this.this, exp.Table):
                yield table_ref(source.this.this)  # the model
            continue
    for call in find_all_in_scope(scope.expression, exp.Anonymous):
        if _is_dict_get(call) and (ref := dictionary_ref(call, default_schema)) is not None:
            yield ref


def _merge(into: Resolved, ref: ColumnRef, transformations: tuple[Transformation, ...]) -> None:
    into[ref] = combine((*into[ref], *transformations)) if ref in into else transformations


def _chained(
    outer: tuple[Transformation, ...], inner: tuple[Transformation, ...]
) -> tuple[Transformation, ...]:
    if inner == _READ_AS_IS:
        return outer
    return combine(chain(o, i) for o in outer for i in inner)


def _is_star(projection: exp.Expr) -> bool:
    value = projection.unalias()
    return isinstance(value, exp.Star) or (
        isinstance(value, exp.Column) and isinstance(value.this, exp.Star)
    )


def projections(scope: Scope) -> list[exp.Expr]:
    """The projections of a query scope (the left-most branch of a set operation)."""
    expression = scope.expression
    while isinstance(expression, exp.SetOperation):
        expression = expression.left
    while isinstance(expression, exp.Subquery):
        expression = expression.this
    return list(expression.selects) if isinstance(expression, exp.Select) else []


class ColumnTracer:
    """Resolves the columns of one qualified statement, memoizing per scope.

    With a column schema, a column the schema does not list for its table is left out:
    the database would reject it, so it is a typo or a name sqlglot misread, not lineage.
    """

    def __init__(self, schema: MappingSchema | None = None, dialect: str | None = None) -> None:
        self._schema = schema
        self._dialect = dialect
        self._by_name: dict[tuple[int, str], Resolved] = {}
        self._by_index: dict[tuple[int, int], Resolved] = {}
        self._known: dict[TableRef, frozenset[str] | None] = {}

    def trace_expression(self, expression: exp.Expr, scope: Scope) -> Resolved:
        """Physical columns an expression evaluated in ``scope`` reads, each with how it
        reaches the expression's value."""
        result: Resolved = {}
        for column in find_all_in_scope(expression, exp.Column):
            if isinstance(column.this, exp.Star) or _is_dictionary_argument(column):
                continue
            resolved = self._trace_column(column, scope)
            if resolved:
                here = position_transformations(column, expression)
                for ref, inner in resolved.items():
                    _merge(result, ref, _chained(here, inner))
        for call in find_all_in_scope(expression, exp.Anonymous):
            if _is_dict_get(call):
                here = position_transformations(call, expression, at_least=TRANSFORMATION)
                for ref in _dictionary_attributes(call):
                    _merge(result, ref, _chained(here, _DICTIONARY_LOOKUP))
        for query, subquery_scope in _subquery_scopes_in(expression, scope):
            # A subquery's value is never the bare input column.
            here = position_transformations(query, expression, at_least=TRANSFORMATION)
            for index in range(len(projections(subquery_scope))):
                for ref, inner in self.trace_index(subquery_scope, index).items():
                    _merge(result, ref, _chained(here, inner))
        return result

    def trace_index(self, scope: Scope, index: int) -> Resolved:
        """Physical columns behind the ``index``-th output column of a query scope."""
        key = (id(scope), index)
        if key not in self._by_index:
            self._by_index[key] = {}  # guards against self-reference (recursive CTEs)
            self._by_index[key] = self._trace_index_uncached(scope, index)
        return self._by_index[key]

    def _trace_index_uncached(self, scope: Scope, index: int) -> Resolved:
        if scope.set_operation_scopes:
            result: Resolved = {}
            for branch in scope.set_operation_scopes:
                for ref, transformations in self.trace_index(branch, index).items():
                    _merge(result, ref, transformations)
            return result
        if scope.subquery_scopes and isinstance(scope.expression, (exp.Subquery, exp.Lateral)):
            return self.trace_index(scope.subquery_scopes[0], index)
        selects = projections(scope)
        if index >= len(selects) or _is_star(selects[index]):
            return {}
        return self.trace_expression(selects[index], scope)

    def trace_name(self, scope: Scope, name: str) -> Resolved:
        """Physical columns behind the output column ``name`` of a query scope."""
        key = (id(scope), name)
        if key not in self._by_name:
            self._by_name[key] = {}  # guards against self-reference (recursive CTEs)
            self._by_name[key] = self._trace_name_uncached(scope, name)
        return self._by_name[key]

    def _trace_name_uncached(self, scope: Scope, name: str) -> Resolved:
        if scope.subquery_scopes and isinstance(scope.expression, exp.Lateral):
            return self.trace_name(scope.subquery_scopes[0], name)  # LATERAL (SELECT ...)
        if scope.set_operation_scopes:
            # A set operation's columns are named by its first branch, matched by position.
            selects = projections(scope)
            for index, select in enumerate(selects):
                if select.alias_or_name == name and not _is_star(select):
                    return self.trace_index(scope, index)
            result: Resolved = {}
            for branch in scope.set_operation_scopes:
                for ref, transformations in self.trace_name(branch, name).items():
                    _merge(result, ref, transformations)
            return result
        selects = projections(scope)
        for index, select in enumerate(selects):
            if select.alias_or_name == name and not _is_star(select):
                return self.trace_index(scope, index)
        stars = [select.unalias() for select in selects if _is_star(select)]
        if stars:
            # ``SELECT *`` without a known schema: a column we cannot see in the
            # projection can still be traced to the star's source, when there is one.
            for star in stars:
                qualifier = star.table if isinstance(star, exp.Column) else ""
                named = [qualifier] if qualifier else list(_selected(scope))
                candidates = [n for n in named if self._may_have(scope, n, name)]
                if len(candidates) == 1:
                    return self._trace_column(exp.column(name, table=candidates[0]), scope)
        return {}

    def _trace_column(self, column: exp.Column, scope: Scope) -> Resolved:
        source, path = _source_of(column, scope, self)
        if isinstance(source, exp.Table):
            table = read_table(source)
            if table is None:
                return {}
            ref = table_ref(table)
            if not self._has_column(ref, path[0]):
                return {}
            return {ColumnRef(table=ref, column=".".join(path)): _READ_AS_IS}
        if isinstance(source, Scope):
            return self.trace_name(source, path[0])
        return {}

    def _columns_of(self, ref: TableRef) -> frozenset[str] | None:
        """Lower-cased column names the schema gives for a table; None when it has none."""
        if ref not in self._known:
            known: frozenset[str] | None = None
            if self._schema is not None:
                table = exp.Table(
                    this=exp.to_identifier(ref.name),
                    db=exp.to_identifier(ref.schema) if ref.schema else None,
                    catalog=exp.to_identifier(ref.database) if ref.database else None,
                )
                if self._schema.find(table, raise_on_missing=False) is not None:
                    names = self._schema.column_names(table, normalize=False)
                    known = frozenset(name.lower() for name in names)
            self._known[ref] = known
        return self._known[ref]

    def _has_column(self, ref: TableRef, column: str) -> bool:
        known = self._columns_of(ref)
        return known is None or column.lower() in known

    def _may_have(self, scope: Scope, source_name: str, column: str) -> bool:
        """Whether a source of ``scope`` may have ``column``: False only when its columns
        are known (a schema, or a derived table's explicit projection list) and it lacks it."""
        source = scope.sources.get(source_name)
        if isinstance(source, exp.Table):
            table = read_table(source)
            return table is not None and self._has_column(table_ref(table), column)
        if isinstance(source, Scope):
            selects = projections(source)
            if not selects or any(_is_star(select) for select in selects):
                return True
            return any(select.alias_or_name == column for select in selects)
        return False

    def indirect_inputs(self, root: Scope) -> list[IndirectInput]:
        """Columns that join, filter, group or sort rows anywhere in the query."""
        found: dict[tuple[ColumnRef, str], None] = {}
        for scope in root.traverse():
            for subtype, clause in _row_shaping_clauses(scope.expression):
                for ref in self.trace_expression(clause, scope):
                    found[(ref, subtype)] = None
                for index in _output_aliases_in(clause, scope):
                    for ref in self.trace_index(scope, index):
                        found[(ref, subtype)] = None
        return [IndirectInput(column=ref, subtype=subtype) for ref, subtype in found]


def _output_aliases_in(clause: exp.Expr, scope: Scope) -> list[int]:
    """Projections an ORDER BY (or QUALIFY, HAVING) names by their output alias: the
    optimizer leaves ``ORDER BY revenue`` as an unqualified column no source has."""
    if not isinstance(scope.expression, exp.Select):
        return []
    by_alias = {
        select.alias: index for index, select in enumerate(scope.expression.selects) if select.alias
    }
    found = []
    for column in find_all_in_scope(clause, exp.Column):
        if not column.table and column.name in by_alias:
            found.append(by_alias[column.name])
    return found


def _selected(scope: Scope) -> list[str]:
    """Names of the sources a scope's own FROM and JOINs select (not every visible CTE)."""
    names = [name for name in scope.selected_sources if name]
    return names or [name for name in scope.sources if name]


def _source_of(
    column: exp.Column, scope: Scope, tracer: ColumnTracer
) -> tuple[exp.Table | Scope | None, list[str]]:
    """The source a column reads and its path there (``[column]``, or a struct field path)."""
    path = [column.name, *_field_path(column)]
    table = column.table
    if not table:
        # The optimizer leaves a column unqualified when it has no schema to decide
        # between several sources; a single source, or a single one that can have the
        # column, decides.
        named = _selected(scope)
        if len(named) > 1:
            named = [name for name in named if tracer._may_have(scope, name, column.name)]
        return (scope.sources[named[0]] if len(named) == 1 else None), path
    found = _visible_source(table, scope)
    if found is not None:
        return found, path
    # ``widget.asset.id`` without a schema parses as column ``id`` of table ``asset`` in
    # schema ``widget``: when no source has that name, it is a struct field path.
    parts = [part for part in (column.catalog, column.db, column.table, column.name) if part]
    found = _visible_source(parts[0], scope)
    if found is not None:
        return found, parts[1:] + path[1:]
    named = _selected(scope)
    if len(named) == 1:
        return scope.sources[named[0]], parts + path[1:]
    return None, path


def _visible_source(name: str, scope: Scope) -> exp.Table | Scope | None:
    current: Scope | None = scope
    while current is not None:  # correlated subqueries read sources of outer scopes
        if name in current.sources:
            source = current.sources[name]
            return source if isinstance(source, (exp.Table, Scope)) else None
        current = current.parent
    return None


def _field_path(column: exp.Column) -> list[str]:
    """Struct fields read below a column: ``widget.asset.id`` -> ``["asset", "id"]``."""
    fields: list[str] = []
    node: exp.Expr = column
    while isinstance(node.parent, exp.Dot) and node.parent.this is node:
        node = node.parent
        fields.append(node.expression.name)
    return fields


def _is_dictionary_argument(column: exp.Column) -> bool:
    call = column.parent
    return (
        call is not None
        and _is_dict_get(call)
        and bool(call.expressions)
        and call.expressions[0] is column
    )


def _dictionary_attributes(call: exp.Anonymous) -> list[ColumnRef]:
    dictionary = dictionary_ref(call, None)
    attribute = call.expressions[1] if len(call.expressions) > 1 else None
    if dictionary is None or not (isinstance(attribute, exp.Literal) and attribute.is_string):
        return []
    return [ColumnRef(table=dictionary, column=attribute.this)]


def _subquery_scopes_in(expression: exp.Expr, scope: Scope) -> list[tuple[exp.Expr, Scope]]:
    by_id = {id(child.expression): child for child in scope.subquery_scopes}
    found = find_all_in_scope(expression, exp.Select, exp.SetOperation)
    return [(query, by_id[id(query)]) for query in found if id(query) in by_id]


def _row_shaping_clauses(expression: exp.Expr) -> list[tuple[str, exp.Expr]]:
    if not isinstance(expression, exp.Select):
        return []
    clauses: list[tuple[str, exp.Expr]] = []
    for join in expression.args.get("joins") or []:
        # The optimizer has already rewritten ``USING (...)`` into an ``ON`` condition.
        if isinstance(join.args.get("on"), exp.Expr):
            clauses.append((JOIN, join.args["on"]))
    for key, subtype in (
        ("where", FILTER),
        ("having", FILTER),
        ("qualify", FILTER),
        ("group", GROUP_BY),
    ):
        if expression.args.get(key):
            clauses.append((subtype, expression.args[key]))
    if expression.args.get("order"):
        clauses.append((SORT, expression.args["order"]))
    return clauses
