"""Where converted DataHub metadata goes: DataHub Lite, GMS over REST, Kafka, or a file.

Every sink implements :class:`MetadataSink`; :func:`ol_bridge.datahub.transport.open_sink`
picks one from a :class:`~ol_bridge.datahub.DatahubConfig`. The sink modules
import their acryl-datahub emitter lazily, so a missing optional extra (``kafka``) only
breaks the sink that needs it.
"""

from __future__ import annotations

from ol_bridge.datahub.sinks.base import MetadataSink, Proposal

__all__ = ["MetadataSink", "Proposal"]
