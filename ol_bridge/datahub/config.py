"""Options of the OpenLineage -> DataHub converter.

Every option defaults to what DataHub's own OpenLineage endpoint does (its converter runs with
fabric type PROD, ``materializeDataset``, ``includeSchemaMetadata`` and
``captureColumnLevelLineage`` behind GMS), so switching between that endpoint and our converter
yields the same entities. ``docs/datahub-mapping.md`` describes each option.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ol_bridge.datahub.plugin_urns import PluginNaming
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
    #: Emit ``subTypes`` on DataJobs from the ``jobType`` facet (a deliberate addition).
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
