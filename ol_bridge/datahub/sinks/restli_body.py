"""The Rest.li ``ingestProposalBatch`` requests acryl-datahub's emitter would send, built
directly.

``DataHubRestEmitter.emit_mcps`` stamps every proposal with system metadata
(``ensure_has_system_metadata``), serializes each with ``pre_json_transform(mcp.to_obj())``
(avrogen validates and walks the whole proposal), measures each by ``json.dumps``, splits the
batch at GMS's limits and posts ``{"proposals": [...], "async": "false"}``. For the
converter's proposals (no system metadata, headers or audit header of their own) the same
bodies are built here from the aspect JSON (:mod:`ol_bridge.datahub.schema_json`) and one
system-metadata object per batch; anything else goes through ``to_obj`` as before.

The bodies are posted with the emitter's own session and error handling (its retries, auth,
timeouts, and its ``OperationalError``): acryl-datahub has no public call that sends a
prebuilt batch, so that one call is ``ol_bridge._compat.datahub.post_restli_batch``.
``tests/datahub/test_restli_body.py`` checks, on the loopback GMS, that the requests are byte
for byte those ``emit_mcps`` sends for the same proposals.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import datahub
from datahub.cli.cli_utils import ensure_has_system_metadata
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.rest_emitter import (
    BATCH_INGEST_MAX_PAYLOAD_LENGTH,
    INGEST_MAX_PAYLOAD_BYTES,
    DataHubRestEmitter,
)
from datahub.emitter.serialization_helper import pre_json_transform
from datahub.metadata.schema_classes import (
    MetadataChangeProposalClass,
    SystemMetadataClass,
)

from ol_bridge._compat.datahub import is_aspect, post_restli_batch
from ol_bridge.datahub.aspect_json import serialized_proposal
from ol_bridge.datahub.schema_json import aspect_to_json
from ol_bridge.datahub.sinks.base import Proposal

_JSON = "application/json"


def system_metadata(now_ms: int) -> Any:
    """What ``ensure_has_system_metadata`` gives a proposal without system metadata."""
    metadata = SystemMetadataClass(
        lastObserved=now_ms,
        # what acryl-datahub names itself with (its package exports both, untyped)
        properties={
            "clientId": vars(datahub)["__package_name__"],
            "clientVersion": vars(datahub)["__version__"],
        },
    )
    return pre_json_transform(metadata.to_obj())


def _plain(mcp: Proposal) -> bool:
    """A proposal whose envelope is only entity, change type, aspect name and aspect."""
    return (
        mcp.systemMetadata is None
        and getattr(mcp, "headers", None) is None
        and getattr(mcp, "auditHeader", None) is None
        and getattr(mcp, "entityKeyAspect", None) is None
    )


def proposal_json(mcp: Proposal, system: Any) -> Any:
    """``pre_json_transform(mcp.to_obj())`` of ``mcp`` once the emitter stamped it with
    ``system`` (the proposal itself is not changed)."""
    if isinstance(mcp, MetadataChangeProposalWrapper):
        if _plain(mcp) and is_aspect(mcp.aspect):
            value = json.dumps(aspect_to_json(mcp.aspect))
            return _envelope(mcp, {"value": value, "contentType": _JSON}, system)
        mcp = serialized_proposal(mcp)
    if _plain(mcp) and mcp.aspect is not None and mcp.entityUrn is not None:
        raw = mcp.aspect.value
        value = raw.decode() if isinstance(raw, bytes) else raw
        return _envelope(mcp, {"value": value, "contentType": mcp.aspect.contentType}, system)
    stamped = MetadataChangeProposalClass.from_obj(mcp.to_obj())  # stamp a copy, not mcp
    ensure_has_system_metadata(stamped)
    return pre_json_transform(stamped.to_obj())


def _envelope(mcp: Proposal, aspect: dict[str, Any], system: Any) -> dict[str, Any]:
    # MetadataChangeProposal's field order; the absent optional fields are left out
    return {
        "entityType": mcp.entityType,
        "entityUrn": mcp.entityUrn,
        "changeType": mcp.changeType,
        "aspectName": mcp.aspectName,
        "aspect": aspect,
        "systemMetadata": system,
    }


def batch_bodies(mcps: Sequence[Proposal], now_ms: int | None = None) -> list[str]:
    """The request bodies ``emit_mcps`` (Rest.li, synchronous) posts for ``mcps``: split
    where the emitter splits (GMS's payload bytes and proposal count limits)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    system = system_metadata(now_ms)
    chunks: list[list[str]] = [[]]
    size = 0
    for mcp in mcps:
        text = json.dumps(proposal_json(mcp, system))
        if (
            len(text) + size > INGEST_MAX_PAYLOAD_BYTES
            or len(chunks[-1]) >= BATCH_INGEST_MAX_PAYLOAD_LENGTH
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(text)
        size += len(text)
    # json.dumps({"proposals": [...], "async": "false"}) with the proposals dumped once
    return ['{"proposals": [' + ", ".join(c) + '], "async": "false"}' for c in chunks if c]


def post_batches(emitter: DataHubRestEmitter, bodies: Sequence[str]) -> None:
    """Post prebuilt ``ingestProposalBatch`` bodies through ``emitter`` (its session, retries
    and errors, as ``emit_mcps`` posts them)."""
    for body in bodies:
        post_restli_batch(emitter, body)
