"""OpenLineage dataset (namespace, name) -> DataHub dataset URN, by DataHub's converter's rules.

The rules (``OpenLineagePlatformResolver`` / ``HdfsPathDataset`` in DataHub's Java converter):

- the platform is the namespace's URI scheme (``postgres://h:5432`` -> ``postgres``), or the
  namespace itself when it has no scheme (``bigquery``, ``hive``, ``file``); ``awsathena`` and
  ``sqlserver`` become ``athena`` and ``mssql``;
- object-store and file paths (``s3``/``s3a``/``s3n``, ``gs``/``gcs``, ``abfs(s)``/``wasb(s)``,
  ``dbfs``, ``file``) become ``<bucket>/<path>`` (``file`` keeps the leading slash);
- a ``symlinks`` facet TABLE identifier replaces the name (``hive`` platform, or ``glue`` for
  AWS Glue ARNs), and the original URN is remembered as an alias within the event;
- a platform instance, when configured, prefixes the name: ``<instance>.<name>``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from datahub.metadata.urns import DatasetUrn
from datahub.utilities.urns.error import InvalidUrnError

from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.olevent import mapping, text
from ol_bridge.datahub.plugin_urns import URN_SCHEME, plugin_asset_urn
from ol_bridge.naming import DATAHUB_URN_IDENTIFIER
from ol_bridge.platforms import CONVERTER_PATH_SCHEMES, CONVERTER_SCHEME_RENAMES

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_GLUE_ARN = re.compile(r"(?:arn:)?aws:glue:([^:]+):([^:]+)")
_TABLE_PREFIX = "table/"


def _connection_key(namespace: str) -> str | None:
    glue = _GLUE_ARN.search(namespace)
    if glue:
        return f"arn:aws:glue:{glue.group(1)}:{glue.group(2)}"
    return namespace if "://" in namespace else None


def _fs_dataset(path_uri: str) -> tuple[str, str]:
    """(platform, name) of an object-store or file URI, as ``HdfsPathDataset.create`` does."""
    path_uri = path_uri.rstrip("/")
    parts = path_uri.split("://")
    while parts and parts[-1] == "":  # Java's String.split drops trailing empty strings
        parts.pop()
    if len(parts) != 2:
        return "hdfs", path_uri
    platform = CONVERTER_PATH_SCHEMES.get(parts[0], "hdfs")
    if platform == "file":
        return platform, parts[1]
    return platform, parts[1].removeprefix("/")


@functools.lru_cache(maxsize=8192)
def resolve_dataset_urn(
    namespace: str, name: str, connection_key: str | None, config: ConverterConfig
) -> DatasetUrn:
    """The URN of one (namespace, name) without symlinks; cached, as datasets repeat a lot."""
    if config.lowercase_dataset_names:
        namespace, name = namespace.lower(), name.lower()
    if "://" in namespace or "://" in name:
        uri = (
            name
            if "://" not in namespace
            else namespace + ("" if namespace.endswith("/") or name.startswith("/") else "/") + name
        )
        scheme_match = _SCHEME.match(uri)
        scheme = scheme_match.group(1) if scheme_match else ""
        platform = CONVERTER_SCHEME_RENAMES.get(scheme, scheme)
        if platform in CONVERTER_PATH_SCHEMES:
            platform, name = _fs_dataset(uri)
    else:
        platform = namespace
    key = connection_key if connection_key is not None else _connection_key(namespace)
    if key is not None and config.lowercase_dataset_names:
        key = key.lower()
    instance = config.namespace_instances.get(key) if key is not None else None
    instance = instance or config.dataset_platform_instance
    if instance:
        name = f"{instance}.{name}"
    return DatasetUrn(platform, name, config.env)


@functools.lru_cache(maxsize=8192)
def resolve_dataset_urn_text(
    namespace: str, name: str, connection_key: str | None, config: ConverterConfig
) -> tuple[DatasetUrn, str]:
    """:func:`resolve_dataset_urn` with its string: a DatasetUrn renders itself again on
    every ``str()`` (and every hash), and the converter needs the string many times."""
    urn = resolve_dataset_urn(namespace, name, connection_key, config)
    return urn, str(urn)


def symlink_table(
    identifier: Mapping[str, Any], config: ConverterConfig
) -> tuple[str, str, str | None] | None:
    """(platform, name, connection key) of a ``symlinks`` TABLE identifier (``glue`` for AWS
    Glue ARNs, else the Hive alias; ``table/db/t`` -> ``db.t``); None for other identifiers."""
    if identifier.get("type") != "TABLE":
        return None  # checked first: other identifiers (e.g. DAGSTER_ASSET) are common
    namespace, name = text(identifier.get("namespace")), text(identifier.get("name"))
    if namespace is None or name is None:
        return None
    is_glue = namespace.startswith(("aws:glue:", "arn:aws:glue:"))
    platform = "glue" if is_glue else config.hive_platform_alias
    if name.startswith(_TABLE_PREFIX):
        name = name[len(_TABLE_PREFIX) :].replace("/", ".")
    return platform, name, _connection_key(namespace)


def _symlink_target(
    facets: Mapping[str, Any], config: ConverterConfig
) -> tuple[str, str, str | None] | None:
    identifiers = mapping(facets.get("symlinks")).get("identifiers")
    if not config.resolve_symlinks or not isinstance(identifiers, list) or not identifiers:
        return None
    target = None
    for raw in identifiers:  # the last TABLE identifier wins, as in DataHub
        target = symlink_table(mapping(raw), config) or target
    return target


class DatasetResolver:
    """Resolves the datasets of one event, remembering symlink aliases as DataHub does.

    DataHub maps a dataset's own URN to its symlink URN once it has seen both, so column lineage
    that names the file path of a Hive table still points at the table.
    """

    def __init__(self, config: ConverterConfig) -> None:
        self.config = config
        self.aliases: dict[DatasetUrn, DatasetUrn] = {}

    def dataset(self, dataset: Mapping[str, Any]) -> DatasetUrn | None:
        """URN of an OL dataset object (with facets), or None when namespace/name are missing."""
        resolved = self.dataset_with_str(dataset)
        return None if resolved is None else resolved[0]

    def dataset_with_str(self, dataset: Mapping[str, Any]) -> tuple[DatasetUrn, str] | None:
        """:meth:`dataset` and its string (cached with the URN when no alias applies)."""
        namespace, name = dataset.get("namespace"), dataset.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str):
            return None
        original, original_str = resolve_dataset_urn_text(namespace, name, None, self.config)
        if self.config.urn_scheme == URN_SCHEME:
            plugin = self._plugin_dataset(mapping(dataset.get("facets")), original)
            self.aliases[original] = plugin  # column lineage names it by namespace/name
            return plugin, str(plugin)
        target = _symlink_target(mapping(dataset.get("facets")), self.config)
        if target is None:
            return self._aliased(original, original_str)
        linked, linked_str = resolve_dataset_urn_text(target[0], target[1], target[2], self.config)
        self.aliases[original] = linked
        return self._aliased(linked, linked_str)

    def _aliased(self, urn: DatasetUrn, urn_str: str) -> tuple[DatasetUrn, str]:
        alias = self.aliases.get(urn) if self.aliases else None  # no hashing when none
        return (urn, urn_str) if alias is None else (alias, str(alias))

    def _plugin_dataset(self, facets: Mapping[str, Any], original: DatasetUrn) -> DatasetUrn:
        """acryl-datahub-dagster-plugin's URN: an asset's ``dagster``-platform dataset, a
        declared URN exactly as written, anything else in the plugin's env."""
        naming = self.config.plugin_naming
        key = plugin_asset_key(facets)
        if key is not None:
            return plugin_asset_urn(key, naming)
        declared = declared_urn(facets)
        if declared is not None:
            return declared
        return DatasetUrn(original.get_data_platform_urn().platform_name, original.name, naming.env)

    def field_dataset(self, namespace: str, name: str) -> DatasetUrn:
        """URN of a dataset named by a column-lineage input field (no facets, aliases apply)."""
        urn = resolve_dataset_urn(namespace, name, None, self.config)
        return self.aliases.get(urn, urn) if self.aliases else urn  # no hashing when none

    def field_dataset_with_str(self, namespace: str, name: str) -> tuple[DatasetUrn, str]:
        """:meth:`field_dataset` and its string."""
        urn, urn_str = resolve_dataset_urn_text(namespace, name, None, self.config)
        return self._aliased(urn, urn_str)


def plugin_asset_key(facets: Mapping[str, Any]) -> list[str] | None:
    """The asset key of a dataset ol-bridge reported for a Dagster asset (its
    ``dagster_asset`` facet), or None."""
    key = mapping(facets.get("dagster_asset")).get("assetKey")
    if isinstance(key, list) and key and all(isinstance(part, str) for part in key):
        return key
    return None


def declared_urn(facets: Mapping[str, Any]) -> DatasetUrn | None:
    """The DataHub URN a dataset was declared with (``datahub.inputs``/``outputs``), carried
    as a ``DATAHUB_URN`` symlink identifier, or None."""
    identifiers = mapping(facets.get("symlinks")).get("identifiers")
    for raw in identifiers if isinstance(identifiers, list) else ():
        ident = mapping(raw)
        if ident.get("type") == DATAHUB_URN_IDENTIFIER and isinstance(ident.get("name"), str):
            try:
                return DatasetUrn.from_string(ident["name"])
            except InvalidUrnError:
                return None
    return None
