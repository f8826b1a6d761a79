"""The outbox: where handed-off events wait, per destination, until delivered.

One ``events`` row per event (its JSON, stored once) and one ``queue`` row per (event,
destination) still to deliver, ordered by the event's id, so each destination receives its
events in hand-off order. ``destinations`` holds per-destination state (backoff, last error,
the drain lease) and counters (the metrics ``ol-bridge outbox status`` shows). Every
hand-off commits before ``enqueue`` returns.

The tables live in a SQLite file or in a PostgreSQL database, such as the Dagster
instance's own (``database.py``; tables and versions in ``schema.py``). The SQL here is the
part both dialects share.

An event's key (a hash of its JSON) is kept while any destination waits for it, and for
``dedup_seconds`` after, so an identical event handed off again (a tick killed before
Dagster stored its cursor replays its events) is counted and dropped, not queued twice.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ol_bridge.delivery.config import OnFull, Synchronous
from ol_bridge.delivery.database import OutboxDatabase, SqliteFile
from ol_bridge.delivery.payload import json_key, payload_identity
from ol_bridge.delivery.salvage import is_damage, quarantine, salvage
from ol_bridge.delivery.schema import (
    COUNTERS,
    DESTINATIONS,
    EVENTS,
    HANDED,
    META,
    QUEUE,
    current_version,
    prepare,
)
from ol_bridge.errors import OutboxFullError


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


@functools.lru_cache(maxsize=256)
def _sql(text: str) -> sa.TextClause:
    """``text`` with the tables' real names (``{events}`` etc.), built once per statement
    (a hand-off runs several per event: building the clause was a fifth of its cost)."""
    return sa.text(
        text.format(
            events=EVENTS,
            queue=QUEUE,
            destinations=DESTINATIONS,
            counters=COUNTERS,
            meta=META,
            handed=HANDED,
        )
    )


@functools.lru_cache(maxsize=32)
def _sql_in(text: str) -> sa.TextClause:
    """``_sql`` with ``:ids`` a list, expanded into ``IN (...)``."""
    return _sql(text).bindparams(sa.bindparam("ids", expanding=True))


#: ids in one ``IN (...)``: well under SQLite's oldest limit of bound variables (999)
_IDS_PER_STATEMENT = 500


@attrs.frozen
class Recovery:
    """A damaged outbox file moved aside, and what was queued again from it."""

    moved_to: Path
    error: str
    #: (event, destination) pairs queued again in the fresh outbox
    recovered: int
    #: what the damaged file's counters said was waiting (None: unreadable too)
    waiting_before: int | None
    #: pairs that could not be read: lost unless re-sent (``ol-bridge backfill``)
    lost: int

    def describe(self, known_waiting: int | None = None) -> str:
        """``known_waiting``: how many deliveries waited by another account (the sensor's
        cursor), for a file too damaged to say itself."""
        waiting = self.waiting_before if self.waiting_before is not None else known_waiting
        before = "an unknown number of" if waiting is None else str(waiting)
        lost = self.lost if waiting is None else max(0, waiting - self.recovered)
        return (
            f"the outbox file was damaged ({self.error}); it was moved to {self.moved_to} and a "
            f"fresh one started. Of {before} waiting deliveries, {self.recovered} were read "
            f"back and queued again; {lost} could not be read and are lost: re-send them "
            "with `ol-bridge backfill --since <when the outage began> --resend` (the moved "
            "file is kept for inspection; delete it when done)."
        )


_TABLES_V1 = {"events": EVENTS, "queue": QUEUE, "destinations": DESTINATIONS}
_TABLES_V0 = {"events": "events", "queue": "queue", "destinations": "destinations"}


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _recovering(
    method: Callable[Concatenate[Outbox, _P], _R],
) -> Callable[Concatenate[Outbox, _P], _R]:
    """Run ``method``; if the outbox file turns out damaged, recover (see ``_recover``) and
    run it again on the fresh outbox."""
    return _on_damage(method, lambda: None, retry=True)


def _recovering_stale(
    default: _R,
) -> Callable[[Callable[Concatenate[Outbox, _P], _R]], Callable[Concatenate[Outbox, _P], _R]]:
    """For methods about events read before a recovery (their ids were the damaged
    file's): recover, then return ``default`` without running them again. Those events
    were queued again from the file, so a send that did happen may repeat once; none is
    lost."""
    return lambda method: _on_damage(method, lambda: default, retry=False)


def _on_damage(
    method: Callable[Concatenate[Outbox, _P], _R],
    default: Callable[[], Any],
    *,
    retry: bool,
) -> Callable[Concatenate[Outbox, _P], _R]:
    @functools.wraps(method)
    def run(self: Outbox, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            if not self._damaged(error):
                raise
            self._recover(error)
            return method(self, *args, **kwargs) if retry else default()  # type: ignore[no-any-return]

    return run


class Outbox:
    """One outbox. Not thread-safe: one instance per thread (each holds a connection)."""

    def __init__(
        self,
        database: OutboxDatabase | Path | str,
        *,
        synchronous: Synchronous = "NORMAL",
        dedup_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(database, (Path, str)):
            database = SqliteFile(Path(database), synchronous)
        self.database = database
        #: where the events wait, for messages (a file path, or a database without password)
        self.where = database.where
        self._clock = clock
        self._dedup_seconds = dedup_seconds
        #: damaged files this outbox moved aside, and what it recovered from them
        self.recoveries: list[Recovery] = []
        self._exit = contextlib.ExitStack()
        try:
            self._open()
        except Exception as error:
            self._exit.close()
            if not self._damaged(error):
                raise
            self._recover(error)

    def _open(self) -> None:
        self._exit = contextlib.ExitStack()
        try:
            self._db: Connection = self._exit.enter_context(self.database.connect())
            _prepare_once(self._db, self.where)
            if isinstance(self.database, SqliteFile):
                self._check_pages()
        except BaseException:
            self._exit.close()
            raise

    # -- a damaged file ------------------------------------------------------------------

    def _check_pages(self) -> None:
        """SQLite's quick integrity check (~0.1 s for 100 MB), so that damage is found before
        this tick hands new events to a damaged file (where they could be lost with it)."""
        with self._transaction():
            verdict = self._db.exec_driver_sql("PRAGMA quick_check(1)").scalar()
        if verdict != "ok":
            detail = " ".join(str(verdict).split())[:200]  # SQLite's report spans lines
            raise sqlite3.DatabaseError(f"database disk image is malformed ({detail})")

    def _damaged(self, error: BaseException) -> bool:
        return isinstance(self.database, SqliteFile) and is_damage(error)

    def _recover(self, error: BaseException) -> None:
        """Move the damaged file aside, start a fresh one, queue again what can be read."""
        assert isinstance(self.database, SqliteFile)
        self._exit.close()
        moved = quarantine(self.database.path)
        found = salvage(moved, _TABLES_V1)
        if not found.events:
            found = salvage(moved, _TABLES_V0) if found.waiting_before is None else found
        self._open()
        with self._transaction():
            for payload, destinations in found.events.values():
                self._make_room(destinations, 1, max_events=2**62, on_full="pause")
                self._hand_off([(payload, payload_identity(payload))], destinations, resend=False)
        message = str(getattr(error, "orig", None) or error)
        self.recoveries.append(
            Recovery(moved, message, found.recovered, found.waiting_before, found.unreadable)
        )

    @property
    @_recovering
    def identity(self) -> str:
        """The UUID this outbox got when it was created (another one: another outbox)."""
        rows = self._read("SELECT value FROM {meta} WHERE name = 'outbox_id'")
        return str(rows[0][0]) if rows else ""

    def close(self) -> None:
        self._exit.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._db.begin():
            yield self._db

    def _run(self, sql: str, **params: Any) -> sa.CursorResult[Any]:
        return self._db.execute(_sql(sql), params)

    def _read(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self._transaction():
            return [tuple(row) for row in self._run(sql, **params)]

    # -- hand-off ---------------------------------------------------------------------

    @_recovering
    def enqueue(
        self,
        payload: str,
        destinations: Sequence[str],
        *,
        max_events: int = 100_000,
        on_full: OnFull = "pause",
        key: str | None = None,
        resend: bool = False,
    ) -> EnqueueResult:
        """Store one event for each destination; committed when this returns.

        ``key`` identifies the event for deduplication (``payload.identity_key``); by
        default the hash of its JSON. It is a duplicate for each destination it was handed
        to already (while it waits there, and ``dedup_seconds`` after), and queued for the
        others. ``resend``: queued again where it was delivered already (not where it still
        waits: it will be delivered anyway).
        """
        if not destinations:
            return EnqueueResult()
        with self._transaction():
            dropped = self._make_room(destinations, 1, max_events, on_full)
            [fresh] = self._hand_off([(payload, key)], destinations, resend=resend)
        return EnqueueResult(duplicate=not fresh, dropped_for=tuple(dropped))

    @_recovering
    def enqueue_many(
        self,
        items: Sequence[tuple[str, str | None]],
        destinations: Sequence[str],
        *,
        max_events: int = 100_000,
    ) -> list[bool]:
        """Store several events (``(payload, key)``) for each destination in one
        transaction: a receiver's group commit. Committed when this returns; per item,
        whether it was a duplicate for every destination (and so dropped).

        Nothing is stored, and ``OutboxFullError`` raised, when a destination would hold
        more than ``max_events`` (``on_full="pause"``: the receiver answers 503).
        """
        if not destinations or not items:
            return [False] * len(items)
        with self._transaction():
            self._make_room(destinations, len(items), max_events, "pause")
            fresh = self._hand_off(items, destinations, resend=False)
        return [not queued for queued in fresh]

    @_recovering
    def enqueue_each(
        self,
        items: Sequence[tuple[str, str | None]],
        destinations: Sequence[str],
        *,
        max_events: int = 100_000,
        on_full: OnFull = "pause",
        resend: bool = False,
    ) -> list[EnqueueResult]:
        """``enqueue`` of each item (``(payload, key)``), in order, in one transaction: the
        same rules per event (room made or refused, duplicates dropped, ``resend``), one
        commit for all (the sensor's hand-off of a run's events). All or nothing: if an
        item cannot be stored (``OutboxFullError`` with ``on_full="pause"``), nothing is,
        and the error is raised."""
        if not destinations:
            return [EnqueueResult() for _ in items]
        results: list[EnqueueResult] = []
        with self._transaction():
            for payload, key in items:
                dropped = self._make_room(destinations, 1, max_events, on_full)
                [fresh] = self._hand_off([(payload, key)], destinations, resend=resend)
                results.append(EnqueueResult(duplicate=not fresh, dropped_for=tuple(dropped)))
        return results

    def _make_room(
        self, destinations: Sequence[str], adding: int, max_events: int, on_full: OnFull
    ) -> list[str]:
        """Inside a transaction: register the destinations; refuse (``pause``) or drop the
        oldest event (``drop_oldest``) where ``adding`` more would pass ``max_events``.
        Returns the destinations that dropped one."""
        dropped: list[str] = []
        for name in destinations:
            queued = self._queued(name)
            if queued is None:  # a new destination (one statement less on every later one)
                self._run(
                    "INSERT INTO {destinations} (name) VALUES (:name) "
                    "ON CONFLICT (name) DO NOTHING",
                    name=name,
                )
                queued = self._queued(name)
                assert queued is not None  # inserted just now, in this transaction
            if queued + adding <= max_events:
                continue
            if on_full == "pause":
                more = "" if adding == 1 else f"; {adding} more would pass"
                raise OutboxFullError(
                    f"the outbox in {self.where} holds {queued} events for destination "
                    f"{name!r}{more} its limit (max_events_per_destination={max_events}). New "
                    "lineage waits until the destination is back, or until you drain or "
                    f"discard its backlog: ol-bridge outbox status / discard {name!r}."
                )
            oldest = self._run(
                "SELECT event_id FROM {queue} WHERE destination = :name ORDER BY event_id LIMIT 1",
                name=name,
            ).scalar_one()
            self._remove(name, oldest)
            self._run(
                "UPDATE {destinations} SET dropped = dropped + 1 WHERE name = :name", name=name
            )
            dropped.append(name)
        return dropped

    def _queued(self, name: str) -> int | None:
        """Inside a transaction: events queued for ``name``; None if it has no row yet."""
        queued = self._run(
            "SELECT queued FROM {destinations} WHERE name = :name", name=name
        ).scalar_one_or_none()
        return None if queued is None else int(queued)

    def _hand_off(
        self,
        items: Sequence[tuple[str, str | None]],
        destinations: Sequence[str],
        *,
        resend: bool,
    ) -> list[bool]:
        """Inside a transaction: queue each event for the destinations it was not handed to
        yet; per item, whether it was queued anywhere.

        The claim is the ``handed`` row (destination, key), inserted with ``ON CONFLICT DO
        NOTHING``: of two processes handing off one event at once, one wins per destination.
        """
        now = self._clock()
        queued: list[bool] = []
        duplicates = 0
        for payload, given in items:
            key = given or json_key(payload)
            key = key if len(key) <= 64 else json_key(key)  # the column's width
            if resend:
                self._forget_delivered(key, destinations)
            # ``waiting`` assumes every destination takes it; corrected below if not
            event_id = int(
                self._run(
                    "INSERT INTO {events} (key, payload, created, waiting) "
                    "VALUES (:key, :payload, :created, :waiting) RETURNING id",
                    key=uuid.uuid4().hex,
                    payload=payload,
                    created=now,
                    waiting=len(destinations),
                ).scalar_one()
            )
            won = [
                str(row[0])
                for name in destinations
                for row in self._run(
                    "INSERT INTO {handed} (destination, key, event_id, created) "
                    "VALUES (:name, :key, :event_id, :now) ON CONFLICT DO NOTHING "
                    "RETURNING destination",
                    name=name,
                    key=key,
                    event_id=event_id,
                    now=now,
                )
            ]
            if not won:
                self._run("DELETE FROM {events} WHERE id = :id", id=event_id)
                duplicates += 1
                queued.append(False)
                continue
            if len(won) != len(destinations):
                self._run(
                    "UPDATE {events} SET waiting = :n WHERE id = :id", n=len(won), id=event_id
                )
            self._db.execute(
                _sql("INSERT INTO {queue} (destination, event_id) VALUES (:name, :event_id)"),
                [{"name": name, "event_id": event_id} for name in won],
            )
            for name in won:
                self._run(
                    "UPDATE {destinations} SET queued = queued + 1 WHERE name = :name", name=name
                )
            queued.append(True)
        if duplicates:
            self._bump("duplicates_dropped", duplicates)
        return queued

    def _forget_delivered(self, key: str, destinations: Sequence[str]) -> None:
        """``resend``: drop the memory of deliveries of ``key`` (not of waiting ones)."""
        for name in destinations:
            self._run(
                "DELETE FROM {handed} WHERE destination = :name AND key = :key AND NOT EXISTS "
                "(SELECT 1 FROM {queue} q WHERE q.destination = :name "
                "AND q.event_id = {handed}.event_id)",
                name=name,
                key=key,
            )

    # -- delivery ---------------------------------------------------------------------

    @_recovering
    def due(self, names: Sequence[str] | None = None, *, ignore_backoff: bool = False) -> list[str]:
        """Destinations with events ready to send now (not in backoff); see ``lease``."""
        now = self._clock()
        rows = self._read(
            "SELECT name, next_attempt FROM {destinations} WHERE queued > rejected ORDER BY name"
        )
        return [
            name
            for name, next_attempt in rows
            if (names is None or name in names) and (ignore_backoff or next_attempt <= now)
        ]

    @_recovering
    def lease(self, name: str, seconds: float) -> bool:
        """Claim a destination so that concurrent drains (two sensors, a sensor and the CLI,
        two code-server replicas) never send the same events.

        A compare-and-set on the destination's row: taken when free, expired, already ours,
        or left by a process of this host that no longer exists (killed mid-tick); a lease
        of another host's process expires after ``seconds``.
        """
        now = self._clock()
        me = _lease_owner()
        with self._transaction():
            row = self._run(
                "SELECT lease_until, lease_owner FROM {destinations} WHERE name = :name",
                name=name,
            ).first()
            if row is None:
                return False
            until, owner = tuple(row)
            if until > now and owner != me and not _dead_here(owner):
                return False
            taken = self._run(
                "UPDATE {destinations} SET lease_until = :until, lease_owner = :me "
                "WHERE name = :name AND lease_until = :old_until "
                "AND COALESCE(lease_owner, '') = :old_owner",
                until=now + seconds,
                me=me,
                name=name,
                old_until=until,
                old_owner=owner or "",
            ).rowcount
        return bool(taken)

    @_recovering
    def release(self, name: str) -> None:
        with self._transaction():
            self._run(
                "UPDATE {destinations} SET lease_until = 0 "
                "WHERE name = :name AND lease_owner = :me",
                name=name,
                me=_lease_owner(),
            )

    @_recovering
    def batch(self, name: str, limit: int) -> list[Pending]:
        rows = self._read(
            "SELECT q.event_id, e.payload, q.attempts FROM {queue} q "
            "JOIN {events} e ON e.id = q.event_id "
            "WHERE q.destination = :name AND q.rejected IS NULL ORDER BY q.event_id LIMIT :n",
            name=name,
            n=limit,
        )
        return [Pending(event_id, payload, attempts) for event_id, payload, attempts in rows]

    def delivered(self, name: str, event_id: int) -> None:
        self.delivered_many(name, [event_id])

    @_recovering_stale(None)
    def delivered_many(self, name: str, event_ids: Sequence[int]) -> None:
        """Events delivered (one, or several together to a destination that takes batches)."""
        with self._transaction():
            self._remove_many(name, event_ids)
            self._run(
                "UPDATE {destinations} SET delivered = delivered + :n, failures = 0, "
                "next_attempt = 0, last_success_at = :now WHERE name = :name",
                n=len(event_ids),
                now=self._clock(),
                name=name,
            )

    @_recovering_stale((1, 0.0))
    def failed(
        self, name: str, event_id: int, error: str, retry_in: Callable[[int], float]
    ) -> tuple[int, float]:
        """Record a failed attempt and back off; returns (consecutive failures, delay)."""
        now = self._clock()
        with self._transaction():
            self._run(
                "UPDATE {queue} SET attempts = attempts + 1 "
                "WHERE destination = :name AND event_id = :event_id",
                name=name,
                event_id=event_id,
            )
            failures = int(
                self._run(
                    "SELECT failures + 1 FROM {destinations} WHERE name = :name", name=name
                ).scalar_one()
            )
            delay = retry_in(failures)
            self._run(
                "UPDATE {destinations} SET failures = :failures, "
                "failed_attempts = failed_attempts + 1, next_attempt = :next, "
                "last_error = :error, last_error_at = :now WHERE name = :name",
                failures=failures,
                next=now + delay,
                error=error,
                now=now,
                name=name,
            )
        return failures, delay

    @_recovering_stale(None)
    def reject(self, name: str, event_id: int, error: str) -> None:
        """Park an event the destination refused for good, so it does not block the rest."""
        with self._transaction():
            self._run(
                "UPDATE {queue} SET attempts = attempts + 1, rejected = :error "
                "WHERE destination = :name AND event_id = :event_id",
                error=error,
                name=name,
                event_id=event_id,
            )
            self._run(
                "UPDATE {destinations} SET rejected = rejected + 1, "
                "failed_attempts = failed_attempts + 1, last_error = :error, "
                "last_error_at = :now WHERE name = :name",
                error=error,
                now=self._clock(),
                name=name,
            )

    @_recovering
    def prune(self) -> int:
        """Forget deliveries made more than ``dedup_seconds`` ago (and delivered events'
        rows); returns how many hand-offs were forgotten."""
        with self._transaction():
            self._run("DELETE FROM {events} WHERE payload IS NULL")
            return self._run(
                "DELETE FROM {handed} WHERE created <= :before AND NOT EXISTS "
                "(SELECT 1 FROM {queue} q WHERE q.destination = {handed}.destination "
                "AND q.event_id = {handed}.event_id)",
                before=self._clock() - self._dedup_seconds,
            ).rowcount

    # -- operator tooling -------------------------------------------------------------

    @_recovering
    def stats(self) -> list[DestinationStats]:
        now = self._clock()
        rows = self._read(
            "SELECT d.name, d.queued, d.rejected, d.failures, d.next_attempt, d.last_error, "
            "d.last_error_at, d.last_success_at, d.delivered, d.failed_attempts, d.dropped, "
            "(SELECT e.created FROM {queue} q JOIN {events} e ON e.id = q.event_id "
            " WHERE q.destination = d.name ORDER BY q.event_id LIMIT 1) "
            "FROM {destinations} d ORDER BY d.name"
        )
        return [
            DestinationStats(
                name=row[0],
                queued=row[1],
                rejected=row[2],
                oldest_age_seconds=None if row[11] is None else max(0.0, now - row[11]),
                failures=row[3],
                next_attempt_in_seconds=max(0.0, row[4] - now) if row[1] else 0.0,
                last_error=row[5],
                last_error_at=row[6],
                last_success_at=row[7],
                delivered=row[8],
                failed_attempts=row[9],
                dropped=row[10],
            )
            for row in rows
        ]

    @_recovering
    def counter(self, name: str) -> int:
        rows = self._read("SELECT value FROM {counters} WHERE name = :name", name=name)
        return 0 if not rows else int(rows[0][0])

    @_recovering
    def discard(self, name: str, *, rejected_only: bool = False) -> int:
        """Drop a destination's backlog (or only its rejected events); returns how many."""
        where = "destination = :name" + (" AND rejected IS NOT NULL" if rejected_only else "")
        with self._transaction():
            ids = [
                r[0] for r in self._run(f"SELECT event_id FROM {{queue}} WHERE {where}", name=name)
            ]
            for event_id in ids:
                self._remove(name, event_id)
            self._run(
                "UPDATE {destinations} SET dropped = dropped + :n, failures = 0, "
                "next_attempt = 0 WHERE name = :name",
                n=len(ids),
                name=name,
            )
        return len(ids)

    @_recovering
    def requeue_rejected(self, name: str) -> int:
        with self._transaction():
            count = self._run(
                "UPDATE {queue} SET rejected = NULL "
                "WHERE destination = :name AND rejected IS NOT NULL",
                name=name,
            ).rowcount
            self._run("UPDATE {destinations} SET rejected = 0 WHERE name = :name", name=name)
        return int(count)

    @_recovering
    def forget(self, name: str) -> None:
        """Remove an empty destination's row (e.g. one no longer configured)."""
        with self._transaction():
            self._run("DELETE FROM {destinations} WHERE name = :name AND queued = 0", name=name)

    # -- inside a transaction -----------------------------------------------------------

    def _remove(self, name: str, event_id: int) -> None:
        row = self._run(
            "DELETE FROM {queue} WHERE destination = :name AND event_id = :event_id "
            "RETURNING rejected",
            name=name,
            event_id=event_id,
        ).first()
        if row is None:
            return
        self._run(
            "UPDATE {destinations} SET queued = queued - 1, rejected = rejected - :was_rejected "
            "WHERE name = :name",
            was_rejected=0 if row[0] is None else 1,
            name=name,
        )
        self._run(
            "UPDATE {events} SET waiting = waiting - 1, "
            "payload = CASE WHEN waiting <= 1 THEN NULL ELSE payload END WHERE id = :event_id",
            event_id=event_id,
        )

    def _remove_many(self, name: str, event_ids: Sequence[int]) -> None:
        """``_remove`` of each event, a few statements per chunk instead of three per event
        (a batch's delivery was a tenth of the hand-off's cost)."""
        for start in range(0, len(event_ids), _IDS_PER_STATEMENT):
            chunk = list(event_ids[start : start + _IDS_PER_STATEMENT])
            removed = [
                tuple(row)
                for row in self._run_in(
                    "DELETE FROM {queue} WHERE destination = :name AND event_id IN :ids "
                    "RETURNING event_id, rejected",
                    name=name,
                    ids=chunk,
                )
            ]
            if not removed:
                continue
            self._run(
                "UPDATE {destinations} SET queued = queued - :n, rejected = rejected - :r "
                "WHERE name = :name",
                n=len(removed),
                r=sum(1 for row in removed if row[1] is not None),
                name=name,
            )
            self._run_in(
                "UPDATE {events} SET waiting = waiting - 1, "
                "payload = CASE WHEN waiting <= 1 THEN NULL ELSE payload END WHERE id IN :ids",
                ids=[row[0] for row in removed],
            )

    def _run_in(self, sql: str, **params: Any) -> sa.CursorResult[Any]:
        """``_run`` for a statement whose ``:ids`` is a list (``IN :ids``)."""
        return self._db.execute(_sql_in(sql), params)

    def _bump(self, counter: str, by: int = 1) -> None:
        self._run(
            "INSERT INTO {counters} (name, value) VALUES (:name, :by) "
            "ON CONFLICT (name) DO UPDATE SET value = {counters}.value + :by",
            name=counter,
            by=by,
        )


def outbox_exists(database: OutboxDatabase) -> bool:
    """Whether ``database`` holds an outbox, without creating one (operator commands)."""
    if isinstance(database, SqliteFile) and not database.path.exists():
        return False
    with database.connect() as connection, connection.begin():
        return current_version(connection) is not None


#: server databases whose tables this process has already checked (or created)
_PREPARED: set[str] = set()


def _prepare_once(connection: Connection, where: str) -> None:
    """Check (create, migrate) the tables: once per process for a server database, where
    it costs round trips on every tick; every time for a SQLite file, which an operator may
    have moved away since (it is then recreated empty, and the tick says so)."""
    if connection.dialect.name == "sqlite" or where not in _PREPARED:
        prepare(connection, where)
        _PREPARED.add(where)


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
