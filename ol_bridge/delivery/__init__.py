"""Durable, per-destination delivery of OpenLineage events (see ``docs/delivery.md``)."""

from __future__ import annotations

from ol_bridge import register_transports
from ol_bridge.delivery.config import DeliveryConfig, default_outbox_path
from ol_bridge.delivery.deliver import Backoff, DrainReport, drain
from ol_bridge.delivery.destinations import Destination, split_destinations
from ol_bridge.delivery.handoff import OutboxTransport, SensorDelivery
from ol_bridge.delivery.status import DestinationStats
from ol_bridge.delivery.store import Outbox

__all__ = [
    "Backoff",
    "DeliveryConfig",
    "Destination",
    "DestinationStats",
    "DrainReport",
    "Outbox",
    "OutboxTransport",
    "SensorDelivery",
    "default_outbox_path",
    "drain",
    "split_destinations",
]

# `type: datahub` in OpenLineage configurations resolves before any client is built here
register_transports()
