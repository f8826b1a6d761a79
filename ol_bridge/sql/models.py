"""Plain data that SQL lineage extraction returns.

The vocabulary follows OpenLineage's ``columnLineage`` dataset facet (1-2-0). Each input
column of an output column (a :class:`ColumnInput`) carries its transformations: at most
one ``DIRECT`` one (``IDENTITY``, ``TRANSFORMATION`` or ``AGGREGATION``, and whether it
masks the value) and any ``INDIRECT`` ones that concern that output column alone
(``CONDITIONAL``, ``WINDOW``, ``FILTER`` or ``SORT`` inside an aggregate). Columns that
join, filter, group or sort the rows of the whole output are the dataset's
:class:`IndirectInput` columns.
"""

from __future__ import annotations

from collections.abc import Iterable

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
#: The input decides which branch of a CASE, IF or COALESCE gives the output value.
CONDITIONAL = "CONDITIONAL"
#: The input partitions or orders the window an output value is computed over.
WINDOW = "WINDOW"

# How much a value changes along a chain of projections; the strongest step wins.
_DIRECT_RANK = {IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2}


def strongest(first: str, second: str) -> str:
    """The DIRECT subtype of a value that went through ``first`` and then ``second``."""
    return first if _DIRECT_RANK[first] >= _DIRECT_RANK[second] else second


@attrs.frozen(order=True)
class Transformation:
    """How one input column reaches one output column (OpenLineage's ``transformations``).

    ``masking``: the output does not reveal the input's values (a hash, an encryption, a
    count), as OpenLineage's Spark integration judges it.
    """

    type: str
    subtype: str
    masking: bool = False


#: A column read as is: DIRECT, IDENTITY, not masked.
IDENTITY_TRANSFORMATION = Transformation(DIRECT, IDENTITY)


def combine(transformations: Iterable[Transformation]) -> tuple[Transformation, ...]:
    """The transformations of one edge reached along several paths, in a stable order.

    One DIRECT transformation is kept: the strongest subtype, masking only when every
    direct path masks (one plain path shows the value). INDIRECT ones are kept by subtype.
    """
    direct: list[Transformation] = []
    indirect: set[Transformation] = set()
    for item in transformations:
        if item.type == DIRECT:
            direct.append(item)
        else:
            indirect.add(Transformation(INDIRECT, item.subtype))
    merged: list[Transformation] = []
    if direct:
        subtype = IDENTITY
        for item in direct:
            subtype = strongest(subtype, item.subtype)
        merged.append(Transformation(DIRECT, subtype, all(item.masking for item in direct)))
    return (*merged, *sorted(indirect))


def chain(outer: Transformation, inner: Transformation) -> Transformation:
    """The transformation of ``inner`` followed by ``outer`` (a CTE's column used outside).

    OpenLineage's rule: an INDIRECT step decides (the outer one first); two DIRECT steps
    give the strongest subtype, masked when either step masks.
    """
    if outer.type == INDIRECT:
        return outer
    if inner.type == INDIRECT:
        return inner
    return Transformation(
        DIRECT, strongest(outer.subtype, inner.subtype), outer.masking or inner.masking
    )


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
class ColumnInput:
    """One input column of an output column and how it reaches it."""

    column: ColumnRef
    transformations: tuple[Transformation, ...]


@attrs.frozen
class ColumnLineageEntry:
    """Where one output column's value comes from.

    ``edges`` gives each input column's own transformations; ``inputs`` are their columns.
    ``transformation`` sums the column up: the strongest DIRECT subtype of its edges
    (IDENTITY when every input passes through unchanged), TRANSFORMATION when no input
    is direct (a CASE over conditions only, a window rank). ``description`` is the
    projection's SQL (dialect-normalized).
    """

    output_column: str
    inputs: tuple[ColumnRef, ...]
    transformation: str
    transformation_type: str = DIRECT
    description: str = ""
    #: The table the column is written to; None for a bare query.
    output_table: TableRef | None = None
    edges: tuple[ColumnInput, ...] = ()


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
