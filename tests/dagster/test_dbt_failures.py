"""A dbt model that fails under ``dbt build``, the model dbt skips after it, and the compiled
SQL of two runs that compiled a model differently: the shop project with shop_dbt_failing's
models, built twice for real by dagster-dbt on dbt-duckdb, read by the real sensor once both
runs have ended (so the project's target folder holds the second run's files by then).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import dagster as dg
import pytest

from ol_bridge.dagster.dbt_runs import forget_read_artifacts
from ol_bridge.dagster.events import step_run_id
from ol_bridge.dagster.step_jobs import asset_run_id
from ol_bridge.datahub import convert_events
from ol_bridge.delivery import DeliveryConfig
from tests.dagster.helpers import tick_until_idle
from tests.dagster.projects import shop
from tests.dagster.shop_runs import NAMESPACE, bare_sensor, by_run, recording_sensor, shop_instance
from tests.dagster.test_dbt_assets import table

STEP = "shop_job.shop_models"
FAILED, SKIPPED, VARYING = "customer_rank", "customer_rank_report", "big_customers"


@attrs.frozen
class FailingRuns:
    #: run id -> its events, from a sensor next to the assets and one without them
    events: dict[str, list[dict[str, Any]]]
    bare_events: dict[str, list[dict[str, Any]]]
    #: the two runs, in order (SHOP_MIN_ORDERS 1, then 2)
    run_ids: tuple[str, str]
    project_dir: Path
    root: Path
    instance: dg.DagsterInstance
    definitions: dg.Definitions


def _dbt_keys(definitions: dg.Definitions) -> list[dg.AssetKey]:
    """The assets the dbt step materializes."""
    graph = definitions.resolve_asset_graph()
    return [key for key in graph.executable_asset_keys if key != dg.AssetKey(["raw", "orders"])]


@pytest.fixture(scope="module")
def failing_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailingRuns]:
    root = tmp_path_factory.mktemp("shop_failing")
    sensor, recorder = recording_sensor()
    bare, bare_recorder = bare_sensor()
    with shop_instance(root, [sensor], failing=True, fetch_metadata=False) as setup:
        job = setup.definitions.resolve_job_def("shop_job")
        run_ids: list[str] = []
        for min_orders in ("1", "2"):
            setup.env.setenv(shop.MIN_ORDERS_VARIABLE, min_orders)
            result = job.execute_in_process(instance=setup.instance, raise_on_error=False)
            assert not result.success  # customer_rank failed
            run_ids.append(str(result.run_id))
        tick_until_idle(sensor, setup.instance, setup.definitions)
        forget_read_artifacts()
        tick_until_idle(bare, setup.instance, dg.Definitions(sensors=[bare]))
        yield FailingRuns(
            by_run(recorder.events),
            by_run(bare_recorder.events),
            (run_ids[0], run_ids[1]),
            setup.project_dir,
            root,
            setup.instance,
            setup.definitions,
        )


def _only(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [event] = [e for e in events if e["job"]["name"] == name]
    return event


def _names(datasets: list[dict[str, Any]]) -> set[str]:
    assert {d["namespace"] for d in datasets} <= {NAMESPACE}
    return {d["name"] for d in datasets}


def test_every_event_is_valid(failing_runs: FailingRuns, ol_validator: Any) -> None:
    for events in [*failing_runs.events.values(), *failing_runs.bare_events.values()]:
        for event in events:
            ol_validator.validate(event)


@pytest.mark.parametrize("run", [0, 1])
def test_a_failed_model_fails_and_the_model_dbt_skipped_aborts(
    failing_runs: FailingRuns, run: int
) -> None:
    run_id = failing_runs.run_ids[run]
    events = failing_runs.events[run_id]
    failed = _only(events, f"{STEP}.{FAILED}")
    assert failed["eventType"] == "FAIL"
    error = failed["run"]["facets"]["errorMessage"]["message"]
    assert error.startswith(f"dbt model.shop.{FAILED} failed: Runtime Error"), error
    assert "Conversion Error" in error
    # its upstream as input, itself as output, as when it succeeds
    assert _names(failed["inputs"]) == {table("customer_orders")}
    assert _names(failed["outputs"]) == {table(FAILED)}
    # the SQL dbt ran and failed on, from this run's invocation
    assert "cast(name as integer)" in failed["job"]["facets"]["sql"]["query"]
    assert failed["job"]["facets"]["dagster_job"]["assetKeys"] == [FAILED]

    skipped = _only(events, f"{STEP}.{SKIPPED}")
    assert skipped["eventType"] == "ABORT"
    reason = skipped["run"]["facets"]["errorMessage"]["message"]
    assert reason == (
        f"dbt skipped model.shop.{SKIPPED}: model.shop.{FAILED} (error), which it depends "
        "on, did not succeed."
    )
    assert _names(skipped["inputs"]) == {table(FAILED)}
    assert _names(skipped["outputs"]) == {table(SKIPPED)}
    assert "sql" not in skipped["job"]["facets"]  # dbt never compiled it

    for event, key in ((failed, FAILED), (skipped, SKIPPED)):
        assert event["run"]["runId"] == asset_run_id(run_id, "shop_models", 1, dg.AssetKey(key))
        parent = event["run"]["facets"]["parent"]
        assert parent["job"]["name"] == STEP
        assert parent["run"]["runId"] == step_run_id(run_id, "shop_models", 1)
        assert parent["root"]["run"]["runId"] == run_id
    # the models that succeeded complete as before; the step itself fails
    assert _only(events, f"{STEP}.customer_value")["eventType"] == "COMPLETE"
    assert [e["eventType"] for e in events if e["job"]["name"] == STEP] == ["START", "FAIL"]
    # nothing else of the step is left without an event
    own_jobs = {e["job"]["name"] for e in events if e["job"]["name"].startswith(f"{STEP}.")}
    assert {
        f"{STEP}.{key.to_user_string()}" for key in _dbt_keys(failing_runs.definitions)
    } <= own_jobs


def test_each_run_carries_the_sql_its_own_dbt_invocation_compiled(
    failing_runs: FailingRuns,
) -> None:
    first, second = (
        _only(failing_runs.events[run_id], f"{STEP}.{VARYING}")["job"]["facets"]["sql"]["query"]
        for run_id in failing_runs.run_ids
    )
    assert first.rstrip().endswith("where order_count >= 1"), first
    assert second.rstrip().endswith("where order_count >= 2"), second


def test_without_the_definitions_the_failed_models_are_the_same(
    failing_runs: FailingRuns,
) -> None:
    """A sensor in another code location finds the outcome in the run's dbt artifacts and
    names and links the models that were not materialized as the sensor next to them."""

    def summary(event: dict[str, Any]) -> tuple[Any, ...]:
        return (
            event["job"]["name"],
            event["eventType"],
            event["run"]["runId"],
            sorted(d["name"] for d in event.get("inputs") or ()),
            sorted(d["name"] for d in event.get("outputs") or ()),
            event["run"]["facets"].get("errorMessage", {}).get("message"),
            event["job"]["facets"].get("sql", {}).get("query"),
        )

    for run_id in failing_runs.run_ids:
        assert [summary(e) for e in failing_runs.bare_events[run_id]] == [
            summary(e) for e in failing_runs.events[run_id]
        ]


def test_unreadable_artifacts_say_why_and_attach_no_other_runs_sql(
    failing_runs: FailingRuns, caplog: pytest.LogCaptureFixture
) -> None:
    """The first run's dbt folder is gone (its run ran elsewhere): its models get no SQL,
    not the project's nor the second run's, one log line per asset says why, and its
    failed models FAIL with the step's error, which dagster-dbt fills with dbt's."""
    first_run = failing_runs.run_ids[0]
    target = failing_runs.project_dir / "target"
    [folder] = target.glob(f"shop_models-{first_run[:7]}-*")
    shutil.move(str(folder), str(failing_runs.root / folder.name))
    # what a later `dbt compile` leaves in the project's own target folder
    compiled = target / "compiled" / "shop" / "models" / "marts"
    compiled.mkdir(parents=True)
    (compiled / f"{VARYING}.sql").write_text("select 'not this run' as customer_id")
    forget_read_artifacts()
    again, recorder = recording_sensor("again_sensor", delivery=DeliveryConfig(outbox=False))
    definitions = dg.Definitions(
        assets=failing_runs.definitions.assets, resources=failing_runs.definitions.resources,
        sensors=[again],
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="ol_bridge"):
        tick_until_idle(again, failing_runs.instance, definitions)
    events = by_run(recorder.events)

    varying = _only(events[first_run], f"{STEP}.{VARYING}")
    assert varying["eventType"] == "COMPLETE"
    assert "sql" not in varying["job"]["facets"]
    said = [r.getMessage() for r in caplog.records if f"dbt asset {VARYING} " in r.getMessage()]
    assert len(said) == 1, said  # once per asset
    assert "not readable here" in said[0] and first_run in said[0]
    # the second run's folder is still there: its SQL is its own
    second = _only(events[failing_runs.run_ids[1]], f"{STEP}.{VARYING}")
    assert second["job"]["facets"]["sql"]["query"].rstrip().endswith(">= 2")

    for key in (FAILED, SKIPPED):
        event = _only(events[first_run], f"{STEP}.{key}")
        assert event["eventType"] == "FAIL"
        message = event["run"]["facets"]["errorMessage"]["message"]
        assert message.startswith(f"{key} was not materialized: step shop_models failed."), message
        assert "Conversion Error" in message  # dagster-dbt's error quotes dbt's
        assert "sql" not in event["job"]["facets"]


def test_datahub_shows_the_failed_model_failed_and_the_skipped_one_skipped(
    failing_runs: FailingRuns,
) -> None:
    """Our converter: each model's run instance under its own DataJob, with its result."""
    events = failing_runs.events[failing_runs.run_ids[1]]
    proposals = convert_events(events)
    job_of = {
        str(p.entityUrn): str(p.aspect.parentTemplate)
        for p in proposals
        if p.aspectName == "dataProcessInstanceRelationships"
    }
    results = {
        job_of[str(p.entityUrn)].rsplit(",", 1)[1].rstrip(")"): p.aspect.result.type
        for p in proposals
        if p.aspectName == "dataProcessInstanceRunEvent" and p.aspect.result is not None
        and str(p.entityUrn) in job_of
    }  # fmt: skip
    assert results[f"{STEP}.{FAILED}"] == "FAILURE"
    assert results[f"{STEP}.{SKIPPED}"] == "SKIPPED"
    assert results[f"{STEP}.customer_value"] == "SUCCESS"
