"""DataHub Lite's browse-index edges of an entity, worked out from its URN and aspects.

Lite's own hooks (``global_post_update_hook`` and the platform-instance part of
``post_update_hook``) parse each URN three or four times through deprecated methods that
each issue a warning, and scan the whole aspect registry three times per entity: a fifth
of writing a 100-asset run into Lite. :func:`entity_edges` and
:func:`platform_instance_edges` make the same ``add_edge`` calls, in the same order, for
the well-formed URNs ol-bridge writes, and return None for anything else (a URN Lite's
classes would encode or reject), which then goes to Lite's own hook. Lite stays the
authority: ``tests/datahub/test_lite_index.py`` compares the edges with its hooks, entity
kind by entity kind, and the bulk-write test compares whole files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from datahub.emitter.aspect import ASPECT_MAP
from datahub.metadata.schema_classes import (
    ContainerClass,
    DataPlatformInstanceClass,
    SubTypesClass,
)
from datahub.utilities.urns.error import InvalidUrnError
from datahub.utilities.urns.urn import Urn

#: an ``add_edge`` call as :class:`~ol_bridge.datahub.sinks.lite_bulk.EdgeRecorder` records
#: it: ("add", source, relationship, destination, destination label, remove existing)
EdgeOp = tuple[str, str, str, str, str | None, bool]
#: the category ``systemNode`` URN Lite files a platform under (its own rule, cached)
CategoryOf = Callable[[str], str]


def _aspect_name(aspect_class: type) -> str:
    """The registry name Lite's hook looks an aspect up by: the first with that class."""
    return next(name for name, cls in ASPECT_MAP.items() if cls == aspect_class)


_CONTAINER = _aspect_name(ContainerClass)
_SUBTYPES = _aspect_name(SubTypesClass)
_PLATFORM_INSTANCE = _aspect_name(DataPlatformInstanceClass)
#: entity types Lite files under their platform when they have no container
_UNDER_PLATFORM = frozenset({"dataset", "container", "chart", "dashboard", "dataFlow", "dataJob"})
#: entity types whose URN Lite's hook parses with its URN class (and so refuses when the
#: class does: wrong part counts, reserved characters, a platform that is not a URN)
_PARSED_BY_LITE = _UNDER_PLATFORM | {"dataFlow", "dataJob"}
#: a URN part Lite's URN classes take as it is (no reserved character to encode or refuse)
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]+\Z")


def parse_urn(urn: str) -> tuple[str, list[str]] | None:
    """``urn:li:<type>:<id>`` -> (type, id parts split at top-level commas); None when it is
    not well formed (Lite would raise: its hook decides then)."""
    if not urn.startswith("urn:li:"):
        return None
    parts = urn.split(":", 3)
    if len(parts) != 4 or "" in parts:
        return None
    entity_id = parts[3]
    if not (entity_id.startswith("(") and entity_id.endswith(")")):
        return parts[2], [entity_id]
    ids: list[str] = []
    depth, start = 1, 1
    for index in range(1, len(entity_id)):
        char = entity_id[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 1:
            if index == start:
                return None
            ids.append(entity_id[start:index])
            start = index + 1
    if depth != 0 or start >= len(entity_id) - 1:
        return None
    ids.append(entity_id[start:-1])
    return parts[2], ids


def _valid(urn: str) -> bool:
    """Whether DataHub's URN class of its type takes ``urn`` (its rules, not a copy)."""
    try:
        Urn.from_string(urn)
    except InvalidUrnError:
        return False
    return True


def _platform_name(urn: str) -> str | None:
    """``urn:li:dataPlatform:<name>`` -> name, when Lite's ``DataPlatformUrn`` takes it as is."""
    parsed = parse_urn(urn)
    if parsed is None or parsed[0] != "dataPlatform" or len(parsed[1]) != 1:
        return None
    name = parsed[1][0]
    return name if _PLAIN.match(name) else None


def platform_instance_edges(
    platform: str, instance: str, category_of: CategoryOf
) -> tuple[str, list[EdgeOp]]:
    """Lite's ``_create_edges_from_data_platform_instance`` for a plain platform name: the
    instance's URN and the edges from the root through the platform's category."""
    platform_urn = f"urn:li:dataPlatform:{platform}"
    instance_urn = f"urn:li:dataPlatformInstance:({platform_urn},{instance})"
    instances = f"urn:li:systemNode:({platform_urn},instances)"
    category = category_of(platform)
    category_name = category.split(":", 3)[3]
    return instance_urn, [
        ("add", "__root__", "child", category, None, False),
        ("add", category, "name", category_name, None, True),
        ("add", category, "child", platform_urn, platform, False),
        ("add", platform_urn, "name", platform, None, True),
        ("add", platform_urn, "child", instances, None, False),
        ("add", instances, "name", "instances", None, True),
        ("add", instances, "child", instance_urn, instance, False),
    ]


def instance_aspect_edges(aspect: Any, category_of: CategoryOf) -> list[EdgeOp] | None:
    """The edges Lite's ``post_update_hook`` makes of a ``dataPlatformInstance`` aspect;
    None when its platform or instance is not plain."""
    platform = _platform_name(aspect.platform)
    instance = aspect.instance or "default"
    if platform is None or not _plain_instance(instance):
        return None
    return platform_instance_edges(platform, instance, category_of)[1]


def _plain_instance(instance: str) -> bool:
    # an instance URN is kept whole, as Lite does; commas and parentheses of other text
    # would make the instance URN parse differently
    return bool(_PLAIN.match(instance)) or parse_urn(instance) is not None


def entity_edges(
    entity_urn: str, aspects: Mapping[str, Any], category_of: CategoryOf
) -> list[EdgeOp] | None:
    """The edges Lite's ``global_post_update_hook`` makes for an entity with ``aspects``
    (its stored aspects by name): where it sits in the browse tree, by container, platform
    instance or platform, and its type nodes. None when a URN is not plain."""
    parsed = parse_urn(entity_urn)
    if parsed is None:
        return None
    kind, ids = parsed
    if kind in _PARSED_BY_LITE and not _valid(entity_urn):
        return None  # Lite's hook refuses it, with DataHub's own message
    container = aspects.get(_CONTAINER)
    subtypes = aspects.get(_SUBTYPES)
    instance = aspects.get(_PLATFORM_INSTANCE)
    ops: list[EdgeOp] = []
    if kind in ("dataFlow", "dataJob"):
        if len(ids) < 2:
            return None
        ops.append(("add", entity_urn, "name", ids[1], None, True))
    if not container and kind in _UNDER_PLATFORM:
        if not instance:
            first = ids[0]
            parent = first
            platform: str | None = None
            if first.startswith("urn"):
                named = parse_urn(first)
                if named is None:
                    return None
                if named[0] == "dataPlatform":
                    platform = _platform_name(first)
                    if platform is None:
                        return None
            elif _PLAIN.match(first):
                platform = first
            else:
                return None
            if platform is not None:
                parent, platform_ops = platform_instance_edges(platform, "default", category_of)
                ops.extend(platform_ops)
        else:
            platform = _platform_name(instance.platform)
            name = instance.instance or "default"
            if platform is None or not _plain_instance(name):
                return None
            parent = f"urn:li:dataPlatformInstance:(urn:li:dataPlatform:{platform},{name})"
    elif container:
        parent = container.container
    else:
        parent = "__root__"
    types = subtypes.typeNames if subtypes else [kind]
    if not parent or not all(types):
        return None
    for type_name in types:
        type_urn = f"urn:li:systemNode:({parent},{type_name})"
        ops.append(("add", parent, "child", type_urn, None, False))
        ops.append(("add", type_urn, "child", entity_urn, None, False))
        ops.append(("add", type_urn, "name", type_name.lower() + "s", None, True))
    return ops
