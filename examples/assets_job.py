"""Software-defined assets following the ``[env, platform, db, schema]`` key convention,
with definition metadata (schema, owners) and run metadata (row counts, SQL)."""

from __future__ import annotations

import dagster as dg

from ol_bridge.dagster import build_openlineage_sensor

PREFIX = ["prod", "snowflake", "analytics", "sales"]


@dg.asset(
    key_prefix=PREFIX,
    owners=["team:sales-data"],
    metadata={
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn("id", "number"), dg.TableColumn("amount", "number")]
        )
    },
)
def orders() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 1200})


@dg.asset(key_prefix=PREFIX, deps=[orders])
def daily_revenue() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "Query": "CREATE TABLE analytics.sales.daily_revenue AS "
            "SELECT CAST(created_at AS DATE) AS day, SUM(amount) AS revenue "
            "FROM analytics.sales.orders GROUP BY 1",
            "dagster/row_count": 30,
        }
    )


sales_job = dg.define_asset_job("sales_job", selection=[orders, daily_revenue])

defs = dg.Definitions(
    assets=[orders, daily_revenue], jobs=[sales_job], sensors=[build_openlineage_sensor()]
)
