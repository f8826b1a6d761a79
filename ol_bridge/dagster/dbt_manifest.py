"""A dbt manifest's nodes as dagster-dbt's default translator describes them as assets. Pure.

Without the asset definitions (the sensor in another code location, ``ol-bridge backfill``
without ``--definitions``), the instance still records, on each materialization of a dbt
model, its ``unique_id`` and ``invocation_id``; the manifest that invocation wrote next to
its ``run_results.json`` then says everything the definitions would have: the relation
(``dagster/table_name``), the adapter (kinds ``dbt`` + adapter), descriptions, column docs,
owners, tags, group, upstream nodes and tests. This module mirrors the defaults of
``dagster_dbt.DagsterDbtTranslator`` (``default_asset_key_fn``,
``default_metadata_from_dbt_resource_props``, ``default_description_fn``...), so that an
asset described from the manifest is described as its definition would be. A project with
a custom translator keeps the names the instance recorded (the materialized asset keys);
``tests/dagster/test_dbt_assets.py`` compares both routes on a real ``dbt build``.

dagster-dbt is not imported (the sensor's code location need not have it).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from dagster import AssetKey, TableColumn, TableSchema

from ol_bridge.dagster.dbt import MANIFEST_KEY, PROJECT_KEY, UNIQUE_ID_KEY
from ol_bridge.dagster.descriptions import AssetDescription

#: Dagster's group of an asset that names none
DEFAULT_GROUP = "default"
#: dbt resource types dagster-dbt makes assets of
_ASSET_TYPES = frozenset({"model", "seed", "snapshot", "source"})


@attrs.frozen
class RecordedManifest:
    """Stands in for dagster-dbt's manifest wrapper (``dagster_dbt/manifest`` metadata)."""

    manifest: Mapping[str, Any] = attrs.field(repr=False)


@attrs.frozen
class RecordedProject:
    """Stands in for a ``DbtProject`` (``dagster_dbt/project`` metadata): where the run's
    dbt target folders are (``<project_dir>/<target_path>/<op>-<run id[:7]>-*``)."""

    project_dir: Path
    target_path: Path


def resource_props(manifest: Mapping[str, Any], unique_id: str) -> Mapping[str, Any]:
    """A node (model, seed, snapshot, test) or a source of the manifest; {} if absent."""
    for section in ("nodes", "sources"):
        found = _mapping(_mapping(manifest.get(section)).get(unique_id))
        if found:
            return found
    return {}


def default_asset_key(props: Mapping[str, Any]) -> AssetKey:
    """dagster-dbt's default asset key of a node (``default_asset_key_fn``)."""
    meta = _mapping(_mapping(props.get("config")).get("meta")) or _mapping(props.get("meta"))
    configured = _mapping(meta.get("dagster")).get("asset_key")
    if configured:
        return AssetKey(list(configured))
    if props.get("resource_type") == "source":
        return AssetKey([str(props["source_name"]), str(props["name"])])
    if props.get("version"):
        return AssetKey([str(props["alias"])])
    schema = _mapping(props.get("config")).get("schema")
    if schema is not None:
        return AssetKey([str(schema), str(props["name"])])
    return AssetKey([str(props["name"])])


def asset_keys(manifest: Mapping[str, Any]) -> dict[AssetKey, str]:
    """Every asset node's default asset key -> its unique id."""
    found: dict[AssetKey, str] = {}
    for section in ("nodes", "sources"):
        for unique_id, props in _mapping(manifest.get(section)).items():
            if isinstance(props, Mapping) and props.get("resource_type") in _ASSET_TYPES:
                found.setdefault(default_asset_key(props), str(unique_id))
    return found


def relation_name(props: Mapping[str, Any]) -> str | None:
    """``database.schema.alias`` (a source: ``database.schema.name``), as dagster-dbt
    records ``dagster/table_name``."""
    parts = [
        props.get("database"),
        props.get("schema"),
        props.get("alias"),
        props.get("name") if props.get("resource_type") == "source" else None,
    ]
    found = [str(part) for part in parts if part]
    return ".".join(found) if found else None


def describe_node(
    manifest: Mapping[str, Any],
    unique_id: str,
    project: RecordedProject | None,
    key_of: Mapping[str, AssetKey] | None = None,
) -> AssetDescription | None:
    """The asset description dagster-dbt's default translator gives node ``unique_id``;
    ``key_of`` names the upstream nodes whose asset keys the instance recorded."""
    props = resource_props(manifest, unique_id)
    if not props:
        return None
    adapter = _mapping(manifest.get("metadata")).get("adapter_type")
    adapter = adapter if isinstance(adapter, str) and adapter else None
    metadata: dict[str, Any] = {
        MANIFEST_KEY: RecordedManifest(manifest),
        UNIQUE_ID_KEY: unique_id,
        **({PROJECT_KEY: project} if project is not None else {}),
    }
    materialized = _mapping(props.get("config")).get("materialized")
    if materialized:
        metadata["dagster_dbt/materialization_type"] = str(materialized)
    schema = _column_schema(props)
    if schema is not None:
        metadata["dagster/column_schema"] = schema
    table = relation_name(props)
    if table:
        metadata["dagster/table_name"] = table
    if adapter:
        metadata["dagster/storage_kind"] = adapter
    known = key_of or {}
    parents = {
        known.get(parent) or default_asset_key(resource_props(manifest, parent))
        for parent in _mapping(props.get("depends_on")).get("nodes") or ()
        if resource_props(manifest, parent).get("resource_type") in _ASSET_TYPES
    }
    return AssetDescription(
        metadata=metadata,
        description=_description(props),
        owners=tuple(_owners(manifest, props)),
        tags={str(tag): "" for tag in props.get("tags") or () if isinstance(tag, str)},
        kinds=tuple(sorted({"dbt", adapter or "dbt"})),
        group_name=_group(props),
        parent_keys=tuple(sorted(parents, key=lambda k: list(k.path))),
    )


def _column_schema(props: Mapping[str, Any]) -> TableSchema | None:
    columns = _mapping(props.get("columns"))
    if not columns:
        return None
    return TableSchema(
        columns=[
            TableColumn(
                name=str(name),
                type=_mapping(info).get("data_type") or "?",
                description=_mapping(info).get("description") or None,
                tags={str(tag): "" for tag in _mapping(info).get("tags") or ()},
            )
            for name, info in columns.items()
        ]
    )


def _description(props: Mapping[str, Any]) -> str:
    """``default_description_fn``: the dbt description, then the raw SQL."""
    code = textwrap.indent(props.get("raw_sql") or props.get("raw_code") or "", "    ")
    sections = [
        props.get("description") or f"dbt {props.get('resource_type')} {props.get('name')}",
        f"#### Raw SQL:\n```sql\n{code}\n```",
    ]
    return "\n\n".join(section for section in sections if section)


def _owners(manifest: Mapping[str, Any], props: Mapping[str, Any]) -> Sequence[str]:
    configured = _mapping(_mapping(props.get("meta")).get("dagster")).get("owners")
    if configured:
        return [str(owner) for owner in configured]
    groups = {
        group.get("name"): group
        for group in _mapping(manifest.get("groups")).values()
        if isinstance(group, Mapping)
    }
    group = _mapping(groups.get(props.get("group") or ""))
    email = _mapping(group.get("owner")).get("email")
    if not email:
        return []
    return [email] if isinstance(email, str) else [str(owner) for owner in email]


def _group(props: Mapping[str, Any]) -> str:
    configured = _mapping(_mapping(props.get("meta")).get("dagster")).get("group")
    group = configured or _mapping(props.get("config")).get("group")
    return str(group) if group else DEFAULT_GROUP


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
