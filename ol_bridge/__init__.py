"""ol-bridge: Dagster lineage to DataHub and any OpenLineage backend, through OpenLineage."""

from __future__ import annotations

__version__ = "0.1.0"

#: The ``producer`` URI stamped on every event and facet ol-bridge emits.
PRODUCER = f"https://github.com/ol-bridge/ol-bridge/tree/v{__version__}"


def _register_transports() -> None:
    # Lets openlineage.yml say ``type: datahub``: openlineage-python has no entry-point
    # discovery, only a registry. Registering a dotted path imports nothing heavy.
    from openlineage.client.transport import get_default_factory

    get_default_factory().register_transport(
        "datahub", "ol_bridge.datahub.transport.DatahubTransport"
    )


_register_transports()

__all__ = ["PRODUCER", "__version__"]
