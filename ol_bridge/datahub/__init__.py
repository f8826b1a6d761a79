"""OpenLineage -> DataHub: a pure converter producing DataHub metadata change proposals.

``convert_event(event, config)`` turns one OpenLineage event into DataHub proposals, following
DataHub's own OpenLineage converter so both paths produce the same entities;
``convert_events(events, config)`` converts a batch and drops what later events in it
overwrite (fewer proposals, same result in DataHub).
"""

from __future__ import annotations

from ol_bridge.datahub.aspects import Proposal
from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.converter import convert_event, convert_events

__all__ = ["ConverterConfig", "Proposal", "convert_event", "convert_events"]
