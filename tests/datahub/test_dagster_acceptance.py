"""Acceptance: real Dagster runs, emitted by the real sensor through the `datahub` transport.

The runs land in DataHub Lite (read back with acryl-datahub's Lite API) as DataFlows,
DataJobs, one DataProcessInstance per run and per step with its result, and dataset and
column lineage. The same events sent to DataHub's own OpenLineage endpoint name the same
entities as our converter writes, so users can switch between the two without duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
from openlineage.client import OpenLineageClient

from ol_bridge.dagster.events import step_run_id
from ol_bridge.datahub import DatahubConfig, DatahubTransport
from ol_bridge.datahub.sinks.lite import open_lite
from tests.dagster import jobs
from tests.datahub.sensor_runs import emit_runs

ASSETS = "prod__duckdb__analytics__main__"
STEPS = [f"{ASSETS}{name}" for name in ("customers", "orders", "customer_totals")] + [
    f"{ASSETS}customer_totals_totals_positive"
]


def dataset(name: str) -> str:
    return f"urn:li:dataset:(urn:li:dataPlatform:duckdb,analytics.main.{name},PROD)"


def field(table: str, column: str) -> str:
    return f"urn:li:schemaField:({dataset(table)},{column})"


def flow(job: str) -> str:
    return f"urn:li:dataFlow:(dagster,{job},dagster)"


def datajob(job: str, step: str | None = None) -> str:
    return (
        f"urn:li:dataJob:({flow(job)},{job}.{step})"
        if step
        else f"urn:li:dataJob:({flow(job)},{job})"
    )


@pytest.fixture(scope="module")
def lite_with_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[str]]]:
    """asset_job (SQL with column lineage, a check) and failing_job, through DataHub Lite."""
    root = tmp_path_factory.mktemp("acceptance")
    path = root / "lite.duckdb"
    transport = DatahubTransport(DatahubConfig.from_dict({"sink": "lite", "lite_path": str(path)}))
    with dg.instance_for_test(temp_dir=str(root)) as instance:
        run_ids = emit_runs(
            instance,
            OpenLineageClient(transport=transport),
            jobs.definitions,
            ["asset_job", "failing_job"],
        )
    transport.close()
    lite = open_lite(path, read_only=True)
    try:
        yield lite, run_ids
    finally:
        lite.close()


def test_flows_and_jobs(lite_with_runs: tuple[Any, list[str]]) -> None:
    lite, _ = lite_with_runs
    ids = set(lite.list_ids())
    assert {u for u in ids if u.startswith("urn:li:dataFlow:")} == {
        flow("asset_job"),
        flow("failing_job"),
    }
    assert {u for u in ids if u.startswith("urn:li:dataJob:")} == {
        datajob("asset_job"),
        *(datajob("asset_job", step) for step in STEPS),
        datajob("failing_job"),
        datajob("failing_job", "explode"),
    }
    info = lite.get(flow("asset_job"), ["dataFlowInfo"])["dataFlowInfo"]
    assert info["name"] == "asset_job"


def test_one_instance_per_run_and_step_with_its_result(
    lite_with_runs: tuple[Any, list[str]],
) -> None:
    lite, (asset_run, failing_run) = lite_with_runs
    instances = {}
    for urn in lite.list_ids():
        if urn.startswith("urn:li:dataProcessInstance:"):
            aspects = lite.get(urn, None)
            relations = aspects["dataProcessInstanceRelationships"]
            run_event = aspects["dataProcessInstanceRunEvent"]
            instances[urn] = (
                relations["parentTemplate"],
                relations.get("parentInstance"),
                run_event["status"],
                run_event["result"]["type"],
            )

    def dpi(run_id: str) -> str:
        return f"urn:li:dataProcessInstance:{run_id}"

    expected = {
        dpi(asset_run): (datajob("asset_job"), None, "COMPLETE", "SUCCESS"),
        dpi(failing_run): (datajob("failing_job"), None, "COMPLETE", "FAILURE"),
        dpi(step_run_id(failing_run, "explode", 1)): (
            datajob("failing_job", "explode"),
            dpi(failing_run),
            "COMPLETE",
            "FAILURE",
        ),
    }
    for step in STEPS:
        expected[dpi(step_run_id(asset_run, step, 1))] = (
            datajob("asset_job", step),
            dpi(asset_run),
            "COMPLETE",
            "SUCCESS",
        )
    assert instances == expected


def test_dataset_and_column_lineage(lite_with_runs: tuple[Any, list[str]]) -> None:
    lite, _ = lite_with_runs
    io = lite.get(datajob("asset_job", f"{ASSETS}customer_totals"), ["dataJobInputOutput"])[
        "dataJobInputOutput"
    ]
    assert [e["destinationUrn"] for e in io["inputDatasetEdges"]] == [
        dataset("customers"),
        dataset("orders"),
    ]
    assert [e["destinationUrn"] for e in io["outputDatasetEdges"]] == [dataset("customer_totals")]
    column_lineage = [
        (f["upstreams"], f["downstreams"], f["transformOperation"].split("\n", 1)[0])
        for f in io["fineGrainedLineages"]
    ]
    assert column_lineage == [
        (
            [field("customers", "customer_id")],
            [field("customer_totals", "customer_id")],
            "-- DIRECT:IDENTITY",
        ),
        ([field("customers", "name")], [field("customer_totals", "name")], "-- DIRECT:IDENTITY"),
        ([field("orders", "amount")], [field("customer_totals", "total")], "-- DIRECT:AGGREGATION"),
    ]
    orders = lite.get(dataset("orders"), ["schemaMetadata"])["schemaMetadata"]
    assert [(f["fieldPath"], f["nativeDataType"]) for f in orders["fields"]] == [
        ("order_id", "integer"),
        ("customer_id", "integer"),
        ("amount", "double"),
    ]
