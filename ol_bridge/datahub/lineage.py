"""Dataset-level pieces: ``schemaMetadata`` from the schema facet and column lineage edges."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import attrs
from datahub.metadata.schema_classes import (
    ArrayTypeClass,
    AuditStampClass,
    BooleanTypeClass,
    BytesTypeClass,
    EnumTypeClass,
    MapTypeClass,
    MySqlDDLClass,
    NullTypeClass,
    NumberTypeClass,
    OtherSchemaClass,
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

#: OL field type name (lower-cased) -> DataHub type, as DataHub's newest converter maps them
#: (``OpenLineageDatasetMapper.convertOlFieldTypeToDHFieldType``).
_DATAHUB_TYPES: dict[str, Any] = {
    **dict.fromkeys(("string", "varchar", "char"), StringTypeClass),
    **dict.fromkeys(("boolean", "bool"), BooleanTypeClass),
    **dict.fromkeys(("bytes", "binary"), BytesTypeClass),
    "enum": EnumTypeClass,
    **dict.fromkeys(
        ("byte", "short", "long", "int", "integer", "double", "float", "decimal", "numeric"),
        NumberTypeClass,
    ),
    **dict.fromkeys(("timestamp", "datetime", "date", "time"), TimeTypeClass),
    **dict.fromkeys(("struct", "record", "map", "object"), MapTypeClass),
    **dict.fromkeys(("array", "list"), ArrayTypeClass),
}
#: Our addition: names DataHub leaves untyped (NullType), and parameters such as
#: ``varchar(10)`` ignored, so warehouse and DuckDB column types get a type too.
_WIDER_TYPES: dict[str, Any] = {
    **dict.fromkeys(("text", "str", "utf8"), StringTypeClass),
    **dict.fromkeys(
        (
            "bigint", "smallint", "tinyint", "number", "real", "int8", "int16", "int32", "int64",
            "uint8", "uint16", "uint32", "uint64", "float32", "float64", "hugeint",
        ),
        NumberTypeClass,
    ),
    **dict.fromkeys(("timestamp_ntz", "timestamp_tz"), TimeTypeClass),
}  # fmt: skip
#: Platforms whose raw schema DataHub's converter stores as ``MySqlDDL`` (others: OtherSchema).
_MYSQL_PLATFORMS = ("urn:li:dataPlatform:mysql", "urn:li:dataPlatform:mariadb")


def field_type(native: str | None) -> Any:
    """DataHub field type of an OL field type name (case-insensitive): DataHub's own table,
    then ours for the names it leaves untyped (parameters such as ``(10)`` ignored)."""
    lowered = native.lower() if native else ""
    type_class: Any = _DATAHUB_TYPES.get(lowered)  # the aspect classes are untyped
    if type_class is None:
        base = lowered.split("(", 1)[0].strip()
        type_class = _DATAHUB_TYPES.get(base) or _WIDER_TYPES.get(base, NullTypeClass)
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


def _flatten_fields(fields: object, parent: str | None, into: list[SchemaFieldClass]) -> None:
    """Schema fields depth first, nested ones as ``parent.child`` (DataHub's
    ``flattenSchemaFields``); a field without a name is skipped with its children."""
    for raw in fields if isinstance(fields, list) else ():
        field = mapping(raw)
        name = field.get("name")
        if not isinstance(name, str) or not name.strip():
            continue
        path = f"{parent}.{name}" if parent else name
        native = field.get("type")
        description = field.get("description")
        into.append(
            SchemaFieldClass(
                fieldPath=path,
                type=SchemaFieldDataTypeClass(type=field_type(native)),
                nativeDataType=native if isinstance(native, str) else "unknown",
                description=description if isinstance(description, str) else None,
            )
        )
        _flatten_fields(field.get("fields"), path, into)


def schema_metadata(facets: Mapping[str, Any], platform_urn: str) -> SchemaMetadataClass | None:
    """``schemaMetadata`` from the ``schema`` facet, as DataHub's newest converter writes it:
    nested fields flattened, the facet's fields as raw schema (``MySqlDDL`` for MySQL and
    MariaDB, ``OtherSchema`` otherwise)."""
    fields = mapping(facets.get("schema")).get("fields")
    if not isinstance(fields, list):
        return None
    schema_fields: list[SchemaFieldClass] = []
    _flatten_fields(fields, None, schema_fields)
    raw = json.dumps(
        [_java_field_json(mapping(f)) for f in fields], separators=(",", ":"), ensure_ascii=False
    )
    platform_schema: Any = (
        MySqlDDLClass(tableSchema=raw)
        if platform_urn in _MYSQL_PLATFORMS
        else OtherSchemaClass(rawSchema=raw)
    )
    return SchemaMetadataClass(
        schemaName="",
        platform=platform_urn,
        version=1,
        # The schema defaults, given so acryl-datahub does not rebuild them from JSON.
        created=AuditStampClass(time=0, actor=_UNKNOWN_ACTOR),
        lastModified=AuditStampClass(time=0, actor=_UNKNOWN_ACTOR),
        hash="",
        platformSchema=platform_schema,
        fields=schema_fields,
    )


@attrs.frozen
class ColumnEdge:
    """One upstream column feeding one downstream column, with how it is transformed."""

    #: the columns' ``SchemaFieldUrn`` strings
    upstream: str
    downstream: str
    transform: str


#: (dataset URN string, column) -> the column's SchemaFieldUrn string; see :func:`_field_urn`
_FIELD_URNS: dict[tuple[str, str], str] = {}
_FIELD_URNS_MAX = 16384


def _field_urn(dataset: DatasetUrn, dataset_str: str, field: str) -> str:
    # Building a SchemaFieldUrn re-parses its dataset URN, and rendering it joins its parts
    # again on every str(); columns repeat on every event. Keyed by the URN's string, as
    # hashing a DatasetUrn renders it again.
    key = (dataset_str, field)
    urn = _FIELD_URNS.get(key)
    if urn is None:
        if len(_FIELD_URNS) >= _FIELD_URNS_MAX:
            _FIELD_URNS.clear()  # bounded; a busy converter refills what it uses
        urn = _FIELD_URNS[key] = str(SchemaFieldUrn(dataset, field))
    return urn


@functools.lru_cache(maxsize=4096)
def _transform_text(kinds: tuple[tuple[str, str], ...]) -> tuple[str, bool]:
    """The sorted ``TYPE:SUBTYPE`` list of an input field's transformations (each given as
    its rendered type and subtype), and whether all of them are INDIRECT; cached, as a
    query has a handful of distinct ones."""
    ops = {f"{kind}:{subtype}" for kind, subtype in kinds}
    indirect_only = bool(kinds) and all(kind.upper() == "INDIRECT" for kind, _ in kinds)
    return ",".join(sorted(ops, key=str.lower)), indirect_only


def _transform(transformations: list[Any]) -> tuple[str, bool]:
    # Rendered first, so the cache key is made of strings: 1, 1.0 and True are equal keys
    # but render differently. A type is INDIRECT exactly when its rendering is (a
    # non-string renders with brackets or as a number, boolean or null).
    kinds = []
    for raw in transformations:
        member = mapping(raw)
        kind, subtype = member.get("type"), member.get("subtype")
        kinds.append(
            (
                kind if type(kind) is str else java_string(kind),  # skips a call for text
                subtype if type(subtype) is str else java_string(subtype),
            )
        )
    return _transform_text(tuple(kinds))


def column_edges(
    dataset_urn: DatasetUrn,
    facets: Mapping[str, Any],
    resolver: DatasetResolver,
    sql: str | None,
    dataset_str: str | None = None,
) -> list[ColumnEdge]:
    """Fine-grained lineage of one dataset's ``columnLineage`` facet, one edge per input field.

    The transform text is the field's ``TYPE:SUBTYPE`` list (sorted, case-insensitive), then the
    job's SQL when there is one, as DataHub writes it; ``TRANSFORM`` when there is neither.
    ``dataset_str`` is ``str(dataset_urn)`` when the caller has it already.
    """
    fields = mapping(facets.get("columnLineage")).get("fields")
    if not isinstance(fields, Mapping):
        return []
    dataset_str = str(dataset_urn) if dataset_str is None else dataset_str
    include_indirect = resolver.config.include_indirect_column_lineage
    sql = sql if sql and sql.strip() else None
    with_sql: dict[str, str] = {}  # transform list -> its text with the SQL, once per event
    edges: list[ColumnEdge] = []
    for column, spec in fields.items():
        downstream = _field_urn(dataset_urn, dataset_str, column)
        input_fields = mapping(spec).get("inputFields")
        for raw in input_fields if isinstance(input_fields, list) else ():
            item = mapping(raw)
            namespace, name, field = item.get("namespace"), item.get("name"), item.get("field")
            if not (isinstance(namespace, str) and isinstance(name, str) and text(field)):
                continue
            transformations = item.get("transformations")
            transform, indirect_only = _transform(
                transformations if isinstance(transformations, list) else []
            )
            if indirect_only and not include_indirect:
                continue
            if sql is not None:
                full = with_sql.get(transform)
                if full is None:
                    full = with_sql[transform] = f"-- {transform}\n{sql}" if transform else sql
                transform = full
            upstream_dataset, upstream_str = resolver.field_dataset_with_str(namespace, name)
            upstream = _field_urn(upstream_dataset, upstream_str, str(field))
            edges.append(ColumnEdge(upstream, downstream, transform or "TRANSFORM"))
    return edges
