"""ol-bridge: Dagster lineage to DataHub and any OpenLineage backend, through OpenLineage.

The public API is the names listed in ``__all__`` of these modules, imported from them:

- ``ol_bridge``: ``register_transports``, ``PRODUCER``, the ``dg`` component type;
- ``ol_bridge.dagster``: the sensor, its translator, naming and delivery settings, the
  types the translator's hooks receive, the IO managers, the component;
- ``ol_bridge.datahub``: the converter, its settings, the ``datahub`` transport and its
  settings, acryl-datahub-dagster-plugin's URNs;
- ``ol_bridge.delivery``: the outbox, for operators' scripts (``ol-bridge outbox`` is the
  command line for it);
- ``ol_bridge.sql`` (SQL lineage), ``ol_bridge.lineage_graph`` (pictures),
  ``ol_bridge.backfill``, ``ol_bridge.server`` (``ol-bridge serve``'s settings),
  ``ol_bridge.errors`` (the exceptions) and ``ol_bridge.facets`` (our custom facets).

Every other module (``ol_bridge.dagster.tick``, ``ol_bridge.naming``, ...) is internal and
may change without notice, with or without a leading underscore; ``ol_bridge._compat`` holds
the other libraries' internals we depend on. ``tests/test_public_api.py`` checks that the
examples and the docs import only public names.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: The ``producer`` URI stamped on every event and facet ol-bridge emits.
PRODUCER = f"https://github.com/ol-bridge/ol-bridge/tree/v{__version__}"


def register_transports() -> None:
    """Let OpenLineage configurations say ``type: datahub`` (openlineage-python has no
    entry-point discovery, only a registry). Registering the dotted path imports no
    acryl-datahub. Idempotent.

    Called when ``ol_bridge.dagster``, ``ol_bridge.delivery`` or ``ol_bridge.datahub``
    (and so any of its modules) is imported, that is before anything of ol-bridge
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
