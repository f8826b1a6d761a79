"""What is known of an asset beyond its key: its definition's, or what the instance
recorded of it (``dbt_manifest.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from dagster import AssetKey


@attrs.frozen
class AssetDescription:
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    description: str | None = None
    owners: Sequence[str] = ()
    tags: Mapping[str, str] = attrs.field(factory=dict)
    kinds: Sequence[str] = ()
    group_name: str | None = None
    parent_keys: Sequence[AssetKey] = ()

    @property
    def naming_metadata(self) -> dict[str, Any]:
        """Definition metadata with the asset's kinds as ``dagster/kind/<kind>`` tags, as
        the translator reads them: ``kinds={"duckdb"}`` gives ``dagster/table_name`` its
        platform."""
        return {**{f"dagster/kind/{kind}": "" for kind in self.kinds}, **self.metadata}
