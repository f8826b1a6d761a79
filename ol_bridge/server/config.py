"""Settings of ``ol-bridge serve``: one attrs model, read from a file, the environment and flags.

Precedence, highest first: command-line flags, ``OL_BRIDGE_SERVER__<KEY>`` environment
variables (nested keys with ``__``: ``OL_BRIDGE_SERVER__DATAHUB__SINK=rest``,
``OL_BRIDGE_SERVER__RELAY__MARQUEZ__URL=http://marquez:5000``), the YAML config file
(``--config``), then the defaults below. Unknown keys are rejected wherever they come
from, so a typo in a variable name fails at start-up instead of being ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
import yaml

from ol_bridge.datahub.config import DatahubConfig
from ol_bridge.errors import ConfigError

ENV_PREFIX = "OL_BRIDGE_SERVER__"
#: 5000 is Marquez's port, so ``OPENLINEAGE_URL`` needs only the host changed.
DEFAULT_PORT = 5000
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

Source = Literal["http", "kafka"]


@attrs.frozen
class KafkaSourceConfig:
    """Where ``--source kafka`` workers read OpenLineage events from.

    ``topic`` is the topic openlineage-python's ``kafka`` transport writes to;
    ``group_id`` names the consumer group all workers share; ``consumer_config`` is
    passed to confluent-kafka as is (security settings, ``session.timeout.ms``, ...).
    """

    bootstrap: str = "localhost:9092"
    topic: str = "openlineage"
    group_id: str = "ol-bridge"
    consumer_config: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    #: Most messages converted and written to DataHub in one batch before a commit.
    batch_size: int = 500
    #: Seconds to wait before retrying a batch whose DataHub write failed.
    retry_backoff_sec: float = 2.0

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> KafkaSourceConfig:
        _reject_unknown(params, cls, "kafka")
        consumer_config = params.get("consumer_config") or {}
        if not isinstance(consumer_config, Mapping):
            raise ConfigError("`kafka.consumer_config` must be a mapping of consumer settings.")
        return cls(
            bootstrap=_text(params, "bootstrap", "localhost:9092"),
            topic=_text(params, "topic", "openlineage"),
            group_id=_text(params, "group_id", "ol-bridge"),
            consumer_config=dict(consumer_config),
            batch_size=int(_number(params, "batch_size", 500, minimum=1)),
            retry_backoff_sec=_number(params, "retry_backoff_sec", 2.0, minimum=0.0),
        )


@attrs.frozen
class ServerConfig:
    """Everything ``ol-bridge serve`` reads; see the module docstring for precedence.

    * ``host``, ``port``: where the HTTP receiver listens (``127.0.0.1:5000``).
    * ``token``: when set, requests need ``Authorization: Bearer <token>`` (what
      openlineage-python's ``api_key`` auth sends). Never shown in ``repr`` or logs.
    * ``max_body_bytes``: larger request bodies get 413 (default 4 MiB).
    * ``retry_after_sec``: the ``Retry-After`` sent with 503 when a destination is down.
    * ``datahub``: the DataHub sink, as the ``datahub`` transport's mapping
      (:class:`~ol_bridge.datahub.transport.DatahubConfig`; DataHub Lite by default).
    * ``relay``: named OpenLineage transports events are relayed to, each an
      openlineage-python transport mapping (``{marquez: {type: http, url: ...}}``).
    * ``source``: ``http`` (the receiver) or ``kafka`` (consume a topic, see ``kafka``).
    * ``outbox_path``: the SQLite outbox relays are committed to before the 201.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token: str | None = attrs.field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    retry_after_sec: int = 10
    datahub: DatahubConfig = attrs.field(factory=lambda: DatahubConfig.from_dict({}))
    relay: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    source: Source = "http"
    kafka: KafkaSourceConfig = attrs.field(factory=KafkaSourceConfig)
    outbox_path: str | None = None

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> ServerConfig:
        """Build from one merged mapping (file + environment + flags already merged)."""
        _reject_unknown(params, cls, "server")
        datahub = params.get("datahub") or {}
        relay = params.get("relay") or {}
        kafka = params.get("kafka") or {}
        for key, value in (("datahub", datahub), ("relay", relay), ("kafka", kafka)):
            if not isinstance(value, Mapping):
                raise ConfigError(f"`{key}` must be a mapping, got {type(value).__name__}.")
        for name, transport in relay.items():
            if not isinstance(transport, Mapping) or "type" not in transport:
                raise ConfigError(
                    f"`relay.{name}` must be an OpenLineage transport mapping with a `type`, "
                    "e.g. {type: http, url: http://marquez:5000}."
                )
        source = params.get("source", "http")
        if source not in ("http", "kafka"):
            raise ConfigError(f"`source` must be `http` or `kafka`, got {source!r}.")
        token = params.get("token")
        return cls(
            host=_text(params, "host", "127.0.0.1"),
            port=int(_number(params, "port", DEFAULT_PORT, minimum=0, maximum=65535)),
            token=str(token) if token not in (None, "") else None,
            max_body_bytes=int(
                _number(params, "max_body_bytes", DEFAULT_MAX_BODY_BYTES, minimum=1)
            ),
            retry_after_sec=int(_number(params, "retry_after_sec", 10, minimum=0)),
            datahub=DatahubConfig.from_dict(datahub, environ),
            relay={str(name): dict(value) for name, value in relay.items()},
            source=source,
            kafka=KafkaSourceConfig.from_dict(kafka),
            outbox_path=_text(params, "outbox_path", None) if "outbox_path" in params else None,
        )


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


def _reject_unknown(params: Mapping[str, Any], model: type, where: str) -> None:
    known = {field.name for field in attrs.fields(model)}
    unknown = sorted(str(key) for key in set(params) - known)
    if unknown:
        raise ConfigError(
            f"Unknown key(s) {unknown} in the `{where}` settings of ol-bridge serve; "
            f"allowed: {sorted(known)}."
        )


def _text(params: Mapping[str, Any], key: str, default: Any) -> Any:
    value = params.get(key, default)
    if isinstance(value, (Mapping, list)):
        raise ConfigError(f"`{key}` must be a string, got {type(value).__name__}.")
    return value if value is None else str(value)


def _number(
    params: Mapping[str, Any],
    key: str,
    default: float,
    *,
    minimum: float,
    maximum: float | None = None,
) -> float:
    value = params.get(key, default)
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
