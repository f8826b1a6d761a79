"""Build OpenLineage RunEvents from lineage moments. Pure: no I/O, no clock.

A Dagster run is the parent job (run id = the Dagster run id); each step attempt is a child
job whose run id is derived from (run id, step key, attempt), so replaying history yields
the same ids and backends overwrite instead of duplicating. Jobs inside a step (each asset
of a multi-asset step, checks) are built in ``step_jobs.py`` with the facets made here.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import dagster
from dagster import AssetKey, DagsterEvent, DagsterEventType
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    documentation_job,
    error_message_run,
    extraction_error_run,
    job_type_job,
    nominal_time_run,
    ownership_job,
    parent_run,
    processing_engine_run,
    source_code_location_job,
    sql_job,
    tags_job,
)

from ol_bridge import PRODUCER, __version__
from ol_bridge.dagster import dbt
from ol_bridge.dagster import metadata as md
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.lineage import step_lineage
from ol_bridge.dagster.moments import ErrorInfo, RunMoment, StepMoment, Transition
from ol_bridge.dagster.nominal_time import needs_partitions_definition, nominal_time
from ol_bridge.dagster.run_info import RunInfo, StepInfo
from ol_bridge.dagster.text import MAX_SQL_CHARS, MAX_STACK_TRACE_CHARS, clean_text
from ol_bridge.dagster.translator import DEFAULT_NAMESPACE, OpenLineageTranslator
from ol_bridge.delivery.redact import redact
from ol_bridge.facets import DagsterJobFacet, DagsterRunFacet

log = logging.getLogger(__name__)

INTEGRATION = "DAGSTER"
#: namespace for step run ids: uuid5(STEP_RUN_NAMESPACE, "<run id>/<step key>/<attempt>")
STEP_RUN_NAMESPACE = uuid.UUID("5f0c6d1e-8a47-4c6e-9a0b-0d7c3b0f2e51")
_STATE = {
    Transition.START: RunState.START,
    Transition.COMPLETE: RunState.COMPLETE,
    Transition.FAIL: RunState.FAIL,
    Transition.ABORT: RunState.ABORT,
}


def step_run_id(dagster_run_id: str, step_key: str, attempt: int) -> str:
    """Stable OpenLineage run id of one attempt of one step."""
    return str(uuid.uuid5(STEP_RUN_NAMESPACE, f"{dagster_run_id}/{step_key}/{attempt}"))


def event_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def job_run_event(
    run: RunInfo,
    moment: RunMoment,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog | None = None,
) -> RunEvent:
    """The parent event: the Dagster run as a whole."""
    run_facets: dict[str, Any] = {
        "processing_engine": processing_engine_facet(),
        "dagster_run": dagster_run_facet(run, translator),
    }
    nominal = nominal_time_facet(run, catalog)
    if nominal is not None:
        run_facets["nominalTime"] = nominal
    if moment.error is not None:
        run_facets["errorMessage"] = error_facet(moment.error)
    job_facets: dict[str, Any] = {
        "jobType": job_type_facet("JOB"),
        "dagster_job": DagsterJobFacet(
            jobName=run.job_name,
            codeLocation=run.code_location,
            repositoryName=run.repository_name,
            jobUrl=translator.get_job_url(run),
        ),
    }
    if run.job_description:
        job_facets["documentation"] = documentation_job.DocumentationJobFacet(
            description=clean_text(run.job_description), producer=PRODUCER
        )
    tags = _tags_facet({**run.job_tags})
    if tags is not None:
        job_facets["tags"] = tags
    return RunEvent(
        eventType=_STATE[moment.transition],
        eventTime=event_time(moment.timestamp),
        run=Run(runId=run.run_id, facets=run_facets),
        job=Job(
            namespace=translator.get_job_namespace(run),
            name=translator.get_job_name(run),
            facets=job_facets,
        ),
        producer=PRODUCER,
    )


def step_run_event(
    run: RunInfo,
    moment: StepMoment,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
    *,
    artifacts: Sequence[DagsterEvent] | None = None,
    plan_inputs: bool = True,
) -> RunEvent:
    """A child event: one attempt of one step, with its datasets on its end.

    ``artifacts``: what this event describes (default: all of the moment's);
    ``plan_inputs=False`` leaves out the upstream assets of the step's plan.
    """
    step = run.step(moment.step_key)
    inputs: list[InputDataset] = []
    outputs: list[OutputDataset] = []
    run_facets: dict[str, Any] = {
        "parent": _parent_facet(run, translator),
        "processing_engine": processing_engine_facet(),
        "dagster_run": dagster_run_facet(run, translator, step.step_key, moment.attempt),
    }
    job_facets: dict[str, Any] = {"jobType": job_type_facet(_step_job_type(step))}
    if moment.transition is not Transition.START:
        own = moment.artifacts if artifacts is None else artifacts
        lineage = step_lineage(run, step, own, translator, catalog, plan_inputs=plan_inputs)
        inputs, outputs = list(lineage.inputs), list(lineage.outputs)
        job_facets.update(lineage.job_facets)
        run_facets.update(lineage.run_facets)
        materialized = _materialized_keys(own)
        if "sql" not in job_facets and len(materialized) == 1:
            sql = dbt_sql_facet(run, materialized[0], own, catalog)
            if sql is not None:
                job_facets["sql"] = sql
    nominal = nominal_time_facet(run, catalog)
    if nominal is not None:
        run_facets["nominalTime"] = nominal
    if moment.error is not None:
        run_facets["errorMessage"] = error_facet(moment.error)
    job_facets["dagster_job"] = DagsterJobFacet(
        jobName=run.job_name,
        codeLocation=run.code_location,
        repositoryName=run.repository_name,
        opName=step.op_name,
        assetKeys=[key.to_user_string() for key in step.output_assets] or None,
        jobUrl=translator.get_job_url(run),
    )
    if step.description:
        job_facets["documentation"] = documentation_job.DocumentationJobFacet(
            description=clean_text(step.description), producer=PRODUCER
        )
    owners = _owners(step, catalog)
    if owners:
        job_facets["ownership"] = ownership_job.OwnershipJobFacet(
            owners=[ownership_job.Owner(name=owner) for owner in owners], producer=PRODUCER
        )
    tags = _tags_facet(step.tags)
    if tags is not None:
        job_facets["tags"] = tags
    source = _source_code(step, catalog)
    if source is not None:
        job_facets["sourceCodeLocation"] = source
    return RunEvent(
        eventType=_STATE[moment.transition],
        eventTime=event_time(moment.timestamp),
        run=Run(runId=step_run_id(run.run_id, step.step_key, moment.attempt), facets=run_facets),
        job=Job(
            namespace=translator.get_job_namespace(run),
            name=translator.get_step_job_name(run, step),
            facets=job_facets,
        ),
        inputs=inputs,
        outputs=outputs,
        producer=PRODUCER,
    )


def fallback_event(
    run: RunInfo,
    moment: RunMoment | StepMoment,
    translator: OpenLineageTranslator,
    error: BaseException,
) -> RunEvent:
    """The event for a moment whose full event could not be built (a bug, or input nobody
    foresaw): same run id, job and state, no datasets, and an ``extractionError`` facet that
    says what went wrong, so the run's history stays whole and the failure is visible."""
    namespace, job_name = run_default_names(run, translator)
    run_facets: dict[str, Any] = {
        "extractionError": extraction_error_run.ExtractionErrorRunFacet(
            totalTasks=1,
            failedTasks=1,
            errors=[
                extraction_error_run.Error(
                    errorMessage=clean_text(
                        redact(
                            f"ol-bridge could not build this event: {type(error).__name__}: {error}"
                        )
                    ),
                    stackTrace=clean_text(
                        redact("".join(traceback.format_exception(error))), MAX_STACK_TRACE_CHARS
                    ),
                    task="build event",
                )
            ],
            producer=PRODUCER,
        )
    }
    run_id = run.run_id
    if isinstance(moment, StepMoment):
        run_id = step_run_id(run.run_id, moment.step_key, moment.attempt)
        run_facets["parent"] = _parent_facet_for(namespace, job_name, run.run_id)
        job_name = f"{job_name}.{run.step(moment.step_key).node_handle}"
    return RunEvent(
        eventType=_STATE[moment.transition],
        eventTime=event_time(moment.timestamp),
        run=Run(runId=run_id, facets=run_facets),
        job=Job(namespace=namespace, name=job_name, facets={"jobType": job_type_facet("JOB")}),
        producer=PRODUCER,
    )


def run_default_names(run: RunInfo, translator: OpenLineageTranslator) -> tuple[str, str]:
    """The job's namespace and name, falling back to plain defaults if the translator fails."""
    try:
        return translator.get_job_namespace(run), translator.get_job_name(run)
    except Exception:  # a user translator's bug: the event still goes out, under defaults
        log.exception("The translator failed to name job %s; using defaults.", run.job_name)
        return DEFAULT_NAMESPACE, run.job_name


def _step_job_type(step: StepInfo) -> str:
    return "ASSET" if step.is_asset_step else "TASK"


def job_type_facet(job_type: str) -> job_type_job.JobTypeJobFacet:
    return job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration=INTEGRATION, jobType=job_type, producer=PRODUCER
    )


def processing_engine_facet() -> processing_engine_run.ProcessingEngineRunFacet:
    return processing_engine_run.ProcessingEngineRunFacet(
        version=dagster.__version__,
        name="dagster",
        openlineageAdapterVersion=__version__,
        producer=PRODUCER,
    )


def _parent_facet(run: RunInfo, translator: OpenLineageTranslator) -> parent_run.ParentRunFacet:
    return _parent_facet_for(
        translator.get_job_namespace(run), translator.get_job_name(run), run.run_id
    )


def _parent_facet_for(namespace: str, name: str, run_id: str) -> parent_run.ParentRunFacet:
    return parent_run.ParentRunFacet(
        job=parent_run.Job(namespace=namespace, name=name),
        run=parent_run.Run(runId=run_id),
        root=parent_run.Root(
            job=parent_run.RootJob(namespace=namespace, name=name),
            run=parent_run.RootRun(runId=run_id),
        ),
        producer=PRODUCER,
    )


def dagster_run_facet(
    run: RunInfo,
    translator: OpenLineageTranslator,
    step_key: str | None = None,
    attempt: int | None = None,
) -> DagsterRunFacet:
    partition_range = run.partition_range
    return DagsterRunFacet(
        dagsterRunId=run.run_id,
        jobName=run.job_name,
        codeLocation=run.code_location,
        repositoryName=run.repository_name,
        partitionKey=run.partition_key,
        partitionRangeStart=partition_range[0] if partition_range else None,
        partitionRangeEnd=partition_range[1] if partition_range else None,
        backfillId=run.backfill_id,
        scheduleName=run.schedule_name,
        sensorName=run.sensor_name,
        stepKey=step_key,
        attempt=attempt,
        runUrl=translator.get_run_url(run),
        parentRunId=run.parent_run_id,
        rootRunId=run.root_run_id,
    )


def nominal_time_facet(
    run: RunInfo, catalog: AssetCatalog | None = None
) -> nominal_time_run.NominalTimeRunFacet | None:
    """When the run was meant to run: its schedule tick, or its time partition's window
    (its end where the catalog knows the run's partitions definition)."""
    partitions = None
    if catalog is not None and needs_partitions_definition(run.tags):
        partitions = catalog.partitions_definition(run)
    nominal = nominal_time(run.tags, partitions)  # issue 12: the daemon's tags, partitions
    if nominal is None:
        return None
    return nominal_time_run.NominalTimeRunFacet(
        nominalStartTime=nominal.start, nominalEndTime=nominal.end, producer=PRODUCER
    )


def error_facet(error: ErrorInfo) -> error_message_run.ErrorMessageRunFacet:
    return error_message_run.ErrorMessageRunFacet(
        message=clean_text(redact(error.message)),
        programmingLanguage="python",
        stackTrace=(
            clean_text(redact(error.stack_trace), MAX_STACK_TRACE_CHARS)
            if error.stack_trace
            else None
        ),
        producer=PRODUCER,
    )


def _owners(step: StepInfo, catalog: AssetCatalog) -> list[str]:
    return asset_owners(step.output_assets, catalog)


def asset_owners(keys: Sequence[AssetKey], catalog: AssetCatalog) -> list[str]:
    owners: list[str] = []
    for key in keys:
        description = catalog.describe(key)
        for owner in description.owners if description else ():
            name = owner if ":" in owner else f"user:{owner}"
            if name not in owners:
                owners.append(name)
    return owners


def _source_code(
    step: StepInfo, catalog: AssetCatalog
) -> source_code_location_job.SourceCodeLocationJobFacet | None:
    return asset_source_code(step.output_assets, catalog)


def asset_source_code(
    keys: Sequence[AssetKey], catalog: AssetCatalog
) -> source_code_location_job.SourceCodeLocationJobFacet | None:
    """Where the asset is defined (``with_source_code_references`` /
    ``link_code_references_to_git``)."""
    for key in keys:
        description = catalog.describe(key)
        reference = md.code_reference(description.metadata) if description else None
        if reference is not None:
            kind, url, path = reference
            return source_code_location_job.SourceCodeLocationJobFacet(
                type=kind, url=url, path=path, producer=PRODUCER
            )
    return None


def _tags_facet(tags: Mapping[str, str]) -> tags_job.TagsJobFacet | None:
    fields = [
        tags_job.TagsJobFacetFields(key=key, value=value or "true", source="DAGSTER")
        for key, value in sorted(tags.items())
        if not key.startswith("dagster/")
    ]
    return tags_job.TagsJobFacet(tags=fields, producer=PRODUCER) if fields else None


def _materialized_keys(artifacts: Sequence[DagsterEvent]) -> list[AssetKey]:
    keys: list[AssetKey] = []
    for event in artifacts:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            key = event.event_specific_data.materialization.asset_key  # type: ignore[union-attr]
            if key not in keys:
                keys.append(key)
    return keys


def dbt_sql_facet(
    run: RunInfo,
    key: AssetKey,
    artifacts: Sequence[DagsterEvent],
    catalog: AssetCatalog,
    invocation_id: str | None = None,
) -> sql_job.SQLJobFacet | None:
    """The compiled SQL of the dbt model behind ``key`` as this run's dbt invocation ran it
    (``dbt.py``): the invocation its materialization in ``artifacts`` records, else
    ``invocation_id``. None for other assets; when it cannot be found, one log line per
    asset says why, rather than another run's SQL."""
    description = catalog.describe(key)
    node = dbt.dbt_node(description.metadata) if description is not None else None
    if node is None:
        return None
    invocation = invocation_id
    for event in artifacts:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
            if materialization.asset_key == key:
                invocation = dbt.run_invocation_id(dict(materialization.metadata)) or invocation
    found = dbt.run_sql(node, run.run_id, invocation)
    if found.missing is not None:
        _explain_missing_sql(key, run.run_id, found.missing)
    if found.sql is None:
        return None
    return sql_job.SQLJobFacet(
        query=clean_text(found.sql, MAX_SQL_CHARS), dialect=node.adapter, producer=PRODUCER
    )


#: assets whose missing SQL was explained already (once per asset and process)
_SQL_EXPLAINED: OrderedDict[AssetKey, bool] = OrderedDict()


def _explain_missing_sql(key: AssetKey, run_id: str, reason: str) -> None:
    if key in _SQL_EXPLAINED:
        return
    _SQL_EXPLAINED[key] = True
    while len(_SQL_EXPLAINED) > 4096:
        _SQL_EXPLAINED.popitem(last=False)
    log.warning(
        "dbt asset %s gets no `sql` facet in its event of Dagster run %s (said once per "
        "asset): %s The project's own target folder is not used instead: it holds whatever "
        "dbt compiled last, not what this run ran.",
        key.to_user_string(),
        run_id,
        reason,
    )
