"""The Lite sink's bulk writes store exactly what DataHub Lite's own ``write`` stores.

Reference: what the sink did before bulk writes, through Lite's public API only: each
proposal as an UPSERT via ``DataHubLiteLocal.write`` (PATCHes applied to the stored aspect
first), then Lite's indexing hooks for each entity written. Both write the same proposals
(the converted corpus and the newest-converter events, in two batches so that the second
one versions, deduplicates and patches what the first stored) into two files; every aspect
row (all versions, system metadata but its wall-clock times) and every browse-index edge
must be equal. ``datahub lite`` then reads the bulk-written file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from datahub.metadata.schema_classes import _Aspect

from ol_bridge.datahub import convert_events
from ol_bridge.datahub.sinks import lite_bulk
from ol_bridge.datahub.sinks.base import Proposal
from ol_bridge.datahub.sinks.lite import LiteSink, _raw_to_upsert, open_lite
from tests.corpora import COMPAT_DIR, DATA_DIR


def events() -> list[dict[str, Any]]:
    paths = sorted((COMPAT_DIR / "input").glob("*/*.json"))
    paths += sorted((DATA_DIR / "datahub-ol-newest" / "input").glob("*.json"))
    loaded = [json.loads(p.read_text()) for p in paths]
    # simple_run_event: its run id is not a UUID, not convertible
    return [e for e in loaded if e.get("run", {}).get("runId") != "run_id"]


def reference_write(path: Path, batches: list[list[Proposal]]) -> list[int]:
    """The sink as it was: Lite's own write per proposal, then its hooks per entity.
    Returns the time of the last row stored by each batch."""
    ends = []
    for batch in batches:
        lite = open_lite(path)
        written = []
        for mcp in batch:
            upsert = mcp if not hasattr(mcp, "aspect") or isinstance(mcp.aspect, _Aspect) else None
            lite.write(upsert or _raw_to_upsert(lite, mcp))  # type: ignore[arg-type]
            written.append(str(mcp.entityUrn))
        for urn in sorted(set(written)):
            aspects = lite.get(urn, None, typed=True) or {}
            typed = {n: a for n, a in aspects.items() if isinstance(a, _Aspect)}
            for name, aspect in typed.items():
                lite.post_update_hook(urn, name, aspect)  # type: ignore[attr-defined]
            lite.global_post_update_hook(urn, typed)  # type: ignore[attr-defined]
        lite._close_connection()  # type: ignore[attr-defined]  # no full reindex
        ends.append(last_stored(path))
    return ends


def last_stored(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as db:
        (latest,) = db.execute("SELECT max(createdon) FROM metadata_aspect_v2").fetchone()  # type: ignore[misc]
    return int(latest)


def stored(path: Path) -> tuple[list[Any], set[tuple[Any, ...]]]:
    with duckdb.connect(str(path), read_only=True) as db:
        aspects = db.execute(
            "SELECT urn, aspect_name, version, metadata, system_metadata FROM metadata_aspect_v2 "
            "ORDER BY urn, aspect_name, version"
        ).fetchall()
        edges = set(db.execute("SELECT * FROM metadata_edge_v2").fetchall())
    rows = []
    for urn, name, version, metadata, system_text in aspects:
        system = json.loads(system_text)
        system.pop("lastObserved")
        rows.append((urn, name, version, json.loads(metadata), system))
    return rows, edges


Written = tuple[Path, Path, list[int], list[int]]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Written:
    root = tmp_path_factory.mktemp("lite-bulk")
    all_events = events()
    half = len(all_events) // 2
    # the second batch repeats a few events of the first: unchanged aspects are duplicates
    split = [all_events[:half], all_events[half:] + all_events[:5]]
    reference, bulk = root / "reference.duckdb", root / "bulk.duckdb"
    # converted once per path: Lite's own write sets systemMetadata on what it is given
    reference_ends = reference_write(reference, [convert_events(events) for events in split])
    sink, bulk_ends = LiteSink(bulk), []
    for batch in (convert_events(events) for events in split):
        assert all(p.systemMetadata is None for p in batch)  # so the bulk path is taken
        sink.write(batch)
        sink.flush()
        bulk_ends.append(last_stored(bulk))
    return reference, bulk, reference_ends, bulk_ends


def test_bulk_writes_store_what_lite_stores(both: Written) -> None:
    reference, bulk, _, _ = both
    want_rows, want_edges = stored(reference)
    got_rows, got_edges = stored(bulk)
    assert len(want_rows) > 900 and len(want_edges) > 100  # a real workload
    assert [r[:3] for r in got_rows] == [r[:3] for r in want_rows]
    assert got_rows == want_rows
    assert got_edges == want_edges


def observed_after(path: Path, time: int) -> set[tuple[str, str]]:
    """Aspects whose latest value was last written or seen again after ``time``."""
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.execute(
            "SELECT urn, aspect_name, system_metadata FROM metadata_aspect_v2 WHERE version = 0"
        ).fetchall()
    return {(u, n) for u, n, system in rows if json.loads(system)["lastObserved"] > time}


def test_the_second_batch_observes_what_it_repeats(both: Written) -> None:
    """Aspects the second batch writes, changed or not (duplicates refresh lastObserved)."""
    reference, bulk, reference_ends, bulk_ends = both
    seen = observed_after(reference, reference_ends[0])
    assert seen and seen == observed_after(bulk, bulk_ends[0])


EDGE_OPS: list[tuple[Any, ...]] = [
    ("add", "a", "name", "x", None, True),
    ("add", "a", "name", "y", "label", True),  # repoints the (a, name) edge
    ("add", "a", "child", "c1", None, False),
    ("add", "a", "child", "c2", "two", False),
    ("add", "a", "child", "c2", "deux", False),  # relabels one child
    ("add", "b", "child", "c1", None, False),
    ("remove", "b", "child"),
    ("add", "b", "name", "z", "same", True),
    ("add", "b", "name", "z", "other", True),  # relabels in place
    ("add", "stored", "name", "new", None, True),  # repoints an edge already stored
    ("add", "stored", "child", "kept", "relabelled", False),
    ("remove", "gone", "child"),
]


def test_edge_operations_apply_as_lites_own(tmp_path: Path) -> None:
    """Lite's add_edge/remove_edge one by one, and apply_edges in bulk, on the same file."""
    results = []
    for name in ("lite", "bulk"):
        lite = open_lite(tmp_path / f"{name}.duckdb")
        db = lite.duckdb_client  # type: ignore[attr-defined]
        db.execute(
            "INSERT INTO metadata_edge_v2 VALUES ('stored', 'name', 'old', 'l'), "
            "('stored', 'child', 'kept', 'k'), ('gone', 'child', 'g', NULL)"
        )
        if name == "lite":
            for op in EDGE_OPS:
                if op[0] == "add":
                    lite.add_edge(op[1], op[2], op[3], op[4], remove_existing=op[5])  # type: ignore[attr-defined]
                else:
                    lite.remove_edge(op[1], op[2])  # type: ignore[attr-defined]
        else:
            db.begin()
            lite_bulk.apply_edges(db, EDGE_OPS)
            db.commit()
        results.append(set(db.execute("SELECT * FROM metadata_edge_v2").fetchall()))
        lite._close_connection()  # type: ignore[attr-defined]
    assert results[0] == results[1]
    assert ("a", "name", "y", "label") in results[1]


def test_datahub_lite_cli_reads_the_file(both: Written, tmp_path: Path) -> None:
    _, bulk, _, _ = both
    env = {**os.environ, "HOME": str(tmp_path)}
    (tmp_path / ".datahubenv").write_text("gms:\n  server: http://localhost:8080\n")
    datahub = [sys.executable, "-m", "datahub"]
    subprocess.run(
        [*datahub, "lite", "init", "--type", "duckdb", "--file", str(bulk)],
        env=env, check=True, capture_output=True, input="y\n", text=True,
    )  # fmt: skip
    listed = subprocess.run(
        [*datahub, "lite", "ls", "/"], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "orchestrators" in listed or "data_platforms" in listed, listed
    urn = "urn:li:dataFlow:(airflow,BQ,airflow)"
    got = subprocess.run(
        [*datahub, "lite", "get", "--urn", urn], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(got)["dataFlowInfo"]["name"] == "BQ"
