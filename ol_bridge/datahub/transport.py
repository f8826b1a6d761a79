"""The ``datahub`` OpenLineage transport: convert events in-process, write DataHub MCPs.

Use it like any openlineage-python transport, alone or inside ``composite``::

    # openlineage.yml
    transport:
      type: datahub            # or: ol_bridge.datahub.transport.DatahubTransport
      sink: lite               # lite (default) | rest | kafka | file
      lite_path: ./.ol-bridge/datahub-lite.duckdb

or ``OPENLINEAGE__TRANSPORT__TYPE=datahub OPENLINEAGE__TRANSPORT__SINK=rest``. The short
name ``datahub`` works once :func:`register` ran (importing ``ol_bridge.dagster``,
``ol_bridge.delivery`` or this module does it);
the dotted class path works without it, because openlineage-python imports any dotted
``type`` it does not know.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import attrs
from openlineage.client.serde import Serde
from openlineage.client.transport import get_default_factory
from openlineage.client.transport.transport import Config, Transport

from ol_bridge.datahub.coalesce import coalesce
from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.converter import convert_event
from ol_bridge.datahub.sinks.base import Mcp, MetadataSink
from ol_bridge.datahub.sinks.file import FileSink
from ol_bridge.datahub.sinks.kafka import KafkaSink, KafkaSinkConfig
from ol_bridge.datahub.sinks.lite import LiteSink
from ol_bridge.datahub.sinks.rest import RestSink
from ol_bridge.errors import ConfigError, ConversionError

if TYPE_CHECKING:
    from openlineage.client.client import Event

log = logging.getLogger(__name__)

SinkKind = Literal["lite", "rest", "kafka", "file"]
_SINKS: tuple[SinkKind, ...] = ("lite", "rest", "kafka", "file")
_REST_ENDPOINTS = ("restli", "openapi")

#: Where DataHub Lite lives when neither ``lite_path`` nor ``$OL_BRIDGE_HOME`` is set.
DEFAULT_LITE_PATH = "./.ol-bridge/datahub-lite.duckdb"
LITE_FILE_NAME = "datahub-lite.duckdb"

#: Keys openlineage-python leaves in (or adds to) every transport's config mapping.
_FACTORY_KEYS = frozenset({"type", "name", "priority"})


@attrs.frozen
class DatahubConfig(Config):
    """Settings of the ``datahub`` transport (and of ``ol-bridge convert``'s sinks).

    Precedence, highest first, for every setting: the transport's own mapping (as
    given to ``from_dict``: ``openlineage.yml``'s ``transport`` section,
    ``OPENLINEAGE__TRANSPORT__<KEY>`` variables, or a dict passed in code), then these
    environment variables, then the default:

    * ``server``: ``DATAHUB_GMS_URL``; no default (the ``rest`` sink requires one).
    * ``token``: ``DATAHUB_GMS_TOKEN``; none (GMS without authentication).
    * ``lite_path``: ``$OL_BRIDGE_HOME/datahub-lite.duckdb``; then
      ``./.ol-bridge/datahub-lite.duckdb`` (relative to the working directory).

    Other keys: ``sink`` (``lite`` | ``rest`` | ``kafka`` | ``file``; default ``rest``
    when a ``server`` is configured, here or in ``DATAHUB_GMS_URL``, else ``lite``),
    ``file_path`` (required by the ``file`` sink), ``kafka`` (``bootstrap``,
    ``schema_registry_url``, ``topic``, ``producer_config``,
    ``schema_registry_config``), ``rest_endpoint`` (``restli`` batches through
    ``/aspects?action=ingestProposalBatch``, ``openapi`` through
    ``/openapi/v3/entity/...``), ``timeout_sec``, ``retry_max_times`` (REST),
    ``batch_size`` (most proposals handed to the sink in one write; REST posts them
    in requests of at most 200, acryl-datahub's cap) and ``converter`` (a mapping given to
    ``ConverterConfig.from_dict``). Unknown keys are rejected. The token is never
    logged or shown in ``repr``.
    """

    sink: SinkKind = "lite"
    server: str | None = None
    token: str | None = attrs.field(default=None, repr=False)
    lite_path: str = DEFAULT_LITE_PATH
    file_path: str | None = None
    kafka: KafkaSinkConfig = attrs.field(factory=KafkaSinkConfig)
    rest_endpoint: Literal["restli", "openapi"] = "restli"
    timeout_sec: float = 30.0
    retry_max_times: int = 3
    batch_size: int = 1000
    converter: Mapping[str, Any] = attrs.field(factory=dict)

    FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "sink",
            "server",
            "token",
            "lite_path",
            "file_path",
            "kafka",
            "rest_endpoint",
            "timeout_sec",
            "retry_max_times",
            "batch_size",
            "converter",
        }
    )

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> DatahubConfig:
        """Build the config from the transport mapping; see the class docstring."""
        env = os.environ if environ is None else environ
        unknown = sorted(set(params) - cls.FIELDS - _FACTORY_KEYS)
        if unknown:
            raise ConfigError(
                f"Unknown key(s) {unknown} in the `datahub` transport config; allowed: "
                f"{sorted(cls.FIELDS)}."
            )
        server = _optional_str(params, "server") or env.get("DATAHUB_GMS_URL") or None
        # production has a GMS; the embedded store is for trying ol-bridge out without one
        sink = _choice(params, "sink", _SINKS, "rest" if server else "lite")
        token = _optional_str(params, "token") or env.get("DATAHUB_GMS_TOKEN") or None
        lite_path = _optional_str(params, "lite_path") or (
            str(Path(env["OL_BRIDGE_HOME"]) / LITE_FILE_NAME)
            if env.get("OL_BRIDGE_HOME")
            else DEFAULT_LITE_PATH
        )
        file_path = _optional_str(params, "file_path")
        if sink == "file" and not file_path:
            raise ConfigError("The `file` sink needs `file_path` (where to write the MCP file).")
        if sink == "rest" and not server:
            raise ConfigError(
                "The `rest` sink needs the GMS address: set `server` (e.g. "
                "http://datahub-gms:8080) or the DATAHUB_GMS_URL environment variable."
            )
        kafka = params.get("kafka") or {}
        converter = params.get("converter") or {}
        for key, value in (("kafka", kafka), ("converter", converter)):
            if not isinstance(value, Mapping):
                raise ConfigError(f"`{key}` must be a mapping, got {type(value).__name__}.")
        config = cls(
            sink=sink,
            server=server,
            token=token,
            lite_path=lite_path,
            file_path=file_path,
            kafka=KafkaSinkConfig.from_dict(kafka),
            rest_endpoint=cast(
                Literal["restli", "openapi"],
                _choice(params, "rest_endpoint", _REST_ENDPOINTS, "restli"),
            ),
            timeout_sec=_number(params, "timeout_sec", 30.0, minimum=0.1),
            retry_max_times=int(_number(params, "retry_max_times", 3, minimum=0)),
            batch_size=int(_number(params, "batch_size", 1000, minimum=1)),
            converter=dict(converter),
        )
        config.converter_config()  # reject a bad `converter` mapping now, not per event
        return config

    def converter_config(self) -> ConverterConfig:
        return ConverterConfig.from_dict(dict(self.converter))


def _optional_str(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise ConfigError(f"`{key}` must be a string, got {type(value).__name__}.")
    return str(value)


def _choice(params: Mapping[str, Any], key: str, allowed: Sequence[str], default: str) -> Any:
    value = params.get(key, default)
    if value not in allowed:
        raise ConfigError(f"`{key}` must be one of {list(allowed)}, got {value!r}.")
    return value


def _number(params: Mapping[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = params.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"`{key}` must be a number, got {value!r}.") from None
    if number < minimum:
        raise ConfigError(f"`{key}` must be at least {minimum}, got {value!r}.")
    return number


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


def batched(mcps: Sequence[Mcp], size: int) -> Iterator[Sequence[Mcp]]:
    """Consecutive slices of at most ``size`` proposals (pure)."""
    for start in range(0, len(mcps), size):
        yield mcps[start : start + size]


def convert_one(event: Event | Mapping[str, Any], config: ConverterConfig) -> list[Mcp]:
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

    def convert(self, events: Sequence[Event | Mapping[str, Any]]) -> list[Mcp]:
        """The proposals of ``events`` in order, not yet coalesced (``write`` does that)."""
        mcps: list[Mcp] = []
        for event in events:
            mcps.extend(convert_one(event, self._converter_config))
        return mcps

    def write(self, mcps: Sequence[Mcp]) -> int:
        """Coalesce, write in sink batches of ``batch_size``, flush; the number written.

        The one write path to DataHub: the sensor's and ``ol-bridge serve``'s deliveries
        (through ``emit_batch``) and ``ol-bridge convert --sink`` all end here."""
        coalesced = coalesce(mcps)
        for chunk in batched(coalesced, self.config.batch_size):
            self._sink.write(chunk)
        self._sink.flush()
        log.debug("Wrote %d DataHub proposals to the %s sink", len(coalesced), self.config.sink)
        return len(coalesced)

    def close(self, timeout: float = -1) -> bool:
        self._sink.close()
        return True


def register() -> None:
    """Make ``type: datahub`` resolve to :class:`DatahubTransport` in openlineage-python.

    Registers the dotted path, not the class, so that the same two lines can live in
    ``ol_bridge/__init__.py`` without importing acryl-datahub there.
    """
    get_default_factory().register_transport(
        DatahubTransport.kind or "datahub", "ol_bridge.datahub.transport.DatahubTransport"
    )


register()
