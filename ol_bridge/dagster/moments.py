"""Lineage moments: the points of a Dagster run that become OpenLineage events.

The processor (``processor.py``) turns event-log records into these; the event builder
(``events.py``) turns them into OpenLineage ``RunEvent``s. Both steps are pure.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import attrs
from dagster import DagsterEvent, EventLogRecord


class Transition(enum.Enum):
    """OpenLineage run-state transitions, named as in the spec."""

    START = "START"
    COMPLETE = "COMPLETE"
    FAIL = "FAIL"
    ABORT = "ABORT"


@attrs.frozen
class ErrorInfo:
    """What went wrong, as Dagster recorded it."""

    message: str
    stack_trace: str | None = None
    error_class: str | None = None
    #: the run's termination interrupted the work (the error, or one it arose from, is
    #: Dagster's interrupt): an ABORT, not a FAIL
    interrupted: bool = False


@attrs.frozen
class RunMoment:
    """A transition of the whole Dagster run (the parent OpenLineage job)."""

    transition: Transition
    timestamp: float
    error: ErrorInfo | None = None


@attrs.frozen
class StepMoment:
    """A transition of one attempt of one step (a child OpenLineage job)."""

    step_key: str
    attempt: int
    transition: Transition
    timestamp: float
    #: materializations, observations, handled outputs, loaded inputs and check results of
    #: this attempt, in event-log order (only on the attempt's end)
    artifacts: Sequence[DagsterEvent] = ()
    error: ErrorInfo | None = None


Moment = RunMoment | StepMoment


def dagster_event(record: EventLogRecord) -> DagsterEvent | None:
    return record.event_log_entry.dagster_event
