"""Assets that materialize several assets per step or evaluate checks in the same step:
a ``@multi_asset`` with its own check, a graph-backed asset, the one-asset-with-a-check of
issue 11, and a job that fails once, for re-execution from failure.

No ``from __future__ import annotations``: Dagster reads ``context`` annotations at runtime.
"""

import os
from pathlib import Path

import dagster as dg

WAREHOUSE = ["prod", "duckdb", "analytics", "main"]
#: the flaky asset fails while this file does not exist (and creates it)
FLAKY_MARKER_VARIABLE = "OL_BRIDGE_TEST_FLAKY_MARKER"

ORDER_TOTALS = dg.AssetKey([*WAREHOUSE, "order_totals"])
CUSTOMER_LIST = dg.AssetKey([*WAREHOUSE, "customer_list"])


@dg.asset(key_prefix=WAREHOUSE, description="Orders from the shop.")
def orders() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 3})


@dg.asset(key_prefix=WAREHOUSE)
def sales() -> list:  # type: ignore[type-arg]  # Dagster types plain list only
    """Rows handed to the graph-backed asset through the IO manager."""
    return [{"sale_id": 1, "customer_id": 1, "amount": 10}]


@dg.asset(key_prefix=WAREHOUSE)
def customers() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 2})


@dg.asset_check(asset=customers, description="Every customer has an id.")
def customers_have_ids() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(ORDER_TOTALS, deps=[orders], description="Totals per order."),
        dg.AssetSpec(CUSTOMER_LIST, deps=[customers], owners=["team:crm"]),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "totals_not_negative", asset=ORDER_TOTALS, description="No total below zero."
        )
    ],
    can_subset=True,
)
def order_and_customer_tables(context: dg.AssetExecutionContext) -> object:
    if ORDER_TOTALS not in context.selected_asset_keys:
        yield dg.MaterializeResult(asset_key=CUSTOMER_LIST, metadata={"dagster/row_count": 2})
        return
    yield dg.MaterializeResult(
        asset_key=ORDER_TOTALS,
        metadata={
            "dagster/row_count": 1,
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn("order_id", "integer"), dg.TableColumn("total", "double")]
            ),
            "Query": (
                "CREATE TABLE analytics.main.order_totals AS "
                "SELECT order_id, SUM(amount) AS total FROM analytics.main.orders "
                "GROUP BY order_id"
            ),
        },
    )
    if CUSTOMER_LIST in context.selected_asset_keys:
        yield dg.MaterializeResult(asset_key=CUSTOMER_LIST, metadata={"dagster/row_count": 2})
    yield dg.AssetCheckResult(
        asset_key=ORDER_TOTALS,
        check_name="totals_not_negative",
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
    )


@dg.op
def drop_test_sales(rows: list) -> list:  # type: ignore[type-arg]
    return [row for row in rows if row["customer_id"] > 0]


@dg.op
def add_tax(rows: list) -> list:  # type: ignore[type-arg]
    return [{**row, "amount": row["amount"] * 1.2} for row in rows]


@dg.graph_asset(key_prefix=WAREHOUSE, ins={"sales": dg.AssetIn(key=[*WAREHOUSE, "sales"])})
def taxed_sales(sales: list) -> list:  # type: ignore[type-arg]
    """Sales with tax, computed by two ops."""
    return add_tax(drop_test_sales(sales))


# Issue 11's example, as written there: a check evaluated in the asset's own step.
@dg.asset(check_specs=[dg.AssetCheckSpec("c", asset="t")])
def t() -> object:
    yield dg.MaterializeResult()
    yield dg.AssetCheckResult(passed=False)


@dg.asset(key_prefix=WAREHOUSE)
def extract() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 5})


@dg.asset(key_prefix=WAREHOUSE, deps=[extract])
def flaky() -> dg.MaterializeResult:
    marker = Path(os.environ[FLAKY_MARKER_VARIABLE])
    if not marker.exists():
        marker.touch()
        raise RuntimeError("the warehouse was busy")
    return dg.MaterializeResult(metadata={"dagster/row_count": 5})


@dg.asset(key_prefix=WAREHOUSE, deps=[flaky])
def report() -> None:
    return None


ASSETS = [
    orders,
    customers,
    sales,
    order_and_customer_tables,
    taxed_sales,
    t,
    extract,
    flaky,
    report,
]
multi_job = dg.define_asset_job(
    "multi_job",
    selection=dg.AssetSelection.assets(
        orders, customers, sales, order_and_customer_tables, taxed_sales, t
    )
    | dg.AssetSelection.checks(customers_have_ids),
    executor_def=dg.in_process_executor,
)
flaky_job = dg.define_asset_job(
    "flaky_job",
    selection=dg.AssetSelection.assets(extract, flaky, report),
    executor_def=dg.in_process_executor,
)


def definitions(*sensors: dg.SensorDefinition) -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=[customers_have_ids],
        jobs=[multi_job, flaky_job],
        sensors=list(sensors),
    )


def resolved_flaky_job() -> dg.JobDefinition:
    """``flaky_job`` resolved, for ``dg.reconstructable`` (re-execution needs to reload it)."""
    return definitions().resolve_job_def("flaky_job")
