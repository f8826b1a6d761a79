"""ol-bridge: Dagster lineage to DataHub and any OpenLineage backend, through OpenLineage."""

from __future__ import annotations

__version__ = "0.1.0"

#: The ``producer`` URI stamped on every event and facet ol-bridge emits.
PRODUCER = f"https://github.com/ol-bridge/ol-bridge/tree/v{__version__}"

__all__ = ["PRODUCER", "__version__"]
