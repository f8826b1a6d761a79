"""The backfill loop: walk selected runs with the sensor's ``walk_run``, record progress.

Stopping is cooperative. ``should_stop`` is checked before every hand-off; once it is true
the next event is not sent, ``walk_run`` reports where the run stood before it, and that
position goes into the state. Resuming therefore continues with exactly that event: nothing
is sent twice and nothing is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import attrs
from dagster import DagsterInstance, DagsterRun
from openlineage.client.event_v2 import RunEvent

from ol_bridge.backfill.selection import RunRef
from ol_bridge.backfill.state import BackfillState
from ol_bridge.dagster import reader
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.cursor import RunProgress
from ol_bridge.dagster.tick import DeliveryFailure, Emit, walk_run
from ol_bridge.dagster.translator import OpenLineageTranslator
from ol_bridge.errors import BackfillStoppedError

#: runs looked up in one go (``reader.fetch_runs``) as the backfill walks through them
_RUNS_PER_FETCH = 500


@attrs.frozen
class RunOutcome:
    run: RunRef
    emitted: int
    #: the run's terminal event was handed off (or the run is gone)
    completed: bool


@attrs.frozen
class BackfillResult:
    state: BackfillState
    #: runs selected, and how many of them an earlier backfill had already completed
    selected: int
    already_done: int
    runs_walked: int
    emitted: int
    #: runs whose log was exhausted without a terminal event: still running in Dagster
    still_running: tuple[str, ...] = ()
    #: stopped early (signal or ``max_runs``); run the command again to resume
    stopped: bool = False
    failure: DeliveryFailure | None = None


def run_backfill(
    instance: DagsterInstance,
    runs: Sequence[RunRef],
    state: BackfillState,
    emit: Emit,
    *,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
    save: Callable[[BackfillState], None],
    on_run: Callable[[RunOutcome], None] = lambda outcome: None,
    should_stop: Callable[[], bool] = lambda: False,
    max_runs: int | None = None,
    save_interval_seconds: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> BackfillResult:
    """Emit the lineage of ``runs`` not completed in ``state``; ``save`` is called with the
    new state at most every ``save_interval_seconds`` and always before returning."""

    def guarded_emit(event: RunEvent) -> bool | None:
        if should_stop():
            raise BackfillStoppedError("backfill interrupted before this event")
        return emit(event)

    pending = [run for run in runs if run.run_id not in state.completed]
    walked = emitted = 0
    still_running: list[str] = []
    stopped = False
    failure: DeliveryFailure | None = None
    last_save = clock()
    known_runs: dict[str, DagsterRun] = {}
    for index, run in enumerate(pending):
        if should_stop() or (max_runs is not None and walked >= max_runs):
            stopped = True
            break
        if index % _RUNS_PER_FETCH == 0:  # a window at a time: few queries, bounded memory
            window = pending[index : index + _RUNS_PER_FETCH]
            known_runs = reader.fetch_runs(instance, (r.run_id for r in window))
        walk = walk_run(
            instance,
            run.run_id,
            state.in_progress.get(run.run_id, RunProgress()),
            guarded_emit,
            translator=translator,
            catalog=catalog,
            out_of_time=should_stop,
            known_runs=known_runs,
        )
        walked += 1
        emitted += walk.emitted
        if walk.progress is None:
            state = state.with_completed(run.run_id)
        else:
            state = state.with_progress(run.run_id, walk.progress)
        on_run(RunOutcome(run, walk.emitted, completed=walk.progress is None))
        if walk.failure is not None or walk.has_more:
            # has_more without a failure: ``out_of_time`` (our stop flag) ended the walk
            stopped = should_stop()
            failure = None if stopped else walk.failure
            break
        if walk.progress is not None:
            still_running.append(run.run_id)
        if clock() - last_save >= save_interval_seconds:
            save(state)
            last_save = clock()
    save(state)
    return BackfillResult(
        state=state,
        selected=len(runs),
        already_done=len(runs) - len(pending),
        runs_walked=walked,
        emitted=emitted,
        still_running=tuple(still_running),
        stopped=stopped,
        failure=failure,
    )
