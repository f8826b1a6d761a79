"""Turn one run's event-log records into lineage moments, tracking progress as it goes.

Pure: records in, moments out. Each moment carries the ``RunProgress`` that is true once
that moment's event has been handed off, so the sensor can stop at the first failed
hand-off and resume from exactly there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from dagster import DagsterEvent, DagsterEventType, EventLogRecord

from ol_bridge.dagster.cursor import OpenStep, RunProgress
from ol_bridge.dagster.moments import ErrorInfo, Moment, RunMoment, StepMoment, Transition

RUN_EVENT_TYPES = frozenset(
    {
        DagsterEventType.RUN_START,
        DagsterEventType.RUN_SUCCESS,
        DagsterEventType.RUN_FAILURE,
        DagsterEventType.RUN_CANCELED,
    }
)
STEP_EVENT_TYPES = frozenset(
    {
        DagsterEventType.STEP_START,
        DagsterEventType.STEP_RESTARTED,
        DagsterEventType.STEP_SUCCESS,
        DagsterEventType.STEP_FAILURE,
        DagsterEventType.STEP_UP_FOR_RETRY,
    }
)
ARTIFACT_EVENT_TYPES = frozenset(
    {
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_OBSERVATION,
        DagsterEventType.HANDLED_OUTPUT,
        DagsterEventType.LOADED_INPUT,
        DagsterEventType.ASSET_CHECK_EVALUATION,
    }
)
#: every event type the sensor reads from a run's event log
LINEAGE_EVENT_TYPES = RUN_EVENT_TYPES | STEP_EVENT_TYPES | ARTIFACT_EVENT_TYPES

_RUN_END = {
    DagsterEventType.RUN_SUCCESS: Transition.COMPLETE,
    DagsterEventType.RUN_FAILURE: Transition.FAIL,
    DagsterEventType.RUN_CANCELED: Transition.ABORT,
}

#: what Dagster records when a run's termination interrupts a step
_INTERRUPTS = frozenset({"DagsterExecutionInterruptedError", "KeyboardInterrupt"})

#: (step key, after storage id, up to storage id) -> the step's artifacts in that range
EarlierArtifacts = Callable[[str, int, int], Sequence[DagsterEvent]]


@attrs.frozen
class ProcessedRecords:
    #: moments in event-log order, each with the progress that holds once it is handed off
    moments: Sequence[tuple[Moment, RunProgress]]
    #: progress after every record of the batch (valid once every moment is handed off)
    progress: RunProgress
    #: the run reached a terminal status within the batch
    finished: bool


def process_records(
    progress: RunProgress,
    records: Sequence[EventLogRecord],
    earlier_artifacts: EarlierArtifacts,
) -> ProcessedRecords:
    """Walk ``records`` (this run's, after ``progress.after``, in storage order)."""
    window_start = progress.after
    open_steps: dict[str, OpenStep] = dict(progress.open_steps)
    buffered: dict[str, list[DagsterEvent]] = defaultdict(list)
    moments: list[tuple[Moment, RunProgress]] = []
    after = progress.after

    def snapshot(storage_id: int) -> RunProgress:
        return RunProgress(after=storage_id, open_steps=dict(open_steps))

    def artifacts_of(step_key: str, step: OpenStep, until: int) -> list[DagsterEvent]:
        collected: list[DagsterEvent] = []
        if step.start_storage_id < window_start:
            # The attempt began in an earlier tick: its first artifacts are behind us.
            collected.extend(earlier_artifacts(step_key, step.start_storage_id, window_start))
        collected.extend(buffered.pop(step_key, []))
        return collected

    for record in records:
        after = record.storage_id
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        event_type = event.event_type
        timestamp = record.timestamp
        step_key = event.step_key

        if event_type in ARTIFACT_EVENT_TYPES:
            if step_key is not None:
                buffered[step_key].append(event)
            continue

        if event_type == DagsterEventType.RUN_START:
            moments.append((RunMoment(Transition.START, timestamp), snapshot(after)))
        elif event_type in _RUN_END:
            transition = _RUN_END[event_type]
            error = run_error(event, record) if transition is Transition.FAIL else None
            # Steps still running when the run ended were cut short with it.
            for key, step in sorted(open_steps.items()):
                if step.running:
                    end = Transition.ABORT if transition is Transition.ABORT else Transition.FAIL
                    moment = StepMoment(
                        key, step.attempt, end, timestamp, artifacts_of(key, step, after)
                    )
                    del open_steps[key]
                    moments.append((moment, snapshot(after - 1)))
            open_steps.clear()
            moments.append((RunMoment(transition, timestamp, error), snapshot(after)))
            return ProcessedRecords(moments, snapshot(after), finished=True)
        elif step_key is not None and event_type in STEP_EVENT_TYPES:
            step_moment = _step_transition(
                event, step_key, after, timestamp, open_steps, artifacts_of
            )
            moments.append((step_moment, snapshot(after)))

    return ProcessedRecords(moments, snapshot(after), finished=False)


def _step_transition(
    event: DagsterEvent,
    step_key: str,
    storage_id: int,
    timestamp: float,
    open_steps: dict[str, OpenStep],
    artifacts_of: Callable[[str, OpenStep, int], list[DagsterEvent]],
) -> StepMoment:
    event_type = event.event_type
    current = open_steps.get(step_key)
    if event_type in (DagsterEventType.STEP_START, DagsterEventType.STEP_RESTARTED):
        attempt = 1 if current is None else current.attempt + (0 if current.running else 1)
        open_steps[step_key] = OpenStep(storage_id, attempt, running=True)
        return StepMoment(step_key, attempt, Transition.START, timestamp)
    if current is None or not current.running:
        # An end without a start we know of: the START was before the sensor's start point.
        current = OpenStep(storage_id, 1 if current is None else current.attempt + 1)
    artifacts = artifacts_of(step_key, current, storage_id)
    if event_type == DagsterEventType.STEP_SUCCESS:
        del_key(open_steps, step_key)
        return StepMoment(step_key, current.attempt, Transition.COMPLETE, timestamp, artifacts)
    error = step_error(event)
    if event_type == DagsterEventType.STEP_UP_FOR_RETRY:
        open_steps[step_key] = attrs.evolve(current, running=False)
    else:
        del_key(open_steps, step_key)
    # a step cut short by the run's termination ends as the run does: ABORT
    end = Transition.ABORT if error is not None and error.interrupted else Transition.FAIL
    return StepMoment(step_key, current.attempt, end, timestamp, artifacts, error)


def del_key(mapping: dict[str, OpenStep], key: str) -> None:
    mapping.pop(key, None)


def step_error(event: DagsterEvent) -> ErrorInfo | None:
    data = event.event_specific_data
    error = getattr(data, "error", None)
    if error is None:
        return ErrorInfo(message=event.message or f"step {event.step_key} failed")
    return _from_error(error)


def run_error(event: DagsterEvent, record: EventLogRecord) -> ErrorInfo:
    data = event.event_specific_data
    message = event.message or record.event_log_entry.user_message or "run failed"
    error = getattr(data, "error", None)
    if error is None:
        first_step_failure = getattr(data, "first_step_failure_event", None)
        error = (
            getattr(first_step_failure.event_specific_data, "error", None)
            if first_step_failure
            else None
        )
    if error is None:
        return ErrorInfo(message=message)
    cause = _from_error(error)
    return ErrorInfo(
        message=f"{message} {cause.message}",
        stack_trace=cause.stack_trace,
        error_class=cause.error_class,
    )


def _from_error(error: Any) -> ErrorInfo:
    """The user's own exception, not Dagster's wrapper: ``ValueError: the warehouse is on fire``.

    Dagster wraps user code errors (``DagsterExecutionStepExecutionError``,
    ``RetryRequestedFromPolicy``) and chains the original as ``cause``; the full chain stays in
    the stack trace.
    """
    root = error
    while getattr(root, "cause", None) is not None:
        root = root.cause
    class_name = root.cls_name or "Error"
    message = root.message.strip()
    if not message.startswith(class_name):
        message = f"{class_name}: {message}"
    return ErrorInfo(
        message=message,
        stack_trace=error.to_string(),
        error_class=class_name,
        interrupted=_interrupted(error),
    )


def _interrupted(error: Any) -> bool:
    """Whether Dagster's interrupt is in the error's chain: the error itself, its cause, or
    the error it was raised while handling (dagster-dbt's ``TimeoutExpired`` when dbt does
    not stop within its termination timeout after the interrupt)."""
    if error is None:
        return False
    return (
        error.cls_name in _INTERRUPTS
        or _interrupted(getattr(error, "cause", None))
        or _interrupted(getattr(error, "context", None))
    )
