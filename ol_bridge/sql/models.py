"""Plain data that SQL lineage extraction returns.

The vocabulary of :class:`ColumnLineageEntry` follows OpenLineage's ``columnLineage``
dataset facet (1-2-0): every input field of an output column carries a transformation
with ``type`` ``DIRECT`` and a ``subtype`` of ``IDENTITY``, ``TRANSFORMATION`` or
``AGGREGATION``; columns that only filter, join, group or sort rows are ``INDIRECT``
dependencies of the whole dataset.
"""

from __future__ import annotations

import attrs

#: OpenLineage transformation type of a column that feeds an output column's value.
DIRECT = "DIRECT"
#: OpenLineage transformation type of a column that only shapes which rows are produced.
INDIRECT = "INDIRECT"

#: The output column is the input column, unchanged.
IDENTITY = "IDENTITY"
#: The output column is computed from the input column row by row.
TRANSFORMATION = "TRANSFORMATION"
#: The output column aggregates the input column over several rows.
AGGREGATION = "AGGREGATION"

#: INDIRECT subtypes, named as in OpenLineage's column lineage documentation.
JOIN = "JOIN"
FILTER = "FILTER"
GROUP_BY = "GROUP_BY"
SORT = "SORT"

# How much a value changes along a chain of projections; the strongest step wins.
_DIRECT_RANK = {IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2}


def strongest(first: str, second: str) -> str:
    """The DIRECT subtype of a value that went through ``first`` and then ``second``."""
    return first if _DIRECT_RANK[first] >= _DIRECT_RANK[second] else second


@attrs.frozen
class TableRef:
    """A table as written in SQL, after the dialect's identifier normalization.

    ``database`` is the top level (Snowflake database, BigQuery project, Trino catalog,
    Postgres database), ``schema`` the middle one (MySQL and Hive call it database).
    """

    database: str | None
    schema: str | None
    name: str

    @property
    def qualified_name(self) -> str:
        """``database.schema.name``, leaving out the parts that are unknown."""
        return ".".join(part for part in (self.database, self.schema, self.name) if part)

    def sort_key(self) -> tuple[str, str, str]:
        """A total order for stable output (unknown parts sort first)."""
        return (self.database or "", self.schema or "", self.name)


@attrs.frozen
class ColumnRef:
    """A column of a physical table."""

    table: TableRef
    column: str

    def sort_key(self) -> tuple[str, str, str, str]:
        """A total order for stable output."""
        return (*self.table.sort_key(), self.column)


@attrs.frozen
class ColumnLineageEntry:
    """Where one output column's value comes from.

    ``transformation`` is the OpenLineage DIRECT subtype of the whole column: IDENTITY
    when every input passes through unchanged, AGGREGATION when any input was
    aggregated, TRANSFORMATION otherwise. ``description`` is the projection's SQL
    (dialect-normalized).
    """

    output_column: str
    inputs: tuple[ColumnRef, ...]
    transformation: str
    transformation_type: str = DIRECT
    description: str = ""
    #: The table the column is written to; None for a bare query.
    output_table: TableRef | None = None


@attrs.frozen
class IndirectInput:
    """A column that decides which rows an output holds (a join key, a filter, ...)."""

    column: ColumnRef
    subtype: str
    transformation_type: str = INDIRECT


@attrs.frozen
class SqlLineage:
    """Table and column lineage of one SQL text (all of its statements together).

    ``outputs`` is empty for a bare query; then ``column_lineage`` is keyed by the
    query's own output column names. Tables come sorted and without duplicates, so
    equal SQL gives equal results.
    """

    inputs: tuple[TableRef, ...]
    outputs: tuple[TableRef, ...]
    column_lineage: tuple[ColumnLineageEntry, ...]
    dialect: str | None
    indirect_inputs: tuple[IndirectInput, ...] = ()
