"""Backfill: emit lineage for runs that happened before the sensor was switched on.

The backfill walks each selected run with the sensor's own ``walk_run``, so it produces the
same events with the same run ids; re-sending a run the sensor already emitted overwrites
rather than duplicates in DataHub and Marquez.
"""

from __future__ import annotations

from ol_bridge.backfill.runner import BackfillResult, RunOutcome, run_backfill
from ol_bridge.backfill.selection import RunRef, RunSelection, select_runs
from ol_bridge.backfill.state import BackfillState, load_state, save_state

__all__ = [
    "BackfillResult",
    "BackfillState",
    "RunOutcome",
    "RunRef",
    "RunSelection",
    "load_state",
    "run_backfill",
    "save_state",
    "select_runs",
]
