"""Tiny jobs for the delivery tests: cheap runs, four events each (run and step)."""

from __future__ import annotations

import dagster as dg


@dg.op
def tiny() -> None:
    pass


@dg.job
def tiny_job() -> None:
    tiny()


def definitions(*sensors: dg.SensorDefinition) -> dg.Definitions:
    return dg.Definitions(jobs=[tiny_job], sensors=list(sensors))


class Warehouse(dg.ConfigurableResource):  # type: ignore[misc]
    password: str


ORDERS_URI = "postgres://etl:uri-s3cret@db.internal:5432/sales/public.orders"


@dg.asset(metadata={"dagster/uri": ORDERS_URI})
def orders(warehouse: Warehouse) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/uri": ORDERS_URI, "rows": 3})


secret_job = dg.define_asset_job("secret_job", selection=[orders])


def secret_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[orders],
        jobs=[secret_job],
        resources={"warehouse": Warehouse(password=dg.EnvVar("OLB_TEST_WAREHOUSE_PASSWORD"))},
    )
