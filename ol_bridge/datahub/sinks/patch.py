"""Apply a DataHub PATCH proposal to a stored aspect, with GMS's semantics (pure).

DataHub Lite stores whatever aspect JSON it is given and ignores ``changeType``, so a
PATCH written to it verbatim would replace the aspect with the patch itself. The Lite
sink therefore reads the current aspect, applies the patch here and writes the result
as an UPSERT.

GMS does not apply a DataHub patch as plain RFC 6902 JSON Patch: its aspect templates
first turn arrays into maps keyed by the element's identifying fields (an edge by its
``destinationUrn``, an upstream by its ``dataset``, an owner by ``owner`` and ``type``),
so that ``add /outputDatasetEdges/<urn>`` merges one element instead of indexing a
list. Fine-grained lineage is keyed by transform operation, downstream field, query and
upstream field. This module reproduces those rules for the aspects ol-bridge and
DataHub's OpenLineage converter patch, and honours the ``arrayPrimaryKeys`` form
(``{"patch": [...], "arrayPrimaryKeys": {...}}``) DataHub uses for any other array.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from ol_bridge.errors import LitePatchError

#: aspect -> array field -> the element fields that key it (empty: an array of strings,
#: keyed by the string itself). Mirrors GMS's aspect templates.
_KEYED_ARRAYS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "dataJobInputOutput": {
        "inputDatasetEdges": ("destinationUrn",),
        "outputDatasetEdges": ("destinationUrn",),
        "inputDatajobEdges": ("destinationUrn",),
        "inputDatasets": (),
        "outputDatasets": (),
        "inputDatajobs": (),
        "inputDatasetFields": (),
        "outputDatasetFields": (),
    },
    "upstreamLineage": {"upstreams": ("dataset",)},
    "globalTags": {"tags": ("tag",)},
    "glossaryTerms": {"terms": ("urn",)},
    "ownership": {"owners": ("owner", "type")},
    "siblings": {"siblings": ()},
}

#: Aspects whose ``fineGrainedLineages`` array GMS patches with its dedicated template.
_FINE_GRAINED_ASPECTS = frozenset({"dataJobInputOutput", "upstreamLineage"})

_UNKNOWN_ACTOR = {"time": 0, "actor": "urn:li:corpuser:unknown"}

#: What GMS starts from when a patched aspect does not exist yet.
_DEFAULT_ASPECTS: Mapping[str, Mapping[str, Any]] = {
    "dataJobInputOutput": {"inputDatasets": [], "outputDatasets": []},
    "upstreamLineage": {"upstreams": []},
    "globalTags": {"tags": []},
    "glossaryTerms": {"terms": [], "auditStamp": _UNKNOWN_ACTOR},
    "ownership": {"owners": [], "lastModified": _UNKNOWN_ACTOR},
    "siblings": {"siblings": [], "primary": False},
}

#: Separates nested field names inside one ``arrayPrimaryKeys`` entry (U+241F).
_NESTED_KEY_SEPARATOR = "\u241f"
_NONE = "NONE"


def apply_patch(aspect_name: str, current: Mapping[str, Any] | None, patch: Any) -> dict[str, Any]:
    """Return ``current`` (an aspect in DataHub's JSON form) with ``patch`` applied.

    ``patch`` is the decoded patch payload: a list of operations, or a mapping with
    ``patch`` and ``arrayPrimaryKeys``. Raises :class:`LitePatchError` for operations
    that GMS would not accept either.
    """
    operations, primary_keys = _split_payload(aspect_name, patch)
    keyed = {**_KEYED_ARRAYS.get(aspect_name, {}), **primary_keys}
    document: dict[str, Any] = _json_copy(
        dict(current) if current is not None else _default(aspect_name)
    )
    fine_grained = aspect_name in _FINE_GRAINED_ASPECTS

    for field, keys in keyed.items():
        if field in document:
            document[field] = _array_to_map(document[field], keys)
    if fine_grained and "fineGrainedLineages" in document:
        document["fineGrainedLineages"] = _fine_grained_to_map(document["fineGrainedLineages"])

    for operation in operations:
        _apply_operation(aspect_name, document, operation, keyed, fine_grained)

    for field, keys in keyed.items():
        if field in document:
            document[field] = _map_to_array(document[field], max(len(keys), 1))
    if fine_grained and "fineGrainedLineages" in document:
        document["fineGrainedLineages"] = _fine_grained_to_array(document["fineGrainedLineages"])
    return document


def _default(aspect_name: str) -> dict[str, Any]:
    default: dict[str, Any] = _json_copy(dict(_DEFAULT_ASPECTS.get(aspect_name, {})))
    return default


_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_copy(value: Any) -> Any:
    """``copy.deepcopy`` of a JSON value (dicts, lists, scalars), several times faster: the
    aspects and patch values copied here are parsed JSON. Anything else is deep-copied."""
    kind = type(value)
    if kind is dict:
        return {key: _json_copy(item) for key, item in value.items()}
    if kind is list:
        return [_json_copy(item) for item in value]
    if kind in _JSON_SCALARS:
        return value
    return copy.deepcopy(value)


def _split_payload(
    aspect_name: str, patch: Any
) -> tuple[Sequence[Mapping[str, Any]], dict[str, tuple[str, ...]]]:
    if isinstance(patch, Mapping):
        keys = {
            field: tuple(names) for field, names in (patch.get("arrayPrimaryKeys") or {}).items()
        }
        operations = patch.get("patch")
    else:
        keys, operations = {}, patch
    if not isinstance(operations, list) or not all(isinstance(op, Mapping) for op in operations):
        raise LitePatchError(
            f"The PATCH for aspect {aspect_name!r} is not a list of JSON patch operations; "
            "it cannot be applied to DataHub Lite."
        )
    return operations, keys


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise LitePatchError(f"JSON patch path {path!r} must start with '/'.")
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


def _apply_operation(
    aspect_name: str,
    document: dict[str, Any],
    operation: Mapping[str, Any],
    keyed: Mapping[str, tuple[str, ...]],
    fine_grained: bool,
) -> None:
    op = operation.get("op")
    parts = _pointer(str(operation.get("path", "")))
    if not parts:
        raise LitePatchError(f"A PATCH of aspect {aspect_name!r} targets the whole aspect.")
    if op in ("add", "replace"):
        value = _json_copy(operation.get("value"))
        if len(parts) == 1 and isinstance(value, list):
            # Setting a whole keyed array: store it in the map form the other
            # operations of this patch expect.
            if parts[0] in keyed:
                value = _array_to_map(value, keyed[parts[0]])
            elif fine_grained and parts[0] == "fineGrainedLineages":
                value = _fine_grained_to_map(value)
        parent = _walk(aspect_name, document, parts[:-1], create=True)
        assert parent is not None
        parent[parts[-1]] = value
    elif op == "remove":
        parent = _walk(aspect_name, document, parts[:-1], create=False)
        if parent is not None:
            parent.pop(parts[-1], None)
    else:
        raise LitePatchError(
            f"JSON patch operation {op!r} on aspect {aspect_name!r} is not supported by "
            "ol-bridge's DataHub Lite sink (only add, replace and remove are, as in GMS's "
            "aspect templates)."
        )


def _walk(
    aspect_name: str, document: dict[str, Any], parts: Sequence[str], *, create: bool
) -> dict[str, Any] | None:
    node: Any = document
    for part in parts:
        if not isinstance(node, dict):
            raise LitePatchError(
                f"PATCH path of aspect {aspect_name!r} goes through {part!r}, which is not "
                "an object; DataHub Lite cannot apply it."
            )
        if part not in node:
            if not create:
                return None
            node[part] = {}
        node = node[part]
    if not isinstance(node, dict):
        raise LitePatchError(
            f"PATCH path of aspect {aspect_name!r} ends inside a non-object value."
        )
    return node


def _key_value(element: Any, name: str) -> str:
    node = element
    for part in name.split(_NESTED_KEY_SEPARATOR):
        node = node.get(part) if isinstance(node, Mapping) else None
    return "" if node is None else str(node)


def _array_to_map(value: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(value, list):
        return value
    mapped: dict[str, Any] = {}
    for element in value:
        if not keys:
            mapped[str(element)] = element
            continue
        node = mapped
        path = [_key_value(element, name) for name in keys]
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = element
    return mapped


def _map_to_array(value: Any, depth: int) -> Any:
    if not isinstance(value, dict):
        return value
    if depth == 1:
        return list(value.values())
    return [leaf for child in value.values() for leaf in _map_to_array(child, depth - 1)]


def _fine_grained_to_map(value: Any) -> Any:
    """transformOperation -> downstream -> query -> upstream -> edge details."""
    if not isinstance(value, list):
        return value
    mapped: dict[str, Any] = {}
    for lineage in value:
        downstreams = lineage.get("downstreams") or []
        if len(downstreams) != 1:
            raise LitePatchError(
                "A stored fine-grained lineage has "
                f"{len(downstreams)} downstream fields; GMS and ol-bridge can patch only "
                "lineages with exactly one."
            )
        upstreams = lineage.get("upstreams") or []
        upstream_is_dataset = bool(upstreams) and str(upstreams[0]).startswith("urn:li:dataset:")
        upstream_type = lineage.get("upstreamType") or (
            "DATASET" if upstream_is_dataset else "FIELD_SET"
        )
        query = mapped.setdefault(lineage.get("transformOperation") or _NONE, {})
        query = query.setdefault(downstreams[0], {}).setdefault(lineage.get("query") or _NONE, {})
        for upstream in upstreams:
            query[upstream] = {
                "confidenceScore": lineage.get("confidenceScore", 1.0),
                "upstreamType": upstream_type,
                "downstreamType": lineage.get("downstreamType") or "FIELD",
            }
    return mapped


def _fine_grained_to_array(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    lineages: list[dict[str, Any]] = []
    for transform, downstreams in value.items():
        for downstream, queries in downstreams.items():
            for query_id, upstreams in queries.items():
                if not upstreams:
                    continue
                details = list(upstreams.values())
                lineage: dict[str, Any] = {
                    "upstreamType": next(
                        (d["upstreamType"] for d in reversed(details) if "upstreamType" in d),
                        "FIELD_SET",
                    ),
                    "upstreams": list(upstreams),
                    "downstreamType": next(
                        (d["downstreamType"] for d in reversed(details) if "downstreamType" in d),
                        "FIELD",
                    ),
                    "downstreams": [downstream],
                    # GMS keeps the lowest confidence of the merged edges.
                    "confidenceScore": min(
                        [1.0, *(d["confidenceScore"] for d in details if "confidenceScore" in d)]
                    ),
                    "transformOperation": transform,
                }
                if query_id != _NONE:
                    lineage["query"] = query_id
                lineages.append(lineage)
    return lineages
