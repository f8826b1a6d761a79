"""Standard OpenLineage dataset facets from Dagster asset metadata. Pure functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dagster import AssetKey, TableColumnLineage, TableSchema
from openlineage.client.facet_v2 import (
    DatasetFacet,
    column_lineage_dataset,
    datasource_dataset,
    documentation_dataset,
    ownership_dataset,
    schema_dataset,
    tags_dataset,
)

from ol_bridge import PRODUCER
from ol_bridge.dagster.text import clean_text
from ol_bridge.naming import DatasetId, namespace_uri

#: Dagster tag prefixes that are Dagster's own bookkeeping, not user tags
_SYSTEM_TAG_PREFIXES = ("dagster/",)


def schema_facet(schema: TableSchema) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(
                name=column.name,
                type=column.type or None,
                description=column.description or None,
            )
            for column in schema.columns
        ],
        producer=PRODUCER,
    )


def column_lineage_facet(
    lineage: TableColumnLineage, dataset_of: Callable[[AssetKey], DatasetId]
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """``dagster/column_lineage`` -> columnLineage; upstream assets named like any asset.

    Dagster's lineage says which columns, not how: the edges carry no transformations
    (the asset's SQL, when it has some, lends them: ``sql_column_lineage``)."""
    fields: dict[str, column_lineage_dataset.Fields] = {}
    for column, deps in sorted(lineage.deps_by_column.items()):
        input_fields = []
        for dep in deps:
            upstream = dataset_of(dep.asset_key)
            input_fields.append(
                column_lineage_dataset.InputField(
                    namespace=upstream.namespace,
                    name=upstream.name,
                    field=dep.column_name,
                    transformations=None,
                )
            )
        if input_fields:
            fields[column] = column_lineage_dataset.Fields(inputFields=input_fields)
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields, producer=PRODUCER)


def datasource_facet(dataset: DatasetId) -> datasource_dataset.DatasourceDatasetFacet:
    # ``uri`` must be a URI (the spec's ``format: uri``): a bare namespace such as
    # ``snowflake`` has none to give (naming.namespace_uri; issue 12).
    return datasource_dataset.DatasourceDatasetFacet(
        name=dataset.namespace, uri=namespace_uri(dataset.namespace), producer=PRODUCER
    )


def documentation_facet(
    description: str | None,
) -> documentation_dataset.DocumentationDatasetFacet | None:
    if not description or not description.strip():
        return None
    return documentation_dataset.DocumentationDatasetFacet(
        description=clean_text(description.strip()), producer=PRODUCER
    )


def ownership_facet(owners: Sequence[str]) -> ownership_dataset.OwnershipDatasetFacet | None:
    """Dagster owners are emails or ``team:name``; OpenLineage wants ``user:``/``team:``."""
    if not owners:
        return None
    return ownership_dataset.OwnershipDatasetFacet(
        owners=[ownership_dataset.Owner(name=owner_name(owner)) for owner in owners],
        producer=PRODUCER,
    )


def owner_name(owner: str) -> str:
    return owner if ":" in owner else f"user:{owner}"


def tags_facet(
    tags: Mapping[str, str], kinds: Sequence[str] = ()
) -> tags_dataset.TagsDatasetFacet | None:
    fields = [
        tags_dataset.TagsDatasetFacetFields(key=key, value=value or "true", source="DAGSTER")
        for key, value in sorted(tags.items())
        if not key.startswith(_SYSTEM_TAG_PREFIXES)
    ]
    fields.extend(
        tags_dataset.TagsDatasetFacetFields(key="kind", value=kind, source="DAGSTER")
        for kind in sorted(kinds)
    )
    if not fields:
        return None
    return tags_dataset.TagsDatasetFacet(tags=fields, producer=PRODUCER)


def compact(facets: Mapping[str, DatasetFacet | None]) -> dict[str, Any]:
    """Drop facets that had nothing to say."""
    return {key: facet for key, facet in facets.items() if facet is not None}
