"""Loopback stand-ins for services that cannot run on a test machine, and sample data.

``dagster_run_events`` builds the OpenLineage events of one small Dagster run in the
shape ol-bridge's sensor emits (see the contract in the DataHub transport tests): the
job's START, one step's START and COMPLETE (with a DuckDB input, an output, its schema
and column lineage), and the job's COMPLETE.
"""

from __future__ import annotations

import uuid

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    job_type_job,
    parent_run,
    schema_dataset,
)

PRODUCER = "https://github.com/ol-bridge/ol-bridge/tree/v0.1.0"
NAMESPACE = "dagster"
JOB_NAME = "iris_job"
STEP_KEY = "iris_summary"
DAGSTER_RUN_ID = "0f5f6b4e-1d1c-4bb3-9e84-6d2a7a1f0c11"
WAREHOUSE = "duckdb:///tmp/warehouse.duckdb"


def step_run_id(run_id: str = DAGSTER_RUN_ID, step_key: str = STEP_KEY, attempt: int = 1) -> str:
    return str(uuid.uuid5(uuid.UUID(run_id), f"{step_key}:{attempt}"))


def _job_type(kind: str) -> job_type_job.JobTypeJobFacet:
    return job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration="DAGSTER", jobType=kind, producer=PRODUCER
    )


def _parent() -> parent_run.ParentRunFacet:
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=DAGSTER_RUN_ID),
        job=parent_run.Job(namespace=NAMESPACE, name=JOB_NAME),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=DAGSTER_RUN_ID),
            job=parent_run.RootJob(namespace=NAMESPACE, name=JOB_NAME),
        ),
        producer=PRODUCER,
    )


def _datasets() -> tuple[list[InputDataset], list[OutputDataset]]:
    fields = [schema_dataset.SchemaDatasetFacetFields(name=n, type="DOUBLE") for n in ("a", "b")]
    source = InputDataset(
        namespace=WAREHOUSE,
        name="main.raw.iris",
        facets={"schema": schema_dataset.SchemaDatasetFacet(fields=fields, producer=PRODUCER)},
    )
    lineage = column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            "total": column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace=WAREHOUSE, name="main.raw.iris", field=column
                    )
                    for column in ("a", "b")
                ]
            )
        },
        producer=PRODUCER,
    )
    summary = OutputDataset(
        namespace=WAREHOUSE,
        name="main.analytics.iris_summary",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name="total", type="DOUBLE")],
                producer=PRODUCER,
            ),
            "columnLineage": lineage,
        },
    )
    return [source], [summary]


def dagster_run_events() -> list[RunEvent]:
    """START job, START step, COMPLETE step (with lineage), COMPLETE job."""
    job = Job(namespace=NAMESPACE, name=JOB_NAME, facets={"jobType": _job_type("JOB")})
    step = Job(
        namespace=NAMESPACE, name=f"{JOB_NAME}.{STEP_KEY}", facets={"jobType": _job_type("TASK")}
    )
    job_run = Run(runId=DAGSTER_RUN_ID)
    step_run = Run(runId=step_run_id(), facets={"parent": _parent()})
    inputs, outputs = _datasets()

    def event(state: RunState, second: int, run: Run, which: Job, **io: object) -> RunEvent:
        return RunEvent(
            eventType=state,
            eventTime=f"2025-01-01T00:00:0{second}.000Z",
            run=run,
            job=which,
            producer=PRODUCER,
            **io,  # type: ignore[arg-type]
        )

    return [
        event(RunState.START, 1, job_run, job),
        event(RunState.START, 2, step_run, step, inputs=inputs, outputs=[]),
        event(RunState.COMPLETE, 3, step_run, step, inputs=inputs, outputs=outputs),
        event(RunState.COMPLETE, 4, job_run, job),
    ]


def fan_out_client(**transports: dict[str, object]) -> OpenLineageClient:
    """A client with a ``composite`` transport (fan-out, stop on the first failure), built
    from its children's configs the way ``openlineage.yml`` gives them."""
    return OpenLineageClient(
        config={
            "transport": {
                "type": "composite",
                "continue_on_failure": False,
                "transports": transports,
            }
        }
    )
