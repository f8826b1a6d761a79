"""The tick's time box and batch bounds, with a controlled clock."""

from __future__ import annotations

import itertools

from ol_bridge.dagster import OpenLineageTranslator, TickLimits
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.cursor import SensorCursor
from ol_bridge.dagster.tick import run_tick
from tests.dagster import jobs


def test_time_box_leaves_work_for_the_next_tick(instance) -> None:
    for _ in range(3):
        jobs.failing_job.execute_in_process(instance=instance, raise_on_error=False)
    emitted: list[object] = []
    # Every clock read advances 1 s; the budget allows a couple of reads per tick.
    ticks_clock = itertools.count()
    limits = TickLimits(time_budget_seconds=1.5, max_new_runs=1)
    cursor = SensorCursor()
    results = []
    for _ in range(20):
        result = run_tick(
            instance,
            cursor,
            emitted.append,
            translator=OpenLineageTranslator(),
            catalog=AssetCatalog(),
            limits=limits,
            clock=lambda: float(next(ticks_clock)),
        )
        results.append(result)
        cursor = result.cursor
        if not result.has_more and not result.emitted:
            break
    assert len(emitted) == 12  # 3 runs x (run START/FAIL + step START/FAIL)
    assert sum(1 for r in results if r.has_more) >= 2  # it took several bounded ticks
    assert all(r.emitted <= 8 for r in results)
    assert cursor.runs == {}
