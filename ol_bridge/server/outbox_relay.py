"""Relaying through ol-bridge's durable outbox (``ol_bridge.delivery``, issue 5).

With ``outbox_path`` set, a request's events are committed to the SQLite outbox for every
relay destination before the 201 (accepted = durably stored), and a background thread
drains the outbox with per-destination retries and backoff. A relay destination's outage
then no longer turns into 503s: the events wait in the outbox (``ol-bridge outbox
status`` shows them) until the destination is back. A full outbox answers 503.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openlineage.client.transport import get_default_factory

from ol_bridge.delivery import DeliveryConfig, Destination, Outbox, drain
from ol_bridge.delivery.payload import identity_key, to_payload
from ol_bridge.errors import DestinationUnavailableError, OutboxFullError
from ol_bridge.server.metrics import Metrics

log = logging.getLogger(__name__)

#: Seconds one drain pass may run; the thread pauses briefly when nothing was due.
_DRAIN_SECONDS = 5.0
_IDLE_SECONDS = 0.5


class OutboxRelay:
    """Commits events to the outbox; a background thread delivers them."""

    def __init__(
        self, relay: Mapping[str, Mapping[str, Any]], path: Path, metrics: Metrics
    ) -> None:
        factory = get_default_factory()
        self._destinations = [
            Destination(name, factory.create(dict(conf))) for name, conf in relay.items()
        ]
        self._names = [d.name for d in self._destinations]
        self._settings = DeliveryConfig()
        self._path = path
        # Outbox connections belong to the thread that opened them (sqlite3): one per
        # request thread, opened on first use; the drain thread opens its own.
        self._local = threading.local()
        self._opened: list[Outbox] = []
        self._lock = threading.Lock()
        self._metrics = metrics
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="ol-bridge-relay", daemon=True)
        if self._names:
            self._thread.start()

    def send(self, events: Sequence[Mapping[str, Any]]) -> None:
        if not self._names:
            return
        outbox = self._thread_outbox()
        for event in events:
            try:
                outbox.enqueue(
                    to_payload(dict(event)),
                    self._names,
                    key=identity_key(event),
                    max_events=self._settings.max_events_per_destination,
                    on_full="pause",
                )
            except OutboxFullError as error:
                raise DestinationUnavailableError("outbox", str(error)) from error
        for name in self._names:
            self._metrics.add("relayed", len(events), destination=name)

    def queued(self) -> Mapping[str, int]:
        return {stats.name: stats.queued for stats in self._thread_outbox().stats()}

    def _thread_outbox(self) -> Outbox:
        outbox: Outbox | None = getattr(self._local, "outbox", None)
        if outbox is None:
            outbox = Outbox(self._path)
            self._local.outbox = outbox
            with self._lock:
                self._opened.append(outbox)
        return outbox

    def _drain(self) -> None:
        outbox = Outbox(self._path)
        try:
            while not self._stop.is_set():
                report = drain(outbox, self._destinations, seconds=_DRAIN_SECONDS)
                if not report.total_delivered:
                    self._stop.wait(_IDLE_SECONDS)
        finally:
            outbox.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(_DRAIN_SECONDS + 30)
        # Connections of other threads cannot be closed from here (sqlite3 refuses); they
        # close when their threads end. Each commit is durable already.
        for destination in self._destinations:
            destination.transport.close()
