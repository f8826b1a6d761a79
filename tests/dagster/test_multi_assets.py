"""Several assets per step, checks in the asset's own step, graph-backed assets and a
re-execution from failure: real runs of tests/dagster/projects/multi.py, emitted by the real
sensor, converted into DataHub Lite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import dagster as dg
import pytest
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.cursor import SensorCursor
from ol_bridge.dagster.events import step_run_id
from ol_bridge.dagster.tick import run_tick
from ol_bridge.datahub import DatahubConfig, DatahubTransport, convert_events
from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.sinks.lite import open_lite
from ol_bridge.naming import NamingConfig
from tests.dagster.conftest import RecordingTransport
from tests.dagster.datahub_edges import converter_edges, endpoint_edges
from tests.dagster.helpers import tick_until_idle
from tests.dagster.projects import multi

NAMING = NamingConfig.from_dict({"connections": {"duckdb": "duckdb:///data/warehouse.duckdb"}})
PREFIX = "prod__duckdb__analytics__main__"
MULTI_STEP = "multi_job.order_and_customer_tables"


@attrs.frozen
class Runs:
    events: list[dict[str, Any]]
    multi_run: str
    #: multi_job with only customer_list selected
    subset_run: str
    failed_run: str
    reexecution: str
    #: a re-execution of the report step of ``reexecution``
    step_reexecution: str
    lite_path: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("multi")
    recorder = RecordingTransport()
    sensor = build_openlineage_sensor(
        client=OpenLineageClient(transport=recorder),
        translator=OpenLineageTranslator(naming=NAMING),
    )
    definitions = multi.definitions(sensor)
    with (
        pytest.MonkeyPatch.context() as env,
        dg.instance_for_test(temp_dir=str(root)) as instance,
    ):
        env.setenv(multi.FLAKY_MARKER_VARIABLE, str(root / "flaky-ran-once"))
        multi_job = definitions.resolve_job_def("multi_job")
        multi_run = multi_job.execute_in_process(instance=instance)
        assert multi_run.success
        subset_run = multi_job.execute_in_process(
            instance=instance, asset_selection=[multi.CUSTOMER_LIST]
        )
        assert subset_run.success
        failed = definitions.resolve_job_def("flaky_job").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert not failed.success
        with dg.execute_job(
            dg.reconstructable(multi.resolved_flaky_job),
            instance=instance,
            reexecution_options=dg.ReexecutionOptions.from_failure(failed.run_id, instance),
        ) as reexecuted:
            assert reexecuted.success
            reexecution = reexecuted.run_id
        with dg.execute_job(
            dg.reconstructable(multi.resolved_flaky_job),
            instance=instance,
            reexecution_options=dg.ReexecutionOptions(
                parent_run_id=reexecution, step_selection=[f"{PREFIX}report"]
            ),
        ) as report_only:
            assert report_only.success
            step_reexecution = report_only.run_id
        tick_until_idle(sensor, instance, definitions)
    lite_path = root / "lite.duckdb"
    transport = DatahubTransport(
        DatahubConfig.from_dict({"sink": "lite", "lite_path": str(lite_path)})
    )
    transport.emit_batch(recorder.events)
    transport.close()
    yield Runs(
        recorder.events,
        multi_run.run_id,
        subset_run.run_id,
        failed.run_id,
        reexecution,
        step_reexecution,
        lite_path,
    )


def of_job(runs: Runs, name: str, run_id: str | None = None) -> list[dict[str, Any]]:
    return [
        e
        for e in runs.events
        if e["job"]["name"] == name
        and (run_id is None or e["run"]["facets"]["dagster_run"]["dagsterRunId"] == run_id)
    ]


def names(datasets: list[dict[str, Any]]) -> set[str]:
    return {d["name"] for d in datasets}


def assertions(event: dict[str, Any]) -> list[dict[str, Any]]:
    [checked] = event["inputs"]
    found: list[dict[str, Any]] = checked["inputFacets"]["dataQualityAssertions"]["assertions"]
    return found


def test_every_event_is_valid(runs: Runs, ol_validator: Any) -> None:
    for event in runs.events:
        ol_validator.validate(event)


def test_multi_asset_outputs_each_carry_their_own_inputs(runs: Runs) -> None:
    [totals] = of_job(runs, f"{MULTI_STEP}.{PREFIX}order_totals", runs.multi_run)
    [customer_list] = of_job(runs, f"{MULTI_STEP}.{PREFIX}customer_list", runs.multi_run)
    assert names(totals["inputs"]) == {"analytics.main.orders"}
    assert names(totals["outputs"]) == {"analytics.main.order_totals"}
    assert names(customer_list["inputs"]) == {"analytics.main.customers"}
    assert names(customer_list["outputs"]) == {"analytics.main.customer_list"}
    # each output's own SQL, schema, statistics, description and owners
    assert totals["job"]["facets"]["sql"]["query"].startswith("CREATE TABLE")
    assert "sql" not in customer_list["job"]["facets"]
    [output] = totals["outputs"]
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 1
    assert [f["name"] for f in output["facets"]["schema"]["fields"]] == ["order_id", "total"]
    assert totals["job"]["facets"]["documentation"]["description"] == "Totals per order."
    owners = customer_list["job"]["facets"]["ownership"]["owners"]
    assert [o["name"] for o in owners] == ["team:crm"]
    assert "ownership" not in totals["job"]["facets"]
    step = of_job(runs, MULTI_STEP, runs.multi_run)
    assert [e["eventType"] for e in step] == ["START", "COMPLETE"]
    assert step[-1]["inputs"] == [] and step[-1]["outputs"] == []


def test_a_subset_run_keeps_the_asset_on_its_own_job(runs: Runs) -> None:
    """Selecting one asset of the multi-asset does not move its lineage to the step's job."""
    [customer_list] = of_job(runs, f"{MULTI_STEP}.{PREFIX}customer_list", runs.subset_run)
    assert names(customer_list["inputs"]) == {"analytics.main.customers"}
    assert names(customer_list["outputs"]) == {"analytics.main.customer_list"}
    assert not of_job(runs, f"{MULTI_STEP}.{PREFIX}order_totals", runs.subset_run)
    step_end = of_job(runs, MULTI_STEP, runs.subset_run)[-1]
    assert step_end["inputs"] == [] and step_end["outputs"] == []


def test_checks_in_the_assets_own_step_become_assertions(runs: Runs) -> None:
    # the multi-asset's check, evaluated in the multi-asset's step
    [totals_checks] = of_job(runs, f"{MULTI_STEP}.{PREFIX}order_totals.checks")
    assert names(totals_checks["inputs"]) == {"analytics.main.order_totals"}
    assert assertions(totals_checks) == [
        {
            "assertion": "totals_not_negative",
            "name": "totals_not_negative",
            "success": False,
            "severity": "warn",
            "description": "No total below zero.",
            "params": {},
        }
    ]
    # issue 11's example: @asset(check_specs=[AssetCheckSpec("c", asset="t")])
    [t_checks] = of_job(runs, "multi_job.t.checks")
    [checked] = t_checks["inputs"]
    assert (checked["namespace"], checked["name"]) == ("dagster", "t")
    [assertion] = assertions(t_checks)
    assert (assertion["name"], assertion["success"], assertion["severity"]) == ("c", False, "error")
    assert t_checks["run"]["facets"]["parent"]["run"]["runId"] == step_run_id(
        runs.multi_run, "t", 1
    )
    t_end = of_job(runs, "multi_job.t")[-1]
    assert names(t_end["outputs"]) == {"t"} and t_end["inputs"] == []
    # a check in a step of its own stays on that step, with its definition's description
    [*_, check_step] = of_job(runs, f"multi_job.{PREFIX}customers_customers_have_ids")
    [assertion] = assertions(check_step)
    assert (assertion["name"], assertion["success"]) == ("customers_have_ids", True)
    assert assertion["description"] == "Every customer has an id."


def test_graph_backed_asset_has_no_dangling_intermediate(runs: Runs) -> None:
    graph = f"multi_job.{PREFIX}taxed_sales"
    first = of_job(runs, f"{graph}.drop_test_sales")[-1]
    last = of_job(runs, f"{graph}.add_tax")[-1]
    assert first["outputs"] == []  # the op's hand-off to the next op is no dataset
    [sales] = first["inputs"]
    [produced] = last["outputs"]
    assert produced["facets"]["dagster_asset"]["assetKey"][-1] == "taxed_sales"
    assert names(last["inputs"]) == {sales["name"]}  # the asset's own upstream only
    every_output = {o["name"] for e in runs.events for o in e.get("outputs") or ()}
    every_input = {i["name"] for e in runs.events for i in e.get("inputs") or ()}
    assert every_output - every_input <= {
        produced["name"],
        "analytics.main.order_totals",
        "analytics.main.customer_list",
        "analytics.main.report",
        "t",
    }


def test_reexecution_points_at_the_run_it_reexecutes(runs: Runs) -> None:
    flaky = f"flaky_job.{PREFIX}flaky"
    parent = of_job(runs, "flaky_job", runs.reexecution)
    assert [e["eventType"] for e in parent] == ["START", "COMPLETE"]
    for event in [*parent, *of_job(runs, flaky, runs.reexecution)]:
        facet = event["run"]["facets"]["dagster_run"]
        assert (facet["parentRunId"], facet["rootRunId"]) == (runs.failed_run, runs.failed_run)
    # only the failed step and its downstream ran again; the failed run has no parent
    assert not of_job(runs, f"flaky_job.{PREFIX}extract", runs.reexecution)
    for event in of_job(runs, "flaky_job", runs.failed_run):
        assert "parentRunId" not in event["run"]["facets"]["dagster_run"]
    # the re-executed step reads the upstream the original run materialized
    assert names(of_job(runs, flaky, runs.reexecution)[-1]["inputs"]) == {"analytics.main.extract"}
    # DataHub shows the link on the re-execution's run (DataProcessInstance properties)
    lite = open_lite(runs.lite_path, read_only=True)
    try:
        properties = lite.get(
            f"urn:li:dataProcessInstance:{runs.reexecution}", ["dataProcessInstanceProperties"]
        )["dataProcessInstanceProperties"]["customProperties"]
        edges = converter_edges(lite)
    finally:
        lite.close()
    assert (properties["parentRunId"], properties["rootRunId"]) == (
        runs.failed_run,
        runs.failed_run,
    )
    assert edges == endpoint_edges(runs.events)


def test_reexecution_of_selected_steps_keeps_the_root_of_the_chain(runs: Runs) -> None:
    [*_, end] = of_job(runs, f"flaky_job.{PREFIX}report", runs.step_reexecution)
    facet = end["run"]["facets"]["dagster_run"]
    assert (facet["parentRunId"], facet["rootRunId"]) == (runs.reexecution, runs.failed_run)
    assert names(end["inputs"]) == {"analytics.main.flaky"}
    assert not of_job(runs, f"flaky_job.{PREFIX}flaky", runs.step_reexecution)


def test_without_the_definitions_each_asset_keeps_its_recorded_upstreams(tmp_path: Path) -> None:
    """A run of another code location (no asset definitions at hand): each asset of the
    multi-asset step still gets its job with its own upstreams, which the instance recorded
    on its materialization (Dagster's provenance tags), as with the definitions."""
    events: list[Any] = []
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        run_id = (
            multi.definitions()
            .resolve_job_def("multi_job")
            .execute_in_process(instance=instance)
            .run_id
        )
        run_tick(
            instance,
            SensorCursor(),
            events.append,
            translator=OpenLineageTranslator(naming=NAMING),
            catalog=AssetCatalog(instance=instance),
        )
    by_name = {e.job.name: e for e in events if e.eventType.value != "START"}
    step = by_name[MULTI_STEP]
    assert step.run.facets["dagster_run"].dagsterRunId == run_id
    assert step.inputs == [] and step.outputs == []
    totals = by_name[f"{MULTI_STEP}.{PREFIX}order_totals"]
    assert [i.name for i in totals.inputs] == ["analytics.main.orders"]
    assert [o.name for o in totals.outputs] == ["analytics.main.order_totals"]
    customer_list = by_name[f"{MULTI_STEP}.{PREFIX}customer_list"]
    assert [i.name for i in customer_list.inputs] == ["analytics.main.customers"]


def test_plugin_urn_scheme_gives_each_inner_job_its_own_run_instance(runs: Runs) -> None:
    """With the datahub-dagster-plugin URNs (one DataJob per op), the assets and checks of
    the multi-asset step add their edges to the op's DataJob, and each has a run instance of
    its own under the step's: none overwrites the step's result or datasets."""
    step_events = [
        e
        for e in runs.events
        if e["job"]["name"].startswith(MULTI_STEP)
        and e["run"]["facets"]["dagster_run"]["dagsterRunId"] == runs.multi_run
    ]
    config = ConverterConfig.from_dict({"urn_scheme": "datahub-dagster-plugin"})
    proposals = convert_events(step_events, config)
    relationships = {
        str(p.entityUrn): p.aspect
        for p in proposals
        if p.aspectName == "dataProcessInstanceRelationships"
    }
    jobs = {r.parentTemplate for r in relationships.values()}
    assert len(jobs) == 1  # the op's DataJob
    step_instances = [u for u, r in relationships.items() if r.parentInstance not in relationships]
    assert len(step_instances) == 1
    inner = {u for u, r in relationships.items() if r.parentInstance == step_instances[0]}
    assert len(inner) == 3  # order_totals, customer_list, order_totals' checks
