"""One hierarchy for every error ol-bridge raises on purpose.

Each message says what was wrong and what to do about it.
"""

from __future__ import annotations


class OlBridgeError(Exception):
    """Base class of all ol-bridge errors."""


class ConfigError(OlBridgeError):
    """A configuration value is missing, unknown or malformed."""


class SqlLineageError(OlBridgeError):
    """SQL text could not be parsed into table or column lineage."""


class NamingError(OlBridgeError):
    """An asset key or metadata value cannot be turned into a dataset name."""


class ConversionError(OlBridgeError):
    """An OpenLineage event cannot be converted to DataHub metadata."""


class EventValidationError(OlBridgeError):
    """An OpenLineage event does not validate against the OpenLineage JSON Schema."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        #: JSON path of the offending field, e.g. ``run.runId``.
        self.path = path


class DagsterReadError(OlBridgeError):
    """Dagster's storage could not be read while a tick was building events (a passing
    database error): the tick stops before the event and the next tick reads again."""


class DeliveryError(OlBridgeError):
    """An event could not be handed to a destination."""


class FacetValueError(OlBridgeError, ValueError):
    """A custom ol-bridge facet was given a value its JSON Schema forbids.

    Subclasses ``ValueError`` because it is raised from attrs field validators, where
    ``ValueError`` is the convention callers already catch.
    """


class LitePatchError(DeliveryError):
    """A PATCH proposal cannot be applied to the aspect stored in DataHub Lite."""


class EventInputError(OlBridgeError):
    """A file or stream given to ``ol-bridge convert`` does not hold OpenLineage events."""


class OutboxFullError(DeliveryError):
    """The delivery outbox reached its size cap for a destination and takes no new events."""


class DestinationRejectedError(DeliveryError):
    """A destination refused an event for good (e.g. HTTP 400); retrying cannot help."""


class BackfillStateError(OlBridgeError):
    """The state file of ``ol-bridge backfill`` cannot be read."""


class BackfillStoppedError(OlBridgeError):
    """A backfill was asked to stop (signal); raised before an event is handed off so the
    run's position before that event is what gets saved."""


class DestinationUnavailableError(DeliveryError):
    """``ol-bridge serve`` could not store or relay an event because a destination is down;
    the event was not accepted (503) and the producer should send it again later."""

    def __init__(self, destination: str, message: str) -> None:
        super().__init__(message)
        #: ``datahub`` or the name of the relay destination that failed.
        self.destination = destination


class LineageRenderError(OlBridgeError):
    """A lineage picture cannot be rendered (e.g. PNG without Graphviz)."""


__all__ = [
    "BackfillStateError",
    "BackfillStoppedError",
    "ConfigError",
    "ConversionError",
    "DagsterReadError",
    "DeliveryError",
    "DestinationRejectedError",
    "DestinationUnavailableError",
    "EventInputError",
    "EventValidationError",
    "FacetValueError",
    "LineageRenderError",
    "LitePatchError",
    "NamingError",
    "OlBridgeError",
    "OutboxFullError",
    "SqlLineageError",
]
