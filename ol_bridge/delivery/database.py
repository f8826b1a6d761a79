"""Where an outbox's tables live, and how to open a connection to them.

Three places, one SQL dialect each (see ``docs/delivery.md``, "Where pending events live"):

* :class:`SqliteFile`: a SQLite file of our own (WAL, ``BEGIN IMMEDIATE`` transactions).
  Next to a SQLite Dagster instance it is as durable as the instance itself.
* :class:`InstanceDatabase`: the Dagster instance's own PostgreSQL database, reached
  through its run storage's ``connect()`` (so the storage's own credentials and token
  providers apply). Pending events then survive whatever the instance survives, such as a
  redeploy of a code server whose local disk is replaced.
* :class:`DatabaseUrl`: any PostgreSQL or SQLite database given by a SQLAlchemy URL
  (``ol-bridge serve``, or a sensor told where to keep its outbox).

Each hands out one SQLAlchemy ``Connection`` that an :class:`~ol_bridge.delivery.store.Outbox`
keeps for its life (one per thread) and runs every transaction on.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from ol_bridge.errors import ConfigError

#: dialects whose SQL the outbox speaks (``ON CONFLICT``, ``RETURNING``)
SUPPORTED_DIALECTS = ("sqlite", "postgresql")


class OutboxDatabase(Protocol):
    """A database that can hold an outbox."""

    #: for messages: the file, or the database (never its credentials)
    @property
    def where(self) -> str: ...

    def connect(self) -> contextlib.AbstractContextManager[Connection]: ...


@attrs.frozen
class SqliteFile:
    path: Path = attrs.field(converter=Path)
    #: SQLite ``synchronous``: NORMAL survives a killed process, FULL also a power cut
    synchronous: str = "NORMAL"

    @property
    def where(self) -> str:
        return str(self.path)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        engine = sqlite_engine(f"sqlite:///{self.path}", self.synchronous)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()


@attrs.frozen
class DatabaseUrl:
    url: str

    @property
    def where(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        parsed = sa.engine.make_url(self.url)
        if parsed.get_backend_name() not in SUPPORTED_DIALECTS:
            raise ConfigError(
                f"the outbox database {self.where} is {parsed.get_backend_name()}; the outbox "
                f"supports {' and '.join(SUPPORTED_DIALECTS)}. Give a postgresql:// URL or a "
                "SQLite file path."
            )
        if parsed.get_backend_name() == "sqlite":
            engine = sqlite_engine(self.url, "NORMAL")
        else:
            engine = sa.create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                yield _transactional(connection)
        finally:
            engine.dispose()


@attrs.frozen
class InstanceDatabase:
    """The PostgreSQL database of a Dagster instance's run storage."""

    run_storage: Any = attrs.field(eq=False)
    where: str = "the Dagster instance's database"

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.run_storage.connect() as connection:
            yield _transactional(connection)


def instance_database(instance: Any) -> InstanceDatabase | None:
    """The instance's own database when it can hold the outbox (PostgreSQL run storage).

    Read through the storage's public ``connect()``; None for SQLite (the outbox is then a
    file next to the instance), MySQL (its SQL dialect lacks what the outbox uses) and
    storages that are not SQL databases at all (Dagster+).
    """
    storage = getattr(instance, "run_storage", None)
    url = getattr(storage, "postgres_url", None)
    if not isinstance(url, str) or not callable(getattr(storage, "connect", None)):
        return None
    where = sa.engine.make_url(url).render_as_string(hide_password=True)
    return InstanceDatabase(storage, f"the Dagster instance's database ({where})")


def sqlite_engine(url: str, synchronous: str) -> sa.engine.Engine:
    """A SQLite engine whose transactions start with ``BEGIN IMMEDIATE``.

    pysqlite's own transaction handling starts a deferred transaction only at the first
    write, so two processes could both read, then both try to write: one fails. Taking the
    write lock at BEGIN makes concurrent hand-offs and drains wait for each other instead.
    """
    engine = sa.create_engine(url, poolclass=NullPool, connect_args={"timeout": 30.0})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        retry_while_locked(lambda: dbapi_connection.execute("PRAGMA journal_mode=WAL"))
        dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def retry_while_locked(
    statement: Callable[[], object],
    seconds: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run ``statement``, again while SQLite says the file is locked, for up to ``seconds``.

    Switching a file to WAL needs a lock that SQLite does not always wait for (no busy
    handler while another connection creates the file or converts it), so two processes
    opening a new outbox at once (two replicas, two ``serve`` workers) could see "database
    is locked" at once, and one of them died at start-up."""
    deadline = time.monotonic() + seconds
    delay = 0.01
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as error:
            locked = "locked" in str(error) or "busy" in str(error)
            if not locked or time.monotonic() >= deadline:
                raise
        sleep(delay)
        delay = min(delay * 2, 0.25)


def _transactional(connection: Connection) -> Connection:
    """Dagster opens its PostgreSQL connections in AUTOCOMMIT; the outbox needs real
    transactions (an event and its queue rows commit together)."""
    if connection.dialect.name == "postgresql":
        return connection.execution_options(isolation_level="READ COMMITTED")
    return connection
