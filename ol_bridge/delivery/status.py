"""What an outbox holds: for ``ol-bridge outbox status``, ``doctor``, and the backlog reports.

Per destination (:class:`DestinationStats`): how many events wait and were refused, the
oldest one's age, the backoff, the last error and success, and the running counters; the
outbox-wide counters (duplicates dropped); and whether a database holds an outbox at all,
asked without creating one.
"""

from __future__ import annotations

import attrs

from ol_bridge.delivery.connection import OutboxConnection
from ol_bridge.delivery.database import OutboxDatabase, SqliteFile
from ol_bridge.delivery.recovery import recovering
from ol_bridge.delivery.schema import current_version


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


class OutboxStatus(OutboxConnection):
    """The read-outs of :class:`~ol_bridge.delivery.store.Outbox`."""

    @recovering
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

    @recovering
    def counter(self, name: str) -> int:
        rows = self._read("SELECT value FROM {counters} WHERE name = :name", name=name)
        return 0 if not rows else int(rows[0][0])


def outbox_exists(database: OutboxDatabase) -> bool:
    """Whether ``database`` holds an outbox, without creating one (operator commands)."""
    if isinstance(database, SqliteFile) and not database.path.exists():
        return False
    with database.connect() as connection, connection.begin():
        return current_version(connection) is not None
