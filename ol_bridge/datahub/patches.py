"""JSON-patch proposals written directly, byte for byte what acryl-datahub's patch builders emit.

The builders (``DataJobPatchBuilder``, ``DatasetPatchBuilder``) turn every edge and
fine-grained lineage into an avro object, validate it and serialize it back, which was the
converter's largest cost. For the patches every event carries (DataJob inputs/outputs and
column lineage; dataset properties) the operations are built here as plain JSON instead;
``tests/datahub/test_patches.py`` checks they equal the builders' output. Ownership and tag
patches (rarer, with ``arrayPrimaryKeys`` envelopes) still go through the builders.
"""

from __future__ import annotations

import functools
import json
from json.encoder import encode_basestring_ascii
from typing import Any

from datahub.metadata.schema_classes import MetadataChangeProposalClass

from ol_bridge._compat.datahub import patch_proposal_of

JSON_PATCH_CONTENT_TYPE = "application/json-patch+json"

JsonOp = dict[str, Any]


def quote(part: str) -> str:
    """A JSON-pointer path component (RFC 6901: ``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return part.replace("~", "~0").replace("/", "~1")


def add(path: tuple[str, ...], value: Any) -> JsonOp:
    """An ``add`` operation on ``/<path...>`` with each component quoted."""
    return {"op": "add", "path": _pointer(path), "value": value}


@functools.lru_cache(maxsize=16384)
def _pointer(path: tuple[str, ...]) -> str:
    # The same few paths (a dataset's custom properties, its siblings) come back on
    # every event.
    return "/" + "/".join(quote(p) for p in path)


def pointer_json(part: str) -> str:
    """``quote(part)`` as ``json.dumps`` writes it inside a string, without the quotes.

    Both quoting and JSON escaping work character by character, so the JSON of a whole
    path is the concatenation of its components' (what :func:`op_json` callers build on).
    """
    return encode_basestring_ascii(quote(part))[1:-1]


#: :func:`pointer_json` of the URNs in patch paths: datasets and columns repeat every event.
cached_pointer_json = functools.lru_cache(maxsize=16384)(pointer_json)


@functools.lru_cache(maxsize=4096)
def add_json(path: tuple[str, ...], value: str) -> str:
    """``op_json(add(path, value))`` of a string value, cached: a dataset's properties come
    back the same on every event."""
    return op_json(add(path, value))


def op_json(op: JsonOp) -> str:
    """One operation as ``json.dumps(ops)`` writes it inside the array."""
    return json.dumps(op)


def patch_proposal(
    entity_type: str, urn: str, aspect_name: str, ops: list[JsonOp]
) -> MetadataChangeProposalClass:
    """One PATCH proposal carrying ``ops`` (a plain JSON array, no array primary keys).

    The builders pass their operations through ``pre_json_transform``, which only renames
    ``com.linkedin.pegasus2avro.`` union keys and drops ``None`` members; our operations
    have neither, so it is skipped.
    """
    return _proposal(entity_type, urn, aspect_name, json.dumps(ops).encode())


def patch_proposal_json(
    entity_type: str, urn: str, aspect_name: str, ops: list[str]
) -> MetadataChangeProposalClass:
    """:func:`patch_proposal` of operations already written as JSON text (each as
    :func:`op_json` would write it): the same bytes as ``json.dumps`` of the array."""
    return _proposal(entity_type, urn, aspect_name, ("[" + ", ".join(ops) + "]").encode())


def _proposal(
    entity_type: str, urn: str, aspect_name: str, value: bytes
) -> MetadataChangeProposalClass:
    # several per event: built without a property setter per field (same objects)
    return patch_proposal_of(entity_type, urn, aspect_name, value, JSON_PATCH_CONTENT_TYPE)


#: ``GlobalTagsPatchBuilder``'s array keys (Java): a tag is keyed by its URN, then its source.
_TAG_KEYS = {"tags": ["tag", "attribution\u241fsource"]}


def tags_patch(entity_type: str, urn: str, tag_urns: list[str]) -> MetadataChangeProposalClass:
    """A ``globalTags`` PATCH adding ``tag_urns``, as DataHub's Java ``GlobalTagsPatchBuilder``
    writes it (the converter behind GMS's endpoint): ``add /tags/<tag urn>/`` with the tag,
    keyed by tag then attribution source. (acryl-datahub's Python builder keys by source
    first; GMS stores both the same way.)"""
    return _proposal(entity_type, urn, "globalTags", _tags_value(tuple(tag_urns)))


@functools.lru_cache(maxsize=4096)
def _tags_value(tag_urns: tuple[str, ...]) -> bytes:
    # a run's tags come back on every event of the run
    ops = [{"op": "add", "path": f"/tags/{quote(tag)}/", "value": {"tag": tag}} for tag in tag_urns]
    return json.dumps({"arrayPrimaryKeys": _TAG_KEYS, "patch": ops}).encode()


def edge_json(destination: str, millis: int, actor: str) -> dict[str, Any]:
    """An ``Edge`` as its avro JSON (stamped created and lastModified)."""
    stamp = {"time": millis, "actor": actor}
    return {"destinationUrn": destination, "created": stamp, "lastModified": dict(stamp)}


def add_edge_json(array: str, destination: str, millis: int, actor: str) -> str:
    """``op_json(add((array, destination), edge_json(destination, millis, actor)))``, from
    text cached per edge (an event's datasets repeat on every event)."""
    head, middle, tail = _edge_parts(array, destination, actor)
    time = str(millis)  # what json.dumps writes for an int
    return f"{head}{time}{middle}{time}{tail}"


@functools.lru_cache(maxsize=16384)
def _edge_parts(array: str, destination: str, actor: str) -> tuple[str, str, str]:
    # the op's text around its two times (created, then lastModified)
    actor_json = encode_basestring_ascii(actor)
    head = (
        f'{{"op": "add", "path": "/{pointer_json(array)}/{pointer_json(destination)}", '
        f'"value": {{"destinationUrn": {encode_basestring_ascii(destination)}, '
        '"created": {"time": '
    )
    middle = f', "actor": {actor_json}}}, "lastModified": {{"time": '
    tail = f', "actor": {actor_json}}}}}}}'
    return head, middle, tail
