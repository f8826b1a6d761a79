"""The one small protocol every sink implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ol_bridge.datahub.aspects import Proposal


@runtime_checkable
class MetadataSink(Protocol):
    """Writes DataHub metadata change proposals somewhere.

    ``write`` hands a batch over; when it returns without raising, the batch is either
    stored or queued in the sink; ``flush`` blocks until queued proposals are stored
    (or raises :class:`~ol_bridge.errors.DeliveryError`); ``close`` flushes and frees
    connections. Sinks are not thread-safe.
    """

    def write(self, mcps: Sequence[Proposal]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


__all__ = ["MetadataSink", "Proposal"]
