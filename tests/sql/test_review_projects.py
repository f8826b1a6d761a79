"""SQL and column lineage of Dagster projects written the way users write them (review 2,
/work/review2: repro3, projG, projD/definitions2.py), through a real Dagster run, the
sensor and our DataHub converter:

* SQL recorded as a Markdown code block (``MetadataValue.md("```sql ...```")``, so the UI
  highlights it) is parsed without its fence; the successful step stays SUCCESS in DataHub;
* DuckDB SQL reading files (``read_parquet('s3://…')``, ``FROM '/data/…/*.csv'``) gives
  the files as path inputs, named as any path or URI;
* one Snowflake column has one name whichever source says it (``dagster/column_schema``,
  ``dagster/column_lineage``, SQL).
"""

from __future__ import annotations

import json
import re
from typing import Any

import dagster as dg
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.datahub import convert_event
from tests.dagster.helpers import by_job, run, tick_until_idle


# -- repro3: SQL as a Markdown code block -------------------------------------------------
@dg.asset(kinds={"duckdb"}, metadata={"dagster/table_name": "shop.main.orders"})
def orders() -> None:
    pass


@dg.asset(deps=[orders], kinds={"duckdb"}, metadata={"dagster/table_name": "shop.main.big_orders"})
def big_orders() -> dg.MaterializeResult:
    sql = "insert into big_orders select * from orders where amount > 100"
    return dg.MaterializeResult(metadata={"Query": dg.MetadataValue.md(f"```sql\n{sql}\n```")})


# -- projG: DuckDB reading files directly --------------------------------------------------
@dg.asset(kinds={"duckdb"}, metadata={"dagster/table_name": "wh.main.orders_raw"})
def orders_raw() -> dg.MaterializeResult:
    sql = (
        "create or replace table orders_raw as"
        " select * from read_parquet('s3://landing/orders/2024-01-01.parquet')"
    )
    return dg.MaterializeResult(metadata={"dagster/sql": sql})


@dg.asset(kinds={"duckdb"}, metadata={"dagster/table_name": "wh.main.events_raw"})
def events_raw() -> dg.MaterializeResult:
    sql = "create or replace table events_raw as select * from '/data/landing/events/*.csv'"
    return dg.MaterializeResult(metadata={"dagster/sql": sql})


@dg.asset(kinds={"duckdb"}, metadata={"dagster/table_name": "wh.main.clicks_raw"})
def clicks_raw() -> dg.MaterializeResult:
    """A location DuckDB got as a parameter: not an input, but not a silent loss either."""
    sql = "create or replace table clicks_raw as select * from read_json_auto($path)"
    return dg.MaterializeResult(metadata={"dagster/sql": sql})


# -- projD/definitions2.py: Snowflake columns from every source ----------------------------
customers = dg.AssetSpec(
    "customers", kinds={"snowflake"}, metadata={"dagster/table_name": "ANALYTICS.PUBLIC.CUSTOMERS"}
)
snowflake_orders = dg.AssetSpec(["prod", "snowflake", "analytics", "public", "orders"])


@dg.asset(
    deps=[customers, snowflake_orders],
    kinds={"snowflake"},
    metadata={"dagster/table_name": "ANALYTICS.MARTS.CUSTOMER_ORDERS"},
)
def customer_orders() -> dg.MaterializeResult:
    lineage = dg.TableColumnLineage(
        deps_by_column={
            "customer_id": [dg.TableColumnDep(asset_key=customers.key, column_name="ID")],
            "ORDER_TOTAL": [
                dg.TableColumnDep(asset_key=snowflake_orders.key, column_name="AMOUNT")
            ],
        }
    )
    schema = dg.TableSchema(
        columns=[dg.TableColumn("customer_id", "int"), dg.TableColumn("order_total", "float")]
    )
    return dg.MaterializeResult(
        metadata={"dagster/column_lineage": lineage, "dagster/column_schema": schema}
    )


@dg.asset(
    deps=[customers],
    kinds={"snowflake"},
    metadata={"dagster/table_name": "ANALYTICS.MARTS.CUSTOMER_NAMES"},
)
def customer_names() -> dg.MaterializeResult:
    sql = (
        "INSERT INTO ANALYTICS.MARTS.CUSTOMER_NAMES"
        " SELECT ID AS CUSTOMER_ID, NAME FROM ANALYTICS.PUBLIC.CUSTOMERS"
    )
    return dg.MaterializeResult(metadata={"dagster/sql": sql})


@dg.asset(kinds={"snowflake"}, metadata={"dagster/table_name": "ANALYTICS.PUBLIC.ACCOUNTS"})
def accounts() -> dg.MaterializeResult:
    schema = dg.TableSchema(
        columns=[dg.TableColumn("ACCOUNT_ID", "NUMBER"), dg.TableColumn("OWNER", "VARCHAR")]
    )
    return dg.MaterializeResult(metadata={"dagster/column_schema": schema})


@dg.asset(
    deps=[accounts],
    kinds={"snowflake"},
    metadata={"dagster/table_name": "ANALYTICS.MARTS.ACCOUNT_OWNERS"},
)
def account_owners() -> dg.MaterializeResult:
    sql = (
        "INSERT INTO ANALYTICS.MARTS.ACCOUNT_OWNERS"
        " SELECT ACCOUNT_ID, OWNER FROM ANALYTICS.PUBLIC.ACCOUNTS"
    )
    return dg.MaterializeResult(metadata={"dagster/sql": sql})


ASSETS = [
    orders,
    big_orders,
    orders_raw,
    events_raw,
    clicks_raw,
    customers,
    snowflake_orders,
    customer_orders,
    customer_names,
    accounts,
    account_owners,
]


def _complete(events: list[dict[str, Any]], asset: str) -> dict[str, Any]:
    [event] = [e for e in by_job(events, f"review_job.{asset}") if e["eventType"] == "COMPLETE"]
    return event


def _names(datasets: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets}


def _run_result(event: dict[str, Any]) -> dict[str, Any]:
    [run_event] = [
        p.aspect.to_obj()
        for p in convert_event(event)
        if p.aspectName == "dataProcessInstanceRunEvent"
    ]
    return dict(run_event["result"])


#: a schemaField URN as it appears in any aspect, UPSERT or PATCH
_SCHEMA_FIELD = re.compile(r"urn:li:schemaField:\(urn:li:dataset:\([^)]*\),[^)\"]*\)")


def _schema_fields(events: list[dict[str, Any]]) -> set[str]:
    """Every column our converter writes: schemaField URNs (fine-grained lineage) and
    schema fields (as ``<dataset urn>::<fieldPath>``)."""
    fields: set[str] = set()
    for event in events:
        for proposal in convert_event(event):
            fields.update(_SCHEMA_FIELD.findall(json.dumps(proposal.to_obj())))
            if proposal.aspectName == "schemaMetadata" and proposal.aspect is not None:
                for field in proposal.aspect.to_obj()["fields"]:
                    fields.add(f"{proposal.entityUrn}::{field['fieldPath']}")
    return fields


def _column(field: str) -> str:
    if field.startswith("urn:li:schemaField:"):
        return field.removesuffix(")").rsplit(",", 1)[1]
    return field.rsplit("::", 1)[1]


def test_review_projects_sql_and_column_lineage(
    instance: dg.DagsterInstance, ol_client: OpenLineageClient, recorder: Any, ol_validator: Any
) -> None:
    sensor = build_openlineage_sensor(client=ol_client)
    defs = dg.Definitions(assets=ASSETS, jobs=[dg.define_asset_job("review_job")], sensors=[sensor])
    run(defs, "review_job", instance)
    tick_until_idle(sensor, instance, defs)
    events = recorder.events
    for event in events:
        ol_validator.validate(event)

    # Markdown fence: parsed, no extraction error, SUCCESS in DataHub.
    big = _complete(events, "big_orders")
    assert "extractionError" not in big["run"]["facets"]
    query = big["job"]["facets"]["sql"]["query"]
    assert query == "insert into big_orders select * from orders where amount > 100"
    assert ("duckdb", "shop.main.orders") in _names(big["inputs"])
    assert _run_result(big) == {"type": "SUCCESS", "nativeResultType": "COMPLETE"}

    # Files read by DuckDB SQL are path datasets; a glob is its directory.
    raw_orders = _complete(events, "orders_raw")
    assert _names(raw_orders["inputs"]) == {("s3://landing", "orders/2024-01-01.parquet")}
    assert "extractionError" not in raw_orders["run"]["facets"]
    raw_events = _complete(events, "events_raw")
    assert _names(raw_events["inputs"]) == {("file", "/data/landing/events")}
    clicks = _complete(events, "clicks_raw")
    assert clicks["inputs"] == []
    [error] = clicks["run"]["facets"]["extractionError"]["errors"]
    assert "location is not written in the SQL" in error["errorMessage"]
    assert _run_result(clicks) == {"type": "SUCCESS", "nativeResultType": "COMPLETE"}

    # One Snowflake column, one name, from every source.
    declared = _complete(events, "customer_orders")
    [output] = declared["outputs"]
    assert [f["name"] for f in output["facets"]["schema"]["fields"]] == [
        "customer_id",
        "order_total",
    ]
    assert {
        column: [(i["name"], i["field"]) for i in spec["inputFields"]]
        for column, spec in output["facets"]["columnLineage"]["fields"].items()
    } == {
        "customer_id": [("analytics.public.customers", "id")],
        "order_total": [("analytics.public.orders", "amount")],
    }
    fields = _schema_fields(events)
    customers_urn = "urn:li:dataset:(urn:li:dataPlatform:snowflake,analytics.public.customers,PROD)"
    accounts_urn = "urn:li:dataset:(urn:li:dataPlatform:snowflake,analytics.public.accounts,PROD)"
    assert f"urn:li:schemaField:({customers_urn},id)" in fields  # SQL and column lineage
    assert f"{accounts_urn}::account_id" in fields  # schema
    assert f"urn:li:schemaField:({accounts_urn},account_id)" in fields  # SQL
    columns = {_column(f) for f in fields if "dataPlatform:snowflake" in f}
    assert columns == {"id", "name", "customer_id", "amount", "order_total", "account_id", "owner"}
