"""The outbox: where handed-off events wait, per destination, until delivered.

One ``events`` row per event (its JSON, stored once) and one ``queue`` row per (event,
destination) still to deliver, ordered by the event's id, so each destination receives its
events in hand-off order. ``destinations`` holds per-destination state (backoff, last error,
the drain lease) and counters (the metrics ``ol-bridge outbox status`` shows). Every
hand-off commits before ``enqueue`` returns.

The tables live in a SQLite file or in a PostgreSQL database, such as the Dagster
instance's own (``database.py``; tables and versions in ``schema.py``). The SQL here is the
part both dialects share. This module holds the queue: hand-off, delivery outcomes, pruning,
discarding; the connection (and recovery from a damaged file) is ``connection.py``
(``recovery.py``), the drain leases ``leases.py``, the operators' read-outs ``status.py``.

An event's key (a hash of its JSON) is kept while any destination waits for it, and for
``dedup_seconds`` after, so an identical event handed off again (a tick killed before
Dagster stored its cursor replays its events) is counted and dropped, not queued twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence

import attrs

from ol_bridge.delivery.config import OnFull
from ol_bridge.delivery.connection import _sql
from ol_bridge.delivery.leases import DrainLeases
from ol_bridge.delivery.payload import json_key, payload_identity
from ol_bridge.delivery.recovery import recovering, recovering_stale
from ol_bridge.delivery.status import OutboxStatus
from ol_bridge.errors import OutboxFullError


@attrs.frozen
class Pending:
    event_id: int
    payload: str
    attempts: int


@attrs.frozen
class EnqueueResult:
    duplicate: bool = False
    #: destinations whose oldest event was dropped to make room (on_full="drop_oldest")
    dropped_for: tuple[str, ...] = ()


#: ids in one ``IN (...)``: well under SQLite's oldest limit of bound variables (999)
_IDS_PER_STATEMENT = 500


class Outbox(DrainLeases, OutboxStatus):
    """One outbox. Not thread-safe: one instance per thread (each holds a connection).

    Opening, statements and recovery from a damaged file: ``OutboxConnection``; drain
    leases: ``DrainLeases``; read-outs: ``OutboxStatus``. The queue itself is here.
    """

    # -- hand-off ---------------------------------------------------------------------

    @recovering
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

    @recovering
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

    def _requeue(self, events: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        """Queue again events (payload, destinations) salvaged from a damaged file, in one
        transaction and without a limit (they were waiting already)."""
        with self._transaction():
            for payload, destinations in events:
                self._make_room(destinations, 1, max_events=2**62, on_full="pause")
                self._hand_off([(payload, payload_identity(payload))], destinations, resend=False)

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

    @recovering
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

    @recovering
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

    @recovering_stale(None)
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

    @recovering_stale((1, 0.0))
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

    @recovering_stale(None)
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

    @recovering
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

    @recovering
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

    @recovering
    def requeue_rejected(self, name: str) -> int:
        with self._transaction():
            count = self._run(
                "UPDATE {queue} SET rejected = NULL "
                "WHERE destination = :name AND rejected IS NOT NULL",
                name=name,
            ).rowcount
            self._run("UPDATE {destinations} SET rejected = 0 WHERE name = :name", name=name)
        return int(count)

    @recovering
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

    def _bump(self, counter: str, by: int = 1) -> None:
        self._run(
            "INSERT INTO {counters} (name, value) VALUES (:name, :by) "
            "ON CONFLICT (name) DO UPDATE SET value = {counters}.value + :by",
            name=counter,
            by=by,
        )
