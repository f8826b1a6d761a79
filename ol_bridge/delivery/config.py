"""``DeliveryConfig``: where the outbox lives, how big it may grow, how delivery retries.

Where the outbox lives: ``path`` (a SQLite file) > ``url`` (a database) > the Dagster
instance's own PostgreSQL database > ``<instance home>/ol-bridge/outbox.sqlite`` >
``$DAGSTER_HOME/ol-bridge/outbox.sqlite`` > ``./.ol-bridge/outbox.sqlite``; the rule and
its reasons are in ``location.py``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from ol_bridge.errors import ConfigError
from ol_bridge.settings import field_names, reject_unknown_keys

OnFull = Literal["pause", "drop_oldest"]
Synchronous = Literal["NORMAL", "FULL"]

OUTBOX_FILE = Path("ol-bridge") / "outbox.sqlite"


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ConfigError(f"delivery option {attribute.name} must be positive, got {value!r}")


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ConfigError(f"delivery option {attribute.name} must be 0 or more, got {value!r}")


def _one_of(*choices: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in choices:
            raise ConfigError(
                f"delivery option {attribute.name} must be one of {', '.join(choices)}, "
                f"got {value!r}"
            )

    return check


@attrs.frozen
class DeliveryConfig:
    """How the sensor hands events off and delivers them. See ``docs/delivery.md``."""

    #: False: emit straight through the OpenLineage client, as without ol-bridge's outbox
    #: (the cursor then waits on a failing backend, and a fan-out re-sends to all).
    outbox: bool = True
    #: the outbox as a SQLite file; None: see the module docstring
    path: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    #: the outbox in a database (SQLAlchemy URL, e.g. ``postgresql://user@host/db``);
    #: None: the instance's own PostgreSQL database, or a file (see the module docstring)
    url: str | None = None
    #: seconds of each tick's time box reserved for delivery (the tick's walk stops earlier)
    drain_seconds: float = attrs.field(default=10.0, validator=_positive)
    #: events sent to one destination before moving to the next (round robin)
    batch_size: int = attrs.field(default=500, validator=_positive)
    #: events kept per destination; past it, ``on_full`` decides
    max_events_per_destination: int = attrs.field(default=100_000, validator=_positive)
    #: fill ratio from which every tick logs a warning
    warn_ratio: float = attrs.field(default=0.8, validator=_positive)
    #: "pause": stop taking new events (the sensor cursor waits, Dagster's event log keeps
    #: them; nothing is lost); "drop_oldest": drop that destination's oldest event, counted.
    on_full: OnFull = attrs.field(default="pause", validator=_one_of("pause", "drop_oldest"))
    #: first retry delay after a failure; doubles per consecutive failure
    backoff_seconds: float = attrs.field(default=5.0, validator=_positive)
    max_backoff_seconds: float = attrs.field(default=300.0, validator=_positive)
    #: An event handed off again while it still waits (a tick replayed after a crash) is
    #: always dropped as a duplicate. Delivered events are remembered (their key only) this
    #: many seconds more, so a second sensor over the same instance, a backfill overlapping
    #: the sensor, or a replica replaying a tick does not deliver them again; 0 forgets at
    #: once, so that a deliberate replay (a reset cursor) sends everything again.
    dedup_seconds: float = attrs.field(default=86_400.0, validator=_not_negative)
    #: SQLite ``synchronous``: NORMAL survives a killed process, FULL also a power cut
    synchronous: Synchronous = attrs.field(default="NORMAL", validator=_one_of("NORMAL", "FULL"))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DeliveryConfig:
        reject_unknown_keys(raw, field_names(cls), "the delivery settings")
        try:
            return cls(**raw)
        except TypeError as error:
            raise ConfigError(f"invalid delivery options: {error}") from error

    def __attrs_post_init__(self) -> None:
        if self.path is not None and self.url is not None:
            raise ConfigError(
                "delivery options path and url both say where the outbox is; give one."
            )

    def outbox_path(self, instance_home: str | None = None) -> Path:
        """The outbox file for a sensor whose Dagster instance lives in ``instance_home``,
        when the outbox is a file (``location.locate`` decides)."""
        if self.path is not None:
            return self.path
        if instance_home:
            return Path(instance_home) / OUTBOX_FILE
        return default_outbox_path()


def default_outbox_path() -> Path:
    """``$DAGSTER_HOME/ol-bridge/outbox.sqlite``, else ``./.ol-bridge/outbox.sqlite``."""
    home = os.environ.get("DAGSTER_HOME")
    if home:
        return Path(home) / OUTBOX_FILE
    return Path(".ol-bridge") / "outbox.sqlite"
