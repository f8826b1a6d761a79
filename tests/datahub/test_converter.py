"""The converter on events shaped like the ones ol-bridge's Dagster sensor emits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

from ol_bridge.datahub import ConverterConfig, Proposal, convert_event
from ol_bridge.errors import ConfigError, ConversionError

PRODUCER = "https://github.com/ol-bridge/ol-bridge/tree/v0.1.0"
RUN_ID = "0b6b2f4e-aaaa-4bbb-8ccc-dddddddddddd"
STEP_RUN_ID = "3f1b8a2e-1111-5222-8333-444455556666"
FLOW = "urn:li:dataFlow:(dagster,iris_job,dagster)"
PARENT_JOB = f"urn:li:dataJob:({FLOW},iris_job)"
STEP_JOB = f"urn:li:dataJob:({FLOW},iris_job.iris_summary)"
DB = "duckdb:///tmp/x.duckdb"
IRIS = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.public.iris,PROD)"
SUMMARY = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.public.iris_summary,PROD)"
T0 = "2025-01-01T10:00:00.123456+00:00"
T0_MS = 1735725600123
ENGINE = {"name": "dagster", "version": "1.13.0", "openlineageAdapterVersion": "0.1.0"}
PARENT = {
    "job": {"namespace": "dagster", "name": "iris_job"},
    "run": {"runId": RUN_ID},
    "root": {"job": {"namespace": "dagster", "name": "iris_job"}, "run": {"runId": RUN_ID}},
}


def wire(proposals: list[Proposal]) -> list[tuple[str, str, str, Any]]:
    """(urn, aspect, change type, aspect JSON as GMS receives it), in emission order."""
    out = []
    for proposal in proposals:
        mcp = proposal.make_mcp() if hasattr(proposal, "make_mcp") else proposal
        assert mcp.aspect is not None and mcp.entityUrn is not None
        out.append(
            (mcp.entityUrn, str(mcp.aspectName), str(mcp.changeType), json.loads(mcp.aspect.value))
        )
    return out


def aspect(proposals: list[Proposal], urn: str, name: str) -> Any:
    found = [a for u, n, _, a in wire(proposals) if u == urn and n == name]
    assert len(found) == 1, f"{name} of {urn}: {len(found)} found"
    return found[0]


def parent_event(event_type: str = "START", **run_facets: Any) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": T0,
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": RUN_ID, "facets": {"processing_engine": ENGINE, **run_facets}},
        "job": {
            "namespace": "dagster",
            "name": "iris_job",
            "facets": {
                "jobType": {"integration": "DAGSTER", "processingType": "BATCH", "jobType": "JOB"},
                "documentation": {"description": "Iris pipeline"},
                "ownership": {"owners": [{"name": "alice"}, {"name": "urn:li:corpGroup:data"}]},
                "dagster_job": {
                    "jobName": "iris_job",
                    "jobUrl": "http://dagster:3000/jobs/iris_job",
                },
            },
        },
        "inputs": [],
        "outputs": [],
    }


def step_event(event_type: str = "COMPLETE", **run_facets: Any) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": T0,
        "producer": PRODUCER,
        "run": {
            "runId": STEP_RUN_ID,
            "facets": {
                "parent": PARENT,
                "dagster_run": {
                    "dagsterRunId": RUN_ID,
                    "jobName": "iris_job",
                    "stepKey": "iris_summary",
                    "attempt": 1,
                    "runUrl": f"http://dagster:3000/runs/{RUN_ID}",
                },
                **run_facets,
            },
        },
        "job": {
            "namespace": "dagster",
            "name": "iris_job.iris_summary",
            "facets": {
                "jobType": {
                    "integration": "DAGSTER",
                    "processingType": "BATCH",
                    "jobType": "ASSET",
                },
                "sourceCodeLocation": {"type": "git", "url": "https://git.example/iris.py#L10"},
                "sql": {
                    "query": "SELECT a, count(*) AS n FROM iris GROUP BY a",
                    "dialect": "duckdb",
                },
            },
        },
        "inputs": [
            {
                "namespace": DB,
                "name": "main.public.iris",
                "facets": {"schema": {"fields": [{"name": "a", "type": "DOUBLE"}]}},
            }
        ],
        "outputs": [
            {
                "namespace": DB,
                "name": "main.public.iris_summary",
                "facets": {
                    "schema": {
                        "fields": [
                            {"name": "a", "type": "DOUBLE", "description": "sepal length"},
                            {"name": "n", "type": "BIGINT"},
                        ]
                    },
                    "columnLineage": {
                        "fields": {
                            "a": {
                                "inputFields": [
                                    {
                                        "namespace": DB,
                                        "name": "main.public.iris",
                                        "field": "a",
                                        "transformations": [
                                            {"type": "DIRECT", "subtype": "IDENTITY"}
                                        ],
                                    }
                                ]
                            }
                        }
                    },
                    "dagster_asset": {
                        "assetKey": ["main", "public", "iris_summary"],
                        "groupName": "iris",
                        "assetUrl": "http://dagster:3000/assets/main/public/iris_summary",
                    },
                },
                "outputFacets": {"outputStatistics": {"rowCount": 3}},
            }
        ],
    }


def test_parent_start_maps_flow_job_and_started_run() -> None:
    out = convert_event(parent_event())
    assert [(u, n, c) for u, n, c, _ in wire(out)] == [
        (FLOW, "dataFlowInfo", "UPSERT"),
        (FLOW, "status", "UPSERT"),
        (FLOW, "versionInfo", "UPSERT"),
        (PARENT_JOB, "dataJobInfo", "UPSERT"),
        (PARENT_JOB, "status", "UPSERT"),
        (PARENT_JOB, "ownership", "PATCH"),
        (PARENT_JOB, "subTypes", "UPSERT"),
        (f"urn:li:dataProcessInstance:{RUN_ID}", "dataProcessInstanceInput", "UPSERT"),
        (f"urn:li:dataProcessInstance:{RUN_ID}", "dataProcessInstanceOutput", "UPSERT"),
        (f"urn:li:dataProcessInstance:{RUN_ID}", "dataProcessInstanceProperties", "UPSERT"),
        (f"urn:li:dataProcessInstance:{RUN_ID}", "dataProcessInstanceRunEvent", "UPSERT"),
        (f"urn:li:dataProcessInstance:{RUN_ID}", "dataProcessInstanceRelationships", "UPSERT"),
    ]
    engine_props = {
        "processingEngine": "dagster",
        "processingEngineVersion": "1.13.0",
        "openlineageAdapterVersion": "0.1.0",
    }
    assert aspect(out, FLOW, "dataFlowInfo") == {
        "customProperties": engine_props,
        "name": "iris_job",
        "description": "Iris pipeline",
        "externalUrl": "http://dagster:3000/jobs/iris_job",
    }
    assert aspect(out, FLOW, "versionInfo") == {
        "customProperties": {},  # the schema default, always serialized by acryl-datahub
        "version": "1.13.0",
        "versionType": "processing_engine",
    }
    # As DataHub's newest converter: the type is the jobType facet's processingType, the
    # facet's members are no custom properties (they are the type and the subtype).
    assert aspect(out, PARENT_JOB, "dataJobInfo") == {
        "customProperties": engine_props,
        "externalUrl": "http://dagster:3000/jobs/iris_job",
        "name": "iris_job",
        "description": "Iris pipeline",
        "type": {"string": "BATCH"},
        "flowUrn": FLOW,
        "created": {"time": T0_MS},
    }
    assert aspect(out, PARENT_JOB, "subTypes") == {"typeNames": ["JOB"]}
    assert aspect(out, PARENT_JOB, "ownership")["patch"] == [
        {
            "op": "add",
            "path": "/owners/urn:li:corpuser:alice/TECHNICAL_OWNER//",
            "value": {
                "owner": "urn:li:corpuser:alice",
                "type": "TECHNICAL_OWNER",
                "source": {"type": "SERVICE"},
            },
        },
        {
            "op": "add",
            "path": "/owners/urn:li:corpGroup:data/TECHNICAL_OWNER//",
            "value": {
                "owner": "urn:li:corpGroup:data",
                "type": "TECHNICAL_OWNER",
                "source": {"type": "SERVICE"},
            },
        },
    ]
    dpi = f"urn:li:dataProcessInstance:{RUN_ID}"
    assert aspect(out, dpi, "dataProcessInstanceRunEvent") == {
        "timestampMillis": T0_MS,
        "partitionSpec": {"partition": "FULL_TABLE_SNAPSHOT", "type": "FULL_TABLE"},
        "status": "STARTED",
    }
    assert aspect(out, dpi, "dataProcessInstanceRelationships") == {
        "parentTemplate": PARENT_JOB,
        "upstreamInstances": [],
    }


def test_parent_complete_from_openlineage_python_event() -> None:
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=T0,
        run=Run(runId=RUN_ID),
        job=Job(namespace="dagster", name="iris_job"),
        producer=PRODUCER,
    )
    out = convert_event(event, ConverterConfig(orchestrator="dagster"))
    dpi = f"urn:li:dataProcessInstance:{RUN_ID}"
    assert aspect(out, dpi, "dataProcessInstanceRunEvent")["result"] == {
        "type": "SUCCESS",
        "nativeResultType": "COMPLETE",
    }
    assert aspect(out, FLOW, "dataFlowInfo") == {"customProperties": {}, "name": "iris_job"}


def test_child_step_links_to_parent_run_job_and_dagster_ui() -> None:
    out = convert_event(step_event())
    dpi = f"urn:li:dataProcessInstance:{STEP_RUN_ID}"
    assert aspect(out, dpi, "dataProcessInstanceRelationships") == {
        "parentTemplate": STEP_JOB,
        "parentInstance": f"urn:li:dataProcessInstance:{RUN_ID}",
        "upstreamInstances": [],
    }
    assert aspect(out, dpi, "dataProcessInstanceProperties") == {
        "customProperties": {
            "dagsterRunId": RUN_ID,
            "jobName": "iris_job",
            "stepKey": "iris_summary",
            "attempt": "1",
        },
        "externalUrl": f"http://dagster:3000/runs/{RUN_ID}",
        "name": STEP_RUN_ID,
        "created": {"time": T0_MS, "actor": "urn:li:corpuser:datahub"},
    }
    job_info = aspect(out, STEP_JOB, "dataJobInfo")
    assert (job_info["name"], job_info["flowUrn"], job_info["externalUrl"]) == (
        "iris_summary",
        FLOW,
        "https://git.example/iris.py#L10",
    )
    assert aspect(out, STEP_JOB, "subTypes") == {"typeNames": ["ASSET"]}
    assert aspect(out, dpi, "dataProcessInstanceInput") == {"inputs": [IRIS]}
    assert aspect(out, dpi, "dataProcessInstanceOutput") == {"outputs": [SUMMARY]}


def test_lineage_is_a_patch_with_column_lineage_and_sql() -> None:
    out = convert_event(step_event())
    edge_stamp = {"time": T0_MS, "actor": "urn:li:corpuser:UNKNOWN"}
    assert aspect(out, STEP_JOB, "dataJobInputOutput") == [
        {
            "op": "add",
            "path": f"/inputDatasetEdges/{IRIS.replace('/', '~1')}",
            "value": {"destinationUrn": IRIS, "created": edge_stamp, "lastModified": edge_stamp},
        },
        {
            "op": "add",
            "path": f"/outputDatasetEdges/{SUMMARY}",
            "value": {"destinationUrn": SUMMARY, "created": edge_stamp, "lastModified": edge_stamp},
        },
        {
            "op": "add",
            "path": "/fineGrainedLineages/-- DIRECT:IDENTITY\n"
            "SELECT a, count(*) AS n FROM iris GROUP BY a"
            f"/urn:li:schemaField:({SUMMARY},a)/NONE/urn:li:schemaField:({IRIS},a)",
            "value": {"confidenceScore": 1.0},
        },
    ]
    # START, then COMPLETE: both only add edges, so the later one cannot remove the earlier ones.
    start = convert_event(step_event("START"))
    assert [c for u, n, c, _ in wire(start) if n == "dataJobInputOutput"] == ["PATCH"]
    assert not [n for _, n, _, _ in wire(out) if n == "upstreamLineage"]


def test_schema_operation_and_dagster_asset_on_output() -> None:
    out = convert_event(step_event())
    schema = aspect(out, SUMMARY, "schemaMetadata")
    assert schema["platform"] == "urn:li:dataPlatform:duckdb"
    assert schema["platformSchema"] == {
        "com.linkedin.schema.OtherSchema": {
            "rawSchema": '[{"name":"a","type":"DOUBLE","description":"sepal length"},'
            '{"name":"n","type":"BIGINT"}]'
        }
    }
    assert [
        (f["fieldPath"], f["nativeDataType"], f.get("description"), f["type"])
        for f in schema["fields"]
    ] == [
        ("a", "DOUBLE", "sepal length", {"type": {"com.linkedin.schema.NumberType": {}}}),
        ("n", "BIGINT", None, {"type": {"com.linkedin.schema.NumberType": {}}}),
    ]
    # DataHub's newest converter: a CUSTOM WRITE operation with the rows written and the SQL
    operation = aspect(out, SUMMARY, "operation")
    assert (
        operation["operationType"],
        operation["customOperationType"],
        operation["numAffectedRows"],
        operation["customProperties"],
    ) == ("CUSTOM", "WRITE", 3, {"queryStatement": "SELECT a, count(*) AS n FROM iris GROUP BY a"})
    assert aspect(out, SUMMARY, "datasetProperties") == [
        {
            "op": "add",
            "path": "/externalUrl",
            "value": "http://dagster:3000/assets/main/public/iris_summary",
        },
        {
            "op": "add",
            "path": "/customProperties/dagsterAssetKey",
            "value": "main/public/iris_summary",
        },
        {"op": "add", "path": "/customProperties/dagsterGroupName", "value": "iris"},
    ]


def test_fail_reports_failure_with_error_message() -> None:
    error = {"message": "boom", "programmingLanguage": "python", "stackTrace": "Traceback..."}
    out = convert_event(step_event("FAIL", errorMessage=error))
    dpi = f"urn:li:dataProcessInstance:{STEP_RUN_ID}"
    assert aspect(out, dpi, "dataProcessInstanceRunEvent") == {
        "timestampMillis": T0_MS,
        "partitionSpec": {"partition": "FULL_TABLE_SNAPSHOT", "type": "FULL_TABLE"},
        "status": "COMPLETE",
        # DataHub's newest converter names the facet that reported the failure
        "result": {"type": "FAILURE", "nativeResultType": "ERROR_MESSAGE"},
    }
    props = aspect(out, dpi, "dataProcessInstanceProperties")["customProperties"]
    assert (props["errorMessage"], props["programmingLanguage"], props["stackTrace"]) == (
        "boom",
        "python",
        "Traceback...",
    )


def test_fail_without_error_facet_reports_its_event_type() -> None:
    out = convert_event(step_event("FAIL"))
    result = aspect(out, f"urn:li:dataProcessInstance:{STEP_RUN_ID}", "dataProcessInstanceRunEvent")
    assert result["result"] == {"type": "FAILURE", "nativeResultType": "FAIL"}


def test_abort_reports_skipped() -> None:
    out = convert_event(parent_event("ABORT"))
    result = aspect(out, f"urn:li:dataProcessInstance:{RUN_ID}", "dataProcessInstanceRunEvent")
    assert (result["status"], result["result"]) == (
        "COMPLETE",
        {"type": "SKIPPED", "nativeResultType": "ABORT"},
    )


@pytest.mark.parametrize(
    ("namespace", "name", "urn"),
    [
        (
            "s3://bucket",
            "path/data.parquet",
            "urn:li:dataset:(urn:li:dataPlatform:s3,bucket/path/data.parquet,PROD)",
        ),
        ("gs://bucket", "x.csv", "urn:li:dataset:(urn:li:dataPlatform:gcs,bucket/x.csv,PROD)"),
        ("file", "/tmp/x.csv", "urn:li:dataset:(urn:li:dataPlatform:file,/tmp/x.csv,PROD)"),
        ("file:///tmp", "x.csv", "urn:li:dataset:(urn:li:dataPlatform:file,/tmp/x.csv,PROD)"),
        (
            "postgres://db:5432",
            "shop.public.orders",
            "urn:li:dataset:(urn:li:dataPlatform:postgres,shop.public.orders,PROD)",
        ),
        (
            "sqlserver://h:1433",
            "db.dbo.t",
            "urn:li:dataset:(urn:li:dataPlatform:mssql,db.dbo.t,PROD)",
        ),
        (
            "snowflake://acct",
            "DB.SCH.T",
            "urn:li:dataset:(urn:li:dataPlatform:snowflake,DB.SCH.T,PROD)",
        ),
        ("dagster", "my/asset", "urn:li:dataset:(urn:li:dataPlatform:dagster,my/asset,PROD)"),
    ],
)
def test_dataset_urn_rules(namespace: str, name: str, urn: str) -> None:
    event = step_event()
    event["inputs"], event["outputs"] = [{"namespace": namespace, "name": name}], []
    assert aspect(
        convert_event(event),
        f"urn:li:dataProcessInstance:{STEP_RUN_ID}",
        "dataProcessInstanceInput",
    ) == {"inputs": [urn]}


def test_config_options_shape_urns() -> None:
    config = ConverterConfig.from_dict(
        {
            "env": "DEV",
            "platform_instance": "prod-dagster",
            "dataset_platform_instance": "wh",
            "namespace_to_platform_instance": {DB: "local_duck"},
            "lowercase_dataset_names": True,
            "emit_job_subtypes": False,
        }
    )
    event = step_event()
    event["inputs"].append({"namespace": "snowflake://acct", "name": "DB.SCH.T"})
    out = convert_event(event, config)
    flow = "urn:li:dataFlow:(dagster,iris_job,prod-dagster)"
    dpi = f"urn:li:dataProcessInstance:{STEP_RUN_ID}"
    assert aspect(out, dpi, "dataProcessInstanceInput") == {
        "inputs": [
            "urn:li:dataset:(urn:li:dataPlatform:duckdb,local_duck.main.public.iris,DEV)",
            "urn:li:dataset:(urn:li:dataPlatform:snowflake,wh.db.sch.t,DEV)",
        ]
    }
    assert aspect(out, flow, "dataPlatformInstance") == {
        "platform": "urn:li:dataPlatform:dagster",
        "instance": "urn:li:dataPlatformInstance:(urn:li:dataPlatform:dagster,prod-dagster)",
    }
    assert not [n for _, n, _, _ in wire(out) if n == "subTypes"]


def test_config_rejects_unknown_and_bad_values() -> None:
    with pytest.raises(
        ConfigError,
        match=r"Unknown key\(s\) \['platfrom_instance'\] in the DataHub converter settings",
    ):
        ConverterConfig.from_dict({"platfrom_instance": "x"})
    with pytest.raises(ConfigError, match="env='prod' is not a DataHub fabric type"):
        ConverterConfig.from_dict({"env": "prod"})


def test_symlink_glue_table_wins_over_path() -> None:
    event = step_event()
    event["outputs"] = [
        {
            "namespace": "s3://lake",
            "name": "warehouse/orders",
            "facets": {
                "symlinks": {
                    "identifiers": [
                        {
                            "namespace": "arn:aws:glue:eu-west-1:123",
                            "name": "table/sales/orders",
                            "type": "TABLE",
                        }
                    ]
                }
            },
        }
    ]
    out = convert_event(event)
    assert aspect(
        out, f"urn:li:dataProcessInstance:{STEP_RUN_ID}", "dataProcessInstanceOutput"
    ) == {"outputs": ["urn:li:dataset:(urn:li:dataPlatform:glue,sales.orders,PROD)"]}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e["run"].update(runId="run-1"), r"run\.runId='run-1' is not a UUID"),
        (
            lambda e: e.update(eventTime="yesterday"),
            r"eventTime='yesterday' is not an ISO-8601 date-time",
        ),
        (
            lambda e: e["job"].update(name=""),
            "job.namespace and job.name must be non-empty strings",
        ),
    ],
)
def test_bad_events_raise_conversion_error(mutate: Any, message: str) -> None:
    event = parent_event()
    mutate(event)
    with pytest.raises(ConversionError, match=message):
        convert_event(event)


def test_not_an_event() -> None:
    with pytest.raises(ConversionError, match="cannot convert a list"):
        convert_event([])
