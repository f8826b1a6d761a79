"""What the sensor knows about a run and its steps, read from run storage only.

Job structure comes from the run's job and execution-plan snapshots, so runs of every code
location are described without loading their definitions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import attrs
from dagster import AssetKey, DagsterInstance, DagsterRun

#: Dagster's run tags that carry lineage-relevant context
PARTITION_TAG = "dagster/partition"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
BACKFILL_TAG = "dagster/backfill"
SCHEDULE_TAG = "dagster/schedule_name"
SENSOR_TAG = "dagster/sensor_name"
#: a re-execution's parent and root runs, as tags (the UI's re-executions, run retries);
#: ``execute_job(reexecution_options=...)`` records them on the run itself instead
PARENT_RUN_TAG = "dagster/parent_run_id"
ROOT_RUN_TAG = "dagster/root_run_id"

_DYNAMIC_SUFFIX = re.compile(r"\[[^\]]*\]")


@attrs.frozen
class StepInfo:
    """One step of the run's execution plan, with the op definition behind it."""

    step_key: str
    #: node handle path, e.g. ``outer.inner.my_op`` (dynamic mapping keys removed)
    node_handle: str
    op_name: str
    description: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict)
    #: assets this step materializes (from the plan; the event log says which it did)
    output_assets: Sequence[AssetKey] = ()
    #: assets produced upstream in this run that this step reads
    input_assets: Sequence[AssetKey] = ()
    #: asset whose checks this step evaluates, if it is a check step
    checked_asset: AssetKey | None = None
    input_metadata: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    output_metadata: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    #: its op can materialize several assets (``@multi_asset``, ``@dbt_assets``), even when a
    #: subset run selects one: each asset it materializes gets a job of its own
    multi_asset: bool = False
    #: an op inside a graph-backed asset that materializes no asset itself: what it hands
    #: to the next op is the asset's internal plumbing, not a dataset
    inside_graph_asset: bool = False

    @property
    def is_asset_step(self) -> bool:
        return bool(self.output_assets)

    @property
    def is_check_step(self) -> bool:
        """Evaluates asset checks and materializes nothing (``@asset_check``)."""
        return self.checked_asset is not None and not self.output_assets


@attrs.frozen
class RunInfo:
    """A Dagster run as lineage needs it."""

    run_id: str
    job_name: str
    tags: Mapping[str, str] = attrs.field(factory=dict)
    code_location: str | None = None
    repository_name: str | None = None
    job_description: str | None = None
    job_tags: Mapping[str, str] = attrs.field(factory=dict)
    steps: Mapping[str, StepInfo] = attrs.field(factory=dict)
    #: the run this one re-executes (from failure, selected steps, a run retry)
    parent_run_id: str | None = None
    #: the first run of the re-execution chain this run belongs to
    root_run_id: str | None = None

    @property
    def partition_key(self) -> str | None:
        return self.tags.get(PARTITION_TAG)

    @property
    def partition_range(self) -> tuple[str, str] | None:
        start = self.tags.get(PARTITION_RANGE_START_TAG)
        end = self.tags.get(PARTITION_RANGE_END_TAG)
        return (start, end) if start and end else None

    @property
    def backfill_id(self) -> str | None:
        return self.tags.get(BACKFILL_TAG)

    @property
    def schedule_name(self) -> str | None:
        return self.tags.get(SCHEDULE_TAG)

    @property
    def sensor_name(self) -> str | None:
        return self.tags.get(SENSOR_TAG)

    def step(self, step_key: str) -> StepInfo:
        """The step behind a step key, including resolved dynamic keys like ``op[3]``."""
        found = self.steps.get(step_key) or self.steps.get(node_handle_of(step_key))
        if found is not None:
            return attrs.evolve(found, step_key=step_key)
        # A step the plan snapshot does not know (e.g. the snapshot was pruned): still lineage.
        handle = node_handle_of(step_key)
        return StepInfo(step_key=step_key, node_handle=handle, op_name=handle.split(".")[-1])


def node_handle_of(step_key: str) -> str:
    """``graph.op[key]`` -> ``graph.op``: the node a (possibly dynamic) step runs."""
    return _DYNAMIC_SUFFIX.sub("", step_key)


def load_run_info(instance: DagsterInstance, run: DagsterRun) -> RunInfo:
    """Describe ``run`` from run storage (snapshots), whatever code location it came from."""
    origin = run.remote_job_origin
    location = origin.location_name if origin is not None else None
    repository = origin.repository_origin.repository_name if origin is not None else None
    structure = _structure(instance, run.job_snapshot_id, run.execution_plan_snapshot_id)
    return RunInfo(
        run_id=run.run_id,
        job_name=run.job_name,
        tags=dict(run.tags),
        code_location=location,
        repository_name=repository,
        job_description=structure.description,
        job_tags=structure.tags,
        steps=structure.steps,
        parent_run_id=run.parent_run_id or run.tags.get(PARENT_RUN_TAG),
        root_run_id=run.root_run_id or run.tags.get(ROOT_RUN_TAG),
    )


@attrs.frozen
class _Structure:
    description: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict)
    steps: Mapping[str, StepInfo] = attrs.field(factory=dict)


#: Snapshot ids are content hashes, so a job's structure never changes under its ids: kept
#: across ticks, so a long run (or many runs of one job) is not re-read and re-resolved
#: from run storage on every tick.
_STRUCTURES: dict[tuple[str, str | None], _Structure] = {}
_MAX_STRUCTURES = 256


def _structure(
    instance: DagsterInstance, job_snapshot_id: str | None, plan_snapshot_id: str | None
) -> _Structure:
    if not job_snapshot_id:
        return _Structure()
    key = (job_snapshot_id, plan_snapshot_id)
    cached = _STRUCTURES.get(key)
    if cached is not None:
        return cached
    snapshot = _JobStructure(instance.get_job_snapshot(job_snapshot_id))
    steps: dict[str, StepInfo] = {}
    if plan_snapshot_id:
        steps = _steps_from_plan(instance.get_execution_plan_snapshot(plan_snapshot_id), snapshot)
    structure = _Structure(snapshot.description, snapshot.tags, steps)
    if len(_STRUCTURES) >= _MAX_STRUCTURES:
        _STRUCTURES.pop(next(iter(_STRUCTURES)))  # the oldest entry
    _STRUCTURES[key] = structure
    return structure


class _JobStructure:
    """Resolves node handles to op definitions through (nested) graph snapshots."""

    def __init__(self, job_snap: Any) -> None:
        self._snap = job_snap
        defs = job_snap.node_defs_snapshot
        self._ops = {op.name: op for op in defs.op_def_snaps}
        self._graphs = {graph.name: graph for graph in defs.graph_def_snaps}

    @property
    def description(self) -> str | None:
        description: str | None = self._snap.description
        return description

    @cached_property
    def tags(self) -> Mapping[str, str]:
        return {str(k): str(v) for k, v in (self._snap.tags or {}).items()}

    def op_def(self, node_handle: str) -> Any | None:
        structure = self._snap.dep_structure_snapshot
        definition_name: str | None = None
        for name in node_handle.split("."):
            invocation = next(
                (n for n in structure.node_invocation_snaps if n.node_name == name), None
            )
            if invocation is None:
                return None
            definition_name = invocation.node_def_name
            graph = self._graphs.get(definition_name)
            if graph is not None:
                structure = graph.dep_structure_snapshot
        return self._ops.get(definition_name) if definition_name else None


def _steps_from_plan(plan: Any, structure: _JobStructure) -> dict[str, StepInfo]:
    outputs_by_step: dict[str, dict[str, AssetKey]] = {}
    for step in plan.steps:
        outputs_by_step[node_handle_of(step.key)] = {
            output.name: output.properties.asset_key
            for output in step.outputs
            if output.properties is not None and output.properties.asset_key is not None
        }
    # Top-level nodes that materialize assets: a graph-backed asset's ops share its node.
    asset_nodes = {
        step.node_handle_id.split(".")[0]
        for step in plan.steps
        if outputs_by_step.get(node_handle_of(step.key))
    }
    steps: dict[str, StepInfo] = {}
    for step in plan.steps:
        handle = node_handle_of(step.key)
        op_def = structure.op_def(step.node_handle_id)
        input_assets: list[AssetKey] = []
        for step_input in step.inputs:
            for upstream in step_input.upstream_output_handles:
                key = outputs_by_step.get(node_handle_of(upstream.step_key), {}).get(
                    upstream.output_name
                )
                if key is not None and key not in input_assets:
                    input_assets.append(key)
        check_outputs = [
            o
            for o in step.outputs
            if o.properties is not None and o.properties.asset_check_key is not None
        ]
        checked = check_outputs[0].properties.asset_check_key.asset_key if check_outputs else None
        output_assets = tuple(outputs_by_step.get(handle, {}).values())
        steps[handle] = StepInfo(
            step_key=handle,
            node_handle=step.node_handle_id,
            op_name=op_def.name if op_def is not None else step.node_handle_id.split(".")[-1],
            description=op_def.description if op_def is not None else None,
            tags=dict(op_def.tags) if op_def is not None else {},
            output_assets=output_assets,
            input_assets=tuple(input_assets),
            checked_asset=checked,
            input_metadata=(
                {i.name: dict(i.metadata) for i in op_def.input_def_snaps} if op_def else {}
            ),
            output_metadata=(
                {o.name: dict(o.metadata) for o in op_def.output_def_snaps} if op_def else {}
            ),
            multi_asset=_materializes_several(output_assets, len(check_outputs), op_def),
            inside_graph_asset=(
                not output_assets
                and not check_outputs
                and "." in step.node_handle_id
                and step.node_handle_id.split(".")[0] in asset_nodes
            ),
        )
    return steps


def _materializes_several(
    output_assets: Sequence[AssetKey], check_outputs: int, op_def: Any | None
) -> bool:
    """Whether the step's op is a multi-asset op.

    A subset run's plan drops the asset keys of unselected outputs, so the op definition's
    outputs are counted too: those that are not this run's check outputs are asset outputs
    (or checks not selected in this run, which only ever over-counts a one-asset op whose
    own checks were left out of the selection).
    """
    if len(output_assets) > 1:
        return True
    if not output_assets or op_def is None:
        return False
    return len(op_def.output_def_snaps) - check_outputs > 1
