"""The real sensor, ticked against real instances after real in-process runs."""

from __future__ import annotations

import uuid
from typing import Any

import dagster as dg
import pytest
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.dagster.events import STEP_RUN_NAMESPACE
from ol_bridge.delivery import DeliveryConfig
from ol_bridge.naming import NamingConfig
from tests.dagster import jobs
from tests.dagster.helpers import by_job, run, tick, tick_until_idle, types

NAMING = NamingConfig.from_dict({"connections": {"duckdb": "duckdb:///data/warehouse.duckdb"}})


def make_sensor(client: OpenLineageClient, **kwargs: Any) -> dg.SensorDefinition:
    translator = OpenLineageTranslator(naming=NAMING, dagster_url="http://dagster.local:3000")
    return build_openlineage_sensor(client=client, translator=translator, **kwargs)


def step_id(run_id: str, step: str, attempt: int = 1) -> str:
    return str(uuid.uuid5(STEP_RUN_NAMESPACE, f"{run_id}/{step}/{attempt}"))


def test_asset_job_on_every_storage(any_instance, ol_client, recorder, ol_validator) -> None:
    sensor = make_sensor(ol_client)
    defs = jobs.definitions(sensor)
    run_id = run(defs, "asset_job", any_instance)

    tick_until_idle(sensor, any_instance, defs)
    events = recorder.events

    for event in events:
        ol_validator.validate(event)
    parent = by_job(events, "asset_job")
    assert types(parent) == ["START", "COMPLETE"]
    assert {e["run"]["runId"] for e in parent} == {run_id}
    assert events[0] is parent[0] and events[-1] is parent[-1]
    assert parent[0]["job"]["facets"]["jobType"]["integration"] == "DAGSTER"
    assert parent[0]["run"]["facets"]["dagster_run"]["runUrl"] == (
        f"http://dagster.local:3000/runs/{run_id}"
    )

    step = "prod__duckdb__analytics__main__customer_totals"
    totals = by_job(events, f"asset_job.{step}")
    assert types(totals) == ["START", "COMPLETE"]
    assert {e["run"]["runId"] for e in totals} == {step_id(run_id, step)}
    facets = totals[1]["run"]["facets"]
    assert facets["parent"]["run"]["runId"] == run_id
    root = facets["parent"]["root"]
    assert (root["job"]["namespace"], root["job"]["name"], root["run"]["runId"]) == (
        "dagster",
        "asset_job",
        run_id,
    )
    assert facets["dagster_run"]["stepKey"] == step
    assert facets["dagster_run"]["attempt"] == 1
    complete = totals[1]
    assert complete["job"]["facets"]["jobType"]["jobType"] == "ASSET"
    assert complete["job"]["facets"]["sql"]["query"].startswith("CREATE TABLE")
    assert complete["job"]["facets"]["sql"]["dialect"] == "duckdb"
    [output] = complete["outputs"]
    assert (output["namespace"], output["name"]) == (
        "duckdb:///data/warehouse.duckdb",
        "analytics.main.customer_totals",
    )
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2
    lineage = output["facets"]["columnLineage"]["fields"]
    assert {f["name"] for f in lineage["total"]["inputFields"]} == {"analytics.main.orders"}
    assert [f["field"] for f in lineage["total"]["inputFields"]] == ["amount"]
    assert output["facets"]["dagster_asset"]["assetKey"] == [*jobs.WAREHOUSE, "customer_totals"]
    assert output["facets"]["symlinks"]["identifiers"] == [
        {
            "namespace": "dagster",
            "name": "prod/duckdb/analytics/main/customer_totals",
            "type": "DAGSTER_ASSET",
        }
    ]
    source = complete["job"]["facets"]["sourceCodeLocation"]
    assert source["type"] == "file" and source["path"].endswith("tests/dagster/jobs.py")
    assert source["url"].startswith("file://") and "#L" in source["url"]
    assert {i["name"] for i in complete["inputs"]} == {
        "analytics.main.orders",
        "analytics.main.customers",
    }

    orders_out = by_job(events, "asset_job.prod__duckdb__analytics__main__orders")[1]["outputs"][0]
    schema = orders_out["facets"]["schema"]["fields"]
    assert [(f["name"], f["type"]) for f in schema] == [
        ("order_id", "integer"),
        ("customer_id", "integer"),
        ("amount", "double"),
    ]
    assert orders_out["facets"]["documentation"]["description"].startswith("Raw orders")
    assert {o["name"] for o in orders_out["facets"]["ownership"]["owners"]} == {
        "team:data-eng",
        "user:alice@example.com",
    }

    check_step = "prod__duckdb__analytics__main__customer_totals_totals_positive"
    check = by_job(events, f"asset_job.{check_step}")[1]
    [checked] = check["inputs"]
    assert checked["name"] == "analytics.main.customer_totals"
    [assertion] = checked["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert assertion["assertion"] == "totals_positive" and assertion["success"] is True


def test_ops_job_nested_dynamic_and_declared_datasets(
    instance, ol_client, recorder, ol_validator
) -> None:
    sensor = make_sensor(ol_client)
    defs = jobs.definitions(sensor)
    run_id = run(defs, "ops_job", instance)
    tick_until_idle(sensor, instance, defs)
    events = recorder.events
    for event in events:
        ol_validator.validate(event)

    mapped = by_job(events, "ops_job.outer.inner.square")
    assert types(mapped) == ["START", "COMPLETE"] * 3 or sorted(types(mapped)) == sorted(
        ["START", "COMPLETE"] * 3
    )
    run_ids = {e["run"]["runId"] for e in mapped}
    assert run_ids == {step_id(run_id, f"outer.inner.square[part_{i}]") for i in range(3)}
    assert all(e["job"]["facets"]["jobType"]["jobType"] == "TASK" for e in mapped)

    clean = by_job(events, "ops_job.clean")[1]
    assert [(i["namespace"], i["name"]) for i in clean["inputs"]] == [
        ("postgres", "shop.public.orders")
    ] or clean["inputs"][0]["name"].endswith("shop.public.orders")
    assert clean["outputs"][0]["name"].endswith("clean/orders.parquet")
    assert clean["job"]["facets"]["documentation"]["description"] == "Cleans orders."
    assert types(by_job(events, "ops_job")) == ["START", "COMPLETE"]


def test_failure_carries_error_and_stack(instance, ol_client, recorder, ol_validator) -> None:
    sensor = make_sensor(ol_client)
    defs = jobs.definitions(sensor)
    run_id = run(defs, "failing_job", instance)
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)

    step = by_job(recorder.events, "failing_job.explode")
    assert types(step) == ["START", "FAIL"]
    error = step[1]["run"]["facets"]["errorMessage"]
    assert "the warehouse is on fire" in error["message"]
    assert "ValueError" in error["stackTrace"] and error["programmingLanguage"] == "python"
    parent = by_job(recorder.events, "failing_job")
    assert types(parent) == ["START", "FAIL"]
    assert parent[1]["run"]["runId"] == run_id
    assert "explode" in parent[1]["run"]["facets"]["errorMessage"]["message"]


def test_retries_get_one_run_per_attempt(instance, ol_client, recorder) -> None:
    sensor = make_sensor(ol_client)
    defs = jobs.definitions(sensor)
    run_id = run(defs, "retry_job", instance)
    tick_until_idle(sensor, instance, defs)

    flaky = by_job(recorder.events, "retry_job.flaky")
    assert types(flaky) == ["START", "FAIL", "START", "COMPLETE"]
    assert [e["run"]["runId"] for e in flaky] == [
        step_id(run_id, "flaky", 1),
        step_id(run_id, "flaky", 1),
        step_id(run_id, "flaky", 2),
        step_id(run_id, "flaky", 2),
    ]
    assert "transient failure" in flaky[1]["run"]["facets"]["errorMessage"]["message"]
    assert [e["run"]["facets"]["dagster_run"]["attempt"] for e in flaky] == [1, 1, 2, 2]


def test_bad_sql_and_odd_keys_still_give_lineage(
    instance, ol_client, recorder, ol_validator
) -> None:
    sensor = make_sensor(ol_client)
    defs = jobs.definitions(sensor)
    run(defs, "broken_sql_job", instance)
    run(defs, "odd_job", instance)
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)

    broken = by_job(recorder.events, "broken_sql_job.prod__duckdb__analytics__main__broken_sql")[1]
    assert broken["outputs"][0]["name"] == "analytics.main.broken_sql"
    errors = broken["run"]["facets"]["extractionError"]
    assert errors["failedTasks"] == 1 and "SELEKT" not in errors["errors"][0]["errorMessage"][:0]
    assert {i["name"] for i in broken["inputs"]} == {"analytics.main.customer_totals"}

    odd = [e for e in recorder.events if e["outputs"] and e["outputs"][0]["namespace"] == "dagster"]
    assert odd, "the odd asset key must still become a dataset under the fallback namespace"
    assert odd[0]["outputs"][0]["facets"]["dagster_asset"]["assetKey"] == [
        "odd key",
        "with/slash",
        "ünïcode",
    ]


def test_partitions_and_nominal_time(instance, ol_client, recorder, ol_validator) -> None:
    sensor = make_sensor(ol_client)
    defs = jobs.definitions(sensor)
    run(defs, "daily_job", instance, partition_key="2024-03-05")
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)
    parent = by_job(recorder.events, "daily_job")[0]
    assert parent["run"]["facets"]["dagster_run"]["partitionKey"] == "2024-03-05"
    assert parent["run"]["facets"]["nominalTime"]["nominalStartTime"].startswith("2024-03-05T00:00")


def test_replay_from_empty_cursor_gives_same_ids(instance, ol_client, recorder) -> None:
    # a deliberate replay: delivered events are not remembered for deduplication
    sensor = make_sensor(ol_client, delivery=DeliveryConfig(dedup_seconds=0))
    defs = jobs.definitions(sensor)
    run(defs, "asset_job", instance)
    run(defs, "retry_job", instance)
    tick_until_idle(sensor, instance, defs)
    first = [(e["job"]["name"], e["eventType"], e["run"]["runId"]) for e in recorder.events]
    recorder.events.clear()
    tick_until_idle(sensor, instance, defs)  # a fresh cursor: history again
    second = [(e["job"]["name"], e["eventType"], e["run"]["runId"]) for e in recorder.events]
    assert first == second and len(first) > 10


def test_replay_within_the_dedup_window_sends_nothing_twice(instance, ol_client, recorder) -> None:
    sensor = make_sensor(ol_client)  # default: delivered events remembered for a day
    defs = jobs.definitions(sensor)
    run(defs, "asset_job", instance)
    tick_until_idle(sensor, instance, defs)
    delivered = len(recorder.events)
    tick_until_idle(sensor, instance, defs)  # a fresh cursor: history again
    assert len(recorder.events) == delivered > 4


def test_caught_up_sensor_is_idle_and_sees_new_runs(instance, ol_client, recorder) -> None:
    sensor = make_sensor(ol_client)
    defs = jobs.definitions(sensor)
    run(defs, "failing_job", instance)
    cursor, _ = tick_until_idle(sensor, instance, defs)
    count = len(recorder.events)
    result, cursor = tick(sensor, instance, defs, cursor)
    assert result.skip_message == "No new runs to emit." and len(recorder.events) == count
    run(defs, "failing_job", instance)
    result, cursor = tick(sensor, instance, defs, cursor)
    assert len(recorder.events) == count * 2


def test_start_now_skips_history(instance, ol_client, recorder) -> None:
    sensor = make_sensor(ol_client, start="now")
    defs = jobs.definitions(sensor)
    run(defs, "failing_job", instance)
    cursor, _ = tick_until_idle(sensor, instance, defs)
    assert recorder.events == []
    new_run = run(defs, "failing_job", instance)
    tick_until_idle(sensor, instance, defs, cursor)
    assert {e["run"]["facets"]["dagster_run"]["dagsterRunId"] for e in recorder.events} == {new_run}


def test_runs_that_never_started(instance, ol_client, recorder, ol_validator) -> None:
    sensor = make_sensor(ol_client)
    defs = jobs.definitions(sensor)
    job = defs.resolve_job_def("failing_job")
    canceled = instance.create_run_for_job(job)
    instance.report_run_canceled(canceled)
    failed = instance.create_run_for_job(job)
    instance.report_run_failed(failed)
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)
    outcome = {e["run"]["runId"]: e["eventType"] for e in recorder.events}
    assert outcome == {canceled.run_id: "ABORT", failed.run_id: "FAIL"}


def test_backend_down_loses_nothing_without_outbox(instance, recorder) -> None:
    """Direct hand-off (no outbox): the cursor waits before the first event that failed.
    The outbox's own guarantees are tested in tests/delivery."""
    sensor = make_sensor(
        OpenLineageClient(transport=recorder), delivery=DeliveryConfig(outbox=False)
    )
    defs = jobs.definitions(sensor)
    run(defs, "asset_job", instance)
    recorder.fail_with = ConnectionError("backend down")
    result, cursor = tick(sensor, instance, defs, None)
    assert recorder.events == []
    assert result.skip_message.startswith("Emitted 0 events; hand-off failed: ConnectionError")
    result, cursor = tick(sensor, instance, defs, cursor)
    assert recorder.events == []

    recorder.fail_with = None
    tick_until_idle(sensor, instance, defs, cursor)
    keys = [(e["run"]["runId"], e["eventType"]) for e in recorder.events]
    assert len(keys) == len(set(keys)) == 10  # 5 jobs (run + 4 steps) x START/COMPLETE


def test_small_pages_and_steps_spanning_ticks(instance, ol_client, recorder) -> None:
    from ol_bridge.dagster import TickLimits

    sensor = make_sensor(ol_client, limits=TickLimits(records_per_page=2))
    defs = jobs.definitions(sensor)
    run(defs, "asset_job", instance)
    tick_until_idle(sensor, instance, defs)
    totals = by_job(recorder.events, "asset_job.prod__duckdb__analytics__main__customer_totals")
    assert types(totals) == ["START", "COMPLETE"]
    # the materialization was read in an earlier page than STEP_SUCCESS, and still arrives
    assert totals[1]["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 2


def test_sensor_logs_what_it_emits(instance, ol_client, caplog: pytest.LogCaptureFixture) -> None:
    sensor = make_sensor(ol_client)
    defs = jobs.definitions(sensor)
    run(defs, "failing_job", instance)
    with caplog.at_level("INFO"):
        tick(sensor, instance, defs, None)
    assert "openlineage_sensor - Emitting 4 events" in caplog.text


def test_an_upstream_is_named_from_its_materialization_before_each_run(
    instance, ol_client, recorder
) -> None:
    """One tick walks two runs; between them the upstream moved to another table. Each
    run's downstream step must read the table the upstream had when that run read it,
    so what one step learnt about an upstream cannot outlive its next materialization."""
    tables = iter(["analytics.raw.orders_v1", "analytics.raw.orders_v2"])

    @dg.asset(key=["orders"])
    def orders() -> dg.MaterializeResult:
        table = next(tables)
        return dg.MaterializeResult(
            metadata={"dagster/table_name": table, "dagster/storage_kind": "duckdb"}
        )

    @dg.asset(key=["report"], deps=[orders])
    def report() -> None:
        pass

    job = dg.define_asset_job("orders_job", selection=[orders, report])
    sensor = make_sensor(ol_client)
    defs = dg.Definitions(assets=[orders, report], jobs=[job], sensors=[sensor])
    first = run(defs, "orders_job", instance)
    second = run(defs, "orders_job", instance)

    tick(sensor, instance, defs, None)
    read = {
        e["run"]["facets"]["parent"]["run"]["runId"]: [i["name"] for i in e["inputs"]]
        for e in by_job(recorder.events, "orders_job.report")
        if e["eventType"] == "COMPLETE"
    }
    assert read == {first: ["analytics.raw.orders_v1"], second: ["analytics.raw.orders_v2"]}
