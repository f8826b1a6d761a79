"""The backfill's state file: which runs are done, and how far the interrupted one got.

A small JSON document, rewritten atomically (temporary file + rename) so an interruption
never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ol_bridge.dagster.cursor import RunProgress
from ol_bridge.errors import BackfillStateError

STATE_VERSION = 1


@attrs.frozen
class BackfillState:
    #: runs whose lineage was handed off completely
    completed: frozenset[str] = frozenset()
    #: runs started but not finished: interrupted part-way, or still running in Dagster
    in_progress: Mapping[str, RunProgress] = attrs.field(factory=dict)

    def to_json(self) -> str:
        payload = {
            "v": STATE_VERSION,
            "completed": sorted(self.completed),
            "in_progress": {
                run_id: progress.to_json() for run_id, progress in sorted(self.in_progress.items())
            },
        }
        return json.dumps(payload, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "the backfill state") -> BackfillState:
        try:
            raw: Any = json.loads(text)
            if not isinstance(raw, dict) or raw.get("v") != STATE_VERSION:
                raise ValueError(f"unsupported state version {raw.get('v')!r}")
            return cls(
                completed=frozenset(str(run_id) for run_id in raw.get("completed", [])),
                in_progress={
                    str(run_id): RunProgress.from_json(progress)
                    for run_id, progress in raw.get("in_progress", {}).items()
                },
            )
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
            raise BackfillStateError(
                f"{source} cannot be read ({error}). Delete it (or pass --restart) to start "
                "the backfill again; events already sent are re-sent with the same run ids, "
                "so backends overwrite them instead of duplicating."
            ) from error

    def with_completed(self, run_id: str) -> BackfillState:
        remaining = {key: value for key, value in self.in_progress.items() if key != run_id}
        return BackfillState(self.completed | {run_id}, remaining)

    def with_progress(self, run_id: str, progress: RunProgress) -> BackfillState:
        return BackfillState(self.completed, {**self.in_progress, run_id: progress})


def load_state(path: Path) -> BackfillState:
    """The state at ``path``; an empty state when the file does not exist yet."""
    if not path.exists():
        return BackfillState()
    return BackfillState.from_json(path.read_text(encoding="utf-8"), source=str(path))


def save_state(path: Path, state: BackfillState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(state.to_json(), encoding="utf-8")
    os.replace(temporary, path)
