"""What happens to accepted events: convert, write to DataHub, relay to OpenLineage backends.

:meth:`Ingestor.ingest` returns only when every event is stored in DataHub and handed to
every relay destination (delivered, or committed to the outbox when one is configured);
otherwise it raises :class:`~ol_bridge.errors.DestinationUnavailableError` and the
caller answers 503 so the producer sends the events again. Conversion happens first and
for the whole request, so a request that cannot be converted changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from openlineage.client.transport import get_default_factory
from openlineage.client.transport.transport import Transport

from ol_bridge.datahub.config import DatahubConfig
from ol_bridge.datahub.converter import convert_event
from ol_bridge.datahub.sinks.base import MetadataSink, Proposal
from ol_bridge.datahub.transport import open_sink
from ol_bridge.errors import DeliveryError, DestinationUnavailableError
from ol_bridge.server.metrics import Metrics
from ol_bridge.server.writer import GroupWriter

log = logging.getLogger(__name__)


def sink_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "DataHub is unreachable or busy now", worth a retry by the producer
    (the Lite sink reports DuckDB's own errors as DeliveryError)."""
    return (DeliveryError, OSError)


class Relay(Protocol):
    """Hands events to the relay destinations; raises DestinationUnavailableError if not."""

    def send(self, events: Sequence[Mapping[str, Any]]) -> None: ...

    def queued(self) -> Mapping[str, int]: ...

    def close(self) -> None: ...


class DirectRelay:
    """Emits each event to each destination's openlineage-python transport, in order.

    Used when no outbox is configured: the request waits for every destination. A
    destination that fails makes the request fail (503); the producer's retry sends the
    events again to every destination, which OpenLineage backends absorb because events
    are identified by run id, event type and time.
    """

    def __init__(self, transports: Mapping[str, Transport], metrics: Metrics) -> None:
        self._transports = dict(transports)
        self._locks = {name: threading.Lock() for name in self._transports}
        self._metrics = metrics

    @classmethod
    def from_config(cls, relay: Mapping[str, Mapping[str, Any]], metrics: Metrics) -> DirectRelay:
        factory = get_default_factory()
        return cls({name: factory.create(dict(conf)) for name, conf in relay.items()}, metrics)

    def send(self, events: Sequence[Mapping[str, Any]]) -> None:
        for name, transport in self._transports.items():
            with self._locks[name]:
                for event in events:
                    try:
                        transport.emit(dict(event))  # type: ignore[arg-type]
                    except Exception as error:  # any transport's failure -> 503, logged
                        log.warning("Relay to %s failed: %s", name, error)
                        raise DestinationUnavailableError(
                            name, f"relay destination {name} is unavailable: {error}"
                        ) from error
            self._metrics.add("relayed", len(events), destination=name)

    def queued(self) -> Mapping[str, int]:
        return {}

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()


class Ingestor:
    """Converts events and sends them to DataHub (group-committed) and the relays."""

    def __init__(
        self,
        datahub: DatahubConfig,
        *,
        relay: Relay,
        metrics: Metrics,
        sink: MetadataSink | None = None,
    ) -> None:
        self._converter_config = datahub.converter_config()
        self._writer = GroupWriter(
            sink if sink is not None else open_sink(datahub),
            batch_size=datahub.batch_size,
        )
        self._relay = relay
        self._metrics = metrics
        self._retryable = sink_errors()

    def queued(self) -> dict[str, int]:
        return {"datahub": self._writer.pending, **self._relay.queued()}

    def convert(self, events: Sequence[Mapping[str, Any]]) -> list[Proposal]:
        """Proposals for all ``events``; raises ConversionError for one that cannot convert."""
        # not coalesced here: the writer coalesces each write, which may join several requests
        config = self._converter_config
        mcps = [mcp for event in events for mcp in convert_event(dict(event), config)]
        self._metrics.add("converted", len(events))
        return mcps

    def store(self, mcps: Sequence[Proposal], events: int) -> None:
        try:
            self._writer.write(mcps)
        except self._retryable as error:
            self._metrics.add("failed", events, destination="datahub")
            log.warning("DataHub write failed: %s", error)
            raise DestinationUnavailableError(
                "datahub", f"DataHub is unavailable: {error}"
            ) from error
        self._metrics.add("stored", events)

    def ingest(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Convert, store in DataHub, relay; blocking. See the module docstring."""
        self.deliver(self.convert(events), events)

    def deliver(self, mcps: Sequence[Proposal], events: Sequence[Mapping[str, Any]]) -> None:
        """Store ``mcps`` (converted from ``events``) in DataHub, then relay ``events``."""
        self.store(mcps, len(events))
        try:
            self._relay.send(events)
        except DestinationUnavailableError as error:
            self._metrics.add("failed", len(events), destination=error.destination)
            raise

    def close(self) -> None:
        self._writer.close()
        self._relay.close()
