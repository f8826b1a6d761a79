"""The sensor gives the SQL parser the column schemas of upstream assets (issue 13): a real
Dagster asset whose SQL does ``SELECT *`` and uses unqualified columns gets per-column lineage
from its upstream assets' ``dagster/column_schema``."""

from __future__ import annotations

from typing import Any

import dagster as dg
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.naming import NamingConfig
from tests.dagster.conftest import instance, ol_client, recorder
from tests.dagster.helpers import by_job, run, tick_until_idle

__all__ = ["instance", "ol_client", "recorder"]  # fixtures used below

WAREHOUSE = ["prod", "duckdb", "analytics", "main"]


def _schema(*columns: str) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name, "integer") for name in columns])


@dg.asset(key_prefix=WAREHOUSE, metadata={"dagster/column_schema": _schema("id", "amount")})
def payments() -> None:
    """Its schema comes from the definition."""


@dg.asset(key_prefix=WAREHOUSE)
def refunds() -> dg.MaterializeResult:
    """Its schema comes from the materialization."""
    return dg.MaterializeResult(
        metadata={"dagster/column_schema": _schema("payment_id", "refunded")}
    )


@dg.asset(key_prefix=WAREHOUSE, deps=[payments, refunds])
def net_payments() -> dg.MaterializeResult:
    sql = (
        "CREATE TABLE analytics.main.net_payments AS "
        "SELECT *, amount - refunded AS net "
        "FROM payments JOIN refunds ON id = payment_id"
    )
    return dg.MaterializeResult(metadata={"dagster/sql": sql})


def _fields(event: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    [output] = event["outputs"]
    fields = output["facets"]["columnLineage"]["fields"]
    return {
        column: {(item["name"], item["field"]) for item in field["inputFields"]}
        for column, field in fields.items()
    }


def test_select_star_from_upstream_assets_gives_per_column_lineage(
    instance: dg.DagsterInstance, ol_client: OpenLineageClient, recorder: Any, ol_validator: Any
) -> None:
    naming = NamingConfig.from_dict({"connections": {"duckdb": "duckdb:///data/warehouse.duckdb"}})
    sensor = build_openlineage_sensor(
        client=ol_client, translator=OpenLineageTranslator(naming=naming)
    )
    defs = dg.Definitions(
        assets=[payments, refunds, net_payments],
        jobs=[dg.define_asset_job("payments_job")],
        sensors=[sensor],
    )
    run(defs, "payments_job", instance)
    tick_until_idle(sensor, instance, defs)

    [complete] = [
        event
        for event in by_job(
            recorder.events, "payments_job.prod__duckdb__analytics__main__net_payments"
        )
        if event["eventType"] == "COMPLETE"
    ]
    ol_validator.validate(complete)
    payments_table = "analytics.main.payments"
    refunds_table = "analytics.main.refunds"
    assert _fields(complete) == {
        "id": {(payments_table, "id")},
        "amount": {(payments_table, "amount")},
        "payment_id": {(refunds_table, "payment_id")},
        "refunded": {(refunds_table, "refunded")},
        "net": {(payments_table, "amount"), (refunds_table, "refunded")},
    }
    assert {i["name"] for i in complete["inputs"]} == {payments_table, refunds_table}
