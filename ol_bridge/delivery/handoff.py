"""What the sensor uses each tick: hand events to the outbox, then drain it in the time box.

Events go through a copy of the OpenLineage client whose transport is the outbox, so the
client's own processing (filters, environment and tag facets, dataset reduction) applies
exactly as when it emits directly; the destinations are the client's real transport, split
per destination (``destinations.py``). Nothing is built, and no network is touched, on a
tick with nothing to hand off and nothing due in the outbox.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.transport import Transport

from ol_bridge.delivery.config import DeliveryConfig
from ol_bridge.delivery.deliver import Backoff, DrainReport, drain
from ol_bridge.delivery.destinations import Destination, split_destinations
from ol_bridge.delivery.location import OutboxLocation, locate
from ol_bridge.delivery.payload import identity_key, to_payload
from ol_bridge.delivery.store import Outbox

log = logging.getLogger(__name__)

LogLine = tuple[str, str]  # (level: "info" | "warning", message)


class OutboxTransport(Transport):
    """A transport whose ``emit`` commits the event to the outbox for every destination."""

    kind = "ol-bridge-outbox"

    def __init__(self, outbox: Outbox, names: list[str], config: DeliveryConfig) -> None:
        self.outbox = outbox
        self.names = names
        self.settings = config
        self.duplicates = 0

    def emit(self, event: Any) -> None:
        result = self.outbox.enqueue(
            to_payload(event),
            self.names,
            key=identity_key(event),
            max_events=self.settings.max_events_per_destination,
            on_full=self.settings.on_full,
        )
        self.duplicates += result.duplicate
        for name in result.dropped_for:
            log.warning(
                "ol-bridge delivery: the outbox is full for %s (%d events); its oldest event "
                "was dropped to make room (on_full=drop_oldest). It is counted as dropped in "
                "`ol-bridge outbox status`.",
                name,
                self.settings.max_events_per_destination,
            )


class SensorDelivery:
    """One tick's delivery: open the outbox, take events, drain, close."""

    def __init__(
        self,
        config: DeliveryConfig,
        get_client: Callable[[], OpenLineageClient],
        location: OutboxLocation,
    ) -> None:
        self.config = config
        self.location = location
        self._get_client = get_client
        self.outbox = Outbox(
            location.database,
            synchronous=config.synchronous,
            dedup_seconds=config.dedup_seconds,
        )
        self._destinations: list[Destination] | None = None
        self._handoff: OpenLineageClient | None = None
        self._transport: OutboxTransport | None = None

    @classmethod
    def for_instance(
        cls, config: DeliveryConfig, get_client: Callable[[], OpenLineageClient], instance: Any
    ) -> SensorDelivery:
        return cls(config, get_client, locate(config, instance))

    def close(self) -> None:
        self.outbox.close()

    def walk_seconds(self, tick_seconds: float) -> float:
        """The share of the tick's time box left for reading Dagster and handing off."""
        return tick_seconds - min(self.config.drain_seconds, tick_seconds / 2)

    def destinations(self) -> list[Destination]:
        if self._destinations is None:
            self._destinations = split_destinations(self._get_client().transport)
        return self._destinations

    def emit(self, event: Any) -> None:
        if self._handoff is None:
            destinations = self.destinations()
            self._transport = OutboxTransport(
                self.outbox, [d.name for d in destinations], self.config
            )
            self._handoff = copy.copy(self._get_client())
            self._handoff.transport = self._transport
        self._handoff.emit(event)

    def drain(self, seconds: float, *, ignore_backoff: bool = False) -> DrainReport | None:
        """Deliver what is due; None (and no client built) when nothing is."""
        if seconds <= 0 or not self.outbox.due(ignore_backoff=ignore_backoff):
            return None
        report = drain(
            self.outbox,
            self.destinations(),
            seconds=seconds,
            batch_size=self.config.batch_size,
            backoff=Backoff(self.config.backoff_seconds, self.config.max_backoff_seconds),
            ignore_backoff=ignore_backoff,
        )
        if report.total_delivered:
            self.outbox.prune()
        return report

    def finish(self, sensor_name: str, deadline: float) -> list[LogLine]:
        """Drain until ``deadline`` (``time.monotonic``); the log lines for this tick."""
        report = self.drain(deadline - time.monotonic())
        return self.summary(sensor_name, report)

    def summary(self, sensor_name: str, report: DrainReport | None) -> list[LogLine]:
        lines: list[LogLine] = []
        duplicates = self._transport.duplicates if self._transport else 0
        if duplicates:
            lines.append(
                (
                    "info",
                    f"{sensor_name} - {duplicates} events were already in the outbox "
                    "(a replayed tick) and were not queued again",
                )
            )
        if report is not None and report.total_delivered:
            per = ", ".join(f"{name}: {n}" for name, n in report.delivered.items() if n)
            lines.append(
                ("info", f"{sensor_name} - Delivered {report.total_delivered} events ({per})")
            )
        configured = {d.name for d in self._destinations or []}
        limit = self.config.max_events_per_destination
        for stats in self.outbox.stats():
            if not stats.queued:
                continue
            fill = stats.queued / limit
            where = (
                f"{stats.queued} events for {stats.name} wait in the outbox in {self.outbox.where}"
            )
            if self._destinations is not None and stats.name not in configured:
                lines.append(
                    (
                        "warning",
                        f"{sensor_name} - {where}, but no configured destination has that "
                        f"name any more; discard them with `ol-bridge outbox discard "
                        f"{stats.name!r}` or restore the destination.",
                    )
                )
            elif fill >= self.config.warn_ratio:
                lines.append(
                    (
                        "warning",
                        f"{sensor_name} - {where}: {fill:.0%} of its limit of {limit} "
                        f"(last error: {stats.last_error}). At the limit the outbox "
                        f"{_on_full_effect(self.config)}.",
                    )
                )
        return lines


def _on_full_effect(config: DeliveryConfig) -> str:
    if config.on_full == "pause":
        return "stops taking new events and the sensor pauses (nothing is lost)"
    return "drops that destination's oldest events, counted in `ol-bridge outbox status`"
