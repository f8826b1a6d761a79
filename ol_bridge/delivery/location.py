"""Where a sensor's pending events live: the one rule, used by the sensor, the backfill,
``ol-bridge outbox`` and ``ol-bridge doctor``.

1. ``DeliveryConfig.path``: that SQLite file.
2. ``DeliveryConfig.url``: that database (PostgreSQL, or SQLite).
3. The Dagster instance's own PostgreSQL database, when its run storage is PostgreSQL:
   pending events are then exactly as durable as Dagster's runs and the sensor's cursor
   (a code server whose local disk is replaced on every deploy loses nothing), and every
   replica of a code location, and every sensor of the instance, shares one outbox.
4. Otherwise a file next to the instance, ``<instance home>/ol-bridge/outbox.sqlite``: as
   durable as a SQLite instance, whose storage sits in the same folder.

Case 4 with an instance whose storage is not on local disk (MySQL, Dagster+) keeps pending
events on a disk that a redeploy may wipe: :func:`locate` says so (``durable=False``), the
sensor warns on every tick that has events waiting, and ``ol-bridge doctor`` warns.
"""

from __future__ import annotations

from typing import Any

import attrs

from ol_bridge._compat.dagster import run_storage_is_sqlite
from ol_bridge.delivery.config import DeliveryConfig
from ol_bridge.delivery.database import (
    DatabaseUrl,
    OutboxDatabase,
    SqliteFile,
    instance_database,
)


@attrs.frozen
class OutboxLocation:
    database: OutboxDatabase = attrs.field(eq=False)
    #: how the location was chosen, for messages ("the Dagster instance's database", ...)
    reason: str
    #: pending events survive whatever the instance's storage survives
    durable: bool

    @property
    def where(self) -> str:
        return self.database.where


def locate(config: DeliveryConfig, instance: Any | None) -> OutboxLocation:
    """Where ``config``'s outbox is for a sensor running in ``instance`` (see the module)."""
    if config.path is not None:
        return OutboxLocation(
            SqliteFile(config.path, config.synchronous), "DeliveryConfig.path", durable=True
        )
    if config.url is not None:
        return OutboxLocation(DatabaseUrl(config.url), "DeliveryConfig.url", durable=True)
    database = instance_database(instance) if instance is not None else None
    if database is not None:
        return OutboxLocation(database, "the instance's PostgreSQL storage", durable=True)
    home = getattr(instance, "root_directory", None)
    file = SqliteFile(
        config.outbox_path(home if isinstance(home, str) else None), config.synchronous
    )
    local = instance is None or run_storage_is_sqlite(instance)
    reason = "next to the SQLite instance" if local else "a local file (instance storage is remote)"
    return OutboxLocation(file, reason, durable=local)
