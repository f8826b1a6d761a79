"""The ``datahub`` OpenLineage transport: convert events in-process, write DataHub MCPs.

Use it like any openlineage-python transport, alone or inside ``composite``::

    # openlineage.yml
    transport:
      type: datahub            # or: ol_bridge.datahub.transport.DatahubTransport
      sink: lite               # lite (default) | rest | kafka | file
      lite_path: ./.ol-bridge/datahub-lite.duckdb

or ``OPENLINEAGE__TRANSPORT__TYPE=datahub OPENLINEAGE__TRANSPORT__SINK=rest``. The short
name ``datahub`` works once :func:`ol_bridge.register_transports` ran (importing
``ol_bridge.dagster``, ``ol_bridge.delivery`` or ``ol_bridge.datahub`` does it);
the dotted class path works without it, because openlineage-python imports any dotted
``type`` it does not know.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Transport

from ol_bridge.datahub.coalesce import coalesce
from ol_bridge.datahub.config import ConverterConfig, DatahubConfig
from ol_bridge.datahub.converter import convert_event
from ol_bridge.datahub.sinks.base import MetadataSink, Proposal
from ol_bridge.datahub.sinks.file import FileSink
from ol_bridge.datahub.sinks.kafka import KafkaSink
from ol_bridge.datahub.sinks.lite import LiteSink
from ol_bridge.datahub.sinks.rest import RestSink
from ol_bridge.errors import ConversionError

if TYPE_CHECKING:
    from openlineage.client.client import Event

log = logging.getLogger(__name__)


def open_sink(config: DatahubConfig) -> MetadataSink:
    """The sink ``config`` asks for (no connection is made until the first write)."""
    if config.sink == "lite":
        return LiteSink(config.lite_path)
    if config.sink == "rest":
        assert config.server is not None  # checked by from_dict
        return RestSink(
            config.server,
            token=config.token,
            endpoint=config.rest_endpoint,
            timeout_sec=config.timeout_sec,
            retry_max_times=config.retry_max_times,
        )
    if config.sink == "kafka":
        return KafkaSink(config.kafka)
    assert config.file_path is not None  # checked by from_dict
    return FileSink(config.file_path)


def batched(mcps: Sequence[Proposal], size: int) -> Iterator[Sequence[Proposal]]:
    """Consecutive slices of at most ``size`` proposals (pure)."""
    for start in range(0, len(mcps), size):
        yield mcps[start : start + size]


def convert_one(event: Event | Mapping[str, Any], config: ConverterConfig) -> list[Proposal]:
    """The proposals of one event; any failure is raised as ``ConversionError``.

    Conversion is pure (no I/O), so whatever it raises for an event it will raise again:
    the event itself cannot be converted, and retrying it can never help. Saying so with
    ``ConversionError`` lets the delivery engine park that one event (rejected, visible in
    ``ol-bridge outbox status``) instead of retrying it forever in front of the others.
    """
    data = event_to_dict(event)
    try:
        return list(convert_event(data, config))
    except ConversionError:
        raise
    except Exception as error:  # deterministic for this event: reported, parked, not retried
        job = data.get("job")
        name = job.get("name") if isinstance(job, Mapping) else None
        raise ConversionError(
            f"the event of job {str(name)[:200]!r} cannot be converted to DataHub "
            f"metadata: {type(error).__name__}: {str(error)[:500]}"
        ) from error


def event_to_dict(event: Event | Mapping[str, Any]) -> dict[str, Any]:
    """An OpenLineage event as the plain JSON dict the converter accepts (pure)."""
    if isinstance(event, Mapping):
        return dict(event)
    return cast(dict[str, Any], Serde.to_dict(event))


class DatahubTransport(Transport):
    """Converts events with :func:`convert_one` (the converter) and
    writes the proposals to the configured sink before ``emit`` returns.

    ``emit`` raises (:class:`~ol_bridge.errors.DeliveryError`, ``ConversionError``)
    when the event could not be stored, so callers that retry on failure (the ol-bridge
    sensor, a ``composite`` transport) see it.
    """

    kind = "datahub"
    config_class = DatahubConfig

    def __init__(self, config: DatahubConfig, *, sink: MetadataSink | None = None) -> None:
        self.config = config
        self._converter_config = config.converter_config()
        self._sink = sink if sink is not None else open_sink(config)

    def emit(self, event: Event | Mapping[str, Any]) -> None:
        self.emit_batch([event])

    def emit_batch(self, events: Sequence[Event | Mapping[str, Any]]) -> None:
        """Convert several events and write their coalesced proposals together (fewer
        proposals and REST requests, one Lite index rebuild). All or nothing from the
        caller's view: if it raises, none of the events count as written, and writing them
        again is harmless (UPSERTs and edge-keyed PATCHes are idempotent). An event that
        cannot be converted raises ``ConversionError`` before anything is written, so the
        delivery engine parks that event and sends the others again one by one."""
        self.write(self.convert(events))

    def convert(self, events: Sequence[Event | Mapping[str, Any]]) -> list[Proposal]:
        """The proposals of ``events`` in order, not yet coalesced (``write`` does that)."""
        mcps: list[Proposal] = []
        for event in events:
            mcps.extend(convert_one(event, self._converter_config))
        return mcps

    def write(self, mcps: Sequence[Proposal]) -> int:
        """Coalesce, write in sink batches of ``batch_size``, flush; the number written.

        The one write path to DataHub: the sensor's and ``ol-bridge serve``'s deliveries
        (through ``emit_batch``) and ``ol-bridge convert --sink`` all end here."""
        coalesced = coalesce(mcps)
        # a sink that opens its store per write (Lite) keeps it open for the whole call
        held_open = getattr(self._sink, "held_open", contextlib.nullcontext)
        with held_open():
            for chunk in batched(coalesced, self.config.batch_size):
                self._sink.write(chunk)
            self._sink.flush()
        log.debug("Wrote %d DataHub proposals to the %s sink", len(coalesced), self.config.sink)
        return len(coalesced)

    def close(self, timeout: float = -1) -> bool:
        self._sink.close()
        return True
