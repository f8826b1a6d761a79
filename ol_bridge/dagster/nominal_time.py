"""When a run was meant to run, from its tags: the ``nominalTime`` facet. Pure.

In order: the schedule tick the daemon stamped on the run, then the run's time partition
(a time-window partition key, the time dimension of a multi-partition, or the start of a
partition range). A run of a time partition also gets the window's end
(``nominalEndTime``) when its partitions definition is known (:func:`partition_window`):
a key alone does not say its window (a weekly key is written like a daily one, an hourly
like a 15-minute one). Tags as Dagster writes them (``dagster/_core/storage/tags.py``):

* ``.dagster/scheduled_execution_time``: set by the scheduler daemon on every run it
  launches (a hidden tag, leading dot), the tick in UTC ISO 8601; Dagster before 1.9
  wrote ``dagster/scheduled_execution_time``, still read for older history;
* ``dagster/partition`` (``2024-01-31``, ``2024-01-31-05:00``; for a multi-partition the
  dimension keys joined by ``|``) and ``dagster/partition/<dimension>`` per dimension;
* ``dagster/asset_partition_range_start`` and ``..._end`` for a run over a partition
  range (a single-run backfill).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

import attrs
from dagster import MultiPartitionsDefinition, PartitionsDefinition, TimeWindowPartitionsDefinition

#: the daemon's tag on current Dagster, then its older spelling
SCHEDULED_EXECUTION_TIME_TAGS = (
    ".dagster/scheduled_execution_time",
    "dagster/scheduled_execution_time",
)
PARTITION_TAG = "dagster/partition"
PARTITION_DIMENSION_PREFIX = "dagster/partition/"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"

# Dagster's time-window partition key formats (daily, hourly, monthly; weekly is daily).
_PARTITION_FORMATS = ("%Y-%m-%d-%H:%M", "%Y-%m-%d", "%Y-%m")


@attrs.frozen
class NominalTime:
    """The ``nominalTime`` facet's two moments, ISO 8601 with a zone."""

    start: str
    end: str | None = None


def nominal_time(
    tags: Mapping[str, str], partitions_def: PartitionsDefinition | None = None
) -> NominalTime | None:
    """The run's nominal time: its schedule tick (no end: a tick is a moment), else its
    time partition's window, from ``partitions_def`` when given, else the key's start."""
    window = None if _scheduled(tags) else partition_window(tags, partitions_def)
    if window is not None:
        return NominalTime(window[0].isoformat(), window[1].isoformat())
    start = nominal_start_time(tags)
    return NominalTime(start) if start is not None else None


def needs_partitions_definition(tags: Mapping[str, str]) -> bool:
    """Whether :func:`nominal_time` of a run with ``tags`` would read a partitions
    definition: a partitioned run that no schedule launched. Looking the definition up
    costs a walk of the run's assets, so callers skip it for every other run."""
    partitioned = PARTITION_TAG in tags or PARTITION_RANGE_START_TAG in tags
    return partitioned and not _scheduled(tags)


def partition_window(
    tags: Mapping[str, str], partitions_def: PartitionsDefinition | None
) -> tuple[datetime, datetime] | None:
    """From the start of the run's first time partition to the end of its last (one
    partition, or a range run by one backfill run), by its time-window partitions
    definition or a multi-partitions definition's time dimension; None otherwise."""
    single = tags.get(PARTITION_TAG)
    first = single or tags.get(PARTITION_RANGE_START_TAG)
    last = single or tags.get(PARTITION_RANGE_END_TAG)
    if not first or not last or partitions_def is None:
        return None
    try:
        start = _time_window(partitions_def, first, tags)
        end = _time_window(partitions_def, last, tags)
    except Exception:  # a key of another definition: Dagster raises several error types
        return None
    if start is None or end is None:
        return None
    return start[0], end[1]


def _time_window(
    partitions_def: PartitionsDefinition, key: str, tags: Mapping[str, str]
) -> tuple[datetime, datetime] | None:
    if isinstance(partitions_def, MultiPartitionsDefinition):
        dimension = partitions_def.time_window_dimension  # raises when there is none
        if "|" in key:
            keys = partitions_def.get_partition_key_from_str(key).keys_by_dimension
            key = keys[dimension.name]
        else:
            key = tags.get(PARTITION_DIMENSION_PREFIX + dimension.name, key)
        partitions_def = dimension.partitions_def
    if not isinstance(partitions_def, TimeWindowPartitionsDefinition):
        return None
    window = partitions_def.time_window_for_partition_key(key)
    return window.start, window.end


def _scheduled(tags: Mapping[str, str]) -> bool:
    return any(
        _as_utc_iso(tags.get(tag) or "") is not None for tag in SCHEDULED_EXECUTION_TIME_TAGS
    )


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
