"""What the sensor uses each tick: hand events to the outbox, then drain it in the time box.

Events go through an OpenLineage client built with the same configuration whose transport
is the outbox (:func:`handoff_client`), so the client's own processing (filters,
environment and tag facets, dataset reduction) applies exactly as when it emits
directly; the destinations are the client's real transport, split per destination
(``destinations.py``). Nothing is built, and no network is touched, on a
tick with nothing to hand off and nothing due in the outbox.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs
from openlineage.client import OpenLineageClient
from openlineage.client.transport import Transport

from ol_bridge.delivery.config import DeliveryConfig
from ol_bridge.delivery.deliver import Backoff, DrainReport, drain
from ol_bridge.delivery.destinations import Destination, split_destinations
from ol_bridge.delivery.location import OutboxLocation, locate
from ol_bridge.delivery.payload import identity_key, to_payload
from ol_bridge.delivery.status import DestinationStats
from ol_bridge.delivery.store import EnqueueResult, Outbox

log = logging.getLogger(__name__)

LogLine = tuple[str, str]  # (level: "info" | "warning", message)
Logger = logging.Logger | logging.LoggerAdapter[Any]


class OutboxTransport(Transport):
    """A transport whose ``emit`` commits the event to the outbox for every destination;
    ``grouped``, it keeps events until :meth:`commit` stores them in one transaction."""

    kind = "ol-bridge-outbox"

    def __init__(
        self,
        outbox: Outbox,
        names: list[str],
        config: DeliveryConfig,
        logger: Logger = log,
        *,
        resend: bool = False,
        grouped: bool = False,
    ) -> None:
        self.outbox = outbox
        self.names = names
        self.settings = config
        self.duplicates = 0
        self.handed_off = 0
        #: events the client passed on to this transport (it drops some: filters, disabled)
        self.received = 0
        self._log = logger
        self._resend = resend
        #: ``emit`` keeps events for ``commit`` (one transaction for many)
        self._grouped = grouped
        self._uncommitted: list[_Item] = []

    def emit(self, event: Any) -> None:
        """Store the event for every destination; when ``grouped``, keep it for the next
        :meth:`commit` instead."""
        self.received += 1
        item = _Item(to_payload(event), identity_key(event), *_describe(event))
        if self._grouped:
            self._uncommitted.append(item)
        else:
            self._store(item)

    def commit(self) -> HandedOff:
        """Store the events emitted since the last commit, in one transaction. If that
        fails, they are stored one by one, as ``emit`` would have, up to the first that
        cannot be: the result says how many (in order) were stored, and why the next was
        not, so the caller moves its cursor past those only."""
        items, self._uncommitted = self._uncommitted, []
        if not items:
            return HandedOff(0)
        try:
            results = self.outbox.enqueue_each(
                [(item.payload, item.key) for item in items],
                self.names,
                max_events=self.settings.max_events_per_destination,
                on_full=self.settings.on_full,
                resend=self._resend,
            )
        except Exception:  # which event cannot be stored: the same rules, one at a time
            for stored, item in enumerate(items):
                try:
                    self._store(item)
                except Exception as error:
                    return HandedOff(stored, error, item.job_name, item.event_type)
            return HandedOff(len(items))
        for result in results:
            self._count(result)
        return HandedOff(len(items))

    def _store(self, item: _Item) -> None:
        self._count(
            self.outbox.enqueue(
                item.payload,
                self.names,
                key=item.key,
                max_events=self.settings.max_events_per_destination,
                on_full=self.settings.on_full,
                resend=self._resend,
            )
        )

    def _count(self, result: EnqueueResult) -> None:
        self.duplicates += result.duplicate
        self.handed_off += not result.duplicate
        for name in result.dropped_for:
            self._log.warning(
                f"ol-bridge delivery: the outbox is full for {name} "
                f"({self.settings.max_events_per_destination} events); its oldest event was "
                "dropped to make room (on_full=drop_oldest). It is counted as dropped in "
                "`ol-bridge outbox status`."
            )


@attrs.frozen
class _Item:
    """An event as the outbox stores it, with what names it in a failure report."""

    payload: str
    key: str | None
    job_name: str
    event_type: str


def _describe(event: Any) -> tuple[str, str]:
    """The job name and event type of an event (object or dict) for messages."""
    if isinstance(event, dict):
        job, kind = event.get("job") or {}, event.get("eventType")
        return str(job.get("name", "") if isinstance(job, dict) else ""), str(kind or "")
    kind = getattr(event, "eventType", None)
    return (
        str(getattr(getattr(event, "job", None), "name", "") or ""),
        str(getattr(kind, "value", kind) or ""),
    )


@attrs.frozen
class HandedOff:
    """What a grouped hand-off stored: the first ``count`` events emitted since the last
    commit, in order. ``error``: why the next one was not (``job_name``, ``event_type``
    name it); the events after it were not stored either."""

    count: int
    error: BaseException | None = None
    job_name: str = ""
    event_type: str = ""


@attrs.frozen
class DeliverySummary:
    """What one tick's delivery did and what still waits, for the tick's log and message."""

    lines: list[LogLine]
    #: destinations with events waiting after the tick
    waiting: tuple[DestinationStats, ...] = ()
    delivered: int = 0

    def backlog(self) -> str:
        """``"14 events wait for delivery: marquez 14 since 10:02:11 UTC (...)"``; "" if none."""
        if not self.waiting:
            return ""
        total = sum(stats.queued for stats in self.waiting)
        parts = "; ".join(_describe_waiting(stats) for stats in self.waiting)
        return f"{total} events wait for delivery: {parts}."


def _describe_waiting(stats: DestinationStats) -> str:
    text = f"{stats.name} {stats.queued}"
    if stats.oldest_age_seconds is not None:
        since = datetime.fromtimestamp(time.time() - stats.oldest_age_seconds, tz=timezone.utc)
        text += f" since {since:%Y-%m-%d %H:%M:%S} UTC"
    details = []
    if stats.rejected:
        details.append(f"{stats.rejected} refused for good")
    if stats.failures:
        details.append(
            f"{stats.failures} failed attempts, next in {stats.next_attempt_in_seconds:.0f} s"
        )
    if stats.last_error and (stats.failures or stats.rejected):
        details.append(f"last error: {_short(stats.last_error)}")
    return text + (f" ({', '.join(details)})" if details else "")


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SensorDelivery:
    """One delivery session over the outbox: take events, drain, close. The sensor opens one
    per tick; ``ol-bridge backfill`` one per invocation (the same engine, the same outbox).

    ``resend``: events delivered within ``dedup_seconds`` are queued again instead of
    dropped as duplicates (a deliberate backfill after a backend lost data).
    ``grouped``: ``emit`` keeps events until :meth:`commit` stores them in one transaction
    (the sensor commits a run's events together: one commit instead of one per event).
    """

    def __init__(
        self,
        config: DeliveryConfig,
        get_client: Callable[[], OpenLineageClient],
        location: OutboxLocation,
        logger: Logger = log,
        *,
        resend: bool = False,
        grouped: bool = False,
    ) -> None:
        self.config = config
        self.location = location
        self._get_client = get_client
        self._log = logger
        self._resend = resend
        self._grouped = grouped
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
        cls,
        config: DeliveryConfig,
        get_client: Callable[[], OpenLineageClient],
        instance: Any,
        logger: Logger = log,
        *,
        resend: bool = False,
        grouped: bool = False,
    ) -> SensorDelivery:
        return cls(
            config, get_client, locate(config, instance), logger, resend=resend, grouped=grouped
        )

    def close(self) -> None:
        self.outbox.close()

    @property
    def duplicates(self) -> int:
        """Events of this session dropped as already handed off (see ``Outbox.enqueue``)."""
        return self._transport.duplicates if self._transport else 0

    def walk_seconds(self, tick_seconds: float) -> float:
        """The share of the tick's time box left for reading Dagster and handing off."""
        return tick_seconds - min(self.config.drain_seconds, tick_seconds / 2)

    def destinations(self) -> list[Destination]:
        if self._destinations is None:
            self._destinations = split_destinations(self._get_client().transport)
        return self._destinations

    def emit(self, event: Any) -> bool:
        """Hand ``event`` to the client, which passes it on to the outbox; False when the
        client dropped it (its ``filters``, or OpenLineage disabled): nothing was kept, so
        a grouped hand-off's :meth:`commit` does not count it."""
        if self._handoff is None:
            destinations = self.destinations()
            self._transport = OutboxTransport(
                self.outbox,
                [d.name for d in destinations],
                self.config,
                self._log,
                resend=self._resend,
                grouped=self._grouped,
            )
            self._handoff = handoff_client(self._get_client(), self._transport)
        assert self._transport is not None
        before = self._transport.received
        self._handoff.emit(event)
        return self._transport.received > before

    def commit(self) -> HandedOff:
        """Store the events emitted since the last commit (``grouped``; see
        :meth:`OutboxTransport.commit`)."""
        return self._transport.commit() if self._transport is not None else HandedOff(0)

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
            logger=self._log,
        )
        if report.total_delivered:
            self.outbox.prune()
        return report

    def drain_until(
        self,
        deadline: float,
        *,
        retry_now: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> int:
        """Deliver until nothing waits or ``deadline`` (``time.monotonic``) passes, waiting
        out a failing destination's backoff meanwhile; returns how many were delivered.

        ``retry_now``: the first pass ignores backoffs (an operator's command: they may
        just have fixed the destination).
        """
        delivered = 0
        first = True
        while clock() < deadline:
            report = self.drain(deadline - clock(), ignore_backoff=retry_now and first)
            first = False
            delivered += report.total_delivered if report is not None else 0
            configured = {d.name for d in self.destinations()}
            waiting = [
                s for s in self.outbox.stats() if s.queued > s.rejected and s.name in configured
            ]
            if not waiting:
                break
            if report is None or not report.total_delivered:
                pause = min(s.next_attempt_in_seconds for s in waiting)
                time.sleep(max(0.05, min(pause, deadline - clock(), 5.0)))
        return delivered

    def finish(self, sensor_name: str, deadline: float) -> DeliverySummary:
        """Drain until ``deadline`` (``time.monotonic``); what the tick reports."""
        report = self.drain(deadline - time.monotonic())
        return self.summary(sensor_name, report)

    def summary(self, sensor_name: str, report: DrainReport | None) -> DeliverySummary:
        lines: list[LogLine] = []
        duplicates = self._transport.duplicates if self._transport else 0
        if duplicates:
            lines.append(
                (
                    "info",
                    f"{sensor_name} - {duplicates} events were handed off already (a replayed "
                    "tick, another sensor, or a delivery within dedup_seconds) and were not "
                    "queued again",
                )
            )
        delivered = report.total_delivered if report is not None else 0
        if report is not None and delivered:
            per = ", ".join(f"{name}: {n}" for name, n in report.delivered.items() if n)
            lines.append(("info", f"{sensor_name} - Delivered {delivered} events ({per})"))
        waiting = tuple(stats for stats in self.outbox.stats() if stats.queued)
        lines += self._warnings(sensor_name, waiting)
        return DeliverySummary(lines, waiting, delivered)

    def _warnings(self, sensor_name: str, waiting: tuple[DestinationStats, ...]) -> list[LogLine]:
        lines: list[LogLine] = []
        configured = {d.name for d in self._destinations or []}
        limit = self.config.max_events_per_destination
        if waiting and not self.location.durable:
            lines.append(
                (
                    "warning",
                    f"{sensor_name} - events waiting for delivery are kept in {self.outbox.where}"
                    ", a local file, while the Dagster instance's storage is elsewhere: a "
                    "redeploy that replaces this disk loses them. Give the outbox a durable "
                    "home: DeliveryConfig(url='postgresql://...') or a path on a persistent "
                    "volume (docs/delivery.md).",
                )
            )
        for stats in waiting:
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
            elif stats.queued / limit >= self.config.warn_ratio:
                lines.append(
                    (
                        "warning",
                        f"{sensor_name} - {where}: {stats.queued / limit:.0%} of its limit of "
                        f"{limit} (last error: {stats.last_error}). At the limit the outbox "
                        f"{_on_full_effect(self.config)}.",
                    )
                )
        return lines


def handoff_client(client: OpenLineageClient, outbox: Transport) -> OpenLineageClient:
    """A client that processes events as ``client`` does and emits them to ``outbox``.

    The processing comes from the configuration (the mapping the client was given, then the
    same file and ``OPENLINEAGE__*`` variables); only the transport differs.
    """
    return OpenLineageClient(transport=outbox, config=client.user_defined_config)


def _on_full_effect(config: DeliveryConfig) -> str:
    if config.on_full == "pause":
        return "stops taking new events and the sensor pauses (nothing is lost)"
    return "drops that destination's oldest events, counted in `ol-bridge outbox status`"
