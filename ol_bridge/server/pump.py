"""Delivering the receiver's outbox: one thread per destination, each running the delivery
engine (``ol_bridge.delivery.drain``) for its destination only.

A thread per destination, so a slow relay (one HTTP request per event) never holds up
DataHub's batches, and the engine's per-destination lease makes a second receiver process
on the same outbox (or ``ol-bridge outbox drain``) safe next to it. A thread sleeps while
nothing is due and is woken by each commit, so an accepted event starts its delivery at
once. What each thread learns (delivered, failing, its backlog) is kept as
:class:`DestinationState` for ``/health``, ``/metrics`` and the receiver's 503 decisions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import attrs

from ol_bridge.delivery.config import DeliveryConfig
from ol_bridge.delivery.database import OutboxDatabase
from ol_bridge.delivery.deliver import Backoff, drain
from ol_bridge.delivery.destinations import Destination
from ol_bridge.delivery.status import DestinationStats
from ol_bridge.delivery.store import Outbox

log = logging.getLogger(__name__)

#: seconds one drain may run before the thread looks at its stop flag again
DRAIN_SECONDS = 2.0
#: seconds an idle thread sleeps when no commit wakes it
IDLE_SECONDS = 0.5
#: seconds a woken thread lets more commits arrive before it drains: a batch write (one
#: REST request, one Lite transaction) costs about the same for 1 event as for 500
LINGER_SECONDS = 0.05
#: seconds between two reads of a destination's backlog for /health
STATS_SECONDS = 0.5
PRUNE_SECONDS = 60.0


@attrs.frozen
class DestinationState:
    """What ``/health`` says about one destination."""

    name: str
    #: "up" (its last send worked), "down" (its last send failed) or "idle" (none yet)
    state: str = "idle"
    queued: int = 0
    rejected: int = 0
    delivered: int = 0
    last_error: str | None = None
    #: epoch seconds of the failure that made it "down"
    down_since: float | None = None

    def as_json(self) -> dict[str, object]:
        return attrs.asdict(self, filter=lambda a, v: a.name != "name")


class Pump:
    """Starts one delivery thread per destination; :meth:`close` stops them."""

    def __init__(
        self,
        database: OutboxDatabase,
        destinations: Sequence[Destination],
        config: DeliveryConfig,
        *,
        on_delivered: Callable[[str, int, int], None] = lambda name, sent, parked: None,
    ) -> None:
        self._database = database
        self._destinations = list(destinations)
        self._config = config
        self._on_delivered = on_delivered
        self._stop = threading.Event()
        self._wakes = {d.name: threading.Event() for d in self._destinations}
        self._states = {d.name: DestinationState(d.name) for d in self._destinations}
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(
                target=self._deliver, args=(d,), name=f"ol-bridge-deliver-{d.name}", daemon=True
            )
            for d in self._destinations
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        """New events were committed: every thread looks now."""
        for event in self._wakes.values():
            event.set()

    def states(self) -> Mapping[str, DestinationState]:
        with self._lock:
            return dict(self._states)

    def close(self, timeout: float) -> bool:
        """Stop, waiting up to ``timeout`` seconds for sends in progress; True if all ended.
        A send cut short leaves its events in the outbox, delivered at the next start."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stopped = not any(thread.is_alive() for thread in self._threads)
        for destination in self._destinations:
            if stopped:
                destination.transport.close()
        return stopped

    def _deliver(self, destination: Destination) -> None:
        name = destination.name
        backoff = Backoff(self._config.backoff_seconds, self._config.max_backoff_seconds)
        outbox = Outbox(self._database, dedup_seconds=self._config.dedup_seconds)
        last_stats = last_prune = 0.0
        try:
            while not self._stop.is_set():
                self._wakes[name].clear()
                report = drain(
                    outbox,
                    [destination],
                    seconds=DRAIN_SECONDS,
                    batch_size=self._config.batch_size,
                    backoff=backoff,
                )
                sent = report.delivered.get(name, 0)
                if sent or report.rejected:
                    self._on_delivered(name, sent, report.rejected)
                self._record(name, sent, report.failed.get(name))
                now = time.monotonic()
                if now - last_stats >= STATS_SECONDS or sent or name in report.failed:
                    self._update_backlog(outbox.stats())
                    last_stats = now
                if now - last_prune >= PRUNE_SECONDS:
                    outbox.prune()
                    last_prune = now
                if name in report.failed or self.states()[name].state == "down":
                    self._stop.wait(IDLE_SECONDS)  # in backoff: commits need not wake it
                elif (
                    sent < self._config.batch_size
                    and not report.out_of_time
                    and self._wakes[name].wait(IDLE_SECONDS)
                ):
                    self._stop.wait(LINGER_SECONDS)
        except Exception:  # the thread must not die silently: say so; /health shows it down
            log.exception("ol-bridge serve: delivery to %s stopped", name)
            self._record(name, 0, "the delivery thread stopped; see the log and restart")
        finally:
            outbox.close()

    def _record(self, name: str, sent: int, error: str | None) -> None:
        with self._lock:
            state = self._states[name]
            if error is not None:
                self._states[name] = attrs.evolve(
                    state,
                    state="down",
                    last_error=error,
                    down_since=state.down_since or time.time(),
                )
            elif sent:
                self._states[name] = attrs.evolve(
                    state, state="up", down_since=None, delivered=state.delivered + sent
                )

    def _update_backlog(self, stats: Sequence[DestinationStats]) -> None:
        with self._lock:
            for row in stats:
                state = self._states.get(row.name)
                if state is not None:
                    self._states[row.name] = attrs.evolve(
                        state,
                        queued=row.queued,
                        rejected=row.rejected,
                        last_error=row.last_error or state.last_error,
                    )
