"""ol-bridge: Dagster lineage to DataHub and any OpenLineage backend, through OpenLineage."""

from __future__ import annotations

__version__ = "0.1.0"

#: The ``producer`` URI stamped on every event and facet ol-bridge emits.
PRODUCER = f"https://github.com/ol-bridge/ol-bridge/tree/v{__version__}"


def register_transports() -> None:
    """Let OpenLineage configurations say ``type: datahub`` (openlineage-python has no
    entry-point discovery, only a registry). Registering the dotted path imports no
    acryl-datahub. Idempotent.

    Called when ``ol_bridge.dagster``, ``ol_bridge.delivery`` or
    ``ol_bridge.datahub.transport`` is imported, that is before anything of ol-bridge
    builds an OpenLineage client; not on ``import ol_bridge``, which must stay light (the
    command line's ``--help`` imports it). A client you build yourself before importing
    any of them: call this first, or use ``type: ol_bridge.datahub.transport.DatahubTransport``.
    """
    from openlineage.client.transport import get_default_factory

    get_default_factory().register_transport(
        "datahub", "ol_bridge.datahub.transport.DatahubTransport"
    )


__all__ = ["PRODUCER", "__version__", "register_transports"]
