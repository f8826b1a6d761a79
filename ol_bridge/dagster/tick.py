"""One sensor tick: discover runs, walk their event logs, hand events off, move the cursor.

The cursor only moves past an event once its hand-off is stored: once ``emit`` returned for
it, or, when the caller groups hand-offs (``commit``), once a commit stored it. The first
hand-off that fails ends the tick: the cursor keeps everything before it, and the next tick
starts again at that event, so a backend outage delays lineage but never loses it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

import attrs
from dagster import AssetKey, DagsterInstance, DagsterRun
from openlineage.client.event_v2 import RunEvent

from ol_bridge.dagster import reader
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.cursor import RunProgress, SensorCursor
from ol_bridge.dagster.events import fallback_event, job_run_event
from ol_bridge.dagster.moments import RunMoment, StepMoment
from ol_bridge.dagster.processor import process_records
from ol_bridge.dagster.run_info import RunInfo, load_run_info
from ol_bridge.dagster.step_jobs import step_run_events
from ol_bridge.dagster.translator import OpenLineageTranslator
from ol_bridge.delivery.handoff import HandedOff
from ol_bridge.errors import DagsterReadError

log = logging.getLogger(__name__)

#: hand one event off; returning False means the client dropped it (its ``filters``, or
#: OpenLineage disabled), so there is nothing of it to store (None: it was kept)
Emit = Callable[[RunEvent], "bool | None"]
#: store the events emitted since the last commit; how many (in order) were stored
Commit = Callable[[], HandedOff]


@attrs.frozen
class TickLimits:
    """Bounds that keep one tick well inside Dagster's sensor timeout (60 s by default)."""

    #: stop starting new work after this many seconds
    time_budget_seconds: float = 40.0
    #: runs discovered per run-status stream per tick
    max_new_runs: int = 200
    #: event-log records read per run per page
    records_per_page: int = 1000

    def __attrs_post_init__(self) -> None:
        if self.time_budget_seconds <= 0 or self.max_new_runs < 1 or self.records_per_page < 1:
            raise ValueError(f"tick limits must be positive, got {self}")


@attrs.frozen
class DeliveryFailure:
    run_id: str
    job_name: str
    event_type: str
    error: str


@attrs.frozen
class TickResult:
    cursor: SensorCursor
    emitted: int
    runs_finished: int
    #: work was left for the next tick (time box reached, or more history to read)
    has_more: bool
    failure: DeliveryFailure | None = None


def run_tick(
    instance: DagsterInstance,
    cursor: SensorCursor,
    emit: Emit,
    *,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
    limits: TickLimits = TickLimits(),
    clock: Callable[[], float] = time.monotonic,
    commit: Commit | None = None,
) -> TickResult:
    started = clock()

    def out_of_time() -> bool:
        return clock() - started > limits.time_budget_seconds

    discovered = reader.discover_runs(
        instance,
        dict(cursor.status_after),
        set(cursor.runs),
        limit=limits.max_new_runs,
        after_timestamp=cursor.start_after_timestamp,
    )
    runs: dict[str, RunProgress] = dict(cursor.runs)
    for run_id in discovered.run_ids:
        runs.setdefault(run_id, RunProgress())
    emitted = 0
    finished = 0
    has_more = discovered.has_more
    failure: DeliveryFailure | None = None
    known_runs = reader.fetch_runs(instance, runs)

    for run_id in list(runs):
        if out_of_time():
            has_more = True
            break
        walked = walk_run(
            instance,
            run_id,
            runs[run_id],
            emit,
            translator=translator,
            catalog=catalog,
            records_per_page=limits.records_per_page,
            out_of_time=out_of_time,
            known_runs=known_runs,
            commit=commit,
        )
        emitted += walked.emitted
        if walked.progress is None:
            del runs[run_id]
            finished += 1 if walked.finished else 0
        else:
            runs[run_id] = walked.progress
        if walked.failure is not None or walked.has_more:
            has_more = True
        if walked.failure is not None:
            failure = walked.failure
            break

    new_cursor = SensorCursor(
        status_after=discovered.status_after,
        runs=runs,
        start_after_timestamp=cursor.start_after_timestamp,
    )
    return TickResult(new_cursor, emitted, finished, has_more, failure)


@attrs.frozen
class RunWalk:
    #: where the run stands now; None once its terminal event was handed off (or it is gone)
    progress: RunProgress | None
    emitted: int
    finished: bool
    has_more: bool = False
    failure: DeliveryFailure | None = None


def walk_run(
    instance: DagsterInstance,
    run_id: str,
    progress: RunProgress,
    emit: Emit,
    *,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
    records_per_page: int = 1000,
    out_of_time: Callable[[], bool] = lambda: False,
    known_runs: Mapping[str, DagsterRun] | None = None,
    commit: Commit | None = None,
) -> RunWalk:
    """Hand off one run's events from ``progress`` on, page by page, until the run's log is
    exhausted, it finished, a hand-off failed, or time ran out. Used by the sensor and by
    backfills, so both produce the same events with the same ids.

    ``known_runs``: the runs fetched for the whole tick (``reader.fetch_runs``); a run
    missing from it no longer exists. Without it the run is looked up on its own.
    ``commit``: ``emit`` only keeps events; the walk commits them at the end of each page
    and reports the progress of the events stored.
    """
    dagster_run = (
        known_runs.get(run_id) if known_runs is not None else instance.get_run_by_id(run_id)
    )
    if dagster_run is None:
        log.warning("Run %s was deleted before its lineage was emitted; dropping it.", run_id)
        return RunWalk(progress=None, emitted=0, finished=False)
    info = load_run_info(instance, dagster_run)
    try:
        catalog.prefetch(upstream_asset_keys(info, catalog))
    except DagsterReadError as error:
        return RunWalk(
            progress, 0, finished=False, has_more=True, failure=_read_failure(info, error)
        )
    handed = _HandOffs(commit, progress)
    while True:
        batch = reader.read_run(instance, run_id, handed.latest.after, records_per_page)
        processed = process_records(
            handed.latest,
            batch.records,
            lambda step, after, until: reader.step_artifacts(instance, run_id, step, after, until),
        )
        for moment, progress_after in processed.moments:
            # A step's end may carry jobs of its own assets and checks before the step's
            # event; the cursor moves once all are handed off (a retry resends the same ids).
            try:
                events = build_events(info, moment, translator, catalog)
            except DagsterReadError as error:  # not the events' fault: read again next tick
                return handed.stop(_read_failure(info, error))
            for event in events:
                try:
                    kept = emit(event)
                except Exception as error:  # any transport's failure: keep it, retry later
                    return handed.stop(
                        DeliveryFailure(
                            run_id=run_id,
                            job_name=event.job.name,
                            event_type=str(event.eventType.value if event.eventType else ""),
                            error=f"{type(error).__name__}: {error}",
                        )
                    )
                if kept is not False:  # a dropped event has nothing to wait for
                    handed.emitted_one()
            handed.reached(progress_after)
        handed.reached(processed.progress)
        failure = handed.settle(run_id)
        if failure is not None:
            return RunWalk(handed.latest, handed.stored, False, has_more=True, failure=failure)
        if processed.finished:
            return RunWalk(progress=None, emitted=handed.stored, finished=True)
        if not batch.has_more:
            return RunWalk(handed.latest, handed.stored, finished=False)
        if out_of_time():
            return RunWalk(handed.latest, handed.stored, finished=False, has_more=True)


@attrs.define
class _HandOffs:
    """A walk's hand-offs: how far the run's log was handed off (``latest``), and how far
    the stored events reach. Without ``commit`` every ``emit`` that returned stored its
    event; with it, events are stored by :meth:`settle`, and only the moments whose events
    were all stored count."""

    commit: Commit | None
    #: the progress of the last moment handed off (stored, once settled)
    latest: RunProgress
    #: events stored so far
    stored: int = 0
    #: events emitted since the last settle
    pending: int = 0
    #: (events emitted since the last settle when a moment ended, the progress after it)
    marks: list[tuple[int, RunProgress]] = attrs.Factory(list)
    #: the progress of the events stored
    settled: RunProgress | None = None

    def __attrs_post_init__(self) -> None:
        self.settled = self.latest

    def emitted_one(self) -> None:
        self.pending += 1

    def reached(self, progress: RunProgress) -> None:
        """Every event up to ``progress`` was emitted."""
        self.marks.append((self.pending, progress))
        self.latest = progress

    def settle(self, run_id: str) -> DeliveryFailure | None:
        """Commit what was emitted; ``latest`` becomes the progress of the stored events."""
        result = HandedOff(self.pending) if self.commit is None else self.commit()
        for needed, progress in self.marks:
            if needed > result.count:
                break
            self.settled = progress
        assert self.settled is not None
        self.latest = self.settled
        self.stored += result.count
        self.pending = 0
        self.marks.clear()
        if result.error is None:
            return None
        return DeliveryFailure(
            run_id=run_id,
            job_name=result.job_name,
            event_type=result.event_type,
            error=f"{type(result.error).__name__}: {result.error}",
        )

    def stop(self, failure: DeliveryFailure) -> RunWalk:
        """End the walk at ``failure``: what was emitted before it is committed first (a
        failed commit is the failure reported then, being the earlier event)."""
        failed = self.settle(failure.run_id)
        return RunWalk(
            self.latest, self.stored, finished=False, has_more=True, failure=failed or failure
        )


def upstream_asset_keys(info: RunInfo, catalog: AssetCatalog) -> set[AssetKey]:
    """Assets a run's steps may read: what events name from their last materialization."""
    keys: set[AssetKey] = set()
    for step in info.steps.values():
        keys.update(step.input_assets)
        if step.checked_asset is not None:
            keys.add(step.checked_asset)
        for key in step.output_assets:
            description = catalog.describe(key)
            keys.update(description.parent_keys if description is not None else ())
    return keys


def _read_failure(info: RunInfo, error: DagsterReadError) -> DeliveryFailure:
    return DeliveryFailure(
        run_id=info.run_id, job_name=info.job_name, event_type="next", error=str(error)
    )


def build_events(
    info: RunInfo,
    moment: RunMoment | StepMoment,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
) -> list[RunEvent]:
    """The moment's events; if building them fails, one minimal event that says why.

    Building runs user code (translator overrides) over user data (metadata of any shape),
    so one odd value must not stop this run's lineage, nor every later run's, forever.
    """
    try:
        if isinstance(moment, RunMoment):
            return [job_run_event(info, moment, translator, catalog)]
        return step_run_events(info, moment, translator, catalog)
    except DagsterReadError:  # the storage, not the events: the walk stops and retries
        raise
    except Exception as error:  # not a skip: a degraded event goes out and the log says why
        log.exception(
            "Could not build the %s event of run %s (%s); sending it without lineage, with "
            "an extractionError facet.",
            moment.transition.value,
            info.run_id,
            getattr(moment, "step_key", info.job_name),
        )
        return [fallback_event(info, moment, translator, error)]
