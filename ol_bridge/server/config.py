"""Settings of ``ol-bridge serve``: attrs models, read from a file, the environment and flags.

Precedence, highest first: command-line flags, ``OL_BRIDGE_SERVER__<KEY>`` environment
variables (nested keys with ``__``: ``OL_BRIDGE_SERVER__DATAHUB__SINK=rest``,
``OL_BRIDGE_SERVER__RELAY__MARQUEZ__URL=http://marquez:5000``), the YAML config file
(``--config``), then the defaults stated once, on the fields below. Unknown keys are
rejected wherever they come from (``ol_bridge.settings.reject_unknown_keys``), so a typo
in a variable name fails at start-up instead of being ignored. Values from the
environment are strings; each field's converter types them and says what was wrong.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
import yaml

from ol_bridge.datahub.config import DatahubConfig
from ol_bridge.delivery.config import DeliveryConfig
from ol_bridge.errors import ConfigError
from ol_bridge.settings import field_names, reject_unknown_keys

ENV_PREFIX = "OL_BRIDGE_SERVER__"
#: the receiver's own outbox file when ``delivery`` names no ``path`` or ``url``
OUTBOX_FILE_NAME = "serve-outbox.sqlite"
DEFAULT_HOME = Path(".ol-bridge")
#: the name of the DataHub destination in the outbox (a relay may not take it)
DATAHUB_DESTINATION = "datahub"

Source = Literal["http", "kafka"]


def _number(key: str, *, minimum: float, maximum: float | None = None) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        if isinstance(value, bool):
            raise ConfigError(f"`{key}` must be a number, got {value!r}.")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"`{key}` must be a number, got {value!r}.") from None
        if number < minimum or (maximum is not None and number > maximum):
            bounds = f"between {minimum:g} and {maximum:g}" if maximum else f"at least {minimum:g}"
            raise ConfigError(f"`{key}` must be {bounds}, got {value!r}.")
        return number

    return convert


def _integer(key: str, *, minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    as_number = _number(key, minimum=minimum, maximum=maximum)

    def convert(value: Any) -> int:
        number = as_number(value)
        if number != int(number):
            raise ConfigError(f"`{key}` must be a whole number, got {value!r}.")
        return int(number)

    return convert


def _text(key: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if isinstance(value, (Mapping, list)) or value is None:
            raise ConfigError(f"`{key}` must be a string, got {type(value).__name__}.")
        return str(value)

    return convert


def _flag(key: str) -> Callable[[Any], bool]:
    def convert(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"`{key}` must be true or false, got {value!r}.")

    return convert


def _mapping(key: str) -> Callable[[Any], dict[str, Any]]:
    def convert(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"`{key}` must be a mapping, got {type(value).__name__}.")
        return dict(value)

    return convert


def _bounded(key: str, minimum: float, maximum: float | None) -> Callable[[Any, Any, Any], None]:
    """An attrs validator: the number lies within the bounds (message names the key)."""
    check = _number(key, minimum=minimum, maximum=maximum)

    def validate(instance: Any, attribute: Any, value: Any) -> None:
        check(value)

    return validate


def _typed(model: type, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with strings (environment values) typed by ``model``'s annotations."""
    hints = typing.get_type_hints(model)
    typed = dict(params)
    for key, value in params.items():
        hint = hints.get(key)
        if hint is bool:
            typed[key] = _flag(key)(value)
        elif hint is int:
            typed[key] = _integer(key, minimum=-(2**63))(value)
        elif hint is float:
            typed[key] = _number(key, minimum=float("-inf"))(value)
        elif hint is str:
            typed[key] = _text(key)(value)
    return typed


def _consumer_config(value: Any) -> dict[str, Any]:
    return _mapping("kafka.consumer_config")(value)


def _token(value: Any) -> str | None:
    if value is None:
        return None
    token = _text("token")(value)
    if not token.strip():
        raise ConfigError(
            "`token` (OL_BRIDGE_SERVER__TOKEN) is set but empty, which would turn "
            "authentication off without saying so. Unset it to run without a token, or "
            "give it a value."
        )
    return token


def _source(value: Any) -> Source:
    if value not in ("http", "kafka"):
        raise ConfigError(f"`source` must be `http` or `kafka`, got {value!r}.")
    return value  # type: ignore[no-any-return]


def _relay(value: Any) -> dict[str, dict[str, Any]]:
    relays = _mapping("relay")(value)
    for name, transport in relays.items():
        if not isinstance(transport, Mapping) or "type" not in transport:
            raise ConfigError(
                f"`relay.{name}` must be an OpenLineage transport mapping with a `type`, "
                "e.g. {type: http, url: http://marquez:5000}."
            )
        if name == DATAHUB_DESTINATION:
            raise ConfigError(
                f"`relay.{name}`: the name {DATAHUB_DESTINATION!r} is the DataHub destination's; "
                "give the relay another name."
            )
    return {str(name): dict(transport) for name, transport in relays.items()}


def _datahub(value: Any) -> DatahubConfig:
    if isinstance(value, DatahubConfig):
        return value
    return DatahubConfig.from_dict(_mapping("datahub")(value))


def _delivery(value: Any) -> DeliveryConfig:
    if isinstance(value, DeliveryConfig):
        config = value
    else:
        config = DeliveryConfig.from_dict(_typed_delivery(_mapping("delivery")(value)))
    if not config.outbox:
        raise ConfigError(
            "`delivery.outbox: false` is the sensor's direct mode; ol-bridge serve always "
            "commits accepted events to its outbox before answering 201. Remove the key."
        )
    return config


def _typed_delivery(raw: dict[str, Any]) -> dict[str, Any]:
    """Environment values are strings: type them by DeliveryConfig's own defaults."""
    defaults = {f.name: f.default for f in attrs.fields(DeliveryConfig)}
    typed = dict(raw)
    for key, value in raw.items():
        default = defaults.get(key)
        if not isinstance(value, str) or default is None or isinstance(default, str):
            continue
        if isinstance(default, bool):
            typed[key] = _flag(f"delivery.{key}")(value)
        elif isinstance(default, int):
            typed[key] = _integer(f"delivery.{key}", minimum=0)(value)
        elif isinstance(default, float):
            typed[key] = _number(f"delivery.{key}", minimum=0)(value)
    return typed


@attrs.frozen
class KafkaSourceConfig:
    """Where ``--source kafka`` workers read OpenLineage events from.

    ``topic`` is the topic openlineage-python's ``kafka`` transport writes to;
    ``group_id`` names the consumer group all workers share; ``consumer_config`` is
    passed to confluent-kafka as is (security settings, ``session.timeout.ms``, ...).
    """

    bootstrap: str = attrs.field(default="localhost:9092")
    topic: str = attrs.field(default="openlineage")
    group_id: str = attrs.field(default="ol-bridge")
    consumer_config: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_consumer_config, repr=False
    )
    #: most messages read, checked and committed to the outbox together
    batch_size: int = attrs.field(default=500, validator=_bounded("kafka.batch_size", 1, None))
    #: seconds to wait before reading a batch again that the outbox could not take (full)
    retry_backoff_sec: float = attrs.field(
        default=2.0, validator=_bounded("kafka.retry_backoff_sec", 0, None)
    )

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> KafkaSourceConfig:
        reject_unknown_keys(params, field_names(cls), "the `kafka` settings of ol-bridge serve")
        return cls(**_typed(cls, params))


def _kafka(value: Any) -> KafkaSourceConfig:
    if isinstance(value, KafkaSourceConfig):
        return value
    return KafkaSourceConfig.from_dict(_mapping("kafka")(value))


@attrs.frozen
class ServerConfig:
    """Everything ``ol-bridge serve`` reads; ``docs/server.md`` describes each key."""

    #: where the HTTP receiver listens (5000 is Marquez's port: ``OPENLINEAGE_URL`` needs
    #: only the host changed)
    host: str = attrs.field(default="127.0.0.1")
    port: int = attrs.field(default=5000, validator=_bounded("port", 0, 65535))
    #: requests need ``Authorization: Bearer <token>`` (openlineage-python's ``api_key``
    #: auth); None: no authentication (said at start). Never shown in ``repr`` or logs.
    token: str | None = attrs.field(default=None, converter=_token, repr=False)
    #: larger (inflated) request bodies get 413
    max_body_bytes: int = attrs.field(
        default=4 * 1024 * 1024, validator=_bounded("max_body_bytes", 1, None)
    )
    #: requests being read, checked or committed at once; one more gets 503 at once
    #: (memory stays under about max_pending_requests x max_body_bytes)
    max_pending_requests: int = attrs.field(
        default=64, validator=_bounded("max_pending_requests", 1, None)
    )
    #: open connections (idle ones included) before uvicorn answers 503 itself
    max_connections: int = attrs.field(default=1000, validator=_bounded("max_connections", 1, None))
    #: the ``Retry-After`` of every 503
    retry_after_sec: int = attrs.field(default=10, validator=_bounded("retry_after_sec", 0, None))
    #: a request's headers must arrive within this many seconds of its first byte
    header_timeout_sec: float = attrs.field(
        default=10.0, validator=_bounded("header_timeout_sec", 0.1, None)
    )
    #: a request's body must arrive within this many seconds of its headers (else 408)
    body_timeout_sec: float = attrs.field(
        default=30.0, validator=_bounded("body_timeout_sec", 0.1, None)
    )
    #: an idle keep-alive connection is closed after this many seconds
    keep_alive_timeout_sec: float = attrs.field(
        default=5.0, validator=_bounded("keep_alive_timeout_sec", 0.1, None)
    )
    #: on SIGTERM: seconds in-flight requests get to finish, then again for deliveries in
    #: progress; what is not delivered stays in the outbox for the next start
    shutdown_timeout_sec: float = attrs.field(
        default=10.0, validator=_bounded("shutdown_timeout_sec", 0, None)
    )
    #: answer 503 while any destination is failing, instead of keeping its events in the
    #: outbox (for producers that keep events themselves, e.g. ol-bridge's sensor)
    refuse_while_down: bool = attrs.field(default=False)
    #: serve ``/health`` details and ``/metrics`` (destination names, errors) without the
    #: token; by default only ``{"status": ...}`` is public when a token is set
    public_status: bool = attrs.field(default=False)
    #: the DataHub destination: the ``datahub`` transport's mapping
    datahub: DatahubConfig = attrs.field(
        factory=lambda: DatahubConfig.from_dict({}), converter=_datahub
    )
    #: relay destinations: name -> openlineage-python transport mapping
    relay: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, converter=_relay)
    #: the outbox and its limits and retries (``DeliveryConfig``, as the sensor's):
    #: ``path`` (a SQLite file) or ``url`` (``postgresql://...`` for a durable deployment);
    #: neither: ``$OL_BRIDGE_HOME/serve-outbox.sqlite``, else ``./.ol-bridge/serve-outbox.sqlite``
    delivery: DeliveryConfig = attrs.field(factory=DeliveryConfig, converter=_delivery)
    source: Source = attrs.field(default="http", converter=_source)
    kafka: KafkaSourceConfig = attrs.field(factory=KafkaSourceConfig, converter=_kafka)

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> ServerConfig:
        """Build from one merged mapping (file + environment + flags already merged)."""
        reject_unknown_keys(params, field_names(cls), "the `server` settings of ol-bridge serve")
        values = _typed(cls, params)
        if "datahub" in values and not isinstance(values["datahub"], DatahubConfig):
            values["datahub"] = DatahubConfig.from_dict(
                _mapping("datahub")(values["datahub"]), environ
            )
        return cls(**values)

    def outbox_where(self, environ: Mapping[str, str] | None = None) -> str:
        """The outbox: ``delivery.path``, ``delivery.url``, or the default file."""
        if self.delivery.url is not None:
            return self.delivery.url
        return str(self.delivery.path or default_outbox_path(environ))


def default_outbox_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$OL_BRIDGE_HOME/serve-outbox.sqlite``, else ``./.ol-bridge/serve-outbox.sqlite``."""
    env = os.environ if environ is None else environ
    home = env.get("OL_BRIDGE_HOME")
    return (Path(home) if home else DEFAULT_HOME) / OUTBOX_FILE_NAME


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServerConfig:
    """The server settings from a YAML file, ``OL_BRIDGE_SERVER__*`` and ``overrides``."""
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    if path is not None:
        merged = _deep_merge(merged, read_config_file(Path(path)))
    merged = _deep_merge(merged, env_settings(env))
    merged = _deep_merge(merged, {k: v for k, v in (overrides or {}).items() if v is not None})
    return ServerConfig.from_dict(merged, env)


def read_config_file(path: Path) -> dict[str, Any]:
    """The mapping in a YAML config file (optionally under a top-level ``server`` key)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"Cannot read the server config file {path}: {error}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    if document is None:
        return {}
    if isinstance(document, Mapping) and set(document) == {"server"}:
        document = document["server"]
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path} must hold a mapping of server settings.")
    return dict(document)


def env_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Nested settings from ``OL_BRIDGE_SERVER__A__B=value`` variables (pure).

    Keys are lower-cased; values stay strings and are typed by :class:`ServerConfig`.
    Consumer and producer settings take dots (``bootstrap.servers``), which variable
    names cannot: put those in the config file.
    """
    settings: dict[str, Any] = {}
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if not all(keys):
            raise ConfigError(f"Environment variable {name} has an empty key part.")
        node = settings
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{name} nests under {key!r}, which is also set to a value.")
            node = child
        node[keys[-1]] = value
    return settings


def _deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(below, value)
        else:
            merged[key] = value
    return merged
