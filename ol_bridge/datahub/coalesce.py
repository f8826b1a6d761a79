"""Coalescing the proposals of many events into the fewest that leave DataHub the same.

A batch of OpenLineage events repeats itself: a run's START and COMPLETE both carry the
pipeline's ``dataFlowInfo``, the task's ``dataJobInfo``, every dataset's ``status`` and
``datasetKey``, and the same lineage patches. Writing each copy costs a REST request's
share, acryl-datahub's Avro conversion of the proposal and a GMS write, for nothing:
DataHub applies the proposals of a batch in order, so only the last full write of an
aspect decides what is stored.

Rules, per (entity URN, aspect name), all pure:

* UPSERTs of a versioned aspect (typed wrappers): only the last one is kept, in its place.
* PATCHes whose body is a plain JSON-patch array: merged into one patch, in the place of
  the last, with each operation kept once (its last occurrence, so the value applied last
  still wins). Applying the merged array is applying the patches one after another.
* Anything else is kept as it is: timeseries aspects (each run event is a data point),
  patches with other bodies (``arrayPrimaryKeys`` envelopes), proposals with headers, and
  every proposal of a key that mixes UPSERTs and PATCHes (their order matters).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    ChangeTypeClass,
    GenericAspectClass,
    MetadataChangeProposalClass,
)

from ol_bridge.datahub.patches import JSON_PATCH_CONTENT_TYPE
from ol_bridge.datahub.sinks.base import Proposal

_Key = tuple[str, str]
_UPSERT, _PATCH, _KEEP = "upsert", "patch", "keep"


def coalesce(mcps: Sequence[Proposal]) -> list[Proposal]:
    """The proposals of ``mcps`` with superseded UPSERTs dropped and patches merged."""
    modes: dict[_Key, str] = {}
    last: dict[_Key, int] = {}
    seen: dict[_Key, int] = {}
    patch_ops: dict[_Key, list[Any]] = {}
    for index, mcp in enumerate(mcps):
        key = (str(mcp.entityUrn), str(mcp.aspectName))
        mode, ops = _mode(mcp)
        known = modes.get(key)
        modes[key] = mode if known in (None, mode) else _KEEP
        last[key] = index
        seen[key] = seen.get(key, 0) + 1
        if ops is not None:
            patch_ops.setdefault(key, []).extend(ops)
    out: list[Proposal] = []
    for index, mcp in enumerate(mcps):
        key = (str(mcp.entityUrn), str(mcp.aspectName))
        mode = modes[key]
        if mode == _KEEP or seen[key] == 1:
            out.append(mcp)
        elif index == last[key]:
            out.append(mcp if mode == _UPSERT else _merged_patch(mcp, patch_ops[key]))
    return out


def _mode(mcp: Proposal) -> tuple[str, list[Any] | None]:
    """How ``mcp`` may be coalesced, and its patch operations when it is a plain patch."""
    if getattr(mcp, "headers", None):
        return _KEEP, None
    if isinstance(mcp, MetadataChangeProposalWrapper):
        timeseries = getattr(mcp.aspect, "ASPECT_TYPE", "timeseries") == "timeseries"
        upsert = mcp.changeType == ChangeTypeClass.UPSERT
        return (_KEEP if timeseries or not upsert else _UPSERT), None
    aspect = mcp.aspect
    if (
        mcp.changeType != ChangeTypeClass.PATCH
        or not isinstance(aspect, GenericAspectClass)
        or aspect.contentType != JSON_PATCH_CONTENT_TYPE
    ):
        return _KEEP, None
    try:
        ops = json.loads(aspect.value)
    except ValueError:
        return _KEEP, None
    return (_PATCH, ops) if isinstance(ops, list) else (_KEEP, None)


def _merged_patch(template: Proposal, ops: list[Any]) -> Proposal:
    """One PATCH like ``template`` applying ``ops`` in order, each distinct one once."""
    # an operation's last occurrence is the one that must stay in sequence
    last_seen: dict[str, int] = {}
    keys = [json.dumps(op, sort_keys=True) for op in ops]
    for position, key in enumerate(keys):
        last_seen[key] = position
    unique = [op for position, op in enumerate(ops) if last_seen[keys[position]] == position]
    assert isinstance(template, MetadataChangeProposalClass)  # only plain patches merge
    return MetadataChangeProposalClass(
        entityType=template.entityType,
        entityUrn=template.entityUrn,
        changeType=ChangeTypeClass.PATCH,
        aspectName=template.aspectName,
        aspect=GenericAspectClass(
            value=json.dumps(unique).encode(), contentType=JSON_PATCH_CONTENT_TYPE
        ),
        systemMetadata=template.systemMetadata,
    )
