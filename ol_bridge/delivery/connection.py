"""An outbox's connection: opened with its tables checked, and its statements run.

:class:`OutboxConnection` is the base of :class:`~ol_bridge.delivery.store.Outbox`. It
keeps one SQLAlchemy ``Connection`` (``database.py``), checks (creates, migrates) the tables
once (``schema.py``), runs statements written with the tables' logical names (``{events}``
etc.), and answers the outbox's identity. A SQLite file found damaged, on opening or by any
statement, is recovered here (``recovery.py``): moved aside, reopened fresh, and what could
be read queued again through the subclass's ``_requeue``.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ol_bridge.delivery.config import Synchronous
from ol_bridge.delivery.database import OutboxDatabase, SqliteFile
from ol_bridge.delivery.recovery import Recovery, check_pages, recovering, salvage_moved
from ol_bridge.delivery.salvage import is_damage
from ol_bridge.delivery.schema import (
    COUNTERS,
    DESTINATIONS,
    EVENTS,
    HANDED,
    META,
    QUEUE,
    prepare,
)


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


_Self = TypeVar("_Self", bound="OutboxConnection")


class OutboxConnection:
    """An outbox's connection and statements. Not thread-safe: one instance per thread."""

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
                check_pages(self._db)
        except BaseException:
            self._exit.close()
            raise

    # -- a damaged file ------------------------------------------------------------------

    def _damaged(self, error: BaseException) -> bool:
        return isinstance(self.database, SqliteFile) and is_damage(error)

    def _recover(self, error: BaseException) -> None:
        """Move the damaged file aside, start a fresh one, queue again what can be read."""
        assert isinstance(self.database, SqliteFile)
        self._exit.close()
        found = salvage_moved(self.database.path)
        self._open()
        self._requeue(found.events.values())
        message = str(getattr(error, "orig", None) or error)
        self.recoveries.append(
            Recovery(
                found.moved_to, message, found.recovered, found.waiting_before, found.unreadable
            )
        )

    def _requeue(self, events: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        """Queue again, in one transaction, events (payload, destinations) salvaged from a
        damaged file: the outbox's own hand-off (``Outbox``)."""
        raise NotImplementedError

    @property
    @recovering
    def identity(self) -> str:
        """The UUID this outbox got when it was created (another one: another outbox)."""
        rows = self._read("SELECT value FROM {meta} WHERE name = 'outbox_id'")
        return str(rows[0][0]) if rows else ""

    def close(self) -> None:
        self._exit.close()

    def __enter__(self: _Self) -> _Self:
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

    def _run_in(self, sql: str, **params: Any) -> sa.CursorResult[Any]:
        """``_run`` for a statement whose ``:ids`` is a list (``IN :ids``)."""
        return self._db.execute(_sql_in(sql), params)


#: server databases whose tables this process has already checked (or created)
_PREPARED: set[str] = set()


def _prepare_once(connection: Connection, where: str) -> None:
    """Check (create, migrate) the tables: once per process for a server database, where
    it costs round trips on every tick; every time for a SQLite file, which an operator may
    have moved away since (it is then recreated empty, and the tick says so)."""
    if connection.dialect.name == "sqlite" or where not in _PREPARED:
        prepare(connection, where)
        _PREPARED.add(where)
