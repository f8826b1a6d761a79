"""DataHub Lite's write rules, applied to a whole batch in one transaction with bulk statements.

``DataHubLiteLocal.write`` stores one aspect per call: a lookup of the latest row, one or two
INSERTs or an UPDATE, and a commit for every browse-index edge its hooks add; ~20 statements
and several commits per aspect. This module keeps Lite's table contents exactly (the
``metadata_aspect_v2`` versioning: version 0 mirrors the latest, versions 1..n keep history,
unchanged aspects only refresh ``lastObserved``; ``sysVersion`` in the system metadata), but
reads the batch's current rows with one query, works out every row in memory, and writes them
with a few multi-row statements. Browse-index edges come from Lite's own hooks
(``post_update_hook``, ``global_post_update_hook``) run against an :class:`EdgeRecorder`
(for plain URNs, the same edges worked out by :mod:`lite_index`), then applied the same
way. ``tests/datahub/test_lite_bulk.py`` checks the stored rows equal what Lite's own
``write`` stores, edges included.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from datahub.emitter.aspect import ASPECT_MAP
from datahub.emitter.serialization_helper import post_json_transform
from datahub.lite.duckdb_lite import DuckDBLite
from datahub.metadata.schema_classes import (
    ChartInfoClass,
    ContainerClass,
    ContainerPropertiesClass,
    DashboardInfoClass,
    DataPlatformInstanceClass,
    DatasetPropertiesClass,
    SubTypesClass,
    SystemMetadataClass,
    TagPropertiesClass,
)
from datahub.metadata.urns import DataPlatformUrn

from ol_bridge._compat.datahub import Aspect, is_aspect
from ol_bridge.datahub.schema_json import aspect_to_json
from ol_bridge.datahub.sinks import lite_index

#: Aspects Lite's indexing hooks look at; the others never make an edge.
INDEXED_ASPECTS: frozenset[str] = frozenset(
    name
    for name, cls in ASPECT_MAP.items()
    if cls
    in (
        ContainerClass,
        ContainerPropertiesClass,
        DataPlatformInstanceClass,
        DatasetPropertiesClass,
        SubTypesClass,
        ChartInfoClass,
        DashboardInfoClass,
        TagPropertiesClass,
    )
)
_Key = tuple[str, str]


@attrs.define
class AspectWrite:
    """One UPSERT to store: the aspect in GMS JSON form, and the typed aspect when known."""

    urn: str
    name: str
    json: Any
    typed: Aspect | None = None


@attrs.define
class Current:
    """Version 0 of an aspect as the batch sees it."""

    metadata: Any
    system_metadata: dict[str, Any]
    version: int
    in_store: bool
    changed: bool = False
    #: ``json.dumps`` of ``metadata`` / ``system_metadata`` when this batch made them
    text: str | None = None
    system_text: str | None = None


class EdgeRecorder(DuckDBLite):
    """Lite's browse-index hooks, recording the edge operations instead of running them.

    Built without a connection: only ``add_edge`` / ``remove_edge`` (overridden here) and
    Lite's pure helpers are reached by the hooks. ``own_rules``: the edges of plain URNs are
    worked out by :mod:`~ol_bridge.datahub.sinks.lite_index` (the same edges, without Lite's
    repeated URN parsing); everything else goes through Lite's hooks.
    """

    def __init__(self, *, own_rules: bool = True) -> None:  # no super().__init__: no connection
        self.ops: list[tuple[Any, ...]] = []
        self._own_rules = own_rules
        self._categories: dict[str, str] = {}

    def category_of(self, platform: str) -> str:
        """The category node Lite files a plain platform name under (Lite's own rule)."""
        found = self._categories.get(platform)
        if found is None:
            found = str(self.get_category_from_platform(DataPlatformUrn(platform)))
            self._categories[platform] = found
        return found

    def global_post_update_hook(self, entity_urn: str, aspect_map: dict[str, Any]) -> None:
        ops = None
        if self._own_rules:
            ops = lite_index.entity_edges(entity_urn, aspect_map, self.category_of)
        if ops is None:
            super().global_post_update_hook(entity_urn, aspect_map)
        else:
            self.ops.extend(ops)

    def post_update_hook(self, entity_urn: str, aspect_name: str, aspect: Any) -> None:
        if self._own_rules and isinstance(aspect, DataPlatformInstanceClass):
            ops = lite_index.instance_aspect_edges(aspect, self.category_of)
            if ops is not None:
                self.ops.extend(ops)
                return
        super().post_update_hook(entity_urn, aspect_name, aspect)

    def add_edge(
        self,
        src: Any,
        relnship: str,
        dst: Any,
        dst_label: str | None = None,
        remove_existing: bool = False,
    ) -> None:
        self.ops.append(("add", str(src), relnship, str(dst), dst_label, remove_existing))

    def remove_edge(self, src: str, relnship: str) -> None:
        self.ops.append(("remove", str(src), relnship))


def _unnest(types: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """A SELECT of ``rows`` passed column by column, one list parameter per column:
    DuckDB binds a few lists far faster than a VALUES clause of thousands of parameters."""
    select = ", ".join(f"UNNEST(?::{t}[]) AS c{i}" for i, t in enumerate(types))
    return f"SELECT {select}", [list(column) for column in zip(*rows, strict=True)]


_ASPECT_ROW = ("VARCHAR", "VARCHAR", "BIGINT", "VARCHAR", "VARCHAR", "BIGINT")


def load_current(db: Any, keys: set[_Key]) -> dict[_Key, Current]:
    """Version 0 of each of ``keys`` that is stored (its JSON, system metadata, version)."""
    urns = sorted({urn for urn, _ in keys})
    found: dict[_Key, Current] = {}
    for start in range(0, len(urns), 2000):
        rows = db.execute(
            "SELECT urn, aspect_name, metadata, system_metadata FROM metadata_aspect_v2 "
            "WHERE version = 0 AND urn IN (SELECT UNNEST(?::VARCHAR[]))",
            [urns[start : start + 2000]],
        ).fetchall()
        for urn, name, metadata, system_metadata in rows:
            if (urn, name) not in keys:
                continue
            system = json.loads(system_metadata)
            version = system.get("properties", {}).get("sysVersion")
            if version is None:  # written by something else: Lite's own fallback
                (version,) = db.execute(
                    "SELECT max(version) FROM metadata_aspect_v2 WHERE urn = ? AND aspect_name = ?",
                    [urn, name],
                ).fetchone()
            found[(urn, name)] = Current(json.loads(metadata), system, int(version), True)
    return found


def write_aspects(
    db: Any,
    writes: Sequence[AspectWrite],
    recorder: EdgeRecorder,
    current: dict[_Key, Current],
) -> list[str]:
    """Store ``writes`` in order, as Lite's ``write`` would one by one; returns the URNs of
    the aspects that changed. ``current`` is :func:`load_current` of at least the keys
    written (it is updated). Runs Lite's per-aspect hook on ``recorder`` for each change.
    The caller owns the transaction."""
    inserts: list[tuple[Any, ...]] = []
    written: list[str] = []
    now = int(time.time() * 1000.0)
    # What Lite stores for a proposal without system metadata (one conversion per batch)
    template = SystemMetadataClass(lastObserved=now, properties={}).to_obj()
    for write in writes:
        key = (write.urn, write.name)
        state = current.get(key)
        if state is not None and state.metadata == write.json:
            state.system_metadata = {**state.system_metadata, "lastObserved": now}
            state.system_text = None
            state.changed = True
            continue
        version = 1 if state is None else state.version + 1
        system = {**template, "properties": {"sysVersion": str(version)}}
        text, system_text = json.dumps(write.json), json.dumps(system)
        inserts.append((write.urn, write.name, version, text, system_text, now))
        if state is None:
            current[key] = Current(write.json, system, version, False, True, text, system_text)
        else:
            state.metadata, state.system_metadata, state.version = write.json, system, version
            state.text, state.system_text, state.changed = text, system_text, True
        written.append(write.urn)
        if write.typed is not None:
            recorder.post_update_hook(write.urn, write.name, write.typed)
    updates = []
    for (urn, name), state in current.items():
        if not state.changed:
            continue
        row = (
            state.text if state.text is not None else json.dumps(state.metadata),
            state.system_text
            if state.system_text is not None
            else json.dumps(state.system_metadata),
        )
        if state.in_store:
            updates.append((urn, name, *row))
        else:
            inserts.append((urn, name, 0, row[0], row[1], _created_on(state)))
    if inserts:
        select, params = _unnest(_ASPECT_ROW, inserts)
        db.execute(f"INSERT INTO metadata_aspect_v2 {select}", params)
    if updates:
        select, params = _unnest(("VARCHAR",) * 4, updates)
        db.execute(
            "UPDATE metadata_aspect_v2 AS a SET metadata = u.c2, system_metadata = u.c3 "
            f"FROM ({select}) AS u WHERE a.urn = u.c0 AND a.aspect_name = u.c1 AND a.version = 0",
            params,
        )
    return written


def _created_on(state: Current) -> int:
    observed = state.system_metadata.get("lastObserved")
    return int(observed) if observed is not None else int(time.time() * 1000.0)


def index_entities(
    db: Any,
    urns: Iterable[str],
    recorder: EdgeRecorder,
    known: Mapping[_Key, Aspect] | None = None,
) -> None:
    """Lite's per-entity indexing (what its ``reindex`` does) for ``urns``, on ``recorder``:
    ``post_update_hook`` for each stored aspect, then ``global_post_update_hook``. Only the
    aspects those hooks read are read, and only those not in ``known`` (the typed aspects
    the caller just stored) are decoded."""
    known = known or {}
    wanted = sorted(set(urns))
    stored: dict[str, dict[str, Aspect]] = {urn: {} for urn in wanted}
    names = sorted(INDEXED_ASPECTS)
    for start in range(0, len(wanted), 2000):
        rows = db.execute(
            "SELECT urn, aspect_name, metadata FROM metadata_aspect_v2 "
            "WHERE version = 0 AND urn IN (SELECT UNNEST(?::VARCHAR[])) "
            "AND aspect_name IN (SELECT UNNEST(?::VARCHAR[])) "
            "ORDER BY urn, aspect_name",
            [wanted[start : start + 2000], names],
        ).fetchall()
        for urn, name, metadata in rows:
            aspect = known.get((urn, name))
            if aspect is None:
                aspect = ASPECT_MAP[name].from_obj(post_json_transform(json.loads(metadata)))
            stored[urn][name] = aspect
    for urn in wanted:
        aspects = stored[urn]
        for name, aspect in aspects.items():
            recorder.post_update_hook(urn, name, aspect)
        recorder.global_post_update_hook(urn, aspects)


def apply_edges(db: Any, ops: Sequence[tuple[Any, ...]]) -> None:
    """Apply recorded ``add_edge`` / ``remove_edge`` operations in order, as Lite's methods
    would one by one, with one read and a few bulk writes."""
    if not ops:
        return
    sources = sorted({op[1] for op in ops})
    original: dict[tuple[str, str], list[list[Any]]] = {}
    for start in range(0, len(sources), 2000):
        rows = db.execute(
            "SELECT src_id, relnship, dst_id, dst_label FROM metadata_edge_v2 "
            "WHERE src_id IN (SELECT UNNEST(?::VARCHAR[]))",
            [sources[start : start + 2000]],
        ).fetchall()
        for src, rel, dst, label in rows:
            original.setdefault((src, rel), []).append([dst, label])
    state = _EdgeState({key: [list(row) for row in rows] for key, rows in original.items()})
    for op in ops:
        state.simulate(op)
    before = {(s, r, d): label for (s, r), rows in original.items() for d, label in rows}
    after = {(s, r, d): label for (s, r), rows in state.rows.items() for d, label in rows}
    deleted = [key for key in before if key not in after]
    inserted = [(*key, label) for key, label in after.items() if key not in before]
    relabelled = [
        (*key, label) for key, label in after.items() if key in before and before[key] != label
    ]
    if deleted:
        select, params = _unnest(("VARCHAR",) * 3, deleted)
        db.execute(
            f"DELETE FROM metadata_edge_v2 AS e USING ({select}) AS d "
            "WHERE e.src_id = d.c0 AND e.relnship = d.c1 AND e.dst_id = d.c2",
            params,
        )
    if inserted:
        select, params = _unnest(("VARCHAR",) * 4, inserted)
        db.execute(f"INSERT INTO metadata_edge_v2 {select}", params)
    if relabelled:
        select, params = _unnest(("VARCHAR",) * 4, relabelled)
        db.execute(
            f"UPDATE metadata_edge_v2 AS e SET dst_label = u.c3 FROM ({select}) AS u "
            "WHERE e.src_id = u.c0 AND e.relnship = u.c1 AND e.dst_id = u.c2",
            params,
        )


class _EdgeState:
    """The edge rows of the sources a batch touches, with each (source, relationship)'s rows
    also indexed by destination: a platform or container has thousands of edges, and each
    of Lite's ``add_edge`` calls looks its destination up."""

    def __init__(self, rows: dict[tuple[str, str], list[list[Any]]]) -> None:
        self.rows = rows
        self._by_dst: dict[tuple[str, str], dict[str, list[list[Any]]]] = {}

    def _index(self, key: tuple[str, str]) -> dict[str, list[list[Any]]]:
        index = self._by_dst.get(key)
        if index is None:
            index = self._by_dst[key] = {}
            for row in self.rows.get(key, ()):
                index.setdefault(row[0], []).append(row)
        return index

    def simulate(self, op: tuple[Any, ...]) -> None:
        """One of Lite's ``add_edge`` / ``remove_edge`` calls on the in-memory edge rows."""
        if op[0] == "remove":
            self.rows.pop((op[1], op[2]), None)
            self._by_dst.pop((op[1], op[2]), None)
            return
        _, src, rel, dst, label, remove_existing = op
        key = (src, rel)
        rows = self.rows.setdefault(key, [])
        index = self._index(key)
        match = rows if remove_existing else index.get(dst, [])
        if not match:
            row = [dst, label]
            rows.append(row)
            index.setdefault(dst, []).append(row)
            return
        first_dst, first_label = match[0]
        if first_dst != dst:  # only with remove_existing: every (src, rel) row is repointed
            for row in rows:
                row[0] = dst
                if first_label != label:
                    row[1] = label
            self._by_dst[key] = {dst: list(rows)}
        elif first_label != label:
            for row in index.get(dst, []):
                row[1] = label


def typed_if_indexed(name: str, aspect: Any) -> Aspect | None:
    """``aspect`` when Lite's per-aspect hook could make an edge of it."""
    return aspect if name in INDEXED_ASPECTS and is_aspect(aspect) else None


def gms_json(aspect: Aspect) -> Any:
    """An aspect in the JSON form Lite stores (and GMS speaks)."""
    return aspect_to_json(aspect)
