"""When a run was meant to run, from its tags: the ``nominalTime`` facet's start. Pure.

In order: the schedule tick the daemon stamped on the run, then the run's time partition
(a time-window partition key, the time dimension of a multi-partition, or the start of a
partition range). Tags as Dagster writes them (``dagster/_core/storage/tags.py``):

* ``.dagster/scheduled_execution_time``: set by the scheduler daemon on every run it
  launches (a hidden tag, leading dot), the tick in UTC ISO 8601; Dagster before 1.9
  wrote ``dagster/scheduled_execution_time``, still read for older history;
* ``dagster/partition`` (``2024-01-31``, ``2024-01-31-05:00``; for a multi-partition the
  dimension keys joined by ``|``) and ``dagster/partition/<dimension>`` per dimension;
* ``dagster/asset_partition_range_start`` for a run over a partition range.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

#: the daemon's tag on current Dagster, then its older spelling
SCHEDULED_EXECUTION_TIME_TAGS = (
    ".dagster/scheduled_execution_time",
    "dagster/scheduled_execution_time",
)
PARTITION_TAG = "dagster/partition"
PARTITION_DIMENSION_PREFIX = "dagster/partition/"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"

# Dagster's time-window partition key formats (daily, hourly, monthly; weekly is daily).
_PARTITION_FORMATS = ("%Y-%m-%d-%H:%M", "%Y-%m-%d", "%Y-%m")


def nominal_start_time(tags: Mapping[str, str]) -> str | None:
    """The nominal start time (ISO 8601 with a zone) of a run with these tags, if any."""
    for tag in SCHEDULED_EXECUTION_TIME_TAGS:
        scheduled = tags.get(tag)
        if scheduled:
            moment = _as_utc_iso(scheduled)
            if moment is not None:
                return moment
    for key in _partition_keys(tags):
        moment = _as_utc_iso(key)
        if moment is not None:
            return moment
    return None


def _partition_keys(tags: Mapping[str, str]) -> list[str]:
    """Partition keys that may be times: the run's key, each dimension's, a range start."""
    keys = [tags.get(PARTITION_TAG) or ""]
    keys += [
        value for tag, value in sorted(tags.items()) if tag.startswith(PARTITION_DIMENSION_PREFIX)
    ]
    keys.append(tags.get(PARTITION_RANGE_START_TAG) or "")
    return [key for key in keys if key and "|" not in key]


def _as_utc_iso(text: str) -> str | None:
    """A date/time string as ISO 8601 with zone (UTC when it has none); None otherwise."""
    moment = _parse(text.strip())
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def _parse(text: str) -> datetime | None:
    for pattern in _PARTITION_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    if len(text) < 10 or not text[:4].isdigit():
        return None  # fromisoformat accepts "20240131" and the like: not partition keys
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
