"""The sensor's cursor: a small serializable record of how far lineage has been handed off.

It holds, per run-status event stream, the last storage id whose runs were discovered, and
per run still in progress, the last event-log record processed plus the steps whose START
was emitted but whose end was not yet seen. Nothing here advances until the events it covers
were handed to the OpenLineage client successfully (see ``sensor.py``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import attrs

log = logging.getLogger(__name__)

CURSOR_VERSION = 1


@attrs.frozen
class OpenStep:
    """A step whose current attempt's START was emitted (or whose last attempt failed)."""

    start_storage_id: int
    attempt: int = 1
    #: False after STEP_UP_FOR_RETRY: the attempt ended, the step waits to be restarted.
    running: bool = True

    def to_json(self) -> list[Any]:
        return [self.start_storage_id, self.attempt, self.running]

    @classmethod
    def from_json(cls, raw: list[Any]) -> OpenStep:
        return cls(int(raw[0]), int(raw[1]), bool(raw[2]))


@attrs.frozen
class RunProgress:
    """How far one run's event log has been processed."""

    #: storage id of the last record of this run whose lineage was handed off
    after: int = 0
    open_steps: Mapping[str, OpenStep] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "after": self.after,
            "steps": {key: step.to_json() for key, step in self.open_steps.items()},
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RunProgress:
        steps = raw.get("steps", {})
        return cls(
            after=int(raw.get("after", 0)),
            open_steps={key: OpenStep.from_json(value) for key, value in steps.items()},
        )


@attrs.frozen
class OutboxMark:
    """The outbox a tick left events waiting in: which one (its identity), how many
    deliveries waited, since when. The next tick compares it with the outbox it opens, so
    an outbox that was deleted, emptied or replaced is noticed and its loss counted."""

    identity: str
    waiting: int = 0
    #: POSIX time the oldest of them was handed off
    oldest: float | None = None

    def to_json(self) -> list[Any]:
        return [self.identity, self.waiting, self.oldest]

    @classmethod
    def from_json(cls, raw: list[Any]) -> OutboxMark:
        return cls(str(raw[0]), int(raw[1]), None if raw[2] is None else float(raw[2]))


@attrs.frozen
class SensorCursor:
    """Everything the sensor needs to resume exactly where the last handed-off event ended."""

    #: run-status event type name (e.g. ``RUN_START``) -> last storage id discovered
    status_after: Mapping[str, int] = attrs.field(factory=dict)
    #: run id -> progress, for runs discovered but not yet finished
    runs: Mapping[str, RunProgress] = attrs.field(factory=dict)
    #: with an empty cursor: only runs whose status changed after this POSIX timestamp
    start_after_timestamp: float | None = None
    #: the outbox the last tick left events waiting in (None: nothing waited)
    outbox: OutboxMark | None = None

    def to_json(self) -> str:
        payload: dict[str, Any] = {
            "v": CURSOR_VERSION,
            "status": dict(self.status_after),
            "runs": {run_id: progress.to_json() for run_id, progress in self.runs.items()},
        }
        if self.start_after_timestamp is not None:
            payload["start_ts"] = self.start_after_timestamp
        if self.outbox is not None:
            payload["outbox"] = self.outbox.to_json()
        return json.dumps(payload, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> SensorCursor | None:
        """Parse a stored cursor; None when there is none or it cannot be read.

        An unreadable cursor (hand-edited, or from an incompatible version) is not fatal:
        the caller restarts from its configured start and says so in the log. Replaying is
        safe because run ids are deterministic, so consumers overwrite rather than duplicate.
        """
        if not text:
            return None
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict) or raw.get("v") != CURSOR_VERSION:
                raise ValueError(f"unsupported cursor version {raw.get('v')!r}")
            return cls(
                status_after={str(k): int(v) for k, v in raw.get("status", {}).items()},
                runs={
                    str(run_id): RunProgress.from_json(progress)
                    for run_id, progress in raw.get("runs", {}).items()
                },
                start_after_timestamp=raw.get("start_ts"),
                outbox=OutboxMark.from_json(raw["outbox"]) if raw.get("outbox") else None,
            )
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
            log.warning(
                "The OpenLineage sensor cursor could not be read (%s); starting again from "
                "the configured start. Events may be re-sent; their run ids are stable, so "
                "backends overwrite them instead of duplicating.",
                error,
            )
            return None
