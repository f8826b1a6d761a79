"""Dagster internals with no public equivalent, in one module.

- Event-log cursors: ``DagsterInstance.get_records_for_run`` takes an opaque cursor string.
  Dagster builds it as base64 of ``{"type": "STORAGE_ID", "value": <id>}``
  (``dagster._core.event_api.EventLogCursor``, stable since 1.0); the sensor keeps storage
  ids in its own cursor and needs to build one from them, so the format is reproduced here
  rather than importing the private class.
- Whether an instance's run storage is a SQLite file on this machine: Dagster's public
  ``DagsterInstance.run_storage`` says which storage, but its classes live in
  ``dagster._core``; the module name is compared here, without importing it.

``tests/test_compat.py`` checks both against the installed Dagster (cursors Dagster returns;
a real SQLite and PostgreSQL instance).
"""

from __future__ import annotations

import base64
import json
from typing import Any

#: the module of Dagster's SQLite run storage classes (``SqliteRunStorage``)
SQLITE_RUN_STORAGE_MODULE = "dagster._core.storage.runs.sqlite"


def storage_id_cursor(storage_id: int) -> str:
    """The cursor that makes ``get_records_for_run`` return records after ``storage_id``."""
    raw = json.dumps({"type": "STORAGE_ID", "value": storage_id})
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def parse_storage_id_cursor(cursor: str) -> int:
    """The storage id inside a cursor returned by ``get_records_for_run``."""
    raw = json.loads(base64.b64decode(cursor).decode("utf-8"))
    if raw.get("type") != "STORAGE_ID":
        raise ValueError(f"expected a STORAGE_ID event-log cursor, got {raw!r}")
    return int(raw["value"])


def run_storage_is_sqlite(instance: Any) -> bool:
    """Whether the instance's run storage is a SQLite file (on this machine's disk)."""
    storage = getattr(instance, "run_storage", None)
    return type(storage).__module__.startswith(SQLITE_RUN_STORAGE_MODULE)


__all__ = ["parse_storage_id_cursor", "run_storage_is_sqlite", "storage_id_cursor"]
