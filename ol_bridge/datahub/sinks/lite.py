"""DataHub Lite sink: acryl-datahub's embedded DuckDB metadata store.

The file is created and laid out by DataHub Lite's own API (``get_datahub_lite`` with the
``duckdb`` implementation), and every row is what Lite's ``write`` would store, so it is
readable with ``datahub lite ls/get/search`` once the CLI is pointed at it (``datahub lite
init --type duckdb --file <lite_path>``). Lite's ``write`` costs ~20 statements and several
commits per aspect; this sink stores a whole batch in one transaction with bulk statements
(:mod:`ol_bridge.datahub.sinks.lite_bulk`, which keeps Lite's versioning and browse index).

DataHub Lite ignores ``changeType``: it would store a PATCH's operation list as the
aspect. This sink applies patches itself (the aspect stored or written earlier in the batch,
patched with GMS's rules from :mod:`ol_bridge.datahub.sinks.patch`, stored as an UPSERT).

Lite-specific concerns live here: the DuckDB file is opened for each ``write`` / ``flush``
(or once for several, inside ``held_open``) and closed right after, under a cross-process
lock (``<lite_path>.lock``), because DuckDB lets only one process hold a file open for
writing (keeping it open would lock out ``datahub lite`` and other ol-bridge processes);
DuckDB's errors (a file locked by another program, a corrupt file) become
:class:`~ol_bridge.errors.DeliveryError` saying what to do.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
from datahub.emitter.aspect import ASPECT_MAP, JSON_CONTENT_TYPE, JSON_PATCH_CONTENT_TYPE
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.serialization_helper import post_json_transform, pre_json_transform
from datahub.lite.lite_local import DataHubLiteLocal
from datahub.lite.lite_util import get_datahub_lite
from datahub.metadata.schema_classes import ChangeTypeClass, MetadataChangeProposalClass

from ol_bridge._compat.datahub import Aspect, close_lite_without_reindex, is_aspect
from ol_bridge.datahub.schema_json import SchemaJsonError, normalize_json
from ol_bridge.datahub.sinks import lite_bulk
from ol_bridge.datahub.sinks.base import Proposal
from ol_bridge.datahub.sinks.patch import apply_patch
from ol_bridge.errors import DeliveryError, LitePatchError


def open_lite(path: str | os.PathLike[str], *, read_only: bool = False) -> DataHubLiteLocal[Any]:
    """Open the DataHub Lite DuckDB file at ``path`` with acryl-datahub's Lite API."""
    return get_datahub_lite(
        {"type": "duckdb", "config": {"file": str(path), "read_only": read_only}},
        read_only=read_only,
    )


@contextlib.contextmanager
def lite_lock(lite_path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the cross-process lock ol-bridge takes around every DataHub Lite access.

    DuckDB lets one process at a time open the file for writing; ol-bridge processes on
    one machine (``serve`` workers, the sensor, a test reading the file) take turns
    through this lock (``<lite_path>.lock``) instead of failing on DuckDB's own.
    """
    lock_path = Path(f"{lite_path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _writable(path: Path) -> Iterator[DataHubLiteLocal[Any]]:
    """Lite at ``path`` opened for writing under the lock, closed (never reindexed) after;
    DuckDB's and the file system's errors as DeliveryError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with lite_lock(path):
        try:
            lite = open_lite(path)
        except (OSError, duckdb.Error) as error:
            raise DeliveryError(
                f"Cannot open DataHub Lite at {path}: {error}. If another program (e.g. "
                "`datahub lite` or a second ol-bridge without the shared lock) holds the "
                "file, close it; if the file is damaged, move it away to start a new one."
            ) from error
        try:
            yield lite
        except duckdb.Error as error:
            raise DeliveryError(f"DataHub Lite at {path} failed to store: {error}") from error
        finally:
            close_lite_without_reindex(lite)


class LiteSink:
    """Writes proposals into a DataHub Lite DuckDB file, applying PATCHes itself."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        #: entities written since the last flush, whose browse-index edges are not yet made
        self._unindexed: set[str] = set()
        #: the file while :meth:`held_open` keeps it open
        self._held: DataHubLiteLocal[Any] | None = None

    @property
    def path(self) -> Path:
        return self._path

    @contextlib.contextmanager
    def held_open(self) -> Iterator[None]:
        """Keep the file open (and locked) for the writes and flushes inside the block: the
        transport's write of several batches opens DuckDB once (opening and closing it cost
        a quarter of writing a 100-asset run's proposals). Each ``write`` still commits on
        its own; the file is closed, and the lock released, when the block ends."""
        if self._held is not None:
            yield
            return
        with _writable(self._path) as lite:
            self._held = lite
            try:
                yield
            finally:
                self._held = None

    @contextlib.contextmanager
    def _opened(self) -> Iterator[DataHubLiteLocal[Any]]:
        if self._held is not None:
            yield self._held
        else:
            with _writable(self._path) as lite:
                yield lite

    def write(self, mcps: Sequence[Proposal]) -> None:
        """Store ``mcps`` in order, and index the entities they wrote, in one transaction
        (all of them or none)."""
        if not mcps:
            return
        with self._opened() as lite:
            if any(getattr(m, "systemMetadata", None) is not None for m in mcps):
                # Lite's own rules for those; indexed at the next flush
                self._unindexed.update(self._write_one_by_one(lite, mcps))
            else:
                self._write_batch(lite, mcps)

    def _write_batch(self, lite: DataHubLiteLocal[Any], mcps: Sequence[Proposal]) -> None:
        # Indexing here rather than in flush saves opening the file a second time (DuckDB's
        # connect is most of a small batch's cost); the edges are the same.
        db = _connection(lite)
        recorder = lite_bulk.EdgeRecorder()
        db.begin()
        try:
            keys = {(str(m.entityUrn), str(m.aspectName)) for m in mcps}
            current = lite_bulk.load_current(db, keys)
            latest = {key: state.metadata for key, state in current.items()}
            writes = []
            for mcp in mcps:
                write = _aspect_write(mcp, latest)
                latest[(write.urn, write.name)] = write.json
                writes.append(write)
            lite_bulk.write_aspects(db, writes, recorder, current)
            typed = {(w.urn, w.name): w.typed for w in writes if w.typed is not None}
            lite_bulk.index_entities(db, [w.urn for w in writes], recorder, typed)
            lite_bulk.apply_edges(db, recorder.ops)
            db.commit()
        except BaseException:
            db.rollback()
            raise

    def _write_one_by_one(self, lite: DataHubLiteLocal[Any], mcps: Sequence[Proposal]) -> list[str]:
        urns = []
        for mcp in mcps:
            upsert = self._as_upsert(lite, mcp)
            lite.write(upsert)
            urns.append(str(upsert.entityUrn))
        return urns

    def _as_upsert(
        self, lite: DataHubLiteLocal[Any], mcp: Proposal
    ) -> MetadataChangeProposalWrapper:
        if isinstance(mcp, MetadataChangeProposalWrapper):
            _check_upsert(mcp)
            return mcp
        return _raw_to_upsert(lite, mcp)

    def flush(self) -> None:
        """Bring Lite's browse index up to date for entities a ``write`` left unindexed.

        Every ``write`` commits its aspects before it returns, and a batch write also makes
        the index edges ``datahub lite ls`` browses for the entities it wrote, with Lite's
        own hooks (Lite's ``reindex`` redoes every entity stored, which is what made its
        ``close()`` slower the more the store held). Proposals with their own system
        metadata go through Lite's ``write`` one by one; their entities are indexed here,
        in one transaction.
        """
        if not self._unindexed:
            return
        with self._opened() as lite:
            db = _connection(lite)
            recorder = lite_bulk.EdgeRecorder()
            db.begin()
            try:
                lite_bulk.index_entities(db, self._unindexed, recorder)
                lite_bulk.apply_edges(db, recorder.ops)
                db.commit()
            except BaseException:
                db.rollback()
                raise
        self._unindexed.clear()

    def close(self) -> None:
        """Nothing stays open between writes."""


def _connection(lite: DataHubLiteLocal[Any]) -> Any:
    """The DuckDB connection of a DuckDB-backed Lite (``duckdb_client``)."""
    db = getattr(lite, "duckdb_client", None)
    if db is None:
        raise DeliveryError(
            f"DataHub Lite implementation {type(lite).__name__} has no DuckDB connection; "
            "ol-bridge writes only the duckdb type of DataHub Lite."
        )
    return db


def _check_upsert(mcp: MetadataChangeProposalWrapper) -> None:
    if mcp.changeType != ChangeTypeClass.UPSERT:
        raise LitePatchError(
            f"DataHub Lite can only store UPSERTs; got {mcp.changeType} for "
            f"{mcp.aspectName} of {mcp.entityUrn}."
        )


def _aspect_write(mcp: Proposal, latest: dict[tuple[str, str], Any]) -> lite_bulk.AspectWrite:
    """``mcp`` as the aspect JSON to store; a PATCH applied to the ``latest`` value."""
    if isinstance(mcp, MetadataChangeProposalWrapper):
        _check_upsert(mcp)
        aspect = mcp.aspect
        if mcp.entityUrn is None or mcp.aspectName is None or not is_aspect(aspect):
            raise LitePatchError(
                f"DataHub Lite needs proposals with entityUrn, aspectName and aspect; got "
                f"{mcp.entityType} {mcp.entityUrn!r} {mcp.aspectName!r}."
            )
        name = mcp.aspectName
        return lite_bulk.AspectWrite(
            str(mcp.entityUrn),
            name,
            lite_bulk.gms_json(aspect),
            lite_bulk.typed_if_indexed(name, aspect),
        )
    key = (str(mcp.entityUrn), str(mcp.aspectName))
    stored = _patched_json(mcp, lambda: latest.get(key))
    typed = None
    if key[1] in lite_bulk.INDEXED_ASPECTS:  # Lite's hooks read the typed aspect
        typed = ASPECT_MAP[key[1]].from_obj(post_json_transform(stored))
    return lite_bulk.AspectWrite(key[0], key[1], stored, typed)


def _patched_json(mcp: MetadataChangeProposalClass, current: Any) -> Any:
    """The aspect JSON a raw proposal stores: its UPSERT value, or its PATCH applied to
    ``current()`` (GMS JSON, None when there is none); normalized and checked against the
    aspect's schema as Lite's own ``write`` would store it (``schema_json``)."""
    aspect_class, payload = _proposal_payload(mcp, current)
    try:
        return normalize_json(aspect_class, payload)
    except SchemaJsonError as error:
        raise LitePatchError(
            f"After applying the PATCH, aspect {mcp.aspectName} of {mcp.entityUrn} does not "
            f"fit DataHub's schema: {error}"
        ) from error


def _proposal_payload(mcp: MetadataChangeProposalClass, current: Any) -> tuple[Any, Any]:
    """The aspect class of a raw proposal and the JSON it stores: its UPSERT value, or its
    PATCH applied to ``current()`` (the aspect as GMS JSON, None when there is none)."""
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
        # Patches address the aspect in GMS's JSON form (unions unwrapped), so compare
        # like with like: GMS JSON -> patch -> typed aspect.
        payload = apply_patch(aspect_name, current(), payload)
    elif mcp.changeType != ChangeTypeClass.UPSERT or content_type != JSON_CONTENT_TYPE:
        raise LitePatchError(
            f"DataHub Lite cannot store a {mcp.changeType} proposal with content type "
            f"{mcp.aspect.contentType} ({aspect_name} of {urn})."
        )
    return aspect_class, payload


def _raw_to_upsert(
    lite: DataHubLiteLocal[Any], mcp: MetadataChangeProposalClass
) -> MetadataChangeProposalWrapper:
    """A raw proposal as an UPSERT Lite's own ``write`` can store (a PATCH applied to the
    aspect Lite holds)."""

    def stored() -> Any:
        found = lite.get(str(mcp.entityUrn), [str(mcp.aspectName)], typed=True)
        current = found.get(str(mcp.aspectName)) if found else None
        return pre_json_transform(current.to_obj()) if is_aspect(current) else None

    aspect = _patched_aspect(mcp, stored)
    return MetadataChangeProposalWrapper(
        entityUrn=mcp.entityUrn, aspect=aspect, systemMetadata=mcp.systemMetadata
    )


def _patched_aspect(mcp: MetadataChangeProposalClass, current: Any) -> Aspect:
    """The typed aspect a raw proposal stores (:func:`_proposal_payload`), validated."""
    aspect_class, payload = _proposal_payload(mcp, current)
    aspect_name, urn = mcp.aspectName, mcp.entityUrn
    try:
        aspect: Aspect = aspect_class.from_obj(post_json_transform(payload))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise LitePatchError(
            f"After applying the PATCH, aspect {aspect_name} of {urn} is not valid: {error}"
        ) from error
    if not aspect.validate():
        raise LitePatchError(
            f"After applying the PATCH, aspect {aspect_name} of {urn} does not validate "
            f"against DataHub's schema: {json.dumps(payload)[:500]}"
        )
    return aspect
