"""Jobs inside a step's job, built from lineage moments. Pure: no I/O, no clock, apart from
reading a failed dbt step's run_results.json (``unmaterialized.py``).

On an attempt's end, a step may have more to say than one job can: each asset of a
multi-asset step (``@multi_asset``, ``@dbt_assets``) gets a job of its own with its own
upstreams, and the checks of each asset a non-check step evaluated get a ``.checks`` job (see
docs/dagster-mapping.md, "Several assets in one step"). Each is one COMPLETE event with the
step's attempt as ``parent`` and the Dagster run as ``root``; run ids are derived from
(run, step, attempt, asset), so replays overwrite. When the attempt failed, each asset it
was to materialize and did not (a dbt model that failed or that dbt skipped) gets one FAIL
or ABORT event of the same job.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from dagster import AssetKey, DagsterEvent
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import documentation_job, ownership_job, parent_run, sql_job

from ol_bridge import PRODUCER
from ol_bridge.dagster import unmaterialized
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.events import (
    STEP_RUN_NAMESPACE,
    asset_owners,
    asset_source_code,
    dagster_run_facet,
    dbt_sql_facet,
    error_facet,
    event_time,
    job_type_facet,
    nominal_time_facet,
    processing_engine_facet,
    step_run_event,
    step_run_id,
)
from ol_bridge.dagster.lineage import (
    asset_lineage,
    checks_lineage,
    unmaterialized_asset_lineage,
)
from ol_bridge.dagster.moments import StepMoment, Transition
from ol_bridge.dagster.run_info import RunInfo, StepInfo
from ol_bridge.dagster.step_parts import split_artifacts
from ol_bridge.dagster.text import clean_text
from ol_bridge.dagster.translator import OpenLineageTranslator, StepLineage
from ol_bridge.facets import DagsterJobFacet


def asset_run_id(dagster_run_id: str, step_key: str, attempt: int, asset_key: AssetKey) -> str:
    """Stable OpenLineage run id of one asset of a multi-asset step's attempt."""
    name = f"{dagster_run_id}/{step_key}/{attempt}/asset/{asset_key.to_user_string()}"
    return str(uuid.uuid5(STEP_RUN_NAMESPACE, name))


def checks_run_id(dagster_run_id: str, step_key: str, attempt: int, asset_key: AssetKey) -> str:
    """Stable OpenLineage run id of an asset's checks evaluated in a step's attempt."""
    name = f"{dagster_run_id}/{step_key}/{attempt}/checks/{asset_key.to_user_string()}"
    return str(uuid.uuid5(STEP_RUN_NAMESPACE, name))


def step_run_events(
    run: RunInfo,
    moment: StepMoment,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
) -> list[RunEvent]:
    """Every event of a step's moment: on an attempt's end, one per asset of a multi-asset
    step and one per asset whose checks it evaluated (outside a check step), then the
    step's own event, last, so it is handed off only once the others are."""
    step = run.step(moment.step_key)
    if moment.transition is Transition.START:
        return [step_run_event(run, moment, translator, catalog)]
    parts = split_artifacts(step, moment.artifacts)
    events = [
        asset_run_event(run, step, moment, key, artifacts, translator, catalog)
        for key, artifacts in parts.assets.items()
    ]
    if moment.transition is not Transition.COMPLETE:
        missing = unmaterialized.unmaterialized_keys(step, list(parts.assets))
        events += [
            unmaterialized_run_event(run, step, moment, key, outcome, translator, catalog)
            for key, outcome in unmaterialized.outcomes(run, step, moment, missing, catalog).items()
        ]
    events += [
        checks_run_event(run, step, moment, key, evaluations, translator, catalog)
        for key, evaluations in parts.checks.items()
    ]
    # Each asset's job carries its own upstreams: its definition's deps, and those Dagster
    # recorded on its materialization (any code location), so the step itself reads nothing.
    events.append(
        step_run_event(
            run,
            moment,
            translator,
            catalog,
            artifacts=parts.step,
            plan_inputs=not step.multi_asset,
        )
    )
    return events


def asset_run_event(
    run: RunInfo,
    step: StepInfo,
    moment: StepMoment,
    asset_key: AssetKey,
    artifacts: Sequence[DagsterEvent],
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
) -> RunEvent:
    """One asset a multi-asset step materialized, as a job of its own under the step's job:
    its own upstream assets as inputs, itself (schema, statistics) as output, its
    description, owners, code reference and SQL (a dbt model's compiled SQL)."""
    lineage = asset_lineage(run, step, asset_key, artifacts, translator, catalog)
    sql = dbt_sql_facet(run, asset_key, artifacts, catalog)
    return _asset_event(
        run, step, moment, asset_key, lineage, RunState.COMPLETE, sql, translator, catalog
    )


def unmaterialized_run_event(
    run: RunInfo,
    step: StepInfo,
    moment: StepMoment,
    asset_key: AssetKey,
    outcome: unmaterialized.Outcome,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
) -> RunEvent:
    """An asset a failed multi-asset step was to materialize and did not (a dbt model that
    failed, or that dbt skipped), in the job it has when it succeeds: FAIL or ABORT, with
    why in ``errorMessage``, its upstreams as inputs and itself as output as defined."""
    lineage = unmaterialized_asset_lineage(run, step, asset_key, translator, catalog)
    # the SQL dbt compiled for it (a model that failed at run time); none when dbt did not
    # get that far, which the outcome already says
    sql = (
        dbt_sql_facet(run, asset_key, (), catalog, outcome.invocation_id)
        if outcome.invocation_id is not None
        else None
    )
    return _asset_event(
        run,
        step,
        moment,
        asset_key,
        lineage,
        _STATES[outcome.transition],
        sql,
        translator,
        catalog,
        {"errorMessage": error_facet(outcome.error)},
    )


_STATES = {Transition.FAIL: RunState.FAIL, Transition.ABORT: RunState.ABORT}


def _asset_event(
    run: RunInfo,
    step: StepInfo,
    moment: StepMoment,
    asset_key: AssetKey,
    lineage: StepLineage,
    state: RunState,
    sql: sql_job.SQLJobFacet | None,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
    extra_run_facets: Mapping[str, Any] | None = None,
) -> RunEvent:
    run_facets: dict[str, Any] = {
        "parent": _step_parent_facet(run, step, moment.attempt, translator),
        "processing_engine": processing_engine_facet(),
        "dagster_run": dagster_run_facet(run, translator, step.step_key, moment.attempt),
        **lineage.run_facets,
        **(extra_run_facets or {}),
    }
    nominal = nominal_time_facet(run, catalog)
    if nominal is not None:
        run_facets["nominalTime"] = nominal
    job_facets: dict[str, Any] = {"jobType": job_type_facet("ASSET"), **lineage.job_facets}
    if "sql" not in job_facets and sql is not None:
        job_facets["sql"] = sql
    job_facets["dagster_job"] = DagsterJobFacet(
        jobName=run.job_name,
        codeLocation=run.code_location,
        repositoryName=run.repository_name,
        opName=step.op_name,
        assetKeys=[asset_key.to_user_string()],
        jobUrl=translator.get_job_url(run),
    )
    job_facets.update(_asset_job_facets([asset_key], catalog))
    return RunEvent(
        eventType=state,
        eventTime=event_time(moment.timestamp),
        run=Run(
            runId=asset_run_id(run.run_id, step.step_key, moment.attempt, asset_key),
            facets=run_facets,
        ),
        job=Job(
            namespace=translator.get_job_namespace(run),
            name=translator.get_asset_job_name(run, step, asset_key),
            facets=job_facets,
        ),
        inputs=list(lineage.inputs),
        outputs=list(lineage.outputs),
        producer=PRODUCER,
    )


def checks_run_event(
    run: RunInfo,
    step: StepInfo,
    moment: StepMoment,
    asset_key: AssetKey,
    evaluations: Sequence[Any],
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
) -> RunEvent:
    """The checks of one asset that a step evaluated without being a check step (its
    ``check_specs``, dbt tests under ``dbt build``): the asset as input, carrying one
    ``dataQualityAssertions`` entry per check. COMPLETE: the checks ran; each assertion
    says whether it passed."""
    lineage = checks_lineage(run, step, evaluations, translator, catalog)
    run_facets: dict[str, Any] = {
        "parent": _step_parent_facet(run, step, moment.attempt, translator),
        "processing_engine": processing_engine_facet(),
        "dagster_run": dagster_run_facet(run, translator, step.step_key, moment.attempt),
        **lineage.run_facets,
    }
    nominal = nominal_time_facet(run, catalog)
    if nominal is not None:
        run_facets["nominalTime"] = nominal
    job_facets: dict[str, Any] = {
        "jobType": job_type_facet("TASK"),
        **lineage.job_facets,
        "dagster_job": DagsterJobFacet(
            jobName=run.job_name,
            codeLocation=run.code_location,
            repositoryName=run.repository_name,
            opName=step.op_name,
            jobUrl=translator.get_job_url(run),
        ),
        "documentation": documentation_job.DocumentationJobFacet(
            description=clean_text(f"Checks of {asset_key.to_user_string()}"),
            producer=PRODUCER,
        ),
    }
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=event_time(moment.timestamp),
        run=Run(
            runId=checks_run_id(run.run_id, step.step_key, moment.attempt, asset_key),
            facets=run_facets,
        ),
        job=Job(
            namespace=translator.get_job_namespace(run),
            name=translator.get_checks_job_name(run, step, asset_key),
            facets=job_facets,
        ),
        inputs=list(lineage.inputs),
        producer=PRODUCER,
    )


def _step_parent_facet(
    run: RunInfo, step: StepInfo, attempt: int, translator: OpenLineageTranslator
) -> parent_run.ParentRunFacet:
    """A job inside a step: its parent is the step's attempt, its root the Dagster run."""
    namespace = translator.get_job_namespace(run)
    root_name = translator.get_job_name(run)
    return parent_run.ParentRunFacet(
        job=parent_run.Job(namespace=namespace, name=translator.get_step_job_name(run, step)),
        run=parent_run.Run(runId=step_run_id(run.run_id, step.step_key, attempt)),
        root=parent_run.Root(
            job=parent_run.RootJob(namespace=namespace, name=root_name),
            run=parent_run.RootRun(runId=run.run_id),
        ),
        producer=PRODUCER,
    )


def _asset_job_facets(keys: Sequence[AssetKey], catalog: AssetCatalog) -> dict[str, Any]:
    """``documentation``, ``ownership``, ``sourceCodeLocation`` of an asset's own job."""
    facets: dict[str, Any] = {}
    description = catalog.describe(keys[0]) if len(keys) == 1 else None
    if description is not None and description.description:
        facets["documentation"] = documentation_job.DocumentationJobFacet(
            description=clean_text(description.description), producer=PRODUCER
        )
    owners = asset_owners(keys, catalog)
    if owners:
        facets["ownership"] = ownership_job.OwnershipJobFacet(
            owners=[ownership_job.Owner(name=owner) for owner in owners], producer=PRODUCER
        )
    source = asset_source_code(keys, catalog)
    if source is not None:
        facets["sourceCodeLocation"] = source
    return facets
