"""JobEvent and DatasetEvent conversion, and the URN scheme option, on exact expected output."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openlineage.client.event_v2 import DatasetEvent, JobEvent, StaticDataset
from openlineage.client.event_v2 import Job as OlJob
from openlineage.client.facet_v2 import documentation_dataset, schema_dataset
from openlineage.client.serde import Serde

from ol_bridge.datahub import ConverterConfig, convert_event
from ol_bridge.datahub.plugin_urns import PluginNaming, plugin_dataflow_urn, plugin_dpi_urn
from ol_bridge.errors import ConfigError, ConversionError

WAREHOUSE = "duckdb:///w.duckdb"
FLOW = "urn:li:dataFlow:(dagster,iris_job,dagster)"
STEP_JOB = f"urn:li:dataJob:({FLOW},iris_job.iris_summary)"
RAW = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.raw.iris,PROD)"
SUMMARY = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.iris_summary,PROD)"
RUN_ID = "0f5f6b4e-1d1c-4bb3-9e84-6d2a7a1f0c11"
STEP_RUN_ID = "2a82b071-8c71-58dd-be45-ade5ab94114a"


def rows(mcps: list[Any]) -> list[tuple[str, str, str]]:
    return [(str(m.entityUrn), str(m.changeType), str(m.aspectName)) for m in mcps]


def job_event(**job_facets: Any) -> dict[str, Any]:
    return {
        "eventTime": "2025-01-01T00:00:00Z",
        "producer": "https://github.com/ol-bridge/ol-bridge",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {
            "namespace": "dagster",
            "name": "iris_job.iris_summary",
            "facets": {
                "jobType": {
                    "integration": "DAGSTER",
                    "jobType": "ASSET",
                    "processingType": "BATCH",
                },
                **job_facets,
            },
        },
        "inputs": [{"namespace": WAREHOUSE, "name": "main.raw.iris"}],
        "outputs": [
            {
                "namespace": WAREHOUSE,
                "name": "main.iris_summary",
                "facets": {"schema": {"fields": [{"name": "total", "type": "DOUBLE"}]}},
            }
        ],
    }


def test_job_event_writes_flow_job_datasets_and_lineage_but_no_run() -> None:
    mcps = convert_event(job_event())
    assert rows(mcps) == [
        (FLOW, "UPSERT", "dataFlowInfo"),
        (FLOW, "UPSERT", "status"),
        (STEP_JOB, "UPSERT", "dataJobInfo"),
        (STEP_JOB, "UPSERT", "status"),
        (STEP_JOB, "UPSERT", "subTypes"),
        (RAW, "UPSERT", "datasetKey"),
        (RAW, "UPSERT", "status"),
        (SUMMARY, "UPSERT", "datasetKey"),
        (SUMMARY, "UPSERT", "status"),
        (SUMMARY, "UPSERT", "schemaMetadata"),
        (STEP_JOB, "PATCH", "dataJobInputOutput"),
    ]
    patch = json.loads(mcps[-1].aspect.value)  # type: ignore[union-attr]
    assert [op["path"] for op in patch] == [
        f"/inputDatasetEdges/{RAW}",
        f"/outputDatasetEdges/{SUMMARY}",
    ]
    assert patch[0]["value"]["created"]["time"] == 1735689600000
    info = mcps[2].aspect
    # DataHub's newest converter: the job type is the jobType facet's processingType
    assert (info.name, info.flowUrn, info.type) == ("iris_summary", FLOW, "BATCH")  # type: ignore[union-attr]


def test_job_event_from_openlineage_python_equals_its_dict() -> None:
    event = JobEvent(
        eventTime="2025-01-01T00:00:00Z",
        producer="https://github.com/ol-bridge/ol-bridge",
        job=OlJob(namespace="dagster", name="iris_job"),
    )
    # No jobType facet and an unknown producer: DataHub's orchestrator fallback.
    flow = "urn:li:dataFlow:(unknown,iris_job,dagster)"
    job = f"urn:li:dataJob:({flow},iris_job)"
    mcps = convert_event(event)
    assert rows(mcps) == [
        (flow, "UPSERT", "dataFlowInfo"),
        (flow, "UPSERT", "status"),
        (job, "UPSERT", "dataJobInfo"),
        (job, "UPSERT", "status"),
        # DataHub's newest converter: a JobEvent states the job's whole lineage, none here
        (job, "UPSERT", "dataJobInputOutput"),
    ]
    assert mcps[-1].aspect.to_obj() == {  # type: ignore[union-attr]
        "inputDatasets": [],
        "outputDatasets": [],
        "inputDatasetEdges": [],
        "outputDatasetEdges": [],
        "inputDatajobs": [],
        "inputDatajobEdges": [],
        "fineGrainedLineages": [],
    }
    assert rows(convert_event(event)) == rows(convert_event(json.loads(Serde.to_json(event))))


def test_dataset_event_writes_only_the_dataset() -> None:
    fields = [schema_dataset.SchemaDatasetFacetFields(name="total", type="DOUBLE")]
    event = DatasetEvent(
        eventTime="2025-01-01T00:00:00Z",
        producer="https://github.com/ol-bridge/ol-bridge",
        dataset=StaticDataset(
            namespace=WAREHOUSE,
            name="main.iris_summary",
            facets={
                "schema": schema_dataset.SchemaDatasetFacet(fields=fields),
                "documentation": documentation_dataset.DocumentationDatasetFacet(
                    description="Totals per species"
                ),
            },
        ),
    )
    mcps = convert_event(event)
    assert rows(mcps) == [
        (SUMMARY, "UPSERT", "datasetKey"),
        (SUMMARY, "UPSERT", "status"),
        (SUMMARY, "UPSERT", "schemaMetadata"),
        (SUMMARY, "PATCH", "datasetProperties"),
    ]
    schema = mcps[2].aspect
    assert [(f.fieldPath, f.nativeDataType) for f in schema.fields] == [("total", "DOUBLE")]  # type: ignore[union-attr]
    assert json.loads(mcps[3].aspect.value) == [  # type: ignore[union-attr]
        {"op": "add", "path": "/description", "value": "Totals per species"}
    ]


def test_dataset_event_without_a_name_is_refused() -> None:
    event = {"eventTime": "2025-01-01T00:00:00Z", "producer": "p", "dataset": {"namespace": "x"}}
    with pytest.raises(ConversionError, match=r"dataset\.namespace and dataset\.name"):
        convert_event(event)


# --- urn_scheme -------------------------------------------------------------------------------

PLUGIN = ConverterConfig(
    urn_scheme="datahub-dagster-plugin", plugin_naming=PluginNaming(module="pkg")
)


def dagster_step_event(step_key: str, op_name: str, run_id: str = STEP_RUN_ID) -> dict[str, Any]:
    event = job_event(dagster_job={"jobName": "iris_job", "opName": op_name})
    event["job"]["name"] = f"iris_job.{op_name}"
    event["eventType"] = "COMPLETE"
    event["run"] = {
        "runId": run_id,
        "facets": {
            "dagster_run": {"dagsterRunId": RUN_ID, "jobName": "iris_job", "stepKey": step_key},
            "parent": {
                "run": {"runId": RUN_ID},
                "job": {"namespace": "dagster", "name": "iris_job"},
            },
        },
    }
    return event


def test_plugin_scheme_names_a_step_run_like_the_plugin() -> None:
    mcps = convert_event(dagster_step_event("iris_summary", "iris_summary"), PLUGIN)
    flow = "urn:li:dataFlow:(dagster,pkg/iris_job,PROD)"
    job = f"urn:li:dataJob:({flow},pkg/iris_summary)"
    instance = str(plugin_dpi_urn(RUN_ID, PluginNaming(module="pkg"), step_key="iris_summary"))
    assert {str(m.entityUrn) for m in mcps if m.entityType != "dataset"} == {flow, job, instance}
    relations = next(m.aspect for m in mcps if m.aspectName == "dataProcessInstanceRelationships")
    assert (relations.parentTemplate, relations.parentInstance) == (  # type: ignore[union-attr]
        job,
        str(plugin_dpi_urn(RUN_ID, PluginNaming(module="pkg"))),
    )
    properties = next(m.aspect for m in mcps if m.aspectName == "dataProcessInstanceProperties")
    assert properties.name == f"{RUN_ID}.pkg/iris_summary"  # type: ignore[union-attr]


def test_plugin_scheme_keeps_dynamic_steps_apart() -> None:
    def instance(step_key: str) -> str:
        mcps = convert_event(dagster_step_event(step_key, "square"), PLUGIN)
        return next(str(m.entityUrn) for m in mcps if m.entityType == "dataProcessInstance")

    keys = [f"outer.inner.square[part_{i}]" for i in range(3)]
    assert len({instance(k) for k in keys}) == 3


def test_plugin_scheme_job_event_and_non_dagster_events() -> None:
    dagster_job = job_event(dagster_job={"jobName": "iris_job"})
    urns = {str(m.entityUrn) for m in convert_event(dagster_job, PLUGIN)}
    assert str(plugin_dataflow_urn("iris_job", PluginNaming(module="pkg"))) in urns
    assert not any(
        u.startswith("urn:li:dataJob:") for u in urns
    )  # the plugin had no job-level task
    # Without Dagster facets the event keeps DataHub's scheme, output for output.
    plain = job_event()
    assert rows(convert_event(plain, PLUGIN)) == rows(convert_event(plain))


def test_urn_scheme_options_are_checked() -> None:
    config = ConverterConfig.from_dict(
        {"env": "DEV", "urn_scheme": "datahub-dagster-plugin", "plugin_naming": {"module": "pkg"}}
    )
    assert config.plugin_naming == PluginNaming(env="DEV", module="pkg")
    assert ConverterConfig(env="QA").plugin_naming.env == "QA"
    with pytest.raises(ConfigError, match="urn_scheme='dagster'"):
        ConverterConfig.from_dict({"urn_scheme": "dagster"})
    with pytest.raises(ConfigError, match=r"Unknown key\(s\) \['modul'\]"):
        ConverterConfig.from_dict({"plugin_naming": {"modul": "pkg"}})
