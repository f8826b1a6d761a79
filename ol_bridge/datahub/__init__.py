"""OpenLineage -> DataHub: the converter, its settings and the ``datahub`` transport.

``convert_event(event, config)`` turns one OpenLineage event into DataHub proposals, following
DataHub's own OpenLineage converter so both paths produce the same entities;
``convert_events(events, config)`` converts a batch and drops what later events in it
overwrite (fewer proposals, same result in DataHub). :class:`DatahubTransport` is the
openlineage-python transport (``type: datahub``) that converts and writes them, configured by
:class:`DatahubConfig`. The ``plugin_*_urn`` functions give acryl-datahub-dagster-plugin's
URNs (``urn_scheme: datahub-dagster-plugin``).

The names below are the public API; the modules of this package are internal.
"""

from __future__ import annotations

from ol_bridge import register_transports
from ol_bridge.datahub.aspects import Proposal
from ol_bridge.datahub.config import ConverterConfig, DatahubConfig
from ol_bridge.datahub.converter import convert_event, convert_events
from ol_bridge.datahub.plugin_urns import (
    PluginNaming,
    plugin_dataflow_urn,
    plugin_datajob_urn,
    plugin_dpi_urn,
)
from ol_bridge.datahub.transport import DatahubTransport

__all__ = [
    "ConverterConfig",
    "DatahubConfig",
    "DatahubTransport",
    "PluginNaming",
    "Proposal",
    "convert_event",
    "convert_events",
    "plugin_dataflow_urn",
    "plugin_datajob_urn",
    "plugin_dpi_urn",
]

# `type: datahub` in OpenLineage configurations resolves before any client is built here
register_transports()
