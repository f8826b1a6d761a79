"""The outbox's tables, their schema version, and the migrations between versions.

The tables carry an ``ol_bridge_outbox_`` prefix because they may share a database with
Dagster's own (the instance's PostgreSQL). ``ol_bridge_outbox_schema`` holds one row: the
version the tables are at. Opening an outbox brings older tables up to
:data:`SCHEMA_VERSION` (each migration in its own transaction, recorded as it commits) and
refuses tables newer than this ol-bridge knows, rather than misreading them.

Versions:

* 0: ol-bridge 0.1's SQLite outbox file (tables ``events``, ``queue``, ``destinations``,
  ``counters``, no version table).
* 1: the same columns under the prefixed names, plus the version table.
* 2: ``ol_bridge_outbox_meta`` with the outbox's identity (a UUID made when it is
  created), so a sensor can tell that its outbox was replaced (a deleted, emptied or
  quarantined file) and say how many waiting events went with it.
* 3: ``ol_bridge_outbox_handed``: which event (its identity key) was handed to which
  destination, so an event is a duplicate per destination (a destination added later gets
  it, the others do not get it again). Filled from the waiting events on migration; what
  versions 1-2 remembered of delivered events (their keys) is not carried over.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ol_bridge.errors import ConfigError

SCHEMA_VERSION = 3
PREFIX = "ol_bridge_outbox_"

EVENTS = f"{PREFIX}events"
QUEUE = f"{PREFIX}queue"
DESTINATIONS = f"{PREFIX}destinations"
COUNTERS = f"{PREFIX}counters"
VERSION = f"{PREFIX}schema"
META = f"{PREFIX}meta"
HANDED = f"{PREFIX}handed"

#: epoch seconds need a double (PostgreSQL's REAL is 4 bytes: one-minute resolution)
_Seconds = sa.Float(precision=53)
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: the rowid alias

metadata = sa.MetaData()

sa.Table(
    EVENTS,
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    # NULL once no destination waits for it (the key is kept for dedup)
    sa.Column("payload", sa.Text(), nullable=True),
    sa.Column("created", _Seconds, nullable=False),
    # destinations still holding it
    sa.Column("waiting", sa.Integer(), nullable=False),
    sa.Index(
        f"{PREFIX}events_done",
        "created",
        sqlite_where=sa.text("payload IS NULL"),
        postgresql_where=sa.text("payload IS NULL"),
    ),
    sqlite_autoincrement=True,
)
sa.Table(
    QUEUE,
    metadata,
    sa.Column("destination", sa.String(512), primary_key=True),
    sa.Column("event_id", _Id, primary_key=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    # the destination refused it for good: parked, not retried
    sa.Column("rejected", sa.Text(), nullable=True),
)
sa.Table(
    DESTINATIONS,
    metadata,
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("queued", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt", _Seconds, nullable=False, server_default="0"),
    sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("last_error_at", _Seconds, nullable=True),
    sa.Column("last_success_at", _Seconds, nullable=True),
    sa.Column("delivered", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("failed_attempts", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("dropped", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("lease_until", _Seconds, nullable=False, server_default="0"),
    # host:pid:thread of the drain holding the lease
    sa.Column("lease_owner", sa.String(512), nullable=True),
)
sa.Table(
    COUNTERS,
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("value", sa.BigInteger(), nullable=False),
)
sa.Table(VERSION, metadata, sa.Column("version", sa.Integer(), nullable=False))
sa.Table(
    HANDED,
    metadata,
    sa.Column("destination", sa.String(512), primary_key=True),
    # the event's identity (``payload.identity_key``), or the hash of its JSON
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("event_id", _Id, nullable=False),
    sa.Column("created", _Seconds, nullable=False),
    sa.Index(f"{PREFIX}handed_created", "created"),
)
sa.Table(
    META,
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)

#: version 0's tables, renamed to their prefixed names by the migration to 1
_LEGACY_TABLES = {
    "events": EVENTS,
    "queue": QUEUE,
    "destinations": DESTINATIONS,
    "counters": COUNTERS,
}


def _from_0(connection: Connection) -> None:
    for old, new in _LEGACY_TABLES.items():
        connection.exec_driver_sql(f"ALTER TABLE {old} RENAME TO {new}")
    connection.exec_driver_sql("DROP INDEX IF EXISTS events_done")
    for index in metadata.tables[EVENTS].indexes:
        index.create(connection)


def _from_1(connection: Connection) -> None:
    metadata.tables[META].create(connection, checkfirst=True)
    _stamp_identity(connection)


def _stamp_identity(connection: Connection) -> None:
    connection.execute(
        sa.text(f"INSERT INTO {META} (name, value) VALUES ('outbox_id', :id)"),
        {"id": str(uuid.uuid4())},
    )


def _from_2(connection: Connection) -> None:
    from ol_bridge.delivery.payload import payload_identity

    metadata.tables[HANDED].create(connection, checkfirst=True)
    rows = connection.execute(
        sa.text(
            f"SELECT q.destination, e.id, e.payload, e.created FROM {QUEUE} q "
            f"JOIN {EVENTS} e ON e.id = q.event_id WHERE e.payload IS NOT NULL"
        )
    ).all()
    handed = [
        {"d": row[0], "k": payload_identity(row[2]), "e": row[1], "c": row[3]} for row in rows
    ]
    if handed:
        connection.execute(
            sa.text(
                f"INSERT INTO {HANDED} (destination, key, event_id, created) "
                "VALUES (:d, :k, :e, :c) ON CONFLICT DO NOTHING"
            ),
            handed,
        )


#: version -> the step from it to the next
MIGRATIONS: dict[int, Callable[[Connection], None]] = {0: _from_0, 1: _from_1, 2: _from_2}


def prepare(connection: Connection, where: str) -> None:
    """Create the tables, or migrate them to :data:`SCHEMA_VERSION`."""
    if _is_current(connection):  # the usual case, in one query (every tick opens it)
        return
    with connection.begin():
        _lock(connection)
        version = current_version(connection)
        if version is None:
            metadata.create_all(connection)
            connection.execute(
                sa.text(f"INSERT INTO {VERSION} (version) VALUES (:v)"), {"v": SCHEMA_VERSION}
            )
            _stamp_identity(connection)
            return
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"the outbox in {where} is at schema version {version}, newer than this "
            f"ol-bridge knows ({SCHEMA_VERSION}): a newer ol-bridge wrote it. Upgrade "
            "ol-bridge here too; the outbox is left untouched."
        )
    while version < SCHEMA_VERSION:
        with connection.begin():
            _lock(connection)
            version = current_version(connection) or 0
            if version >= SCHEMA_VERSION:
                break
            MIGRATIONS[version](connection)
            metadata.create_all(connection)  # tables a migration does not create itself
            _set_version(connection, version + 1)
            version += 1


def _is_current(connection: Connection) -> bool:
    try:
        with connection.begin():
            found = connection.execute(sa.text(f"SELECT max(version) FROM {VERSION}")).scalar()
    except sa.exc.DBAPIError:  # no version table yet (rolled back)
        return False
    return found == SCHEMA_VERSION


def current_version(connection: Connection) -> int | None:
    """The tables' version; 0 for ol-bridge 0.1's unversioned file; None when empty."""
    tables = set(sa.inspect(connection).get_table_names())
    if VERSION in tables:
        row = connection.execute(sa.text(f"SELECT max(version) FROM {VERSION}")).first()
        return int(row[0]) if row is not None and row[0] is not None else 0
    if {"events", "queue", "destinations"} <= tables:
        connection.execute(sa.text(f"CREATE TABLE {VERSION} (version INTEGER NOT NULL)"))
        connection.execute(sa.text(f"INSERT INTO {VERSION} (version) VALUES (0)"))
        return 0
    return None


def _set_version(connection: Connection, version: int) -> None:
    connection.execute(sa.text(f"UPDATE {VERSION} SET version = :v"), {"v": version})


def _lock(connection: Connection) -> None:
    """Serialise creation and migration across processes (SQLite's BEGIN IMMEDIATE already
    does); released when the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


#: an arbitrary, fixed advisory-lock key ("olbridge" in ASCII, as a number)
_LOCK_KEY = 0x6F6C627269646765
