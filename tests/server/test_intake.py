"""The receiver's intake: bodies checked and committed together on one thread, and the
proposals converted at the request kept for their delivery (oldest first)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

import pytest

from ol_bridge.delivery.database import SqliteFile
from ol_bridge.delivery.store import Outbox
from ol_bridge.server.convertible import Handover
from ol_bridge.server.intake import Committer, Item


def test_a_full_handover_keeps_the_oldest_proposals_which_are_delivered_first() -> None:
    now = [0.0]
    handover = Handover(2, stale_seconds=60, clock=lambda: now[0])
    assert handover.offer("a", [])
    assert handover.offer("b", [])
    assert not handover.offer("c", [])  # full: "c" is converted again at its delivery
    assert handover.take("a") == []
    assert handover.offer("d", [])  # room again
    assert (handover.take("c"), handover.hits, handover.misses) == (None, 1, 1)
    now[0] = 61.0  # "b" and "d" were never delivered through here: stale, they make room
    assert handover.offer("e", [])
    assert handover.take("b") is None
    assert handover.take("e") == []


def test_bodies_submitted_together_commit_in_one_transaction_a_refused_one_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = SqliteFile(tmp_path / "outbox.sqlite")
    transactions: list[int] = []
    original = Outbox.enqueue_many

    def enqueue_many(self: Outbox, items: Sequence[tuple[str, str | None]], *a, **k):  # type: ignore[no-untyped-def]
        transactions.append(len(items))
        return original(self, items, *a, **k)

    monkeypatch.setattr(Outbox, "enqueue_many", enqueue_many)
    release = threading.Event()
    committer = Committer(database, ["datahub"], max_events=100, dedup_seconds=0)
    try:
        # the first job holds the committer thread until the others are queued behind it
        first = committer.submit_work(lambda: [Item('{"n": 0}', "k0")] if release.wait(30) else [])
        futures: list[Future[list[bool]]] = [
            committer.submit_work(lambda n=n: [Item(f'{{"n": {n}}}', f"k{n}")])  # type: ignore[misc]
            for n in range(1, 4)
        ]

        def refuse() -> list[Item]:
            raise ValueError("not an event")

        refused = committer.submit_work(refuse)
        futures.append(committer.submit([Item('{"n": 4}', "k4"), Item('{"n": 0}', "k0")]))
        release.set()
        assert first.result(30) == [False]
        assert [f.result(30) for f in futures] == [[False], [False], [False], [False, True]]
        with pytest.raises(ValueError, match="not an event"):
            refused.result(30)
    finally:
        committer.close()
    # the others queued while the first was being prepared: all six in one transaction
    assert transactions == [6]
    outbox = Outbox(database)
    try:
        assert {s.name: s.queued for s in outbox.stats()} == {"datahub": 5}
    finally:
        outbox.close()
