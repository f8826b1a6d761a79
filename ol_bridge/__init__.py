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


#: names of the package that are imported on first use (``import ol_bridge`` stays light)
_LAZY = {"OpenLineageSensorComponent": "ol_bridge.dagster.component"}


def __getattr__(name: str) -> object:
    # ``ol_bridge.OpenLineageSensorComponent`` is the component type dg knows us by (the
    # ``dagster_dg_cli.registry_modules`` entry point is this package); it imports Dagster.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ol_bridge' has no attribute {name!r}")


def __dir__() -> list[str]:
    # dg lists a registry module's components with dir() + getattr()
    return sorted([*globals(), *_LAZY])


__all__ = ["PRODUCER", "OpenLineageSensorComponent", "__version__", "register_transports"]
