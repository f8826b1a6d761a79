"""Dataset-level pieces: ``schemaMetadata`` from the schema facet and column lineage edges."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import attrs
from datahub.metadata.schema_classes import (
    AuditStampClass,
    BooleanTypeClass,
    DateTypeClass,
    MySqlDDLClass,
    NullTypeClass,
    NumberTypeClass,
    RecordTypeClass,
    SchemaFieldClass,
    SchemaFieldDataTypeClass,
    SchemaMetadataClass,
    StringTypeClass,
    TimeTypeClass,
)
from datahub.metadata.urns import DatasetUrn, SchemaFieldUrn

from ol_bridge.datahub.dataset_urns import DatasetResolver
from ol_bridge.datahub.olevent import java_string, mapping, text

_UNKNOWN_ACTOR = "urn:li:corpuser:unknown"

#: OL field type name -> DataHub type class; DataHub's converter knows fewer names.
_TYPES: dict[str, Any] = {
    **dict.fromkeys(
        ("string", "varchar", "char", "text", "str", "object", "utf8"), StringTypeClass
    ),
    **dict.fromkeys(
        (
            "int", "integer", "long", "bigint", "smallint", "tinyint", "short", "byte", "float",
            "double", "decimal", "numeric", "number", "real", "int8", "int16", "int32", "int64",
            "uint8", "uint16", "uint32", "uint64", "float32", "float64", "hugeint",
        ),
        NumberTypeClass,
    ),
    **dict.fromkeys(("boolean", "bool"), BooleanTypeClass),
    **dict.fromkeys(
        ("timestamp", "datetime", "timestamp_ntz", "timestamp_tz", "time"), TimeTypeClass
    ),
    "date": DateTypeClass,
    "struct": RecordTypeClass,
}  # fmt: skip


def field_type(native: str | None) -> Any:
    """DataHub field type of an OL field type name (case-insensitive, parameters ignored)."""
    base = native.split("(", 1)[0].strip().lower() if native else ""
    type_class: Any = _TYPES.get(base, NullTypeClass)  # the aspect classes are untyped
    return type_class()


def _java_field_json(field: Mapping[str, Any]) -> dict[str, Any]:
    # Key order of the OL Java client's SchemaDatasetFacetFields (Jackson, nulls omitted).
    out: dict[str, Any] = {}
    for key in ("name", "type", "description", "ordinal_position"):
        if field.get(key) is not None:
            out[key] = field[key]
    if isinstance(field.get("fields"), list):
        out["fields"] = [_java_field_json(mapping(f)) for f in field["fields"]]
    return out


def schema_metadata(facets: Mapping[str, Any], platform_urn: str) -> SchemaMetadataClass | None:
    """``schemaMetadata`` from the ``schema`` facet (top-level fields, as DataHub does)."""
    fields = mapping(facets.get("schema")).get("fields")
    if not isinstance(fields, list):
        return None
    schema_fields = []
    for raw in fields:
        field = mapping(raw)
        name = text(field.get("name"))
        if name is None:
            continue
        native = field["type"] if isinstance(field.get("type"), str) else ""
        description = text(field.get("description"))
        schema_fields.append(
            SchemaFieldClass(
                fieldPath=name,
                type=SchemaFieldDataTypeClass(type=field_type(native)),
                nativeDataType=native,
                description=description,
            )
        )
    ddl = json.dumps(
        [_java_field_json(mapping(f)) for f in fields], separators=(",", ":"), ensure_ascii=False
    )
    return SchemaMetadataClass(
        schemaName="",
        platform=platform_urn,
        version=1,
        # The schema defaults, given so acryl-datahub does not rebuild them from JSON.
        created=AuditStampClass(time=0, actor=_UNKNOWN_ACTOR),
        lastModified=AuditStampClass(time=0, actor=_UNKNOWN_ACTOR),
        hash="",
        platformSchema=MySqlDDLClass(tableSchema=ddl),
        fields=schema_fields,
    )


@attrs.frozen
class ColumnEdge:
    """One upstream column feeding one downstream column, with how it is transformed."""

    upstream: SchemaFieldUrn
    downstream: SchemaFieldUrn
    transform: str


@functools.lru_cache(maxsize=16384)
def _field_urn(dataset: DatasetUrn, field: str) -> SchemaFieldUrn:
    # Building a SchemaFieldUrn re-parses its dataset URN; columns repeat on every event.
    return SchemaFieldUrn(dataset, field)


def _is_indirect_only(transformations: list[Any]) -> bool:
    kinds = [str(mapping(t).get("type", "")).upper() for t in transformations]
    return bool(kinds) and all(k == "INDIRECT" for k in kinds)


def column_edges(
    dataset_urn: DatasetUrn,
    facets: Mapping[str, Any],
    resolver: DatasetResolver,
    sql: str | None,
) -> list[ColumnEdge]:
    """Fine-grained lineage of one dataset's ``columnLineage`` facet, one edge per input field.

    The transform text is the field's ``TYPE:SUBTYPE`` list (sorted, case-insensitive), then the
    job's SQL when there is one, as DataHub writes it; ``TRANSFORM`` when there is neither.
    """
    fields = mapping(facets.get("columnLineage")).get("fields")
    if not isinstance(fields, Mapping):
        return []
    include_indirect = resolver.config.include_indirect_column_lineage
    sql = sql if sql and sql.strip() else None
    edges: list[ColumnEdge] = []
    for column, spec in fields.items():
        downstream = _field_urn(dataset_urn, column)
        input_fields = mapping(spec).get("inputFields")
        for raw in input_fields if isinstance(input_fields, list) else ():
            item = mapping(raw)
            namespace, name, field = item.get("namespace"), item.get("name"), item.get("field")
            if not (isinstance(namespace, str) and isinstance(name, str) and text(field)):
                continue
            transformations = item.get("transformations")
            transformations = transformations if isinstance(transformations, list) else []
            if not include_indirect and _is_indirect_only(transformations):
                continue
            ops = {
                f"{java_string(mapping(t).get('type'))}:{java_string(mapping(t).get('subtype'))}"
                for t in transformations
            }
            transform = ",".join(sorted(ops, key=str.lower))
            if sql is not None:
                transform = f"-- {transform}\n{sql}" if transform else sql
            upstream = _field_urn(resolver.field_dataset(namespace, name), str(field))
            edges.append(ColumnEdge(upstream, downstream, transform or "TRANSFORM"))
    return edges
