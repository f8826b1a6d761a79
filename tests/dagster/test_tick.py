"""The tick's time box and batch bounds, with a controlled clock."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any

from openlineage.client.event_v2 import RunEvent

from ol_bridge.dagster import OpenLineageTranslator, TickLimits, reader
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.cursor import RunProgress, SensorCursor
from ol_bridge.dagster.tick import TickResult, run_tick
from tests.dagster import jobs


def tick_once(
    instance: Any,
    cursor: SensorCursor,
    emit: Callable[[RunEvent], None],
    limits: TickLimits,
    clock: Callable[[], float] = time.monotonic,
) -> TickResult:
    return run_tick(
        instance,
        cursor,
        emit,
        translator=OpenLineageTranslator(),
        catalog=AssetCatalog(),
        limits=limits,
        clock=clock,
    )


def test_time_box_leaves_work_for_the_next_tick(instance) -> None:
    for _ in range(3):
        jobs.failing_job.execute_in_process(instance=instance, raise_on_error=False)
    emitted: list[RunEvent] = []
    # Every clock read advances 1 s; the budget allows a couple of reads per tick.
    ticks_clock = itertools.count()
    limits = TickLimits(time_budget_seconds=1.5, max_new_runs=1)
    cursor = SensorCursor()
    results = []
    for _ in range(20):
        result = tick_once(
            instance, cursor, emitted.append, limits, clock=lambda: float(next(ticks_clock))
        )
        results.append(result)
        cursor = result.cursor
        if not result.has_more and not result.emitted:
            break
    assert len(emitted) == 12  # 3 runs x (run START/FAIL + step START/FAIL)
    assert sum(1 for r in results if r.has_more) >= 2  # it took several bounded ticks
    assert all(r.emitted <= 8 for r in results)
    assert cursor.runs == {}


def test_a_run_deleted_while_in_progress_is_dropped_and_the_others_go_on(instance, caplog) -> None:
    kept = jobs.failing_job.execute_in_process(instance=instance, raise_on_error=False).run_id
    gone = jobs.failing_job.execute_in_process(instance=instance, raise_on_error=False).run_id
    # both were seen by an earlier tick, with nothing emitted yet
    cursor = SensorCursor(runs={kept: RunProgress(), gone: RunProgress()})
    instance.delete_run(gone)
    emitted: list[RunEvent] = []
    result = tick_once(instance, cursor, emitted.append, TickLimits(max_new_runs=1))
    assert {e.run.runId for e in emitted if e.job.name == "failing_job"} == {kept}
    assert gone not in result.cursor.runs
    assert f"Run {gone} was deleted before its lineage was emitted" in caplog.text


def test_runs_are_fetched_in_chunks_and_missing_ones_left_out(instance) -> None:
    real = [
        jobs.failing_job.execute_in_process(instance=instance, raise_on_error=False).run_id
        for _ in range(2)
    ]
    # more ids than one query takes: the chunks must still find both real runs
    missing = [str(uuid.uuid4()) for _ in range(1200)]
    found = reader.fetch_runs(instance, [*missing[:700], real[0], *missing[700:], real[1]])
    assert sorted(found) == sorted(real)
    assert all(found[run_id].run_id == run_id for run_id in real)


def test_a_storage_error_while_building_retries_the_tick_instead_of_degrading_events(
    instance, monkeypatch
) -> None:
    """The upstream materializations are read before any event is built; when that read
    fails the run's events wait for the next tick, which sends them with their lineage."""
    defs = jobs.definitions()
    defs.resolve_job_def("asset_job").execute_in_process(instance=instance)
    real = instance.get_asset_records
    failures = iter([OSError("could not connect to server: Connection refused")])

    def flaky_read(*args: Any, **kwargs: Any) -> Any:
        error = next(failures, None)
        if error is not None:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(instance, "get_asset_records", flaky_read)
    emitted: list[RunEvent] = []
    first = run_tick(
        instance,
        SensorCursor(),
        emitted.append,
        translator=OpenLineageTranslator(),
        catalog=AssetCatalog(defs.get_repository_def(), instance),
    )
    assert first.failure is not None and "OSError: could not connect" in first.failure.error
    assert emitted == [] and first.has_more
    second = run_tick(
        instance,
        first.cursor,
        emitted.append,
        translator=OpenLineageTranslator(),
        catalog=AssetCatalog(defs.get_repository_def(), instance),
    )
    assert second.failure is None and second.cursor.runs == {}
    assert not any("extractionError" in (e.run.facets or {}) for e in emitted)
    totals = [e for e in emitted if e.job.name.endswith("customer_totals") and e.inputs]
    assert {d.name for d in totals[-1].inputs} >= {
        "analytics.main.customers",
        "analytics.main.orders",
    }
