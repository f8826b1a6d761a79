"""DataHub Lite sink: acryl-datahub's embedded DuckDB metadata store.

Proposals go through DataHub Lite's own API (``get_datahub_lite`` with the ``duckdb``
implementation), so the file is readable with ``datahub lite ls/get/search`` once the
CLI is pointed at it (``datahub lite init --type duckdb --file <lite_path>``).

DataHub Lite ignores ``changeType``: it would store a PATCH's operation list as the
aspect. This sink applies patches itself (read the aspect from Lite, apply the patch
with GMS's rules from :mod:`ol_bridge.datahub.sinks.patch`, write the result as an
UPSERT). The DuckDB file is opened for each ``write`` and closed right after, because
DuckDB lets only one process hold a file open for writing: keeping it open would lock
out ``datahub lite`` (and a second ol-bridge process) for the life of the daemon.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datahub.emitter.aspect import ASPECT_MAP, JSON_CONTENT_TYPE, JSON_PATCH_CONTENT_TYPE
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.serialization_helper import post_json_transform, pre_json_transform
from datahub.lite.lite_local import DataHubLiteLocal
from datahub.lite.lite_util import get_datahub_lite
from datahub.metadata.schema_classes import (
    ChangeTypeClass,
    MetadataChangeProposalClass,
    _Aspect,
)

from ol_bridge.datahub.sinks.base import Mcp
from ol_bridge.datahub.sinks.patch import apply_patch
from ol_bridge.errors import DeliveryError, LitePatchError


def open_lite(path: str | os.PathLike[str], *, read_only: bool = False) -> DataHubLiteLocal[Any]:
    """Open the DataHub Lite DuckDB file at ``path`` with acryl-datahub's Lite API."""
    return get_datahub_lite(
        {"type": "duckdb", "config": {"file": str(path), "read_only": read_only}},
        read_only=read_only,
    )


class LiteSink:
    """Writes proposals into a DataHub Lite DuckDB file, applying PATCHes itself."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        #: entities written since the last flush, whose browse-index edges are not yet made
        self._unindexed: set[str] = set()

    @property
    def path(self) -> Path:
        return self._path

    def write(self, mcps: Sequence[Mcp]) -> None:
        if not mcps:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            lite = open_lite(self._path)
        except OSError as error:
            raise DeliveryError(f"Cannot open DataHub Lite at {self._path}: {error}") from error
        try:
            for mcp in mcps:
                upsert = self._as_upsert(lite, mcp)
                lite.write(upsert)
                self._unindexed.add(str(upsert.entityUrn))
        finally:
            _close_without_reindex(lite)

    def _as_upsert(self, lite: DataHubLiteLocal[Any], mcp: Mcp) -> MetadataChangeProposalWrapper:
        if isinstance(mcp, MetadataChangeProposalWrapper):
            if mcp.changeType != ChangeTypeClass.UPSERT:
                raise LitePatchError(
                    f"DataHub Lite can only store UPSERTs; got {mcp.changeType} for "
                    f"{mcp.aspectName} of {mcp.entityUrn}."
                )
            return mcp
        return _raw_to_upsert(lite, mcp)

    def flush(self) -> None:
        """Bring Lite's browse index up to date for the entities written since the last flush.

        Every ``write`` commits its aspects before it returns; only the index edges that
        ``datahub lite ls`` browses are made here, with Lite's own hooks, for just those
        entities (Lite's ``reindex`` redoes every entity stored, which is what made its
        ``close()`` slower the more the store held). Adding an edge is idempotent.
        """
        if not self._unindexed:
            return
        try:
            lite = open_lite(self._path)
        except OSError as error:
            raise DeliveryError(f"Cannot open DataHub Lite at {self._path}: {error}") from error
        try:
            for urn in sorted(self._unindexed):
                _index_entity(lite, urn)
        finally:
            _close_without_reindex(lite)
        self._unindexed.clear()

    def close(self) -> None:
        """Nothing stays open between writes."""


def _index_entity(lite: DataHubLiteLocal[Any], urn: str) -> None:
    """Lite's per-entity indexing (what its ``reindex`` does for every entity), for one."""
    aspects = lite.get(urn, None, typed=True) or {}
    typed = {name: aspect for name, aspect in aspects.items() if isinstance(aspect, _Aspect)}
    post_update = getattr(lite, "post_update_hook", None)
    global_post_update = getattr(lite, "global_post_update_hook", None)
    if not callable(post_update) or not callable(global_post_update):
        return  # a Lite implementation without the hooks indexes on its own
    for name, aspect in typed.items():
        post_update(urn, name, aspect)
    global_post_update(urn, typed)


def _close_without_reindex(lite: DataHubLiteLocal[Any]) -> None:
    """Close without Lite's rebuild of its whole browse index (``flush`` indexes what was
    written instead). ``DataHubLiteLocal.close()`` of a writable store re-derives every
    entity's edges: time proportional to everything stored, after every write."""
    close_connection = getattr(lite, "_close_connection", None)
    if callable(close_connection):
        close_connection()
    else:  # a Lite implementation without it: its own close is always correct
        lite.close()


def _raw_to_upsert(
    lite: DataHubLiteLocal[Any], mcp: MetadataChangeProposalClass
) -> MetadataChangeProposalWrapper:
    aspect_name, urn = mcp.aspectName, mcp.entityUrn
    if aspect_name is None or urn is None or mcp.aspect is None:
        raise LitePatchError(
            "DataHub Lite needs proposals with entityUrn, aspectName and aspect; got "
            f"{mcp.entityType} {urn!r} {aspect_name!r}."
        )
    aspect_class = ASPECT_MAP.get(aspect_name)
    if aspect_class is None:
        raise LitePatchError(f"Unknown DataHub aspect {aspect_name!r} for {urn}.")
    payload: Any = json.loads(mcp.aspect.value)
    content_type = mcp.aspect.contentType
    if mcp.changeType == ChangeTypeClass.PATCH and content_type == JSON_PATCH_CONTENT_TYPE:
        stored = lite.get(urn, [aspect_name], typed=True)
        current = stored.get(aspect_name) if stored else None
        # Patches address the aspect in GMS's JSON form (unions unwrapped), so compare
        # like with like: typed aspect -> GMS JSON -> patch -> typed aspect.
        current_json = (
            pre_json_transform(current.to_obj()) if isinstance(current, _Aspect) else None
        )
        payload = apply_patch(aspect_name, current_json, payload)
    elif mcp.changeType != ChangeTypeClass.UPSERT or content_type != JSON_CONTENT_TYPE:
        raise LitePatchError(
            f"DataHub Lite cannot store a {mcp.changeType} proposal with content type "
            f"{mcp.aspect.contentType} ({aspect_name} of {urn})."
        )
    try:
        aspect = aspect_class.from_obj(post_json_transform(payload))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise LitePatchError(
            f"After applying the PATCH, aspect {aspect_name} of {urn} is not valid: {error}"
        ) from error
    if not aspect.validate():
        raise LitePatchError(
            f"After applying the PATCH, aspect {aspect_name} of {urn} does not validate "
            f"against DataHub's schema: {json.dumps(payload)[:500]}"
        )
    return MetadataChangeProposalWrapper(
        entityUrn=urn, aspect=aspect, systemMetadata=mcp.systemMetadata
    )
