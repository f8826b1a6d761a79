"""The ``columnLineage`` facet of an asset's parsed SQL, and the transformation types it
lends to the column lineage an asset declares (``dagster/column_lineage``). Pure functions.

Each input field carries its own OpenLineage transformations (DIRECT IDENTITY /
TRANSFORMATION / AGGREGATION with ``masking``, INDIRECT CONDITIONAL / WINDOW ... for that
column); the columns that join, filter, group or sort the whole output go to the facet's
``dataset`` list (ColumnLineageDatasetFacet 1-2-0), as INDIRECT with their subtypes.

Dagster's ``TableColumnLineage`` says which upstream columns a column depends on, not how:
dagster-dbt computes it from the same compiled SQL. When the asset also has SQL, the
declared edges keep their names and take the parsed SQL's transformations; a declared edge
the SQL does not show keeps none (the facet claims nothing it does not know).
"""

from __future__ import annotations

from collections.abc import Callable

from openlineage.client.facet_v2 import column_lineage_dataset

from ol_bridge import PRODUCER
from ol_bridge.naming import DatasetId
from ol_bridge.sql import ColumnRef, SqlLineage, TableRef, Transformation

#: (input namespace, input name, input field) of one input field.
_EdgeKey = tuple[str, str, str]


def sql_column_lineage(
    parsed: SqlLineage,
    dataset_of: Callable[[TableRef], DatasetId],
    column_of: Callable[[str], str],
) -> column_lineage_dataset.ColumnLineageDatasetFacet | None:
    """The facet of parsed SQL; None when it gives no column lineage at all."""

    def input_field(
        ref: ColumnRef, transformations: tuple[Transformation, ...]
    ) -> column_lineage_dataset.InputField:
        upstream = dataset_of(ref.table)
        return column_lineage_dataset.InputField(
            namespace=upstream.namespace,
            name=upstream.name,
            field=column_of(ref.column),
            transformations=[_transformation(item) for item in transformations],
        )

    fields: dict[str, column_lineage_dataset.Fields] = {}
    for entry in parsed.column_lineage:
        inputs = [input_field(edge.column, edge.transformations) for edge in entry.edges]
        if inputs:
            fields[column_of(entry.output_column)] = column_lineage_dataset.Fields(
                inputFields=inputs
            )
    if not fields:
        return None
    by_column: dict[ColumnRef, list[Transformation]] = {}
    for item in parsed.indirect_inputs:
        by_column.setdefault(item.column, []).append(
            Transformation(item.transformation_type, item.subtype)
        )
    dataset = [input_field(ref, tuple(sorted(set(kinds)))) for ref, kinds in by_column.items()]
    return column_lineage_dataset.ColumnLineageDatasetFacet(
        fields=fields, dataset=dataset or None, producer=PRODUCER
    )


def with_sql_transformations(
    declared: column_lineage_dataset.ColumnLineageDatasetFacet,
    parsed: column_lineage_dataset.ColumnLineageDatasetFacet,
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """The declared column lineage, each edge with the transformations the SQL gives it,
    and the SQL's dataset-wide INDIRECT inputs."""
    known: dict[tuple[str, _EdgeKey], list[column_lineage_dataset.Transformation] | None] = {
        (column, _key(item)): item.transformations
        for column, spec in parsed.fields.items()
        for item in spec.inputFields
    }
    fields = {
        column: column_lineage_dataset.Fields(
            inputFields=[
                column_lineage_dataset.InputField(
                    namespace=item.namespace,
                    name=item.name,
                    field=item.field,
                    transformations=known.get((column, _key(item))) or None,
                )
                for item in spec.inputFields
            ],
            transformationDescription=spec.transformationDescription,
            transformationType=spec.transformationType,
        )
        for column, spec in declared.fields.items()
    }
    return column_lineage_dataset.ColumnLineageDatasetFacet(
        fields=fields, dataset=declared.dataset or parsed.dataset, producer=PRODUCER
    )


def _key(item: column_lineage_dataset.InputField) -> _EdgeKey:
    return (item.namespace, item.name, item.field)


def _transformation(item: Transformation) -> column_lineage_dataset.Transformation:
    return column_lineage_dataset.Transformation(
        type=item.type, subtype=item.subtype, masking=item.masking
    )
