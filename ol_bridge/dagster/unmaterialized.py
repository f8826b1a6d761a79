"""What became of the assets a failed multi-asset step did not materialize. Pure apart
from the catalog's reading of the run's dbt artifacts.

Under ``dbt build`` a model that fails leaves no Dagster event: dagster-dbt materializes the
models that succeeded, and the step fails once dbt has finished, with a
``DagsterDbtCliRuntimeError`` that names the invocation's ``dbt.log`` (Dagster OSS records no
``ASSET_FAILED_TO_MATERIALIZE`` for them). Each asset the step was to materialize (its plan's
outputs) and did not gets an event of its own job (``step_jobs``), with an outcome from, in
order:

1. the step attempt's dbt ``run_results.json`` when readable (``dbt_runs.py``): ``error`` ->
   FAIL with dbt's message; ``skipped`` (a node it depends on failed) -> ABORT, naming that
   node; a node the invocation did not run at all -> ABORT;
2. otherwise FAIL, saying the asset was not materialized because the step failed, with the
   step's error (dagster-dbt's error quotes the failing model's error).

A step interrupted by the run's termination gives ABORT for each asset, whatever dbt said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
from dagster import AssetKey

from ol_bridge.dagster import dbt
from ol_bridge.dagster import metadata as md
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.dbt_runs import DbtInvocation, NodeResult, folders_named_in
from ol_bridge.dagster.moments import ErrorInfo, StepMoment, Transition
from ol_bridge.dagster.run_info import RunInfo, StepInfo

#: seconds a run_results.json may be stamped after its step's end (clocks of one machine)
_SLACK_SECONDS = 5.0
#: run_results statuses of a node that did not succeed
_NOT_SUCCEEDED = frozenset({"error", "fail", "skipped", "runtime error"})


@attrs.frozen
class Outcome:
    transition: Transition
    error: ErrorInfo
    #: the dbt invocation that compiled the node, when read (its compiled SQL is the run's)
    invocation_id: str | None = None


def unmaterialized_keys(step: StepInfo, materialized: Sequence[AssetKey]) -> list[AssetKey]:
    """The assets of a multi-asset step's plan that its attempt did not materialize."""
    if not step.multi_asset:
        return []  # the step's own event is the asset's
    return [key for key in step.output_assets if key not in materialized]


def outcomes(
    run: RunInfo,
    step: StepInfo,
    moment: StepMoment,
    keys: Sequence[AssetKey],
    catalog: AssetCatalog,
) -> dict[AssetKey, Outcome]:
    """The outcome of each of ``keys``, assets ``step`` was to materialize and did not."""
    if not keys:
        return {}
    messages = [moment.error.message, moment.error.stack_trace or ""] if moment.error else []
    named = folders_named_in(messages)
    invocation: DbtInvocation | None = None
    # Only a dbt step has dbt artifacts to look for (looking may read the run's whole log):
    # one whose error names its dbt folder (dagster-dbt's), or whose assets are dbt nodes.
    if named or any(_unique_id(key, catalog) for key in keys):
        invocation = _of_attempt(
            catalog.dbt_invocations(run.run_id, step.op_name, messages),
            named,
            moment.timestamp,
        )
    if invocation is not None:
        catalog.learn_dbt_invocation(invocation)
    return {key: _outcome(key, step, moment, invocation, catalog) for key in keys}


def _unique_id(key: AssetKey, catalog: AssetCatalog) -> str | None:
    description = catalog.describe(key)
    unique_id = md.plain(description.metadata.get(dbt.UNIQUE_ID_KEY)) if description else None
    return unique_id if isinstance(unique_id, str) else None


def _outcome(
    key: AssetKey,
    step: StepInfo,
    moment: StepMoment,
    invocation: DbtInvocation | None,
    catalog: AssetCatalog,
) -> Outcome:
    name = key.to_user_string()
    if moment.transition is Transition.ABORT or (moment.error and moment.error.interrupted):
        return Outcome(
            Transition.ABORT,
            ErrorInfo(f"{name} was not materialized: the run was terminated during its step."),
        )
    unique_id = _unique_id(key, catalog)
    if invocation is not None and unique_id is not None:
        result = invocation.results.get(unique_id)
        if result is None:
            return Outcome(
                Transition.ABORT,
                ErrorInfo(
                    f"{name} was not materialized: dbt invocation {invocation.invocation_id} "
                    f"of step {step.step_key} did not run {unique_id}."
                ),
            )
        if result.status == "error":
            said = f": {result.message}" if result.message else ""
            return Outcome(
                Transition.FAIL,
                ErrorInfo(f"dbt {unique_id} failed{said}", error_class="DbtRuntimeError"),
                invocation.invocation_id,
            )
        if result.status == "skipped":
            return Outcome(
                Transition.ABORT,
                ErrorInfo(f"dbt skipped {unique_id}{_why_skipped(unique_id, invocation)}"),
            )
    cause = moment.error.message if moment.error else "no error was recorded"
    return Outcome(
        Transition.FAIL,
        ErrorInfo(
            f"{name} was not materialized: step {step.step_key} failed. {cause}",
            stack_trace=moment.error.stack_trace if moment.error else None,
            error_class=moment.error.error_class if moment.error else None,
        ),
    )


def _why_skipped(unique_id: str, invocation: DbtInvocation) -> str:
    """``: <node> (error), which it depends on, did not succeed`` from the manifest."""
    nodes = invocation.manifest.get("nodes")
    node: Any = nodes.get(unique_id) if isinstance(nodes, Mapping) else None
    depends = node.get("depends_on") if isinstance(node, Mapping) else None
    upstreams = depends.get("nodes") if isinstance(depends, Mapping) else None
    failed = [
        f"{upstream} ({result.status})"
        for upstream in (upstreams if isinstance(upstreams, list) else ())
        if (result := _result(invocation, upstream)) is not None and result.status in _NOT_SUCCEEDED
    ]
    if not failed:
        return ": a node it depends on did not succeed."
    return f": {', '.join(failed)}, which it depends on, did not succeed."


def _result(invocation: DbtInvocation, unique_id: Any) -> NodeResult | None:
    return invocation.results.get(unique_id) if isinstance(unique_id, str) else None


def _of_attempt(
    invocations: Sequence[DbtInvocation], named: Sequence[Path], timestamp: float
) -> DbtInvocation | None:
    """The step attempt's invocation: the one its error names (a failed dbt command's
    ``dbt.log`` path), else the last one stamped by the attempt's end."""
    names = {folder.name for folder in named}  # unique: dagster-dbt adds a random suffix
    for invocation in reversed(invocations):
        if invocation.folder.name in names:
            return invocation
    if names:
        # The attempt's own dbt wrote no results (it stopped at its profile or parse): an
        # earlier attempt's results are not this one's.
        return None
    found: DbtInvocation | None = None
    for invocation in invocations:
        written = _timestamp(invocation.generated_at)
        if written is not None and written <= timestamp + _SLACK_SECONDS:
            found = invocation
    return found


def _timestamp(iso: str) -> float | None:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    # dbt stamps UTC, with or without the zone
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
