"""Dataset aspects DataHub's newest converter takes from dataset facets (pure, no I/O).

``OpenLineageDatasetMapper`` in DataHub's newest Java converter maps, per dataset:

* ``documentation``, ``storage``, ``catalog``, ``version`` -> ``datasetProperties``
  (we add them as PATCH operations, see :func:`property_ops`);
* ``datasetType`` -> ``subTypes``; ``symlinks`` -> ``siblings``;
* ``lifecycleStateChange: DROP`` -> ``status.removed``;
* input ``dataQualityMetrics`` -> ``datasetProfile``;
* ``hierarchy`` -> ``container`` entities (:mod:`ol_bridge.datahub.containers`).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping
from typing import Any

from datahub.metadata.schema_classes import (
    DatasetFieldProfileClass,
    DatasetProfileClass,
    MetadataChangeProposalClass,
    QuantileClass,
    SubTypesClass,
)

from ol_bridge.datahub import aspects, patches
from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.dataset_urns import resolve_dataset_urn_text, symlink_table
from ol_bridge.datahub.olevent import mapping

#: (facet member, custom property) of the ``catalog`` dataset facet.
_CATALOG_PROPERTIES = (
    ("framework", "catalogFramework"),
    ("type", "catalogType"),
    ("name", "catalogName"),
    ("metadataUri", "catalogMetadataUri"),
    ("warehouseUri", "catalogWarehouseUri"),
    ("source", "catalogSource"),
)


#: The facets :func:`property_ops` reads.
_PROPERTY_FACETS = frozenset(("documentation", "storage", "catalog", "version"))


def _non_blank(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def property_ops(facets: Mapping[str, Any]) -> list[str]:
    """``datasetProperties`` of the newest converter as PATCH operations (JSON text,
    :func:`patches.add_json`): the documentation as description; ``storage``, ``catalog``
    and ``version`` as custom properties.

    DataHub writes these as an UPSERT, which would replace the properties a warehouse's own
    ingestion wrote (its description, name, links); adding the same fields keeps them.
    ``dataSource.uri`` is not written as ``externalUrl`` (docs/datahub-mapping.md).
    """
    ops: list[str] = []
    if not _PROPERTY_FACETS.intersection(facets):
        return ops
    description = mapping(facets.get("documentation")).get("description")
    if isinstance(description, str):
        ops.append(patches.add_json(("description",), description))
    custom: list[tuple[str, str]] = []
    storage = mapping(facets.get("storage"))
    for member, prop in (("storageLayer", "storageLayer"), ("fileFormat", "fileFormat")):
        value = _non_blank(storage.get(member))
        if value is not None:
            custom.append((prop, value))
    catalog = mapping(facets.get("catalog"))
    for key, value in mapping(catalog.get("catalogProperties")).items():
        if key.strip() and isinstance(value, str):
            custom.append((f"openlineage.catalog.{key}", value))
    for member, prop in _CATALOG_PROPERTIES:
        value = _non_blank(catalog.get(member))
        if value is not None:
            custom.append((prop, value))
    version = _non_blank(mapping(facets.get("version")).get("datasetVersion"))
    if version is not None:
        custom.append(("openlineage.datasetVersion", version))
    ops += [patches.add_json(("customProperties", key), value) for key, value in custom]
    return ops


def is_dropped(facets: Mapping[str, Any]) -> bool:
    """Whether ``lifecycleStateChange`` says DROP (DataHub then writes ``status.removed``)."""
    change = mapping(facets.get("lifecycleStateChange")).get("lifecycleStateChange")
    return change == "DROP"


def subtypes(facets: Mapping[str, Any]) -> SubTypesClass | None:
    """``subTypes`` from the ``datasetType`` facet: its ``datasetType`` then ``subType``."""
    facet = facets.get("datasetType")
    if not isinstance(facet, Mapping):
        return None
    names: list[str] = []
    for member in ("datasetType", "subType"):
        value = facet.get(member)
        if isinstance(value, str) and value not in names:
            names.append(value)
    return SubTypesClass(typeNames=names) if names else None


def siblings(raw: Mapping[str, Any], resolved_str: str, config: ConverterConfig) -> list[str]:
    """Siblings of a dataset with a ``symlinks`` facet (DataHub's ``getDatasetSiblings``):
    the dataset's own URN and each TABLE identifier's, those that differ from the URN the
    dataset resolved to (``resolved_str``), in that order."""
    symlinks = mapping(raw.get("facets")).get("symlinks")
    if symlinks is None:
        return []
    identifiers = mapping(symlinks).get("identifiers")
    if not isinstance(identifiers, list) or not identifiers:
        return []
    found: list[str] = []

    def add(urn_str: str) -> None:
        if urn_str != resolved_str and urn_str not in found:
            found.append(urn_str)

    namespace, name = raw.get("namespace"), raw.get("name")
    if isinstance(namespace, str) and isinstance(name, str):
        add(resolve_dataset_urn_text(namespace, name, None, config)[1])
    for ident in identifiers:
        table = symlink_table(mapping(ident), config)
        if table is not None:
            add(resolve_dataset_urn_text(*table, config)[1])
    return found


def siblings_patch(urn: str, sibling_urns: list[str]) -> MetadataChangeProposalClass:
    """What DataHub's ``SiblingsPatchBuilder`` writes: each sibling added, the first one
    with ``primary`` set (the dataset is the primary of its siblings)."""
    ops: list[patches.JsonOp] = []
    for index, sibling in enumerate(sibling_urns):
        ops.append(patches.add(("siblings", sibling), sibling))
        if index == 0:
            ops.append(patches.add(("primary",), True))
    return patches.patch_proposal("dataset", urn, "siblings", ops)


def java_double(value: float) -> str:
    """``Double.toString``: plain digits for 1e-3 <= |x| < 1e7, else ``d.ddddE<n>``; always
    at least one fractional digit; the shortest digits that round-trip (as Python's)."""
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(float(value))
    sign, digits, exponent = decimal.Decimal(repr(float(value))).as_tuple()
    assert isinstance(exponent, int)  # finite values only reach here
    text_digits = "".join(map(str, digits)).rstrip("0") or "0"
    power = exponent + len(digits) - 1
    mantissa = text_digits[0] + "." + (text_digits[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _field_profile(path: str, metrics: Mapping[str, Any]) -> DatasetFieldProfileClass:
    profile = DatasetFieldProfileClass(
        fieldPath=path,
        nullCount=_whole(metrics.get("nullCount")),
        uniqueCount=_whole(metrics.get("distinctCount")),
    )
    low, high = _finite(metrics.get("min")), _finite(metrics.get("max"))
    profile.min = java_double(low) if low is not None else None
    profile.max = java_double(high) if high is not None else None
    total, count = _finite(metrics.get("sum")), _finite(metrics.get("count"))
    if total is not None and count:
        profile.mean = java_double(total / count)
    quantiles = []
    for quantile, raw in mapping(metrics.get("quantiles")).items():
        value = _finite(raw)
        if value is None:
            continue
        quantiles.append(QuantileClass(quantile=quantile, value=java_double(value)))
        if quantile in ("0.5", "0.50"):
            profile.median = java_double(value)
    profile.quantiles = quantiles or None
    return profile


def dataset_profile(dataset: Mapping[str, Any], millis: int) -> DatasetProfileClass | None:
    """``datasetProfile`` from an input's ``dataQualityMetrics`` (rows, bytes, and per column
    nulls, distinct values, min/max, mean = sum/count, quantiles with the median)."""
    metrics = mapping(dataset.get("inputFacets")).get("dataQualityMetrics")
    if not isinstance(metrics, Mapping):
        return None
    rows, size = _whole(metrics.get("rowCount")), _whole(metrics.get("bytes"))
    columns = metrics.get("columnMetrics")
    fields = [
        _field_profile(path, mapping(values))
        for path, values in (columns.items() if isinstance(columns, Mapping) else ())
        if path.strip() and isinstance(values, Mapping)
    ]
    if rows is None and size is None and not fields:
        return None
    return DatasetProfileClass(
        timestampMillis=millis,
        partitionSpec=aspects.full_table(),
        rowCount=rows,
        sizeInBytes=size,
        columnCount=len(columns) if isinstance(columns, Mapping) else None,
        fieldProfiles=fields or None,
    )


__all__ = [
    "dataset_profile",
    "is_dropped",
    "java_double",
    "property_ops",
    "siblings",
    "siblings_patch",
    "subtypes",
]
