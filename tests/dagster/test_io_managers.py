"""The IO managers write real tables and annotate them so the sensor names them right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.dagster.io_managers import AnnotatingIOManager, DuckDBTableIOManager
from ol_bridge.naming import NamingConfig
from tests.dagster.helpers import tick_until_idle


def test_duckdb_io_manager_writes_and_names_the_table(
    tmp_path: Path, instance, ol_client, recorder
) -> None:
    database = tmp_path / "shop.duckdb"

    @dg.asset(key_prefix=["sales"], io_manager_key="warehouse")
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"id": [1, 2, 3], "amount": [9.5, 3.0, 1.25]})

    @dg.asset(key_prefix=["sales"], io_manager_key="warehouse")
    def big_orders(orders: pd.DataFrame) -> pd.DataFrame:
        return orders[orders["amount"] > 2]

    naming = NamingConfig.from_dict({"connections": {"duckdb": f"duckdb://{database}"}})
    sensor = build_openlineage_sensor(
        client=ol_client, translator=OpenLineageTranslator(naming=naming)
    )
    defs = dg.Definitions(
        assets=[orders, big_orders],
        jobs=[dg.define_asset_job("load")],
        resources={
            "warehouse": DuckDBTableIOManager(
                database=str(database), datahub_url="http://datahub.local:9002"
            )
        },
        sensors=[sensor],
    )
    result = defs.resolve_job_def("load").execute_in_process(instance=instance)
    assert result.success
    with duckdb.connect(str(database)) as connection:
        assert connection.execute("SELECT COUNT(*) FROM sales.big_orders").fetchone() == (2,)

    tick_until_idle(sensor, instance, defs)
    outputs = {
        e["job"]["name"]: e["outputs"]
        for e in recorder.events
        if e["eventType"] == "COMPLETE" and e["outputs"]
    }
    [big] = outputs["load.sales__big_orders"]
    assert (big["namespace"], big["name"]) == (f"duckdb://{database}", "shop.sales.big_orders")
    assert big["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert [(f["name"], f["type"]) for f in big["facets"]["schema"]["fields"]] == [
        ("id", "bigint"),
        ("amount", "double"),
    ]
    [upstream] = [e for e in recorder.events if e["job"]["name"] == "load.sales__big_orders"][-1][
        "inputs"
    ]
    assert upstream["name"] == "shop.sales.orders"


class _Memory(dg.IOManager):
    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Any] = {}

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.values[tuple(context.asset_key.path)] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        return self.values[tuple(context.asset_key.path)]


def test_annotating_io_manager_records_the_table(instance) -> None:
    inner = _Memory()

    @dg.io_manager
    def annotated(_: dg.InitResourceContext) -> AnnotatingIOManager:
        return AnnotatingIOManager(
            inner,
            platform="snowflake",
            database="ANALYTICS",
            default_schema=None,  # like DbIOManager: the key part before the table
            datahub_url="http://datahub.local:9002",
        )

    @dg.asset(key_prefix=["Marts"])
    def revenue() -> int:
        return 42

    defs = dg.Definitions(assets=[revenue], resources={"io_manager": annotated})
    result = dg.materialize([revenue], instance=instance, resources={"io_manager": annotated})
    assert result.success and inner.values[("Marts", "revenue")] == 42
    [materialization] = result.asset_materializations_for_node("Marts__revenue")
    metadata = materialization.metadata
    # recorded as the warehouse has it; the DataHub link uses ol-bridge's name for it
    assert metadata["dagster/table_name"].value == "ANALYTICS.Marts.revenue"
    assert metadata["dagster/storage_kind"].value == "snowflake"
    assert metadata["datahub/url"].value == (
        "http://datahub.local:9002/dataset/"
        "urn%3Ali%3Adataset%3A%28urn%3Ali%3AdataPlatform%3Asnowflake%2Canalytics.marts.revenue%2CPROD%29"
    )
    assert defs is not None
