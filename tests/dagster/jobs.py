"""Dagster definitions the sensor tests run for real: assets with SQL, ops with In/Out
metadata, nested graphs, dynamic outputs, retries, failures, partitions and checks."""

import dagster as dg

WAREHOUSE = ["prod", "duckdb", "analytics", "main"]


@dg.asset(
    key_prefix=WAREHOUSE,
    description="Raw orders, loaded from the shop database.",
    owners=["team:data-eng", "alice@example.com"],
    tags={"domain": "sales"},
    metadata={
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn("order_id", "integer", description="primary key"),
                dg.TableColumn("customer_id", "integer"),
                dg.TableColumn("amount", "double"),
            ]
        )
    },
)
def orders() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 3})


@dg.asset(key_prefix=WAREHOUSE)
def customers() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 2})


@dg.asset(key_prefix=WAREHOUSE, deps=[orders, customers])
def customer_totals() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "Query": dg.MetadataValue.text(
                "CREATE TABLE analytics.main.customer_totals AS "
                "SELECT c.customer_id, c.name, SUM(o.amount) AS total "
                "FROM analytics.main.orders o JOIN analytics.main.customers c "
                "ON o.customer_id = c.customer_id GROUP BY c.customer_id, c.name"
            ),
            "dagster/row_count": 2,
        }
    )


@dg.asset_check(asset=customer_totals, description="totals are positive")
def totals_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(key_prefix=WAREHOUSE, deps=[customer_totals])
def broken_sql() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"Query": "SELEKT nonsense FROM (("})


@dg.op
def report_odd_asset(context: dg.OpExecutionContext) -> None:
    """An op that reports a materialization of an asset key outside every convention."""
    context.log_event(dg.AssetMaterialization(asset_key=["odd key", "with/slash", "ünïcode"]))


@dg.job
def odd_job() -> None:
    report_odd_asset()


daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(key_prefix=WAREHOUSE, partitions_def=daily)
def daily_events() -> None:
    return None


asset_job = dg.define_asset_job(
    "asset_job",
    selection=[orders, customers, customer_totals, totals_positive],
)
broken_sql_job = dg.define_asset_job("broken_sql_job", selection=[broken_sql])
daily_job = dg.define_asset_job("daily_job", selection=[daily_events])


@dg.op(
    ins={
        "rows": dg.In(
            metadata={
                "datahub.inputs": [
                    "urn:li:dataset:(urn:li:dataPlatform:postgres,shop.public.orders,PROD)"
                ]
            }
        )
    },
    out=dg.Out(
        metadata={
            "datahub.outputs": [
                "urn:li:dataset:(urn:li:dataPlatform:s3,bucket/clean/orders.parquet,PROD)"
            ]
        }
    ),
    description="Cleans orders.",
)
def clean(rows: int) -> int:
    return rows


@dg.op
def extract() -> int:
    return 3


@dg.op(out=dg.DynamicOut())
def fan_out() -> object:
    for index in range(3):
        yield dg.DynamicOutput(index, mapping_key=f"part_{index}")


@dg.op
def square(value: int) -> int:
    return value * value


@dg.graph
def inner(value: int) -> int:
    return square(value)


@dg.graph
def outer(value: int) -> int:
    return inner(value)


@dg.op
def total(values: list[int]) -> int:
    return sum(values)


@dg.job(description="Ops with In/Out metadata, nested graphs and dynamic outputs.")
def ops_job() -> None:
    clean(extract())
    total(fan_out().map(outer).collect())


@dg.op
def explode() -> None:
    raise ValueError("the warehouse is on fire")


@dg.job
def failing_job() -> None:
    explode()


ATTEMPTS: dict[str, int] = {}


@dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
def flaky(context: dg.OpExecutionContext) -> None:
    ATTEMPTS[context.run_id] = ATTEMPTS.get(context.run_id, 0) + 1
    if ATTEMPTS[context.run_id] < 2:
        raise RuntimeError("transient failure")


@dg.job
def retry_job() -> None:
    flaky()


def definitions(*sensors: dg.SensorDefinition) -> dg.Definitions:
    return dg.Definitions(
        assets=dg.with_source_code_references(
            [orders, customers, customer_totals, broken_sql, daily_events]
        ),
        asset_checks=[totals_positive],
        jobs=[asset_job, broken_sql_job, daily_job, ops_job, failing_job, retry_job, odd_job],
        sensors=list(sensors),
    )
