"""Dagster event-log cursors, in the one place that knows their format.

``DagsterInstance.get_records_for_run`` takes an opaque cursor string. Dagster builds it as
base64 of ``{"type": "STORAGE_ID", "value": <id>}`` (``dagster._core.event_api.EventLogCursor``,
stable since 1.0). We need to build one from a storage id we kept in our own cursor, and the
class that does it is private, so the format is reproduced here instead of importing
``dagster._core``. A test checks it against the cursors Dagster itself returns.
"""

from __future__ import annotations

import base64
import json


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
