"""Delivering a batch at once (``delivered_many``, a few statements per 500 events) leaves
the outbox exactly as delivering its events one by one does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ol_bridge.delivery import Outbox
from ol_bridge.delivery.database import SqliteFile
from ol_bridge.delivery.schema import EVENTS, QUEUE


def payloads(count: int) -> list[str]:
    return [
        json.dumps({"eventTime": f"2024-05-01T12:00:00.{i:06d}Z", "n": i}) for i in range(count)
    ]


def state(box: Outbox) -> Any:
    with box.database.connect() as connection:
        rows = {
            table: sorted(
                tuple(row) for row in connection.execute(sa.text(f"SELECT {columns} FROM {table}"))
            )
            for table, columns in (
                (EVENTS, "id, waiting, payload IS NULL"),
                (QUEUE, "destination, event_id, attempts, rejected"),
            )
        }
    stats = [(s.name, s.queued, s.rejected, s.delivered, s.failures) for s in box.stats()]
    return rows, stats


def test_delivered_many_equals_delivering_one_by_one(tmp_path: Path) -> None:
    results = []
    for way in ("one_by_one", "many"):
        with Outbox(SqliteFile(tmp_path / f"{way}.sqlite"), clock=lambda: 1000.0) as box:
            for payload in payloads(1203):
                box.enqueue(payload, ["a", "b"])
            pending = box.batch("a", 2000)
            box.reject("a", pending[7].event_id, "refused")  # a rejected one delivered too
            box.delivered("a", pending[3].event_id)  # delivered already: no effect again
            ids = [p.event_id for p in pending[:1100]] + [pending[5].event_id]  # a repeat
            if way == "many":
                box.delivered_many("a", ids)
            else:
                for event_id in ids:
                    box.delivered("a", event_id)
            box.delivered_many("b", [p.event_id for p in pending[:10]])
            results.append(state(box))
    assert results[0] == results[1]
    rows, stats = results[1]
    assert stats[0][1:3] == (103, 0)  # a: 1,203 - 1,100 queued, the rejected one delivered
    assert sum(1 for _, _, gone in rows[EVENTS] if gone) == 10
