"""Converting at the request, once: refuse what DataHub cannot take, keep the rest's proposals.

An event that passes the OpenLineage schema can still be impossible to convert (a job name
``.x`` leaves an empty DataFlow id; a dataset namespace ``urn:li:corpuser:x`` is no
platform; a column-lineage field ``""``). The producer must hear that now, as a 400 naming
the field, not as a 201 for an event DataHub never gets. So each event is converted when it
arrives, by the same function the ``datahub`` destination delivers with
(``transport.convert_one``), and the proposals are not thrown away: they wait in a
:class:`Handover`, keyed like the outbox (``payload.identity_key``), for the delivery of that
event to DataHub, which then writes them instead of converting the event again. The
handover is bounded and lives in memory only: an event whose proposals were evicted, or
that is delivered after a restart, is converted again from the outbox, with the same result
(conversion is pure).
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ol_bridge.datahub.config import ConverterConfig, DatahubConfig
from ol_bridge.datahub.sinks.base import Proposal
from ol_bridge.datahub.transport import DatahubTransport, convert_one
from ol_bridge.delivery.payload import identity_key
from ol_bridge.errors import ConversionError
from ol_bridge.validation import format_path

#: events whose proposals wait for their delivery; ~20-50 KB each
HANDOVER_EVENTS = 2048
#: seconds after which kept proposals may make room for newer ones
HANDOVER_STALE_SECONDS = 300.0


class Handover:
    """Proposals converted at the request, waiting for the event's delivery (thread-safe).

    When it is full, the new event's proposals are not kept (its delivery converts it
    again), rather than the oldest ones evicted: the outbox delivers oldest first, so
    evicting them would make every delivery miss once the backlog is longer than the
    handover, and the delivery thread, converting everything again, would fall further
    behind. Entries older than ``stale_seconds`` (an event some other process delivered)
    make room.
    """

    def __init__(
        self,
        capacity: int = HANDOVER_EVENTS,
        *,
        stale_seconds: float = HANDOVER_STALE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = capacity
        self._stale_seconds = stale_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, list[Proposal]]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def offer(self, key: str, proposals: list[Proposal]) -> bool:
        """Keep ``proposals`` for ``key`` unless some are kept already or there is no room;
        True if kept."""
        with self._lock:
            if key in self._entries:
                return False
            now = self._clock()
            if len(self._entries) >= self._capacity:
                _, (since, _) = next(iter(self._entries.items()))
                if now - since < self._stale_seconds:
                    return False
                self._entries.popitem(last=False)
            self._entries[key] = (now, proposals)
            return True

    def withdraw(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def take(self, key: str) -> list[Proposal] | None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
            return entry[1]

    def __len__(self) -> int:
        return len(self._entries)


class HandoverTransport(DatahubTransport):
    """The ``datahub`` transport, taking proposals the receiver converted already."""

    def __init__(self, config: DatahubConfig, handover: Handover) -> None:
        super().__init__(config)
        self.handover = handover

    def convert(self, events: Sequence[Any]) -> list[Proposal]:
        mcps: list[Proposal] = []
        for event in events:
            key = identity_key(event) if isinstance(event, Mapping) else None
            ready = self.handover.take(key) if key is not None else None
            mcps.extend(ready if ready is not None else convert_one(event, self._converter_config))
        return mcps


class UnconvertibleError(Exception):
    """An event that cannot be converted; ``field`` is the JSON path at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def convert_or_refuse(event: Mapping[str, Any], config: ConverterConfig) -> list[Proposal]:
    """The event's proposals, or :class:`UnconvertibleError` naming the field that stops them."""
    try:
        return convert_one(event, config)
    except ConversionError as error:
        field = locate(event, config)
        where = field or "the event"
        raise UnconvertibleError(
            field, f"{where} cannot be converted to DataHub metadata: {_cause(error)}"
        ) from error


def locate(event: Mapping[str, Any], config: ConverterConfig) -> str:
    """The field whose value stops the conversion: the event's bare skeleton (run, job,
    dataset ids) first, then each facet and dataset alone on top of it. Runs only for an
    event that failed, so its cost does not matter; "" when no single part is at fault."""
    skeleton = _skeleton(event)
    if not _converts(skeleton, config):
        for key in ("namespace", "name"):
            for container in ("job", "dataset"):
                if isinstance(skeleton.get(container), dict) and _fails_unless_replaced(
                    skeleton, container, key, config
                ):
                    return f"{container}.{key}"
        return ""
    for path, candidate in _with_one_part(event, skeleton):
        if _converts(candidate, config):
            continue
        if len(path) == 2:  # a dataset alone: its namespace or its name
            side = str(path[0])
            for key in ("namespace", "name"):
                fixed = copy.deepcopy(candidate)
                fixed[side][0][key] = "ol_bridge_probe"
                if _converts(fixed, config):
                    return format_path((*path, key))
        return format_path(path)
    return ""


def _cause(error: BaseException) -> str:
    cause = error.__cause__
    return f"{type(cause).__name__}: {cause}" if cause is not None else str(error)


def _converts(event: Mapping[str, Any], config: ConverterConfig) -> bool:
    try:
        convert_one(event, config)
    except ConversionError:
        return False
    return True


def _fails_unless_replaced(
    skeleton: dict[str, Any], container: str, key: str, config: ConverterConfig
) -> bool:
    fixed = copy.deepcopy(skeleton)
    fixed[container][key] = "ol_bridge_probe"
    return _converts(fixed, config)


def _skeleton(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event without facets and datasets."""
    skeleton = {k: v for k, v in event.items() if k not in ("inputs", "outputs")}
    for container in ("run", "job", "dataset"):
        part = event.get(container)
        if isinstance(part, Mapping):
            skeleton[container] = {k: v for k, v in part.items() if k != "facets"}
    return skeleton


def _with_one_part(
    event: Mapping[str, Any], skeleton: dict[str, Any]
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    for container in ("run", "job", "dataset"):
        facets = _mapping(_mapping(event.get(container)).get("facets"))
        for key, facet in facets.items():
            candidate = copy.deepcopy(skeleton)
            candidate[container]["facets"] = {key: facet}
            yield (container, "facets", key), candidate
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        datasets = event.get(side)
        for index, dataset in enumerate(datasets if isinstance(datasets, list) else []):
            if not isinstance(dataset, Mapping):
                continue
            bare = {k: v for k, v in dataset.items() if k not in ("facets", extra)}
            candidate = {**copy.deepcopy(skeleton), side: [bare]}
            yield (side, index), candidate
            for facets_key in ("facets", extra):
                for key, facet in _mapping(dataset.get(facets_key)).items():
                    with_facet = {**bare, facets_key: {key: facet}}
                    yield (
                        (side, index, facets_key, key),
                        {
                            **copy.deepcopy(skeleton),
                            side: [with_facet],
                        },
                    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
