"""Which sqlglot dialect parses the SQL of a DataHub / OpenLineage platform."""

from __future__ import annotations

from ol_bridge.platforms import dialect_for


def dialect_for_platform(platform: str) -> str | None:
    """The sqlglot dialect for a platform name (case-insensitive), None when unknown.

    Platform ids, their other spellings and OpenLineage namespace schemes are all read from
    the one platform table, :mod:`ol_bridge.platforms`. None makes sqlglot use its default
    dialect, which parses most ANSI SQL.
    """
    return dialect_for(platform)
