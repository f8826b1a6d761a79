"""The ``hierarchy`` dataset facet -> DataHub containers, as DataHub's newest converter makes
them (``OpenLineageDatasetMapper.addHierarchyMcps``).

Every level but the last (the dataset itself) is a container: database, schema, ... Its GUID
is the name-based UUID (Java's ``UUID.nameUUIDFromBytes``, dashes removed) of
``<platform>|<env>|<OL namespace>/<TYPE>=<name>[/<TYPE>=<name>...]``, so the same database
gets the same container whichever job or path reports it. Each container gets
``containerKey``, ``containerProperties`` (name, dotted qualified name, env, the level's type
and the namespace as custom properties), ``status`` and, below the top, ``container`` (its
parent); the dataset gets ``container`` (the innermost one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datahub.metadata.schema_classes import (
    ContainerClass,
    ContainerKeyClass,
    ContainerPropertiesClass,
    StatusClass,
)
from datahub.metadata.urns import ContainerUrn, DatasetUrn

from ol_bridge.datahub import aspects
from ol_bridge.datahub.aspects import Proposal
from ol_bridge.datahub.olevent import java_name_uuid, mapping


def _levels(facets: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    raw = mapping(facets.get("hierarchy")).get("hierarchy")
    if not isinstance(raw, list) or len(raw) < 2:
        return None
    levels = []
    for item in raw:
        level = mapping(item)
        kind, name = level.get("type"), level.get("name")
        if not (isinstance(kind, str) and kind.strip() and isinstance(name, str) and name.strip()):
            return None  # DataHub skips a facet with any invalid level
        levels.append((kind, name))
    return levels


def hierarchy_proposals(dataset: Mapping[str, Any], urn: DatasetUrn) -> list[Proposal]:
    """Container proposals of one dataset's ``hierarchy`` facet (none without one)."""
    levels = _levels(mapping(dataset.get("facets")))
    if levels is None:
        return []
    namespace = str(dataset.get("namespace"))
    platform = urn.get_data_platform_urn().platform_name
    out: list[Proposal] = []
    parent: str | None = None
    identity, qualified = "", []
    for kind, name in levels[:-1]:
        qualified.append(name)
        identity += f"/{kind.upper()}={name}"
        guid = java_name_uuid(f"{platform}|{urn.env}|{namespace}{identity}").replace("-", "")
        container = str(ContainerUrn(guid))
        properties = ContainerPropertiesClass(
            name=name,
            qualifiedName=".".join(qualified),
            env=urn.env,
            customProperties={
                "openlineage.hierarchy.type": kind,
                "openlineage.hierarchy.namespace": namespace,
            },
        )
        items: list[Any] = [ContainerKeyClass(guid=guid), properties, StatusClass(removed=False)]
        if parent is not None:
            items.append(ContainerClass(container=parent))
        out += aspects.upserts(container, items)
        parent = container
    out += aspects.upserts(str(urn), [ContainerClass(container=str(parent))])
    return out
