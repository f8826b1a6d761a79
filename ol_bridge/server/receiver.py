"""The receiver's engine room, shared by the HTTP app and the Kafka worker.

Events come in (:meth:`Receiver.prepare` checks a body: JSON, schema, names, conversion;
:meth:`Receiver.commit` commits them to the outbox for every destination), and go out
through the delivery engine (``ol_bridge.delivery``): the DataHub destination is the
``datahub`` transport, each relay another destination, each delivered by its own thread
(``pump.py``). ``ol-bridge outbox --path <outbox> status`` reads the same outbox.

Whether a new request can be taken is decided in memory, without waiting for anything
(:meth:`Receiver.refusal`): too many requests in progress, a destination's backlog at its
limit, or (with ``refuse_while_down``) a destination failing, each gives a 503 with
``Retry-After`` at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

import attrs
from openlineage.client.transport import get_default_factory

from ol_bridge.delivery.database import DatabaseUrl, OutboxDatabase, SqliteFile
from ol_bridge.delivery.destinations import Destination, split_destinations
from ol_bridge.delivery.payload import identity_key, to_payload
from ol_bridge.delivery.redact import redact
from ol_bridge.errors import OutboxFullError
from ol_bridge.server.config import DATAHUB_DESTINATION, ServerConfig
from ol_bridge.server.convertible import (
    Handover,
    HandoverTransport,
    UnconvertibleError,
    convert_or_refuse,
)
from ol_bridge.server.intake import Committer, Item
from ol_bridge.server.metrics import Metrics
from ol_bridge.server.parse import ParsedBody, Rejection, parse_body
from ol_bridge.server.pump import DestinationState, Pump

log = logging.getLogger(__name__)


@attrs.frozen
class Refusal:
    """Why the receiver cannot take a request now (a 503)."""

    reason: str
    message: str
    destination: str | None = None


class RefusedBodyError(Exception):
    """A body refused while it was checked (400): ``answer`` says why."""

    def __init__(self, answer: Rejection | UnconvertibleError) -> None:
        super().__init__(str(answer))
        self.answer = answer


@attrs.frozen
class Prepared:
    """Events checked and ready to commit, with the proposals converted for them."""

    events: Sequence[dict[str, Any]]
    items: Sequence[Item]
    #: identity keys whose proposals this request put into the handover
    offered: Sequence[str] = ()


def outbox_database(config: ServerConfig) -> OutboxDatabase:
    if config.delivery.url is not None:
        return DatabaseUrl(config.delivery.url)
    return SqliteFile(config.outbox_where(), config.delivery.synchronous)


def relay_destinations(relay: Mapping[str, Mapping[str, Any]]) -> list[Destination]:
    """The relays as named destinations (the engine's quick HTTP retries applied)."""
    if not relay:
        return []
    composite: dict[str, Any] = {
        "type": "composite",
        "transports": {name: dict(conf) for name, conf in relay.items()},
    }
    fan_out = get_default_factory().create(composite)
    return split_destinations(fan_out)


class Receiver:
    """Builds the destinations, the committer and the delivery threads for ``config``."""

    def __init__(
        self,
        config: ServerConfig,
        metrics: Metrics,
        *,
        convert_at_intake: bool = True,
        datahub: Destination | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.handover = Handover()
        self._convert = convert_at_intake
        self._converter_config = config.datahub.converter_config()
        self.database = outbox_database(config)
        self.destinations = [
            datahub
            or Destination(DATAHUB_DESTINATION, HandoverTransport(config.datahub, self.handover)),
            *relay_destinations(config.relay),
        ]
        self.names = [d.name for d in self.destinations]
        self.pending = 0
        self._full_until = 0.0
        self.pump = Pump(
            self.database, self.destinations, config.delivery, on_delivered=self._delivered
        )
        self.committer = Committer(
            self.database,
            self.names,
            max_events=config.delivery.max_events_per_destination,
            dedup_seconds=config.delivery.dedup_seconds,
            on_commit=self.pump.wake,
        )
        self.pump.start()
        metrics.set_queued(lambda: {n: s.queued for n, s in self.pump.states().items()})

    @property
    def where(self) -> str:
        return self.database.where

    # -- taking a request ----------------------------------------------------------------

    def refusal(self) -> Refusal | None:
        """Why a new request must get 503 now, or None; decided from memory alone."""
        if self.pending >= self.config.max_pending_requests:
            return Refusal(
                "overloaded",
                f"{self.pending} requests are in progress, the receiver's limit "
                "(max_pending_requests); send again after Retry-After",
            )
        if time.monotonic() < self._full_until:
            return Refusal("outbox_full", self._full_message())
        limit = self.config.delivery.max_events_per_destination
        for state in self.pump.states().values():
            if state.queued >= limit:
                return Refusal("outbox_full", self._full_message(state), state.name)
            if self.config.refuse_while_down and state.state == "down":
                return Refusal(
                    "destination_down",
                    f"destination {state.name} is failing ({redact(state.last_error or '')}); "
                    "refuse_while_down is set, so nothing is accepted until it is back",
                    state.name,
                )
        return None

    def _full_message(self, state: DestinationState | None = None) -> str:
        who = f"destination {state.name}" if state else "a destination"
        return (
            f"the receiver's outbox holds the most events it may keep for {who} "
            f"(max_events_per_destination={self.config.delivery.max_events_per_destination}) "
            "while that destination catches up; nothing was accepted, send the events again "
            "after Retry-After"
        )

    def prepare(self, body: bytes) -> Prepared | Rejection | UnconvertibleError:
        """Parse, validate and convert a body (CPU work: call it off the event loop)."""
        parsed = parse_body(body)
        if not isinstance(parsed, ParsedBody):
            return parsed
        self.metrics.add("received", len(parsed.events))
        return self.prepare_events(parsed.events, batch=parsed.batch)

    def prepare_events(
        self, events: Sequence[dict[str, Any]], *, batch: bool = False
    ) -> Prepared | UnconvertibleError:
        items: list[Item] = []
        offered: list[str] = []
        for index, event in enumerate(events):
            key = identity_key(event)
            if self._convert:
                try:
                    proposals = convert_or_refuse(event, self._converter_config)
                except UnconvertibleError as refused:
                    for offer in offered:
                        self.handover.withdraw(offer)
                    if batch:
                        field = f"[{index}].{refused.field}" if refused.field else f"[{index}]"
                        return UnconvertibleError(field, f"[{index}]: {refused}")
                    return refused
                if key is not None and self.handover.offer(key, proposals):
                    offered.append(key)
            items.append(Item(to_payload(event), key))
        return Prepared(events, items, offered)

    def submit(self, body: bytes) -> Future[list[bool]]:
        """Check a body and commit its events, both on the committer thread (with other
        requests' bodies: one transaction for all). The future gives, per event, whether it
        was a duplicate; it fails with :class:`RefusedBodyError` (the body is refused),
        ``OutboxFullError`` or a database error, and then nothing was accepted."""
        checked: list[Prepared] = []

        def prepare() -> Sequence[Item]:
            prepared = self.prepare(body)
            if not isinstance(prepared, Prepared):
                raise RefusedBodyError(prepared)
            checked.append(prepared)
            return prepared.items

        future = self.committer.submit_work(prepare)
        future.add_done_callback(
            lambda done: self._committed(checked[0], done) if checked else None
        )
        return future

    def commit(self, prepared: Prepared) -> Future[list[bool]]:
        """Commit to the outbox; the future fails with ``OutboxFullError`` (or a database
        error) when nothing was accepted."""
        future = self.committer.submit(prepared.items)
        future.add_done_callback(lambda done: self._committed(prepared, done))
        return future

    def _committed(self, prepared: Prepared, done: Future[list[bool]]) -> None:
        error = done.exception()
        if error is not None:
            for key in prepared.offered:
                self.handover.withdraw(key)
            if isinstance(error, OutboxFullError):
                self._full_until = time.monotonic() + 1.0
            return
        duplicates = done.result()
        offered = set(prepared.offered)
        for item, duplicate in zip(prepared.items, duplicates, strict=True):
            if duplicate and item.key in offered:
                self.handover.withdraw(item.key)  # the first copy's proposals are the ones
        self.metrics.add("accepted", duplicates.count(False))
        if any(duplicates):
            self.metrics.add("duplicates", duplicates.count(True))

    def _delivered(self, name: str, sent: int, parked: int) -> None:
        if sent:
            self.metrics.add("delivered", sent, destination=name)
        if parked:
            self.metrics.add("parked", parked, destination=name)

    # -- reporting ------------------------------------------------------------------------

    def health(self, *, details: bool) -> tuple[int, dict[str, Any]]:
        """``/health``: 200 while the receiver takes events (even with a destination down:
        its events wait in the outbox), 503 while it refuses them."""
        states = self.pump.states()
        refusal = self.refusal()
        down = [s.name for s in states.values() if s.state == "down"]
        status = "refusing" if refusal else ("degraded" if down else "ok")
        body: dict[str, Any] = {"status": status}
        if details:
            body["outbox"] = self.where
            body["destinations"] = {
                name: {**state.as_json(), "last_error": redact(state.last_error or "") or None}
                for name, state in states.items()
            }
            if refusal is not None:
                body["refusing"] = refusal.message
        return (503 if refusal else 200), body

    def close(self) -> None:
        """Commit what was submitted, then stop the delivery threads (bounded)."""
        self.committer.close()
        if not self.pump.close(self.config.shutdown_timeout_sec):
            log.warning(
                "ol-bridge serve: deliveries still in progress after %.0f s were left; their "
                "events stay in the outbox %s and are delivered at the next start",
                self.config.shutdown_timeout_sec,
                self.where,
            )
