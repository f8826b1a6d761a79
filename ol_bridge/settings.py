"""Shared rule of every config model: unknown keys are an error, said the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ol_bridge.errors import ConfigError


def field_names(cls: type) -> frozenset[str]:
    """The keys an attrs config class accepts."""
    return frozenset(field.name for field in attrs.fields(cls))


def reject_unknown_keys(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Raise ``ConfigError`` naming the unknown keys of ``data`` and the allowed ones.

    ``where`` names the settings, e.g. "the `datahub` transport config"; a typo such as
    ``sinks:`` then reads ``Unknown key(s) ['sinks'] in the `datahub` transport config;
    allowed: [...]``.
    """
    known = set(allowed)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"Unknown key(s) {unknown} in {where}; allowed: {sorted(known)}.")
