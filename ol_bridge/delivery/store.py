"""The outbox: a SQLite file where handed-off events wait, per destination, until delivered.

One ``events`` row per event (its JSON, stored once) and one ``queue`` row per (event,
destination) still to deliver, ordered by the event's id, so each destination receives its
events in hand-off order. ``destinations`` holds per-destination state (backoff, last error)
and counters (the metrics ``ol-bridge outbox status`` shows). WAL mode lets the sensor and
the CLI use the file at once; every hand-off commits before ``enqueue`` returns.

An event's key (a hash of its JSON) is kept while any destination waits for it, and for
``dedup_seconds`` after, so an identical event handed off again (a tick killed before
Dagster stored its cursor replays its events) is counted and dropped, not queued twice.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import attrs

from ol_bridge.delivery.config import OnFull, Synchronous
from ol_bridge.errors import OutboxFullError

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    payload TEXT,              -- NULL once no destination waits for it (key kept for dedup)
    created REAL NOT NULL,
    waiting INTEGER NOT NULL   -- destinations still holding it
);
CREATE INDEX IF NOT EXISTS events_done ON events (created) WHERE payload IS NULL;
CREATE TABLE IF NOT EXISTS queue (
    destination TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    rejected TEXT,             -- the destination refused it for good: parked, not retried
    PRIMARY KEY (destination, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS destinations (
    name TEXT PRIMARY KEY,
    queued INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at REAL,
    last_success_at REAL,
    delivered INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0,
    lease_until REAL NOT NULL DEFAULT 0,
    lease_owner TEXT           -- host:pid:thread of the drain holding the lease
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@attrs.frozen
class Pending:
    event_id: int
    payload: str
    attempts: int


@attrs.frozen
class DestinationStats:
    name: str
    #: events waiting, rejected ones included
    queued: int
    #: events the destination refused for good (kept until discarded or re-queued)
    rejected: int
    oldest_age_seconds: float | None
    #: consecutive failed attempts; 0 when the last attempt succeeded
    failures: int
    next_attempt_in_seconds: float
    last_error: str | None
    last_error_at: float | None
    last_success_at: float | None
    delivered: int
    failed_attempts: int
    dropped: int


@attrs.frozen
class EnqueueResult:
    duplicate: bool = False
    #: destinations whose oldest event was dropped to make room (on_full="drop_oldest")
    dropped_for: tuple[str, ...] = ()


def event_key(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Outbox:
    """One outbox file. Not thread-safe: one instance per thread."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Synchronous = "NORMAL",
        dedup_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._clock = clock
        self._dedup_seconds = dedup_seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- hand-off ---------------------------------------------------------------------

    def enqueue(
        self,
        payload: str,
        destinations: Sequence[str],
        *,
        max_events: int = 100_000,
        on_full: OnFull = "pause",
    ) -> EnqueueResult:
        """Store one event for each destination; committed when this returns."""
        if not destinations:
            return EnqueueResult()
        key = event_key(payload)
        dropped: list[str] = []
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM events WHERE key = ?", (key,)).fetchone():
                _bump(db, "duplicates_dropped")
                return EnqueueResult(duplicate=True)
            for name in destinations:
                db.execute("INSERT OR IGNORE INTO destinations (name) VALUES (?)", (name,))
                (queued,) = db.execute(
                    "SELECT queued FROM destinations WHERE name = ?", (name,)
                ).fetchone()
                if queued < max_events:
                    continue
                if on_full == "pause":
                    raise OutboxFullError(
                        f"the outbox {self.path} holds {queued} events for destination "
                        f"{name!r}, its limit (max_events_per_destination={max_events}). New "
                        "lineage waits in Dagster's event log until the destination is back, "
                        "or until you drain or discard its backlog: "
                        f"ol-bridge outbox status / discard {name!r}."
                    )
                oldest = db.execute(
                    "SELECT event_id FROM queue WHERE destination = ? ORDER BY event_id LIMIT 1",
                    (name,),
                ).fetchone()
                _remove(db, name, oldest[0])
                db.execute("UPDATE destinations SET dropped = dropped + 1 WHERE name = ?", (name,))
                dropped.append(name)
            cursor = db.execute(
                "INSERT INTO events (key, payload, created, waiting) VALUES (?, ?, ?, ?)",
                (key, payload, self._clock(), len(destinations)),
            )
            event_id = cursor.lastrowid
            for name in destinations:
                db.execute(
                    "INSERT INTO queue (destination, event_id) VALUES (?, ?)", (name, event_id)
                )
                db.execute("UPDATE destinations SET queued = queued + 1 WHERE name = ?", (name,))
        return EnqueueResult(dropped_for=tuple(dropped))

    # -- delivery ---------------------------------------------------------------------

    def due(self, names: Sequence[str] | None = None, *, ignore_backoff: bool = False) -> list[str]:
        """Destinations with events ready to send now (not in backoff); see ``lease``."""
        now = self._clock()
        rows = self._db.execute(
            "SELECT name, next_attempt FROM destinations WHERE queued > rejected ORDER BY name"
        ).fetchall()
        return [
            name
            for name, next_attempt in rows
            if (names is None or name in names) and (ignore_backoff or next_attempt <= now)
        ]

    def lease(self, name: str, seconds: float) -> bool:
        """Claim a destination so a concurrent drain (sensor and CLI) does not send twice.

        A lease left by a process that died (killed mid-tick) is taken over at once when
        that process ran on this host; from another host it expires after ``seconds``.
        """
        now = self._clock()
        me = _lease_owner()
        with self._transaction() as db:
            row = db.execute(
                "SELECT lease_until, lease_owner FROM destinations WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                return False
            until, owner = row
            if until > now and owner != me and not _dead_here(owner):
                return False
            db.execute(
                "UPDATE destinations SET lease_until = ?, lease_owner = ? WHERE name = ?",
                (now + seconds, me, name),
            )
        return True

    def release(self, name: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE destinations SET lease_until = 0 WHERE name = ?", (name,))

    def batch(self, name: str, limit: int) -> list[Pending]:
        rows = self._db.execute(
            "SELECT q.event_id, e.payload, q.attempts FROM queue q "
            "JOIN events e ON e.id = q.event_id "
            "WHERE q.destination = ? AND q.rejected IS NULL ORDER BY q.event_id LIMIT ?",
            (name, limit),
        ).fetchall()
        return [Pending(event_id, payload, attempts) for event_id, payload, attempts in rows]

    def delivered(self, name: str, event_id: int) -> None:
        with self._transaction() as db:
            _remove(db, name, event_id)
            db.execute(
                "UPDATE destinations SET delivered = delivered + 1, failures = 0, "
                "next_attempt = 0, last_success_at = ? WHERE name = ?",
                (self._clock(), name),
            )

    def delivered_many(self, name: str, event_ids: Sequence[int]) -> None:
        """Several events delivered together (a destination that takes batches)."""
        with self._transaction() as db:
            for event_id in event_ids:
                _remove(db, name, event_id)
            db.execute(
                "UPDATE destinations SET delivered = delivered + ?, failures = 0, "
                "next_attempt = 0, last_success_at = ? WHERE name = ?",
                (len(event_ids), self._clock(), name),
            )

    def failed(
        self, name: str, event_id: int, error: str, retry_in: Callable[[int], float]
    ) -> tuple[int, float]:
        """Record a failed attempt and back off; returns (consecutive failures, delay)."""
        now = self._clock()
        with self._transaction() as db:
            db.execute(
                "UPDATE queue SET attempts = attempts + 1 WHERE destination = ? AND event_id = ?",
                (name, event_id),
            )
            (failures,) = db.execute(
                "SELECT failures + 1 FROM destinations WHERE name = ?", (name,)
            ).fetchone()
            delay = retry_in(int(failures))
            db.execute(
                "UPDATE destinations SET failures = ?, failed_attempts = failed_attempts + 1, "
                "next_attempt = ?, last_error = ?, last_error_at = ? WHERE name = ?",
                (failures, now + delay, error, now, name),
            )
        return int(failures), delay

    def reject(self, name: str, event_id: int, error: str) -> None:
        """Park an event the destination refused for good, so it does not block the rest."""
        now = self._clock()
        with self._transaction() as db:
            db.execute(
                "UPDATE queue SET attempts = attempts + 1, rejected = ? "
                "WHERE destination = ? AND event_id = ?",
                (error, name, event_id),
            )
            db.execute(
                "UPDATE destinations SET rejected = rejected + 1, "
                "failed_attempts = failed_attempts + 1, last_error = ?, last_error_at = ? "
                "WHERE name = ?",
                (error, now, name),
            )

    def prune(self) -> int:
        """Forget the keys of events delivered more than ``dedup_seconds`` ago."""
        with self._transaction() as db:
            return db.execute(
                "DELETE FROM events WHERE payload IS NULL AND created <= ?",
                (self._clock() - self._dedup_seconds,),
            ).rowcount

    # -- operator tooling -------------------------------------------------------------

    def stats(self) -> list[DestinationStats]:
        now = self._clock()
        result = []
        for row in self._db.execute(
            "SELECT name, queued, rejected, failures, next_attempt, last_error, last_error_at, "
            "last_success_at, delivered, failed_attempts, dropped FROM destinations ORDER BY name"
        ).fetchall():
            oldest = self._db.execute(
                "SELECT e.created FROM queue q JOIN events e ON e.id = q.event_id "
                "WHERE q.destination = ? ORDER BY q.event_id LIMIT 1",
                (row[0],),
            ).fetchone()
            result.append(
                DestinationStats(
                    name=row[0],
                    queued=row[1],
                    rejected=row[2],
                    oldest_age_seconds=None if oldest is None else max(0.0, now - oldest[0]),
                    failures=row[3],
                    next_attempt_in_seconds=max(0.0, row[4] - now) if row[1] else 0.0,
                    last_error=row[5],
                    last_error_at=row[6],
                    last_success_at=row[7],
                    delivered=row[8],
                    failed_attempts=row[9],
                    dropped=row[10],
                )
            )
        return result

    def counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def discard(self, name: str, *, rejected_only: bool = False) -> int:
        """Drop a destination's backlog (or only its rejected events); returns how many."""
        with self._transaction() as db:
            where = "destination = ?" + (" AND rejected IS NOT NULL" if rejected_only else "")
            ids = [r[0] for r in db.execute(f"SELECT event_id FROM queue WHERE {where}", (name,))]
            for event_id in ids:
                _remove(db, name, event_id)
            db.execute(
                "UPDATE destinations SET dropped = dropped + ?, failures = 0, next_attempt = 0 "
                "WHERE name = ?",
                (len(ids), name),
            )
        return len(ids)

    def requeue_rejected(self, name: str) -> int:
        with self._transaction() as db:
            count = db.execute(
                "UPDATE queue SET rejected = NULL WHERE destination = ? AND rejected IS NOT NULL",
                (name,),
            ).rowcount
            db.execute("UPDATE destinations SET rejected = 0 WHERE name = ?", (name,))
        return count

    def forget(self, name: str) -> None:
        """Remove an empty destination's row (e.g. one no longer configured)."""
        with self._transaction() as db:
            db.execute("DELETE FROM destinations WHERE name = ? AND queued = 0", (name,))


def _remove(db: sqlite3.Connection, name: str, event_id: int) -> None:
    row = db.execute(
        "DELETE FROM queue WHERE destination = ? AND event_id = ? RETURNING rejected",
        (name, event_id),
    ).fetchone()
    if row is None:
        return
    db.execute(
        "UPDATE destinations SET queued = queued - 1, rejected = rejected - ? WHERE name = ?",
        (0 if row[0] is None else 1, name),
    )
    db.execute(
        "UPDATE events SET waiting = waiting - 1, "
        "payload = CASE WHEN waiting <= 1 THEN NULL ELSE payload END WHERE id = ?",
        (event_id,),
    )


def _lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _dead_here(owner: str | None) -> bool:
    """Whether ``owner`` is a process of this host that no longer exists."""
    host, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


def _bump(db: sqlite3.Connection, counter: str) -> None:
    db.execute(
        "INSERT INTO counters (name, value) VALUES (?, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = value + 1",
        (counter,),
    )
