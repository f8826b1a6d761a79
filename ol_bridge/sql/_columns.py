"""Walk the scopes of one qualified query and resolve columns to physical table columns.

One :class:`ColumnTracer` serves one statement: it memoizes what each (scope, column)
resolves to, so a chain of CTEs is walked once however many output columns use it.
This replaces ``sqlglot.lineage.lineage`` per column, which would qualify the query
again on every call.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, find_all_in_scope

from ol_bridge.sql.models import (
    AGGREGATION,
    FILTER,
    GROUP_BY,
    IDENTITY,
    JOIN,
    SORT,
    TRANSFORMATION,
    ColumnRef,
    IndirectInput,
    TableRef,
    strongest,
)

#: Resolved inputs of one expression: physical column -> OpenLineage DIRECT subtype.
Resolved = dict[ColumnRef, str]


def table_ref(table: exp.Table) -> TableRef:
    """The :class:`TableRef` of a (qualified) sqlglot table node."""
    return TableRef(database=table.catalog or None, schema=table.db or None, name=table.name)


def is_physical_table(table: exp.Table) -> bool:
    """Whether a table node names a stored table rather than a table function."""
    return isinstance(table.this, exp.Identifier) and bool(table.name)


def _merge(into: Resolved, ref: ColumnRef, subtype: str) -> None:
    into[ref] = strongest(into[ref], subtype) if ref in into else subtype


def _own_subtype(projection: exp.Expr) -> str:
    """How one projection changes its input columns, ignoring deeper scopes."""
    value = projection.unalias()
    if isinstance(value, exp.Column):
        return IDENTITY
    if any(True for _ in find_all_in_scope(value, exp.AggFunc)):
        return AGGREGATION
    return TRANSFORMATION


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
    """Resolves the columns of one qualified statement, memoizing per scope."""

    def __init__(self) -> None:
        self._by_name: dict[tuple[int, str], Resolved] = {}
        self._by_index: dict[tuple[int, int], Resolved] = {}

    def trace_expression(self, expression: exp.Expr, scope: Scope) -> Resolved:
        """Physical columns an expression evaluated in ``scope`` reads, with subtypes."""
        own = _own_subtype(expression)
        result: Resolved = {}
        for column in find_all_in_scope(expression, exp.Column):
            if isinstance(column.this, exp.Star):
                continue
            for ref, subtype in self._trace_column(column, scope).items():
                _merge(result, ref, strongest(own, subtype))
        for subquery_scope in _subquery_scopes_in(expression, scope):
            # A subquery's value is never the bare input column.
            for index in range(len(projections(subquery_scope))):
                for ref, subtype in self.trace_index(subquery_scope, index).items():
                    _merge(result, ref, strongest(TRANSFORMATION, subtype))
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
                for ref, subtype in self.trace_index(branch, index).items():
                    _merge(result, ref, subtype)
            return result
        if scope.subquery_scopes and isinstance(scope.expression, exp.Subquery):
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
        selects = projections(scope)
        for index, select in enumerate(selects):
            if select.alias_or_name == name and not _is_star(select):
                return self.trace_index(scope, index)
        if any(_is_star(select) for select in selects) and not scope.set_operation_scopes:
            # ``SELECT *`` without a known schema: a column we cannot see in the
            # projection can still be traced when the star reads from a single source.
            named = [source_name for source_name in scope.sources if source_name]
            if len(named) == 1:
                return self._trace_column(exp.column(name, table=named[0]), scope)
        return {}

    def _trace_column(self, column: exp.Column, scope: Scope) -> Resolved:
        source = _source_of(column, scope)
        if isinstance(source, exp.Table):
            if not is_physical_table(source):
                return {}
            return {ColumnRef(table=table_ref(source), column=column.name): IDENTITY}
        if isinstance(source, Scope):
            return self.trace_name(source, column.name)
        return {}

    def indirect_inputs(self, root: Scope) -> list[IndirectInput]:
        """Columns that join, filter, group or sort rows anywhere in the query."""
        found: dict[tuple[ColumnRef, str], None] = {}
        for scope in root.traverse():
            for subtype, clause in _row_shaping_clauses(scope.expression):
                for ref in self.trace_expression(clause, scope):
                    found[(ref, subtype)] = None
        return [IndirectInput(column=ref, subtype=subtype) for ref, subtype in found]


def _source_of(column: exp.Column, scope: Scope) -> exp.Table | Scope | None:
    table = column.table
    if not table:
        # The optimizer leaves a column unqualified when it has no schema to decide
        # between several sources; with only one source there is nothing to decide.
        named = [name for name in scope.sources if name]
        return scope.sources[named[0]] if len(named) == 1 else None
    current: Scope | None = scope
    while current is not None:  # correlated subqueries read sources of outer scopes
        if table in current.sources:
            return current.sources[table]
        current = current.parent
    return None


def _subquery_scopes_in(expression: exp.Expr, scope: Scope) -> list[Scope]:
    by_id = {id(child.expression): child for child in scope.subquery_scopes}
    found = find_all_in_scope(expression, exp.Select, exp.SetOperation)
    return [by_id[id(query)] for query in found if id(query) in by_id]


def _row_shaping_clauses(expression: exp.Expr) -> list[tuple[str, exp.Expr]]:
    if not isinstance(expression, exp.Select):
        return []
    clauses: list[tuple[str, exp.Expr]] = []
    for join in expression.args.get("joins") or []:
        # The optimizer has already rewritten ``USING (...)`` into an ``ON`` condition.
        if isinstance(join.args.get("on"), exp.Expr):
            clauses.append((JOIN, join.args["on"]))
    for key, subtype in (("where", FILTER), ("having", FILTER), ("group", GROUP_BY)):
        if expression.args.get(key):
            clauses.append((subtype, expression.args[key]))
    if expression.args.get("order"):
        clauses.append((SORT, expression.args["order"]))
    return clauses
