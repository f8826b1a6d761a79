"""One Postgres table, one dataset name, whichever route names it: an asset whose
``dagster/table_name`` is ``public.orders`` and SQL (or dbt) that names the same table
``<database>.public.orders``. A real run against a real PostgreSQL (``pgserver``), read by
the real sensor; the connection's database completes the partial name."""

from __future__ import annotations

from typing import Any

import dagster as dg
import sqlalchemy
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import DeliveryConfig, OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.naming import NamingConfig
from tests.conftest import fresh_database
from tests.dagster.conftest import RecordingTransport
from tests.dagster.helpers import tick_until_idle

#: The server as the user names it in lineage (pgserver itself listens on a socket).
SERVER = "postgres://warehouse.internal:5432"


class Warehouse(dg.ConfigurableResource):
    """Runs SQL on a Postgres database; ``database`` is the name Postgres gives it."""

    url: str

    def run(self, sql: str) -> str:
        engine = sqlalchemy.create_engine(self.url)
        try:
            with engine.begin() as connection:
                connection.execute(sqlalchemy.text(sql))
                return str(
                    connection.execute(sqlalchemy.text("select current_database()")).scalar()
                )
        finally:
            engine.dispose()


@dg.asset(kinds={"postgres"})
def orders(warehouse: Warehouse) -> dg.MaterializeResult:
    warehouse.run(
        "drop table if exists public.orders cascade;"
        " create table public.orders as select 1 as id, 9.5 as amount"
    )
    return dg.MaterializeResult(metadata={"dagster/table_name": "public.orders"})


@dg.asset(deps=[orders], kinds={"postgres"})
def order_totals(warehouse: Warehouse) -> dg.MaterializeResult:
    database = warehouse.run("select 1")
    sql = (
        f"create table {database}.public.order_totals as"
        f" select sum(amount) as total from {database}.public.orders"
    )
    warehouse.run(f"drop table if exists public.order_totals; {sql}")
    return dg.MaterializeResult(
        metadata={"dagster/table_name": f"{database}.public.order_totals", "dagster/sql": sql}
    )


@dg.asset(deps=[orders], kinds={"postgres"})
def big_orders(warehouse: Warehouse) -> dg.MaterializeResult:
    sql = "create table big_orders as select id from orders where amount > 5"
    warehouse.run(f"drop table if exists big_orders; {sql}")
    return dg.MaterializeResult(metadata={"dagster/table_name": "big_orders", "dagster/sql": sql})


def _datasets(events: list[dict[str, Any]]) -> dict[str, tuple[set[str], set[str]]]:
    """Each asset step's COMPLETE inputs and outputs as ``namespace/name``."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for event in events:
        if event["eventType"] != "COMPLETE" or "." not in event["job"]["name"]:
            continue
        inputs, outputs = found.setdefault(event["job"]["name"].rsplit(".", 1)[-1], (set(), set()))
        inputs.update(f"{d['namespace']}/{d['name']}" for d in event["inputs"])
        outputs.update(f"{d['namespace']}/{d['name']}" for d in event["outputs"])
    return found


ASSETS = [orders, order_totals, big_orders]


def _lineage(
    instance: dg.DagsterInstance, url: str, connection: str, validator: Any
) -> dict[str, tuple[set[str], set[str]]]:
    """What the sensor, defined next to the assets, says each step read and wrote."""
    recorder = RecordingTransport()
    translator = OpenLineageTranslator(naming=NamingConfig(connections={"postgres": connection}))
    sensor = build_openlineage_sensor(
        client=OpenLineageClient(transport=recorder),
        translator=translator,
        delivery=DeliveryConfig(outbox=False),  # each pass emits the run's events afresh
    )
    definitions = dg.Definitions(
        assets=ASSETS, sensors=[sensor], resources={"warehouse": Warehouse(url=url)}
    )
    tick_until_idle(sensor, instance, definitions)
    for event in recorder.events:
        validator.validate(event)
    return _datasets(recorder.events)


def test_partial_postgres_names_meet_the_full_ones(
    instance: dg.DagsterInstance, postgres_url: str, ol_validator: Any
) -> None:
    url = fresh_database(postgres_url)
    database = url.split("?", 1)[0].rsplit("/", 1)[-1]
    result = dg.materialize(ASSETS, instance=instance, resources={"warehouse": Warehouse(url=url)})
    assert result.success

    table = f"{SERVER}/{database}.public"
    assert _lineage(instance, url, f"{SERVER}/{database}", ol_validator) == {
        "orders": (set(), {f"{table}.orders"}),
        "order_totals": ({f"{table}.orders"}, {f"{table}.order_totals"}),
        "big_orders": ({f"{table}.orders"}, {f"{table}.big_orders"}),
    }

    # Without the connection's database, nothing names the database of `orders`' own step:
    # the table would be two datasets in DataHub (the defect this rule fixes).
    unqualified = _lineage(instance, url, SERVER, ol_validator)
    assert unqualified["orders"] == (set(), {f"{SERVER}/public.orders"})
    assert unqualified["order_totals"][0] == {f"{table}.orders"}  # the step's neighbours
