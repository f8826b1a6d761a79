"""A real dbt project (tests/dagster/projects/shop_dbt) built by dagster-dbt with dbt-duckdb
under ``dbt build``, emitted by the real sensor, and converted into DataHub Lite.

One build, shared by every test of the module: two seeds, a source written by a Dagster
asset (raw.orders), a source no Dagster asset writes (raw.fx_rates), staging views and mart
tables chained with ref(), and unique / not_null tests (one failing with severity warn, one
passing with severity warn, two on sources).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import dagster as dg
import pytest
from click.testing import CliRunner

from ol_bridge.cli import main
from ol_bridge.dagster.dbt_runs import forget_read_artifacts
from ol_bridge.dagster.events import step_run_id
from ol_bridge.dagster.step_jobs import asset_run_id, checks_run_id
from ol_bridge.datahub import DatahubConfig, DatahubTransport
from ol_bridge.datahub.sinks.lite import open_lite
from tests.dagster import shop_runs
from tests.dagster.datahub_edges import converter_edges, endpoint_edges, reachable
from tests.dagster.helpers import tick_until_idle
from tests.dagster.shop_runs import (
    NAMESPACE,
    bare_sensor,
    recording_sensor,
    shop_instance,
)

STEP = "shop_job.shop_models"
MODELS = ["stg_customers", "stg_orders", "stg_payments", "customer_orders", "customer_value"]
SEEDS = ["raw_customers", "raw_payments"]


@attrs.frozen
class ShopRun:
    events: list[dict[str, Any]]
    run_id: str
    lite_path: Path
    project_dir: Path
    #: the same run's events from a sensor whose Definitions hold only itself (the sensor
    #: in another code location)
    bare_events: list[dict[str, Any]]
    #: and from `ol-bridge backfill` without --definitions
    backfill_events: list[dict[str, Any]]


@pytest.fixture(scope="module")
def shop_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopRun]:
    root = tmp_path_factory.mktemp("shop")
    sensor, recorder = recording_sensor()
    bare, bare_recorder = bare_sensor()
    with shop_instance(root, [sensor]) as setup:
        result = setup.definitions.resolve_job_def("shop_job").execute_in_process(
            instance=setup.instance
        )
        assert result.success
        tick_until_idle(sensor, setup.instance, setup.definitions)
        tick_until_idle(bare, setup.instance, dg.Definitions(sensors=[bare]))
    # `ol-bridge backfill` without --definitions, over the same instance, finding the run's
    # dbt artifacts by itself
    forget_read_artifacts()
    backfilled = root / "backfill.jsonl"
    outcome = CliRunner().invoke(
        main,
        ["backfill", "--dagster-home", str(root / "dagster"), "--events-file",
         str(backfilled), "--translator", f"{shop_runs.__name__}:TRANSLATOR"],
        catch_exceptions=False,
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    lite_path = root / "lite.duckdb"
    transport = DatahubTransport(
        DatahubConfig.from_dict({"sink": "lite", "lite_path": str(lite_path)})
    )
    transport.emit_batch(recorder.events)
    transport.close()
    backfill_events = [
        json.loads(line) for line in backfilled.read_text(encoding="utf-8").splitlines()
    ]
    yield ShopRun(
        recorder.events,
        str(result.run_id),
        lite_path,
        setup.project_dir,
        bare_recorder.events,
        backfill_events,
    )


def table(name: str, schema: str = "main") -> str:
    return f"shop.{schema}.{name}"


def job_events(run: ShopRun, name: str) -> list[dict[str, Any]]:
    return [e for e in run.events if e["job"]["name"] == name]


def only(run: ShopRun, name: str) -> dict[str, Any]:
    [event] = job_events(run, name)
    return event


def names(datasets: list[dict[str, Any]]) -> set[str]:
    assert {d["namespace"] for d in datasets} <= {NAMESPACE}
    return {d["name"] for d in datasets}


def test_every_event_is_valid(shop_run: ShopRun, ol_validator: Any) -> None:
    for event in shop_run.events:
        ol_validator.validate(event)


def test_each_model_and_seed_is_its_own_job_with_exactly_its_upstreams(shop_run: ShopRun) -> None:
    expected = {
        "raw_customers": set(),
        "raw_payments": set(),
        "stg_customers": {table("raw_customers")},
        "stg_orders": {table("orders", "raw"), table("fx_rates", "raw")},
        "stg_payments": {table("raw_payments")},
        "customer_orders": {table("stg_customers"), table("stg_orders")},
        "customer_value": {table("customer_orders"), table("stg_orders"), table("stg_payments")},
    }
    for node, inputs in expected.items():
        event = only(shop_run, f"{STEP}.{node}")
        assert event["eventType"] == "COMPLETE"
        assert names(event["inputs"]) == inputs, node
        assert names(event["outputs"]) == {table(node)}
        assert event["job"]["facets"]["jobType"]["jobType"] == "ASSET"
        assert event["job"]["facets"]["dagster_job"]["assetKeys"] == [node]
        # a child of the step's attempt, rooted in the Dagster run
        parent = event["run"]["facets"]["parent"]
        assert parent["job"]["name"] == STEP
        assert parent["run"]["runId"] == step_run_id(shop_run.run_id, "shop_models", 1)
        assert parent["root"]["run"]["runId"] == shop_run.run_id
        assert event["run"]["runId"] == asset_run_id(
            shop_run.run_id, "shop_models", 1, dg.AssetKey(node)
        )
    # The step itself no longer claims every model nor the sources.
    step_end = job_events(shop_run, STEP)[-1]
    assert step_end["eventType"] == "COMPLETE"
    assert step_end["inputs"] == [] and step_end["outputs"] == []
    # The Python asset that writes the source table names it as dbt does.
    [raw_orders] = job_events(shop_run, "shop_job.raw__orders")[-1]["outputs"]
    assert raw_orders["name"] == table("orders", "raw")


def test_models_keep_compiled_sql_descriptions_schema_and_row_counts(shop_run: ShopRun) -> None:
    for model in MODELS:
        event = only(shop_run, f"{STEP}.{model}")
        sql = event["job"]["facets"]["sql"]
        assert sql["dialect"] == "duckdb"
        assert "{{" not in sql["query"] and 'from "shop".' in sql["query"], sql["query"]
        [output] = event["outputs"]
        assert [f["name"] for f in output["facets"]["schema"]["fields"]], model
    orders = only(shop_run, f"{STEP}.customer_orders")
    assert '"shop"."main"."stg_customers"' in orders["job"]["facets"]["sql"]["query"]
    [output] = orders["outputs"]
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert output["facets"]["documentation"]["description"].startswith("Orders per customer.")
    assert orders["job"]["facets"]["documentation"]["description"].startswith("Orders per")
    schema = [(f["name"], f["type"]) for f in output["facets"]["schema"]["fields"]]
    assert [name for name, _ in schema] == ["customer_id", "name", "order_count", "total_eur"]
    assert schema[0] == ("customer_id", "INTEGER")
    lineage = output["facets"]["columnLineage"]["fields"]
    assert lineage["name"]["inputFields"][0]["name"] == table("stg_customers")
    # seeds run no SQL of theirs
    for seed in SEEDS:
        event = only(shop_run, f"{STEP}.{seed}")
        assert "sql" not in event["job"]["facets"]
        [output] = event["outputs"]
        assert output["outputFacets"]["outputStatistics"]["rowCount"] in (3, 4)


def test_every_dbt_test_is_an_assertion_with_its_result(shop_run: ShopRun) -> None:
    found: dict[str, dict[str, Any]] = {}
    checked_nodes = {
        ("stg_customers",): table("stg_customers"),
        ("stg_orders",): table("stg_orders"),
        ("stg_payments",): table("stg_payments"),
        ("customer_orders",): table("customer_orders"),
        # dbt source tests, which dagster-dbt reports as observations of the source
        ("raw", "orders"): table("orders", "raw"),
        ("raw", "fx_rates"): table("fx_rates", "raw"),
    }
    for path, checked_table in checked_nodes.items():
        key = dg.AssetKey(list(path))
        event = only(shop_run, f"{STEP}.{key.to_python_identifier()}.checks")
        assert event["eventType"] == "COMPLETE"
        assert event["run"]["runId"] == checks_run_id(shop_run.run_id, "shop_models", 1, key)
        assert event["run"]["facets"]["parent"]["run"]["runId"] == step_run_id(
            shop_run.run_id, "shop_models", 1
        )
        [checked] = event["inputs"]
        assert checked["name"] == checked_table
        assert event.get("outputs", []) == []
        for assertion in checked["inputFacets"]["dataQualityAssertions"]["assertions"]:
            found[assertion["name"]] = assertion
    # ``assertion`` is the test's own name (DataHub keys assertions by dataset, column and
    # assertion), its kind is in ``params``
    assert all(a["assertion"] == name for name, a in found.items())
    assert {
        name: (a["params"]["kind"], a.get("column"), a["severity"], a["success"])
        for name, a in found.items()
    } == {
        "unique_stg_customers_customer_id": ("unique", "customer_id", "error", True),
        "not_null_stg_customers_customer_id": ("not_null", "customer_id", "error", True),
        "not_null_stg_customers_email": ("not_null", "email", "warn", False),
        "unique_stg_orders_order_id": ("unique", "order_id", "error", True),
        "not_null_stg_orders_order_id": ("not_null", "order_id", "error", True),
        # the configured severity, also when the test passed
        "unique_stg_payments_payment_id": ("unique", "payment_id", "warn", True),
        # two of one kind on one column, and two singular tests on one model: one failing each
        "accepted_values_stg_payments_method__card__cash__voucher": (
            "accepted_values",
            "method",
            "error",
            True,
        ),
        "method_is_never_cash": ("accepted_values", "method", "warn", False),
        "assert_payments_not_negative": ("singular", None, "error", True),
        "assert_payments_below_40": ("singular", None, "warn", False),
        "unique_customer_orders_customer_id": ("unique", "customer_id", "error", True),
        "not_null_customer_orders_customer_id": ("not_null", "customer_id", "error", True),
        "source_not_null_raw_orders_id": ("not_null", "id", "error", True),
        "source_unique_raw_fx_rates_currency": ("unique", "currency", "error", True),
    }
    assert found["method_is_never_cash"]["params"]["arguments"] == {"values": ["card", "voucher"]}
    # every test of the project, none twice
    assert len(found) == sum(
        len(e["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"])
        for e in shop_run.events
        if e["job"]["name"].endswith(".checks")
    )
    email = found["not_null_stg_customers_email"]
    assert email["contentType"] == "sql" and "where email is null" in email["content"]


def test_datahub_gets_seed_staging_mart_chains_on_both_paths(shop_run: ShopRun) -> None:
    """DataHub's endpoint rules and our converter (into DataHub Lite) give the same dataset
    -> job -> dataset edges, and with them the chain seed -> staging -> mart."""
    by_endpoint = endpoint_edges(shop_run.events)
    lite = open_lite(shop_run.lite_path, read_only=True)
    try:
        by_converter = converter_edges(lite)
    finally:
        lite.close()
    assert by_converter == by_endpoint

    def urn(name: str, schema: str = "main") -> str:
        return f"urn:li:dataset:(urn:li:dataPlatform:duckdb,{table(name, schema)},PROD)"

    downstream = reachable(by_converter, urn("raw_customers"))
    assert {urn("stg_customers"), urn("customer_orders"), urn("customer_value")} <= downstream
    assert urn("stg_orders") not in downstream
    assert reachable(by_converter, urn("orders", "raw")) == {
        urn("stg_orders"),
        urn("customer_orders"),
        urn("customer_value"),
    }
    # dataset -> dataset in one hop only where the model reads the table itself
    direct = {(up, down) for up, _, down in by_converter}
    assert (urn("raw_customers"), urn("stg_customers")) in direct
    assert (urn("stg_customers"), urn("customer_orders")) in direct
    assert (urn("raw_customers"), urn("customer_orders")) not in direct
    assert (urn("orders", "raw"), urn("customer_orders")) not in direct


def _field_dataset(field_urn: str) -> str:
    """``urn:li:schemaField:(<dataset urn>,<column>)`` -> the dataset urn."""
    inner = field_urn.removeprefix("urn:li:schemaField:(").removesuffix(")")
    return inner.rsplit(",", 1)[0]


def test_column_lineage_of_a_job_only_describes_columns_it_produced(shop_run: ShopRun) -> None:
    """An input does not carry how ANOTHER job produced it (its ``columnLineage``): DataHub
    would otherwise hand the upstream's column edges to the downstream job."""
    for event in shop_run.events:
        for dataset in event.get("inputs") or ():
            assert "columnLineage" not in (dataset.get("facets") or {}), event["job"]["name"]
    lite = open_lite(shop_run.lite_path, read_only=True)
    try:
        jobs_with_columns = 0
        for urn in lite.list_ids():
            if urn.startswith("urn:li:dataJob:"):
                io = (lite.get(urn, ["dataJobInputOutput"]) or {}).get("dataJobInputOutput") or {}
                outputs = {e["destinationUrn"] for e in io.get("outputDatasetEdges", [])}
                for lineage in io.get("fineGrainedLineages", []):
                    jobs_with_columns += 1
                    assert {_field_dataset(f) for f in lineage["downstreams"]} <= outputs, urn
            elif urn.startswith("urn:li:dataset:"):
                upstream = (lite.get(urn, ["upstreamLineage"]) or {}).get("upstreamLineage") or {}
                for lineage in upstream.get("fineGrainedLineages", []):
                    assert {_field_dataset(f) for f in lineage["downstreams"]} == {urn}
    finally:
        lite.close()
    assert jobs_with_columns  # the models' own column lineage is still there


def test_two_tests_of_one_kind_on_one_column_are_two_assertions(shop_run: ShopRun) -> None:
    """DataHub keys an assertion by (dataset, column, assertion): with the test's kind as
    ``assertion`` the failing ``method_is_never_cash`` would merge into its passing twin."""
    from ol_bridge.datahub.assertions import assertion_id

    payments = f"urn:li:dataset:(urn:li:dataPlatform:duckdb,{table('stg_payments')},PROD)"
    expected = {
        ("method", "accepted_values_stg_payments_method__card__cash__voucher"): "SUCCESS",
        ("method", "method_is_never_cash"): "FAILURE",
        (None, "assert_payments_not_negative"): "SUCCESS",
        (None, "assert_payments_below_40"): "FAILURE",
    }
    lite = open_lite(shop_run.lite_path, read_only=True)
    try:
        for (column, name), result in expected.items():
            urn = f"urn:li:assertion:{assertion_id(payments, column, name)}"
            aspects = lite.get(urn, ["assertionInfo", "assertionRunEvent"]) or {}
            assert aspects["assertionInfo"]["customProperties"]["name"] == name
            assert aspects["assertionRunEvent"]["result"]["type"] == result, name
    finally:
        lite.close()


def test_column_descriptions_of_the_definition_stay_with_the_run_types(shop_run: ShopRun) -> None:
    """``fetch_column_metadata()`` records types only; dbt's docs come from the definition."""
    [output] = only(shop_run, f"{STEP}.stg_customers")["outputs"]
    fields = {f["name"]: f for f in output["facets"]["schema"]["fields"]}
    assert list(fields) == ["customer_id", "name", "email"]
    assert fields["customer_id"]["type"] == "INTEGER"
    assert fields["customer_id"]["description"] == "The customer's id."
    assert "description" not in fields["name"]


def _summary(event: dict[str, Any]) -> tuple[Any, ...]:
    """What a reader of the lineage sees of an event: its job, state, datasets, SQL, the
    output's schema and the assertions on its inputs."""

    def datasets(key: str) -> list[tuple[str, str]]:
        return sorted((d["namespace"], d["name"]) for d in event.get(key) or ())

    def schema(dataset: dict[str, Any]) -> list[tuple[Any, ...]]:
        fields = (dataset.get("facets") or {}).get("schema", {}).get("fields", [])
        return [(f["name"], f.get("type"), f.get("description")) for f in fields]

    def assertions(dataset: dict[str, Any]) -> list[str]:
        facet = (dataset.get("inputFacets") or {}).get("dataQualityAssertions") or {}
        return sorted(a["assertion"] for a in facet.get("assertions", []))

    facets = event["job"]["facets"]
    return (
        event["job"]["name"],
        event["eventType"],
        event["run"]["runId"],
        datasets("inputs"),
        datasets("outputs"),
        facets.get("sql", {}).get("query"),
        facets.get("documentation", {}).get("description"),
        [schema(d) for d in event.get("outputs") or ()],
        [assertions(d) for d in event.get("inputs") or ()],
    )


def test_names_do_not_depend_on_the_sensors_own_definitions(shop_run: ShopRun) -> None:
    """A sensor in another code location (its Definitions hold only itself) names every dbt
    model, its upstreams, SQL, docs and tests as the sensor next to the assets does: from
    what the instance recorded (materialization metadata and provenance tags) and the run's
    own dbt artifacts, which the run's log locates."""
    with_definitions = [_summary(e) for e in shop_run.events]
    assert [_summary(e) for e in shop_run.bare_events] == with_definitions
    assert [_summary(e) for e in shop_run.backfill_events] == with_definitions
    customers = only(shop_run, f"{STEP}.customer_orders")
    assert names(customers["inputs"]) == {table("stg_customers"), table("stg_orders")}


def test_dbt_column_lineage_edges_carry_the_compiled_sqls_transformations(
    shop_run: ShopRun,
) -> None:
    """dagster-dbt's ``dagster/column_lineage`` names the edges; the compiled SQL says how
    each is made (it said DIRECT IDENTITY for every edge before)."""

    def transformations(model: str) -> dict[str, dict[str, list[tuple[str, str, bool]]]]:
        [output] = only(shop_run, f"{STEP}.{model}")["outputs"]
        return {
            column: {
                f"{item['name']}.{item['field']}": [
                    (t["type"], t["subtype"], t["masking"]) for t in item["transformations"]
                ]
                for item in spec["inputFields"]
            }
            for column, spec in output["facets"]["columnLineage"]["fields"].items()
        }

    payments = transformations("stg_payments")
    assert payments["payment_id"] == {
        f"{table('raw_payments')}.id": [("DIRECT", "IDENTITY", False)]
    }
    # ``amount_cents / 100.0 as amount``
    assert payments["amount"] == {
        f"{table('raw_payments')}.amount_cents": [("DIRECT", "TRANSFORMATION", False)]
    }
    value = transformations("customer_value")
    assert value["customer_id"] == {
        f"{table('customer_orders')}.customer_id": [("DIRECT", "IDENTITY", False)]
    }
    # ``sum(p.amount) as paid``
    assert value["paid"] == {f"{table('stg_payments')}.amount": [("DIRECT", "AGGREGATION", False)]}
    orders = transformations("customer_orders")
    # ``count(o.order_id) as order_count``: a count masks what it counts
    assert orders["order_count"] == {
        f"{table('stg_orders')}.order_id": [("DIRECT", "AGGREGATION", True)]
    }
