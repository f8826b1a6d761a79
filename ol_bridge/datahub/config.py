"""Settings of the ``datahub`` transport (:class:`DatahubConfig`) and of the OpenLineage ->
DataHub converter (:class:`ConverterConfig`), both attrs classes that reject unknown keys.

Every converter option defaults to what DataHub's own OpenLineage endpoint does (its
converter runs with fabric type PROD, ``materializeDataset``, ``includeSchemaMetadata`` and
``captureColumnLevelLineage`` behind GMS), so switching between that endpoint and our
converter yields the same entities. ``docs/datahub-mapping.md`` describes each option.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
from openlineage.client.transport.transport import Config

from ol_bridge.datahub.plugin_urns import PluginNaming
from ol_bridge.datahub.sinks.kafka import KafkaSinkConfig
from ol_bridge.errors import ConfigError
from ol_bridge.settings import field_names, reject_unknown_keys

#: URN schemes: DataHub's OpenLineage converter, or acryl-datahub-dagster-plugin's.
URN_SCHEMES = ("openlineage", "datahub-dagster-plugin")

#: DataHub's fabric types (``com.linkedin.common.FabricType``); a dataset URN's env is one of them.
FABRIC_TYPES = frozenset(
    {
        "DEV", "TEST", "QA", "UAT", "EI", "PRE", "STG", "NON_PROD", "PROD", "CORP", "RVW",
        "PRD", "TST", "SIT", "SBX", "SANDBOX",
    }
)  # fmt: skip


def _to_pairs(
    value: Mapping[str, str] | tuple[tuple[str, str], ...],
) -> tuple[tuple[str, str], ...]:
    # A tuple of pairs keeps the config hashable, so URN lookups can be cached per config.
    items = value.items() if isinstance(value, Mapping) else value
    pairs = tuple((str(k), str(v)) for k, v in items)
    return tuple(sorted(pairs))


def _check_env(_inst: object, _attr: attrs.Attribute[str], value: str) -> None:
    if value not in FABRIC_TYPES:
        raise ConfigError(
            f"env={value!r} is not a DataHub fabric type; use one of {sorted(FABRIC_TYPES)}"
        )


_BOOL = attrs.validators.instance_of(bool)


def _check_scheme(_inst: object, _attr: attrs.Attribute[str], value: str) -> None:
    if value not in URN_SCHEMES:
        raise ConfigError(f"urn_scheme={value!r} is not known; use one of {list(URN_SCHEMES)}")


def _to_naming(value: PluginNaming | Mapping[str, Any]) -> PluginNaming:
    if isinstance(value, PluginNaming):
        return value
    if isinstance(value, Mapping):
        return PluginNaming.from_dict(value)
    raise ConfigError(
        f"plugin_naming must be a mapping of datahub-dagster-plugin naming settings, "
        f"got {type(value).__name__}"
    )


def _default_naming(config: ConverterConfig) -> PluginNaming:
    # The plugin used one env for datasets and pipelines alike.
    return PluginNaming(env=config.env)


@attrs.frozen(cache_hash=True)
class ConverterConfig:
    """How OpenLineage events become DataHub metadata. All fields are keyword arguments."""

    #: Fabric type (``origin``) of every dataset URN, e.g. ``PROD`` or ``DEV``.
    env: str = attrs.field(default="PROD", validator=_check_env, kw_only=True)
    #: Replaces the OL job namespace as the DataFlow cluster and adds a ``dataPlatformInstance``
    #: aspect to DataFlow and DataJob (DataHub's ``platformInstance``).
    platform_instance: str | None = attrs.field(default=None, kw_only=True)
    #: Platform instance of every dataset URN (DataHub's ``commonDatasetPlatformInstance``).
    dataset_platform_instance: str | None = attrs.field(default=None, kw_only=True)
    #: Exact OL dataset namespace (e.g. ``postgres://db1:5432``) -> platform instance of the
    #: datasets in it; wins over ``dataset_platform_instance``.
    namespace_to_platform_instance: tuple[tuple[str, str], ...] = attrs.field(
        default=(), converter=_to_pairs, kw_only=True
    )
    #: Lower-case namespace and name before building dataset URNs.
    lowercase_dataset_names: bool = attrs.field(default=False, validator=_BOOL, kw_only=True)
    #: Emit ``datasetKey`` + ``status`` for every input and output, so datasets exist in DataHub.
    materialize_datasets: bool = attrs.field(default=True, validator=_BOOL, kw_only=True)
    #: Emit ``schemaMetadata`` from the OL ``schema`` facet.
    include_schema_metadata: bool = attrs.field(default=True, validator=_BOOL, kw_only=True)
    #: Turn the ``columnLineage`` facet into fine-grained lineage.
    capture_column_lineage: bool = attrs.field(default=True, validator=_BOOL, kw_only=True)
    #: Keep input fields whose only transformations are INDIRECT (joins, filters, group by).
    include_indirect_column_lineage: bool = attrs.field(default=True, validator=_BOOL, kw_only=True)
    #: DataFlow orchestrator, overriding the one derived from the event.
    orchestrator: str | None = attrs.field(default=None, kw_only=True)
    #: DataFlow id for every job, overriding the first dot-separated part of the job name.
    pipeline_name: str | None = attrs.field(default=None, kw_only=True)
    #: Platform that ``symlinks`` TABLE identifiers (other than AWS Glue) resolve to.
    hive_platform_alias: str = attrs.field(default="hive", kw_only=True)
    #: Resolve dataset URNs through the ``symlinks`` facet's TABLE identifier, as DataHub does.
    resolve_symlinks: bool = attrs.field(default=True, validator=_BOOL, kw_only=True)
    #: Emit ``subTypes`` on DataJobs from the ``jobType`` facet (as DataHub's newest converter).
    emit_job_subtypes: bool = attrs.field(default=True, validator=_BOOL, kw_only=True)
    #: ``openlineage`` (DataHub's converter) or ``datahub-dagster-plugin``: DataFlow, DataJob
    #: and DataProcessInstance URNs of acryl-datahub-dagster-plugin for Dagster events.
    urn_scheme: str = attrs.field(default="openlineage", validator=_check_scheme, kw_only=True)
    #: What the plugin's URNs depended on (module, deployment, ...); only read by the
    #: ``datahub-dagster-plugin`` scheme. A mapping is accepted; its ``env`` defaults to ``env``.
    plugin_naming: PluginNaming = attrs.field(
        default=attrs.Factory(_default_naming, takes_self=True),
        converter=_to_naming,
        kw_only=True,
    )

    @property
    def namespace_instances(self) -> dict[str, str]:
        """``namespace_to_platform_instance`` as a dict."""
        return dict(self.namespace_to_platform_instance)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConverterConfig:
        """Build a config from plain data (YAML, JSON, CLI); unknown keys are an error."""
        reject_unknown_keys(data, field_names(cls), "the DataHub converter settings")
        params = dict(data)
        naming = params.get("plugin_naming")
        if isinstance(naming, Mapping) and "env" not in naming and "env" in params:
            params["plugin_naming"] = {**naming, "env": params["env"]}
        try:
            return cls(**params)
        except (TypeError, ValueError) as exc:
            # attrs' validators put the readable sentence first in their args.
            detail = exc.args[0] if exc.args else exc
            raise ConfigError(f"invalid DataHub converter option: {detail}") from exc


DEFAULT_CONFIG = ConverterConfig()


SinkKind = Literal["lite", "rest", "kafka", "file"]
SINKS: tuple[SinkKind, ...] = ("lite", "rest", "kafka", "file")
RestEndpoint = Literal["restli", "openapi"]
REST_ENDPOINTS: tuple[RestEndpoint, ...] = ("restli", "openapi")

#: Where DataHub Lite lives when neither ``lite_path`` nor ``$OL_BRIDGE_HOME`` is set.
DEFAULT_LITE_PATH = "./.ol-bridge/datahub-lite.duckdb"
LITE_FILE_NAME = "datahub-lite.duckdb"

#: Keys openlineage-python leaves in (or adds to) every transport's config mapping.
_FACTORY_KEYS = frozenset({"type", "name", "priority"})


def _text(key: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (Mapping, list)):
        raise ConfigError(f"`{key}` must be a string, got {type(value).__name__}.")
    return str(value)


def _number(key: str, value: Any, minimum: float) -> float:
    # OPENLINEAGE__TRANSPORT__<KEY> variables arrive as strings
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"`{key}` must be a number, got {value!r}.") from None
    if number < minimum:
        raise ConfigError(f"`{key}` must be at least {minimum}, got {value!r}.")
    return number


def _mapping(key: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"`{key}` must be a mapping, got {type(value).__name__}.")
    return dict(value)


# attrs converters are named functions (mypy's attrs plugin reads their types)
def _server(value: Any) -> str | None:
    return _text("server", value)


def _token(value: Any) -> str | None:
    return _text("token", value)


def _file_path(value: Any) -> str | None:
    return _text("file_path", value)


def _timeout(value: Any) -> float:
    return _number("timeout_sec", value, 0.1)


def _retries(value: Any) -> int:
    return int(_number("retry_max_times", value, 0))


def _batch_size(value: Any) -> int:
    return int(_number("batch_size", value, 1))


def _converter(value: Any) -> Mapping[str, Any]:
    return _mapping("converter", value)


def _kafka(value: Any) -> KafkaSinkConfig:
    if isinstance(value, KafkaSinkConfig):
        return value
    return KafkaSinkConfig.from_dict(_mapping("kafka", value))


def _choice(key: str, allowed: tuple[str, ...]) -> Callable[[object, Any, Any], None]:
    def check(_inst: object, _attr: Any, value: Any) -> None:
        if value not in allowed:
            raise ConfigError(f"`{key}` must be one of {list(allowed)}, got {value!r}.")

    return check


def _default_sink(config: DatahubConfig) -> SinkKind:
    # production has a GMS; the embedded store is for trying ol-bridge out without one
    return "rest" if config.server else "lite"


@attrs.frozen(kw_only=True)
class DatahubConfig(Config):
    """Settings of the ``datahub`` transport (and of ``ol-bridge convert``'s sinks).

    Precedence, highest first, for every setting: the transport's own mapping (as given to
    ``from_dict``: ``openlineage.yml``'s ``transport`` section,
    ``OPENLINEAGE__TRANSPORT__<KEY>`` variables, or a dict passed in code), then the
    environment variable the setting names (``server``, ``token``, ``lite_path``), then
    the default. An empty value means "not set".
    Unknown keys are rejected. The token is never logged or shown in ``repr``.
    """

    #: DataHub GMS address, e.g. ``http://datahub-gms:8080``; else ``DATAHUB_GMS_URL``.
    #: Required by the ``rest`` sink.
    server: str | None = attrs.field(default=None, converter=_server)
    #: ``lite`` | ``rest`` | ``kafka`` | ``file``: ``rest`` when a ``server`` is configured
    #: (here or in ``DATAHUB_GMS_URL``), else ``lite``.
    sink: SinkKind = attrs.field(
        default=attrs.Factory(_default_sink, takes_self=True), validator=_choice("sink", SINKS)
    )
    #: GMS token; else ``DATAHUB_GMS_TOKEN``; none: GMS without authentication.
    token: str | None = attrs.field(default=None, converter=_token, repr=False)
    #: DataHub Lite file of the ``lite`` sink; else ``$OL_BRIDGE_HOME/datahub-lite.duckdb``.
    lite_path: str = attrs.field(default=DEFAULT_LITE_PATH, converter=str)
    #: the MCP file the ``file`` sink writes (required by it).
    file_path: str | None = attrs.field(default=None, converter=_file_path)
    #: the ``kafka`` sink's ``bootstrap``, ``schema_registry_url``, ``topic``,
    #: ``producer_config``, ``schema_registry_config``.
    kafka: KafkaSinkConfig = attrs.field(factory=KafkaSinkConfig, converter=_kafka)
    #: ``restli`` batches through ``/aspects?action=ingestProposalBatch``, ``openapi``
    #: through ``/openapi/v3/entity/...``.
    rest_endpoint: RestEndpoint = attrs.field(
        default="restli", validator=_choice("rest_endpoint", REST_ENDPOINTS)
    )
    #: seconds a REST request may take.
    timeout_sec: float = attrs.field(default=30.0, converter=_timeout)
    #: retries of a failed REST request.
    retry_max_times: int = attrs.field(default=3, converter=_retries)
    #: most proposals handed to the sink in one write; REST posts them in requests of at
    #: most 200 (acryl-datahub's cap).
    batch_size: int = attrs.field(default=1000, converter=_batch_size)
    #: a mapping given to ``ConverterConfig.from_dict``.
    converter: Mapping[str, Any] = attrs.field(factory=dict, converter=_converter)

    def __attrs_post_init__(self) -> None:
        if self.sink == "file" and not self.file_path:
            raise ConfigError("The `file` sink needs `file_path` (where to write the MCP file).")
        if self.sink == "rest" and not self.server:
            raise ConfigError(
                "The `rest` sink needs the GMS address: set `server` (e.g. "
                "http://datahub-gms:8080) or the DATAHUB_GMS_URL environment variable."
            )
        self.converter_config()  # reject a bad `converter` mapping now, not per event

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> DatahubConfig:
        """Build the config from the transport mapping; see the class docstring."""
        env = os.environ if environ is None else environ
        settings = {key: value for key, value in params.items() if key not in _FACTORY_KEYS}
        reject_unknown_keys(settings, field_names(cls), "the `datahub` transport config")
        settings = {key: value for key, value in settings.items() if value not in (None, "")}
        fallbacks = {
            "server": env.get("DATAHUB_GMS_URL"),
            "token": env.get("DATAHUB_GMS_TOKEN"),
            "lite_path": (
                str(Path(env["OL_BRIDGE_HOME"]) / LITE_FILE_NAME)
                if env.get("OL_BRIDGE_HOME")
                else None
            ),
        }
        for key, value in fallbacks.items():
            if key not in settings and value:
                settings[key] = value
        try:
            return cls(**settings)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"invalid `datahub` transport setting: {error}") from error

    def converter_config(self) -> ConverterConfig:
        return ConverterConfig.from_dict(dict(self.converter))
