"""The sensor gives the SQL parser the column schemas of upstream assets (issue 13): a real
Dagster asset whose SQL does ``SELECT *`` and uses unqualified columns gets per-column lineage
from its upstream assets' ``dagster/column_schema``."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.datahub import convert_event
from ol_bridge.naming import NamingConfig
from tests.dagster.helpers import by_job, run, tick_until_idle

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


# -- transformation types of the column lineage (issue 13) -------------------------------
@dg.asset(key_prefix=WAREHOUSE)
def customers() -> None:
    """Upstream tables with no schema given: the SQL qualifies its columns."""


@dg.asset(key_prefix=WAREHOUSE)
def charges() -> None: ...


@dg.asset(key_prefix=WAREHOUSE, deps=[customers, charges])
def customer_value() -> dg.MaterializeResult:
    sql = """
        CREATE TABLE analytics.main.customer_value AS
        WITH cents AS (SELECT p.customer_id, p.amount, p.id FROM charges p)
        SELECT c.id,
               SUM(cents.amount) AS lifetime_value,
               COUNT(DISTINCT cents.id) AS payment_count,
               MAX(cents.amount) / 100.0 AS top_dollars,
               md5(c.email) AS email_key,
               CASE WHEN c.vip THEN 'gold' ELSE 'std' END AS tier
        FROM customers c JOIN cents ON cents.customer_id = c.id
        WHERE c.active
        GROUP BY c.id, c.email, c.vip
    """
    return dg.MaterializeResult(metadata={"Query": dg.MetadataValue.text(sql)})


@dg.asset(
    key_prefix=WAREHOUSE,
    deps=[customers],
    metadata={
        "dagster/column_lineage": dg.TableColumnLineage(
            deps_by_column={
                "id": [dg.TableColumnDep(asset_key=customers.key, column_name="id")],
                "email_key": [dg.TableColumnDep(asset_key=customers.key, column_name="email")],
                "note": [dg.TableColumnDep(asset_key=customers.key, column_name="remark")],
            }
        )
    },
)
def customer_keys() -> dg.MaterializeResult:
    """Declared column lineage (as dagster-dbt gives it) and the SQL that made the table."""
    sql = (
        "CREATE TABLE analytics.main.customer_keys AS "
        "SELECT id, sha256(email) AS email_key, 'n/a' AS note FROM customers"
    )
    return dg.MaterializeResult(metadata={"dagster/sql": sql})


def _transformations(event: dict[str, Any]) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """output column -> input field -> [(type, subtype, masking)]."""
    [output] = event["outputs"]
    return {
        column: {
            f"{item['name']}.{item['field']}": [
                (t["type"], t["subtype"], t["masking"]) for t in item.get("transformations", [])
            ]
            for item in spec["inputFields"]
        }
        for column, spec in output["facets"]["columnLineage"]["fields"].items()
    }


def _complete(recorder: Any, asset: str) -> dict[str, Any]:
    [event] = [
        e
        for e in by_job(recorder.events, f"value_job.prod__duckdb__analytics__main__{asset}")
        if e["eventType"] == "COMPLETE"
    ]
    return event


def test_query_column_lineage_carries_each_edges_transformation(
    instance: dg.DagsterInstance, ol_client: OpenLineageClient, recorder: Any, ol_validator: Any
) -> None:
    naming = NamingConfig.from_dict({"connections": {"duckdb": "duckdb:///data/warehouse.duckdb"}})
    sensor = build_openlineage_sensor(
        client=ol_client, translator=OpenLineageTranslator(naming=naming)
    )
    defs = dg.Definitions(
        assets=[customers, charges, customer_value, customer_keys],
        jobs=[dg.define_asset_job("value_job")],
        sensors=[sensor],
    )
    run(defs, "value_job", instance)
    tick_until_idle(sensor, instance, defs)

    value = _complete(recorder, "customer_value")
    ol_validator.validate(value)
    customers_table, payments_table = "analytics.main.customers", "analytics.main.charges"
    assert _transformations(value) == {
        "id": {f"{customers_table}.id": [("DIRECT", "IDENTITY", False)]},
        "lifetime_value": {f"{payments_table}.amount": [("DIRECT", "AGGREGATION", False)]},
        "payment_count": {f"{payments_table}.id": [("DIRECT", "AGGREGATION", True)]},
        "top_dollars": {f"{payments_table}.amount": [("DIRECT", "AGGREGATION", False)]},
        "email_key": {f"{customers_table}.email": [("DIRECT", "TRANSFORMATION", True)]},
        "tier": {f"{customers_table}.vip": [("INDIRECT", "CONDITIONAL", False)]},
    }
    [output] = value["outputs"]
    dataset_wide = {
        (item["name"], item["field"], t["subtype"])
        for item in output["facets"]["columnLineage"]["dataset"]
        for t in item["transformations"]
        if t["type"] == "INDIRECT"
    }
    assert dataset_wide == {
        (payments_table, "customer_id", "JOIN"),
        (customers_table, "id", "JOIN"),
        (customers_table, "active", "FILTER"),
        (customers_table, "id", "GROUP_BY"),
        (customers_table, "email", "GROUP_BY"),
        (customers_table, "vip", "GROUP_BY"),
    }

    # Declared edges keep their names and take the SQL's types; one the SQL does not
    # show (``note`` is a literal there) claims no transformation.
    keys = _complete(recorder, "customer_keys")
    ol_validator.validate(keys)
    assert _transformations(keys) == {
        "id": {f"{customers_table}.id": [("DIRECT", "IDENTITY", False)]},
        "email_key": {f"{customers_table}.email": [("DIRECT", "TRANSFORMATION", True)]},
        "note": {f"{customers_table}.remark": []},
    }

    # DataHub: one fine-grained edge per input field, its TYPE:SUBTYPE list first in the
    # transform operation, as DataHub's own converter writes it; dataset-wide INDIRECT
    # inputs are no column edges there.
    operations = {
        (path.split("/")[2].split("\n")[0], path.rsplit(",", 1)[-1].rstrip(")"))
        for path in _fine_grained_paths(value)
        if "customer_value,PROD),tier)" in path or "lifetime_value)" in path
    }
    assert operations == {("-- DIRECT:AGGREGATION", "amount"), ("-- INDIRECT:CONDITIONAL", "vip")}
    assert len(_fine_grained_paths(value)) == 6


def _fine_grained_paths(event: dict[str, Any]) -> list[str]:
    out = []
    for proposal in convert_event(event):
        mcp = proposal.make_mcp() if hasattr(proposal, "make_mcp") else proposal
        if mcp.aspectName == "dataJobInputOutput" and mcp.aspect is not None:
            for op in json.loads(mcp.aspect.value):
                if op["path"].startswith("/fineGrainedLineages/"):
                    out.append(op["path"])
    return out
