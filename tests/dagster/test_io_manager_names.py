"""Dagster's own IO managers, run for real: the table gets the name the warehouse gives it.

DuckDB (pandas and polars) and Delta Lake write real tables here; every event is checked
against the OpenLineage schema with format checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import polars as pl
from dagster_deltalake import LocalConfig
from dagster_deltalake_pandas import DeltaLakePandasIOManager
from dagster_duckdb_pandas import DuckDBPandasIOManager
from dagster_duckdb_polars import DuckDBPolarsIOManager

from ol_bridge.dagster import build_openlineage_sensor
from tests.dagster import warehouses
from tests.dagster.helpers import tick_until_idle


def _complete(events: list[dict[str, Any]], job: str) -> dict[str, Any]:
    [event] = [e for e in events if e["job"]["name"] == job and e["eventType"] == "COMPLETE"]
    return event


def _names(datasets: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets}


def _emit(defs_factory: Any, instance: dg.DagsterInstance, ol_client: Any, job: str) -> None:
    sensor = build_openlineage_sensor(client=ol_client)
    defs = defs_factory(sensor)
    assert defs.resolve_job_def(job).execute_in_process(instance=instance).success
    tick_until_idle(sensor, instance, defs)


def test_duckdb_pandas_tables_are_named_as_duckdb_and_dbt_name_them(
    tmp_path: Path, instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    database = tmp_path / "warehouse.duckdb"

    @dg.asset
    def daily_summary() -> pd.DataFrame:
        return pd.DataFrame({"day": ["2024-01-01", "2024-01-02"], "revenue": [10.5, 7.25]})

    @dg.asset
    def best_day(daily_summary: pd.DataFrame) -> pd.DataFrame:
        return daily_summary.nlargest(1, "revenue")

    @dg.asset(deps=[daily_summary], kinds={"duckdb"})
    def top_days() -> dg.MaterializeResult:
        sql = (
            "CREATE OR REPLACE TABLE analytics.top_days AS "
            "SELECT day, revenue FROM analytics.daily_summary WHERE revenue > 8"
        )
        with duckdb.connect(str(database)) as connection:
            connection.execute(sql)
        return dg.MaterializeResult(
            metadata={"dagster/table_name": f"{database}.analytics.top_days", "Query": sql}
        )

    def definitions(sensor: dg.SensorDefinition) -> dg.Definitions:
        return dg.Definitions(
            assets=[daily_summary, best_day, top_days],
            jobs=[dg.define_asset_job("daily")],
            resources={
                "io_manager": DuckDBPandasIOManager(database=str(database), schema="analytics")
            },
            sensors=[sensor],
        )

    _emit(definitions, instance, ol_client, "daily")
    for event in recorder.events:
        ol_validator.validate(event)
    # DuckDB's own name for the table: the database is the file's stem.
    with duckdb.connect(str(database)) as connection:
        assert connection.execute(
            "SELECT table_catalog, table_schema FROM information_schema.tables"
            " WHERE table_name = 'daily_summary'"
        ).fetchall() == [("warehouse", "analytics")]
    table = ("duckdb", "warehouse.analytics.daily_summary")

    written = _complete(recorder.events, "daily.daily_summary")
    [output] = written["outputs"]
    assert (output["namespace"], output["name"]) == table
    assert written["inputs"] == []  # the IO manager's own SELECT is not a self-input
    assert "sql" not in written["job"]["facets"]  # ... nor the job's SQL
    # the DataFrame's columns as the IO manager recorded them (``dataframe_columns``)
    fields = output["facets"]["schema"]["fields"]
    assert [(f["name"], f["type"]) for f in fields][1:] == [("revenue", "float64")]
    assert fields[0]["name"] == "day"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert output["facets"]["symlinks"]["identifiers"] == [
        {"namespace": "dagster", "name": "daily_summary", "type": "DAGSTER_ASSET"}
    ]

    # Read back through the IO manager, and read by SQL: the same dataset.
    loaded = _complete(recorder.events, "daily.best_day")
    assert _names(loaded["inputs"]) == {table}
    assert _names(loaded["outputs"]) == {("duckdb", "warehouse.analytics.best_day")}
    by_sql = _complete(recorder.events, "daily.top_days")
    assert _names(by_sql["outputs"]) == {("duckdb", "warehouse.analytics.top_days")}
    assert _names(by_sql["inputs"]) == {table}
    [top] = by_sql["outputs"]
    [field] = top["facets"]["columnLineage"]["fields"]["revenue"]["inputFields"]
    assert (field["namespace"], field["name"], field["field"]) == (*table, "revenue")


def test_duckdb_polars_tables_get_their_platform_from_the_database_file(
    tmp_path: Path, instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    database = tmp_path / "lake.duckdb"

    @dg.asset(key_prefix=["raw"])
    def trips() -> pl.DataFrame:
        return pl.DataFrame({"id": [1, 2, 3], "km": [1.5, 2.0, 0.5]})

    def definitions(sensor: dg.SensorDefinition) -> dg.Definitions:
        return dg.Definitions(
            assets=[trips],
            jobs=[dg.define_asset_job("load")],
            resources={"io_manager": DuckDBPolarsIOManager(database=str(database))},
            sensors=[sensor],
        )

    _emit(definitions, instance, ol_client, "load")
    for event in recorder.events:
        ol_validator.validate(event)
    written = _complete(recorder.events, "load.raw__trips")
    [output] = written["outputs"]
    assert (output["namespace"], output["name"]) == ("duckdb", "lake.raw.trips")
    assert written["inputs"] == []
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert [f["name"] for f in output["facets"]["schema"]["fields"]] == ["id", "km"]


def test_delta_tables_are_named_by_their_location(
    tmp_path: Path, instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    root = tmp_path / "delta"

    @dg.asset(key_prefix=["sales"])
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"id": [1, 2], "amount": [3.5, 4.0]})

    @dg.asset(key_prefix=["sales"])
    def big_orders(orders: pd.DataFrame) -> pd.DataFrame:
        return orders[orders["amount"] > 3.75]

    def definitions(sensor: dg.SensorDefinition) -> dg.Definitions:
        return dg.Definitions(
            assets=[orders, big_orders],
            jobs=[dg.define_asset_job("delta")],
            resources={
                "io_manager": DeltaLakePandasIOManager(
                    root_uri=str(root), storage_options=LocalConfig()
                )
            },
            sensors=[sensor],
        )

    _emit(definitions, instance, ol_client, "delta")
    for event in recorder.events:
        ol_validator.validate(event)
    assert (root / "sales" / "orders" / "_delta_log").is_dir()
    written = _complete(recorder.events, "delta.sales__orders")
    [output] = written["outputs"]
    assert (output["namespace"], output["name"]) == ("file", f"{root}/sales/orders")
    assert written["inputs"] == []  # not the IO manager's illustrative SELECT
    assert [f["name"] for f in output["facets"]["schema"]["fields"]] == ["id", "amount"]
    downstream = _complete(recorder.events, "delta.sales__big_orders")
    assert _names(downstream["inputs"]) == {("file", f"{root}/sales/orders")}
    assert _names(downstream["outputs"]) == {("file", f"{root}/sales/big_orders")}


def test_kinds_and_table_name_name_assets_and_external_specs(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    promotions = dg.AssetSpec(
        key=["ext", "promotions"],
        kinds={"duckdb"},
        metadata={"dagster/table_name": "jaffle_shop.ext.promotions"},
    )

    @dg.asset(key=["ext", "campaigns"], kinds={"duckdb", "python"}, deps=[promotions])
    def campaigns() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"dagster/table_name": "jaffle_shop.ext.campaigns"})

    def definitions(sensor: dg.SensorDefinition) -> dg.Definitions:
        return dg.Definitions(
            assets=[promotions, campaigns],
            jobs=[dg.define_asset_job("ext", selection=[campaigns])],
            sensors=[sensor],
        )

    _emit(definitions, instance, ol_client, "ext")
    for event in recorder.events:
        ol_validator.validate(event)
    event = _complete(recorder.events, "ext.ext__campaigns")
    assert _names(event["outputs"]) == {("duckdb", "jaffle_shop.ext.campaigns")}
    assert _names(event["inputs"]) == {("duckdb", "jaffle_shop.ext.promotions")}


def test_snowflake_tables_meet_keys_and_sql_on_one_name(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    """The plugin's iris layout: IO-manager tables, convention keys and upper/lower SQL."""
    prefix = ["prod", "snowflake", "test_db", "public"]

    @dg.asset(key_prefix=prefix, metadata={"schema": "public"}, io_manager_key="snowflake")
    def iris_dataset() -> pd.DataFrame:
        return pd.DataFrame({"species": ["Iris-setosa", "Iris-virginica"], "petal": [1.4, 5.5]})

    @dg.asset(key_prefix=prefix, metadata={"schema": "public"}, io_manager_key="snowflake")
    def iris_cleaned(iris_dataset: pd.DataFrame) -> pd.DataFrame:
        return iris_dataset.dropna()

    @dg.asset(key_prefix=prefix, deps=[iris_cleaned])
    def iris_setosa() -> dg.MaterializeResult:
        query = (
            "create or replace table TEST_DB.public.iris_setosa as "
            "(SELECT species, petal FROM TEST_DB.PUBLIC.IRIS_CLEANED WHERE species = 'x')"
        )
        return dg.MaterializeResult(metadata={"Query": dg.MetadataValue.text(query)})

    @dg.asset(key_prefix=prefix, deps=[iris_cleaned, iris_setosa])
    def iris_both() -> dg.MaterializeResult:
        # unqualified and lower case: Snowflake would read TEST_DB.PUBLIC.IRIS_SETOSA
        query = (
            "insert into iris_both select * from iris_setosa union all select * from iris_cleaned"
        )
        return dg.MaterializeResult(metadata={"Query": query})

    def definitions(sensor: dg.SensorDefinition) -> dg.Definitions:
        return dg.Definitions(
            assets=[iris_dataset, iris_cleaned, iris_setosa, iris_both],
            jobs=[dg.define_asset_job("iris")],
            resources={"snowflake": warehouses.snowflake_io_manager(database="TEST_DB")},
            sensors=[sensor],
        )

    _emit(definitions, instance, ol_client, "iris")
    for event in recorder.events:
        ol_validator.validate(event)
    step = "iris.prod__snowflake__test_db__public__"
    cleaned = ("snowflake", "test_db.public.iris_cleaned")
    written = _complete(recorder.events, step + "iris_cleaned")
    assert _names(written["outputs"]) == {cleaned}
    assert _names(written["inputs"]) == {("snowflake", "test_db.public.iris_dataset")}
    setosa = _complete(recorder.events, step + "iris_setosa")
    assert _names(setosa["outputs"]) == {("snowflake", "test_db.public.iris_setosa")}
    assert _names(setosa["inputs"]) == {cleaned}  # key, IO manager and SQL: one name
    [output] = setosa["outputs"]
    fields = output["facets"]["columnLineage"]["fields"]
    assert {(f["namespace"], f["name"]) for f in fields["petal"]["inputFields"]} == {cleaned}
    both = _complete(recorder.events, step + "iris_both")
    assert _names(both["inputs"]) == {cleaned, ("snowflake", "test_db.public.iris_setosa")}


def test_bigquery_tables_keep_their_case(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    @dg.asset(key_prefix=["Sales"])
    def Orders() -> pd.DataFrame:
        return pd.DataFrame({"id": [1, 2, 3]})

    def definitions(sensor: dg.SensorDefinition) -> dg.Definitions:
        return dg.Definitions(
            assets=[Orders],
            jobs=[dg.define_asset_job("bq")],
            resources={"io_manager": warehouses.bigquery_io_manager(project="my-project")},
            sensors=[sensor],
        )

    _emit(definitions, instance, ol_client, "bq")
    for event in recorder.events:
        ol_validator.validate(event)
    event = _complete(recorder.events, "bq.Sales__Orders")
    [output] = event["outputs"]
    assert (output["namespace"], output["name"]) == ("bigquery", "my-project.Sales.Orders")
    assert event["inputs"] == []  # the backticked read-back SELECT is not an input
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 3
