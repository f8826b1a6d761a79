"""Finding and reading the dbt artifacts a Dagster run left: ``manifest.json`` and
``run_results.json`` of each dbt invocation of a step.

dagster-dbt runs every dbt command with its own target folder,
``<project>/<target>/<op>-<run id[:7]>-<random>/``, and dbt writes the invocation's manifest
and results there. The folder is found under the target directories the sensor knows (its
own code location's ``DbtProject``s) and, for any code location, under the one the run's
own log names: dagster-dbt logs ``Copying `<project>/target/partial_parse.msgpack` to
`<run folder>/partial_parse.msgpack``` when the project was parsed beforehand (the default
with ``DbtProject.prepare_if_dev()`` and ``dagster-dbt project prepare-and-package``), and a
failed dbt command's error names ``<run folder>/dbt.log``. The folders are readable where
the run's disk is (``dagster dev``, one container, a shared volume), not from a run pod of
its own: then nothing is found, and callers say so.

Each invocation's files are read once (bounded cache): an invocation's results never
change once its step has ended, which is when they are read.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
from dagster import DagsterInstance

from ol_bridge.dagster import dbt

log = logging.getLogger(__name__)

#: dagster-dbt's log line when it seeds a run's target folder with the partial parse file
_COPIED = re.compile(r"to `(?P<folder>[^`]+)[/\\]partial_parse\.msgpack`")
#: a failed dbt command's error message (``DagsterDbtCliRuntimeError``)
_DEBUG_LOG = re.compile(r"dbt debug log: (?P<folder>\S+)[/\\]dbt\.log")
#: manifests kept in memory: one per dbt invocation, possibly large
_MAX_INVOCATIONS = 8


@attrs.frozen
class NodeResult:
    """One node's line of ``run_results.json``."""

    status: str
    message: str | None = None


@attrs.frozen
class DbtInvocation:
    """One dbt command of a run: its folder, manifest and per-node results."""

    folder: Path
    invocation_id: str
    manifest: Mapping[str, Any] = attrs.field(repr=False)
    results: Mapping[str, NodeResult] = attrs.field(factory=dict, repr=False)
    #: ``metadata.generated_at`` of its run_results.json (ISO 8601)
    generated_at: str = ""


def folders_named_in(messages: Iterable[str]) -> list[Path]:
    """The dbt run folders that log or error messages name. Pure."""
    found: list[Path] = []
    for message in messages:
        for pattern in (_COPIED, _DEBUG_LOG):
            for match in pattern.finditer(message):
                folder = Path(match.group("folder"))
                if folder not in found:
                    found.append(folder)
    return found


#: invocation id -> its artifacts
_INVOCATIONS: OrderedDict[str, DbtInvocation] = OrderedDict()
#: invocations looked for and not found (their step had ended: they will not appear)
_MISSING: OrderedDict[str, bool] = OrderedDict()
#: run id -> target directories its log names
_RUN_TARGETS: OrderedDict[str, tuple[Path, ...]] = OrderedDict()


def forget_read_artifacts() -> None:
    """Drop what was read (tests: make the next reader find the files by itself)."""
    dbt.forget_read_results()
    _INVOCATIONS.clear()
    _MISSING.clear()
    _RUN_TARGETS.clear()


class DbtRunArtifacts:
    """Finds a run's dbt invocations on disk; ``known_target_dirs`` are the target folders
    of the dbt projects in the sensor's own definitions."""

    def __init__(
        self,
        instance: DagsterInstance | None,
        known_target_dirs: Callable[[], Iterable[Path]] = list,
    ) -> None:
        self._instance = instance
        self._known_target_dirs = known_target_dirs

    def invocation(self, run_id: str, invocation_id: str) -> DbtInvocation | None:
        """The dbt invocation ``invocation_id`` of Dagster run ``run_id``, if readable."""
        if invocation_id in _INVOCATIONS:
            return _INVOCATIONS[invocation_id]
        if invocation_id in _MISSING:
            return None
        for found in self.run_invocations(run_id):
            if found.invocation_id == invocation_id:
                return found
        _remember(_MISSING, invocation_id, True, 256)
        return None

    def step_invocations(
        self, run_id: str, op_name: str, messages: Iterable[str] = ()
    ) -> list[DbtInvocation]:
        """The invocations of one op of the run, oldest first (a retried step has several);
        ``messages`` (e.g. the step's error) may name its folder."""
        extra = [folder.parent for folder in folders_named_in(messages)]
        return [
            found
            for found in self.run_invocations(run_id, extra)
            if found.folder.name.startswith(f"{op_name}-")
        ]

    def run_invocations(
        self, run_id: str, extra_targets: Iterable[Path] = ()
    ) -> list[DbtInvocation]:
        """Every readable dbt invocation of the run, oldest first."""
        targets = [*self._known_target_dirs(), *extra_targets]
        found = _read_invocations(targets, run_id)
        if not found:
            found = _read_invocations(self._targets_in_log(run_id), run_id)
        return sorted(found, key=lambda inv: inv.generated_at)

    def _targets_in_log(self, run_id: str) -> tuple[Path, ...]:
        """Target folders named in the run's own log, read once per run."""
        if run_id in _RUN_TARGETS:
            return _RUN_TARGETS[run_id]
        messages: list[str] = []
        if self._instance is not None:
            cursor = None
            while True:
                connection = self._instance.get_records_for_run(run_id, cursor=cursor, limit=1000)
                for record in connection.records:
                    entry = record.event_log_entry
                    messages.append(entry.user_message or "")
                    event = entry.dagster_event
                    error = getattr(event.event_specific_data, "error", None) if event else None
                    if error is not None:
                        messages.append(error.to_string())
                if not connection.has_more or not connection.records:
                    break
                cursor = connection.cursor
        targets = tuple(dict.fromkeys(folder.parent for folder in folders_named_in(messages)))
        _remember(_RUN_TARGETS, run_id, targets, 256)
        return targets


def _read_invocations(targets: Iterable[Path], run_id: str) -> list[DbtInvocation]:
    found: dict[str, DbtInvocation] = {}
    for target in dict.fromkeys(targets):
        if not target.is_dir():
            continue
        for results_path in sorted(target.glob(f"*-{run_id[:7]}-*/run_results.json")):
            invocation = _read(results_path.parent)
            if invocation is not None:
                found[invocation.invocation_id] = invocation
    return list(found.values())


def _read(folder: Path) -> DbtInvocation | None:
    """An invocation's folder, read once per invocation id."""
    try:
        results = json.loads((folder / "run_results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log.warning("Could not read dbt run results in %s (%s).", folder, error)
        return None
    metadata = results.get("metadata") if isinstance(results, Mapping) else None
    invocation_id = metadata.get("invocation_id") if isinstance(metadata, Mapping) else None
    if not isinstance(invocation_id, str):
        return None
    cached = _INVOCATIONS.get(invocation_id)
    if cached is not None:
        return cached
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log.warning("Could not read the dbt manifest in %s (%s).", folder, error)
        return None
    invocation = DbtInvocation(
        folder=folder,
        invocation_id=invocation_id,
        manifest=manifest if isinstance(manifest, Mapping) else {},
        results=_node_results(results.get("results")),
        generated_at=str(metadata.get("generated_at") or "") if metadata else "",
    )
    _remember(_INVOCATIONS, invocation_id, invocation, _MAX_INVOCATIONS)
    return invocation


def _node_results(results: Any) -> dict[str, NodeResult]:
    found: dict[str, NodeResult] = {}
    for result in results if isinstance(results, list) else ():
        if isinstance(result, Mapping) and isinstance(result.get("unique_id"), str):
            message = result.get("message")
            found[result["unique_id"]] = NodeResult(
                status=str(result.get("status") or ""),
                message=message if isinstance(message, str) and message else None,
            )
    return found


def _remember(cache: OrderedDict[str, Any], key: str, value: Any, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)
