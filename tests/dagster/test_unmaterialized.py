"""A ``@multi_asset`` (not dbt) that fails after materializing one of its assets: the other
gets a FAIL event of its own job, with the step's error, its upstream and itself. A real run
read by the real sensor; the dbt case is in test_dbt_failures.py."""

from __future__ import annotations

from typing import Any

import dagster as dg
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.dagster.step_jobs import asset_run_id
from tests.dagster.conftest import RecordingTransport
from tests.dagster.helpers import by_job, run, tick_until_idle

WRITTEN, UNWRITTEN = dg.AssetKey("written"), dg.AssetKey("unwritten")


@dg.asset
def source_table() -> None:
    pass


@dg.multi_asset(
    specs=[
        dg.AssetSpec(WRITTEN, deps=[source_table]),
        dg.AssetSpec(
            UNWRITTEN,
            deps=[WRITTEN],
            description="Never written today.",
            metadata={
                "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn("id", "int")])
            },
        ),
    ]
)
def two_tables() -> Any:
    yield dg.MaterializeResult(asset_key=WRITTEN)
    raise ValueError("the warehouse is full")


def test_the_asset_a_failed_step_did_not_write_fails_with_the_steps_error(
    instance: dg.DagsterInstance, ol_validator: Any
) -> None:
    recorder = RecordingTransport()
    sensor = build_openlineage_sensor(client=OpenLineageClient(transport=recorder))
    definitions = dg.Definitions(
        assets=[source_table, two_tables],
        jobs=[dg.define_asset_job("tables", selection=dg.AssetSelection.all())],
        sensors=[sensor],
    )
    run_id = run(definitions, "tables", instance)
    tick_until_idle(sensor, instance, definitions)
    for event in recorder.events:
        ol_validator.validate(event)

    [written] = by_job(recorder.events, "tables.two_tables.written")
    assert written["eventType"] == "COMPLETE"
    [unwritten] = by_job(recorder.events, "tables.two_tables.unwritten")
    assert unwritten["eventType"] == "FAIL"
    assert unwritten["run"]["runId"] == asset_run_id(run_id, "two_tables", 1, UNWRITTEN)
    message = unwritten["run"]["facets"]["errorMessage"]["message"]
    assert message == (
        "unwritten was not materialized: step two_tables failed. ValueError: the warehouse is full"
    )
    assert "ValueError" in unwritten["run"]["facets"]["errorMessage"]["stackTrace"]
    assert [d["name"] for d in unwritten["inputs"]] == [
        d["name"] for d in written["outputs"]
    ]  # its upstream, named as the step wrote it
    [output] = unwritten["outputs"]
    assert output["facets"]["dagster_asset"]["assetKey"] == ["unwritten"]
    # not written: the table's schema is as its last writer left it, not the definition's
    assert "schema" not in output["facets"]
    assert unwritten["job"]["facets"]["documentation"]["description"] == "Never written today."
    assert "sql" not in unwritten["job"]["facets"]
    [step_end] = by_job(recorder.events, "tables.two_tables")[-1:]
    assert step_end["eventType"] == "FAIL"
