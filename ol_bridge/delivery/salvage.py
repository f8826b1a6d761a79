"""A damaged outbox file: moved aside, and what can still be read taken out of it.

SQLite reports damage (torn pages after a disk fault, a file overwritten or truncated by
hand) as "database disk image is malformed" or "file is not a database", on whichever
statement first touches a bad page. The outbox then cannot be used at all, and deleting
it would lose every waiting event. Instead :func:`quarantine` renames the file (and its
WAL) to ``<name>.corrupt-<UTC time>`` so an operator can inspect it, and :func:`salvage`
reads from that copy every waiting event whose pages are intact, row range by row range,
skipping the ranges it cannot read. The caller queues them again in a fresh outbox and
says how many were recovered and how many were lost.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

#: messages of SQLite errors that mean the file itself is damaged (not busy, not locked)
_DAMAGE = ("malformed", "not a database", "file is encrypted", "disk image")
_CHUNK = 200


def is_damage(error: BaseException) -> bool:
    """Whether ``error`` (sqlite3's, or SQLAlchemy's wrapping it) says the file is damaged."""
    text = str(getattr(error, "orig", None) or error).lower()
    return isinstance(error, sqlite3.DatabaseError | _sqlalchemy_database_error()) and any(
        marker in text for marker in _DAMAGE
    )


def _sqlalchemy_database_error() -> type[BaseException]:
    import sqlalchemy.exc

    return sqlalchemy.exc.DatabaseError


@attrs.frozen
class Salvaged:
    #: where the damaged file now is
    moved_to: Path
    #: event key -> (payload, destinations still waiting for it)
    events: dict[str, tuple[str, tuple[str, ...]]]
    #: what the destinations' counters said was waiting, if that page was readable
    waiting_before: int | None
    #: waiting (event, destination) pairs that could not be read
    unreadable: int

    @property
    def recovered(self) -> int:
        return sum(len(destinations) for _, destinations in self.events.values())


def quarantine(path: Path) -> Path:
    """Move the damaged file (and its WAL and shared-memory files) aside."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(Path(f"{target}{suffix}"))
    return target


def salvage(copy: Path, tables: dict[str, str]) -> Salvaged:
    """Every waiting event readable from the quarantined ``copy``. ``tables``: the logical
    names (events, queue, destinations) -> the table names in that file.

    Events are read by ranges of their id (the table's b-tree key), each destination's
    queue by ranges of event id within its key, so a damaged page costs only its range.
    An event whose queue range could not be read goes to every destination the file names:
    a possible second delivery rather than a loss.
    """
    events, queue, destinations_table = tables["events"], tables["queue"], tables["destinations"]
    try:
        db = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        db.execute("SELECT 1").fetchone()
    except sqlite3.Error:
        return Salvaged(copy, {}, None, 0)
    try:
        waiting_before = _scalar(db, f"SELECT sum(queued) FROM {destinations_table}")
        names = _names(db, destinations_table, queue)
        top = _scalar(db, f"SELECT max(id) FROM {events}") or _scalar(
            db, f"SELECT max(event_id) FROM {queue}"
        )
        payloads: dict[int, tuple[str, str]] = {}
        waiting: dict[int, list[str]] = defaultdict(list)
        unknown: set[int] = set()  # event ids whose queue rows could not be read
        event_rows = (
            f"SELECT id, key, payload FROM {events} "
            "WHERE id > ? AND id <= ? AND payload IS NOT NULL"
        )
        for event_id, key, payload in _ranges(db, event_rows, (), 0, top or 0, set()):
            payloads[int(event_id)] = (str(key), str(payload))
        queue_rows = (
            f"SELECT event_id FROM {queue} WHERE destination = ? AND event_id > ? AND event_id <= ?"
        )
        for name in names:
            for (event_id,) in _ranges(db, queue_rows, (name,), 0, top or 0, unknown):
                waiting[int(event_id)].append(name)
        found: dict[str, tuple[str, tuple[str, ...]]] = {}
        for event_id, (key, payload) in payloads.items():
            targets = waiting.get(event_id) or (names if event_id in unknown else [])
            if targets:
                found[key] = (payload, tuple(dict.fromkeys(targets)))
        recovered = sum(len(d) for _, d in found.values())
        unreadable = max(0, waiting_before - recovered) if waiting_before is not None else 0
        return Salvaged(copy, found, waiting_before, unreadable)
    finally:
        db.close()


def _ranges(
    db: sqlite3.Connection,
    sql: str,
    params: tuple[object, ...],
    low: int,
    high: int,
    unreadable: set[int],
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` for ids in (low, high], read ``_CHUNK`` ids at a time; a range
    that fails is halved until the damaged ids are isolated (added to ``unreadable``)."""
    rows: list[tuple[Any, ...]] = []
    start = low
    while start < high:
        end = min(start + _CHUNK, high)
        rows += _bisect(db, sql, params, start, end, unreadable)
        start = end
    return rows


def _bisect(
    db: sqlite3.Connection,
    sql: str,
    params: tuple[object, ...],
    low: int,
    high: int,
    unreadable: set[int],
) -> list[tuple[Any, ...]]:
    found = _rows(db, sql, (*params, low, high))
    if found is not None:
        return found
    if high - low <= 1:
        unreadable.add(high)
        return []
    middle = (low + high) // 2
    return _bisect(db, sql, params, low, middle, unreadable) + _bisect(
        db, sql, params, middle, high, unreadable
    )


def _names(db: sqlite3.Connection, destinations: str, queue: str) -> list[str]:
    for sql in (f"SELECT name FROM {destinations}", f"SELECT DISTINCT destination FROM {queue}"):
        rows = _rows(db, sql, ())
        if rows:
            return [str(row[0]) for row in rows]
    return []


def _scalar(db: sqlite3.Connection, sql: str) -> int | None:
    rows = _rows(db, sql, ())
    value = rows[0][0] if rows else None
    return int(str(value)) if value is not None else None


def _rows(
    db: sqlite3.Connection, sql: str, params: tuple[object, ...]
) -> list[tuple[Any, ...]] | None:
    try:
        return list(db.execute(sql, params).fetchall())
    except sqlite3.DatabaseError:
        return None
