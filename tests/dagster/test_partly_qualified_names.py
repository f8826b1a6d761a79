"""A DuckDB table has one name when some routes qualify it partly (review 2, defect 2;
/work/review2/repro2 and projc): ``dagster/table_name`` ``main.report`` next to
``shop.main.orders``, and SQL that reads ``main.orders`` or just ``report``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.naming import DatasetId, NamingConfig
from ol_bridge.naming_completion import complete_table_name, match_declared_upstream
from tests.dagster.helpers import tick_until_idle


@dg.asset(kinds={"duckdb"}, metadata={"dagster/table_name": "shop.main.orders"})
def orders() -> None:
    pass


@dg.asset(deps=[orders], kinds={"duckdb"})
def report() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "dagster/table_name": "main.report",
            "dagster/sql": "create or replace table main.report as select * from main.orders",
        }
    )


@dg.asset(deps=[report], kinds={"duckdb"})
def report_summary() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "dagster/table_name": "shop.main.report_summary",
            "dagster/sql": (
                "create or replace table report_summary as select count(*) as n from report"
            ),
        }
    )


@dg.asset_check(asset=report)
def report_not_empty() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _lineage(events: list[dict[str, Any]]) -> dict[str, tuple[set[str], set[str]]]:
    found: dict[str, tuple[set[str], set[str]]] = {}
    for event in events:
        if event["eventType"] != "COMPLETE" or "." not in event["job"]["name"]:
            continue
        inputs, outputs = found.setdefault(event["job"]["name"].rsplit(".", 1)[-1], (set(), set()))
        inputs.update(f"{d['namespace']}:{d['name']}" for d in event["inputs"])
        outputs.update(f"{d['namespace']}:{d['name']}" for d in event["outputs"])
    return found


def test_one_name_per_table_across_steps(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    sensor = build_openlineage_sensor(client=ol_client)
    assets = [orders, report, report_summary]
    defs = dg.Definitions(assets=assets, asset_checks=[report_not_empty], sensors=[sensor])
    assert dg.materialize([*assets, report_not_empty], instance=instance).success
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)
    assert _lineage(recorder.events) == {
        "orders": (set(), {"duckdb:shop.main.orders"}),
        "report": ({"duckdb:shop.main.orders"}, {"duckdb:shop.main.report"}),
        "report_summary": ({"duckdb:shop.main.report"}, {"duckdb:shop.main.report_summary"}),
        # a check step names its asset from the asset's own neighbours
        "report_report_not_empty": ({"duckdb:shop.main.report"}, set()),
    }
    [summary] = [
        e
        for e in recorder.events
        if e["eventType"] == "COMPLETE" and e["job"]["name"].endswith("report_summary")
    ]
    assert "extractionError" not in summary["run"]["facets"]


def test_the_connection_names_the_database(tmp_path: Path) -> None:
    connection = f"duckdb:///{tmp_path}/shop.duckdb"
    translator = OpenLineageTranslator(naming=NamingConfig(connections={"duckdb": connection}))
    metadata = {"dagster/table_name": "main.customer_report", "dagster/kind/duckdb": ""}
    expected = DatasetId(connection, "shop.main.customer_report")
    assert translator.get_asset_dataset(dg.AssetKey("customer_report"), metadata) == expected
    assert translator.get_table_dataset("duckdb", "customer_report") == expected
    assert translator.get_table_dataset("duckdb", "other.main.customer_report").name == (
        "other.main.customer_report"
    )


def test_completion_and_matching_rules() -> None:
    assert complete_table_name("main.t", 3, ["db.main.a", "db.other.b"]) == "db.main.t"
    assert complete_table_name("t", 3, ["db.main.a", "db.other.b"]) == "t"  # two schemas
    assert complete_table_name("main.t", 3, ["db.main.a", "db2.main.b"]) == "main.t"
    assert complete_table_name("main.t", 3, ["main.a"]) == "main.t"
    parsed = DatasetId("duckdb", "shop.main.report")
    other_db = DatasetId("duckdb", "wh.main.report")
    other_schema = DatasetId("duckdb", "wh.marts.report")
    assert match_declared_upstream(parsed, [other_db], "main") == other_db
    assert match_declared_upstream(parsed, [other_schema], "main") == other_schema
    assert match_declared_upstream(parsed, [other_schema], "staging") == parsed
    assert (
        match_declared_upstream(parsed, [other_db, DatasetId("duckdb", "x.main.report")], "main")
        == parsed
    )
    assert (
        match_declared_upstream(parsed, [DatasetId("postgres", "wh.main.report")], "main") == parsed
    )
