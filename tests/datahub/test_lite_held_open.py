"""The ``datahub`` transport's write opens DataHub Lite once for all its sink batches, and
stores exactly what writing those batches one open at a time stores."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

import pytest

from ol_bridge.datahub import DatahubConfig, DatahubTransport, convert_events
from ol_bridge.datahub.coalesce import coalesce
from ol_bridge.datahub.sinks import lite as lite_module
from ol_bridge.datahub.sinks.lite import LiteSink
from tests.datahub.test_lite_bulk import events, stored

BATCH = 50  # proposals per sink write: the corpus makes many


def test_one_open_for_many_batches_stores_what_separate_opens_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proposals = convert_events(events())
    batches = len(coalesce(proposals)) // BATCH + 1
    assert batches > 5

    # reference: every batch written (and committed) with its own open, then the flush
    separate = tmp_path / "separate.duckdb"
    sink = LiteSink(separate)
    coalesced = coalesce(proposals)
    for start in range(0, len(coalesced), BATCH):
        sink.write(coalesced[start : start + BATCH])
    sink.flush()

    opened: list[Any] = []
    real_open = lite_module.open_lite

    def counting_open(path: Any, **kwargs: Any) -> Any:
        opened.append(path)
        return real_open(path, **kwargs)

    monkeypatch.setattr(lite_module, "open_lite", counting_open)
    held = tmp_path / "held.duckdb"
    config = DatahubConfig.from_dict(
        {"sink": "lite", "lite_path": str(held), "batch_size": BATCH}, environ={}
    )
    transport = DatahubTransport(config)
    assert transport.write(proposals) == len(coalesced)
    assert len(opened) == 1

    want_rows, want_edges = stored(separate)
    got_rows, got_edges = stored(held)
    assert len(want_rows) > 900
    assert got_rows == want_rows
    assert got_edges == want_edges
    # the file and its lock are free again once the write returned
    with (Path(f"{held}.lock")).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(handle, fcntl.LOCK_UN)
    transport.close()
