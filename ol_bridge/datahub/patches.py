"""JSON-patch proposals written directly, byte for byte what acryl-datahub's patch builders emit.

The builders (``DataJobPatchBuilder``, ``DatasetPatchBuilder``) turn every edge and
fine-grained lineage into an avro object, validate it and serialize it back, which was the
converter's largest cost. For the patches every event carries (DataJob inputs/outputs and
column lineage; dataset properties) the operations are built here as plain JSON instead;
``tests/datahub/test_patches.py`` checks they equal the builders' output. Ownership and tag
patches (rarer, with ``arrayPrimaryKeys`` envelopes) still go through the builders.
"""

from __future__ import annotations

import json
from typing import Any

from datahub.metadata.schema_classes import (
    ChangeTypeClass,
    GenericAspectClass,
    MetadataChangeProposalClass,
)

JSON_PATCH_CONTENT_TYPE = "application/json-patch+json"

JsonOp = dict[str, Any]


def quote(part: str) -> str:
    """A JSON-pointer path component (RFC 6901: ``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return part.replace("~", "~0").replace("/", "~1")


def add(path: tuple[str, ...], value: Any) -> JsonOp:
    """An ``add`` operation on ``/<path...>`` with each component quoted."""
    return {"op": "add", "path": "/" + "/".join(quote(p) for p in path), "value": value}


def patch_proposal(
    entity_type: str, urn: str, aspect_name: str, ops: list[JsonOp]
) -> MetadataChangeProposalClass:
    """One PATCH proposal carrying ``ops`` (a plain JSON array, no array primary keys).

    The builders pass their operations through ``pre_json_transform``, which only renames
    ``com.linkedin.pegasus2avro.`` union keys and drops ``None`` members; our operations
    have neither, so it is skipped.
    """
    return MetadataChangeProposalClass(
        entityType=entity_type,
        entityUrn=urn,
        changeType=ChangeTypeClass.PATCH,
        aspectName=aspect_name,
        aspect=GenericAspectClass(
            value=json.dumps(ops).encode(),
            contentType=JSON_PATCH_CONTENT_TYPE,
        ),
    )


#: ``GlobalTagsPatchBuilder``'s array keys (Java): a tag is keyed by its URN, then its source.
_TAG_KEYS = {"tags": ["tag", "attribution\u241fsource"]}


def tags_patch(entity_type: str, urn: str, tag_urns: list[str]) -> MetadataChangeProposalClass:
    """A ``globalTags`` PATCH adding ``tag_urns``, as DataHub's Java ``GlobalTagsPatchBuilder``
    writes it (the converter behind GMS's endpoint): ``add /tags/<tag urn>/`` with the tag,
    keyed by tag then attribution source. (acryl-datahub's Python builder keys by source
    first; GMS stores both the same way.)"""
    ops = [{"op": "add", "path": f"/tags/{quote(tag)}/", "value": {"tag": tag}} for tag in tag_urns]
    return MetadataChangeProposalClass(
        entityType=entity_type,
        entityUrn=urn,
        changeType=ChangeTypeClass.PATCH,
        aspectName="globalTags",
        aspect=GenericAspectClass(
            value=json.dumps({"arrayPrimaryKeys": _TAG_KEYS, "patch": ops}).encode(),
            contentType=JSON_PATCH_CONTENT_TYPE,
        ),
    )


def edge_json(destination: str, millis: int, actor: str) -> dict[str, Any]:
    """An ``Edge`` as its avro JSON (stamped created and lastModified)."""
    stamp = {"time": millis, "actor": actor}
    return {"destinationUrn": destination, "created": stamp, "lastModified": dict(stamp)}
