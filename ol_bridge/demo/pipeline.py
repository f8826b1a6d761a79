"""Definitions the demo runs: iris assets in DuckDB with SQL lineage, an ops job with
In/Out metadata, and a job that fails. Built for a given DuckDB file so the demo never
touches anything outside its working directory."""

import random
from pathlib import Path

import dagster as dg

from ol_bridge.dagster.io_managers import DuckDBTableIOManager

SPECIES = {"Iris-setosa": (5.0, 3.4), "Iris-versicolor": (5.9, 2.8), "Iris-virginica": (6.6, 3.0)}
SHOP_ORDERS = "urn:li:dataset:(urn:li:dataPlatform:postgres,shop.public.orders,PROD)"
CLEAN_ORDERS = "urn:li:dataset:(urn:li:dataPlatform:duckdb,iris.main.orders_clean,PROD)"
JOBS = ("iris_job", "orders_pipeline", "nightly_export")


def iris_rows(per_species: int = 50, seed: int = 7) -> list[dict[str, object]]:
    """A deterministic, iris-shaped sample (no download needed)."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for species, (sepal_length, sepal_width) in SPECIES.items():
        for _ in range(per_species):
            rows.append(
                {
                    "sepal_length_cm": round(rng.gauss(sepal_length, 0.3), 1),
                    "sepal_width_cm": round(rng.gauss(sepal_width, 0.3), 1),
                    "petal_length_cm": round(rng.uniform(1.0, 6.5), 1),
                    "petal_width_cm": round(rng.uniform(0.1, 2.5), 1),
                    "species": species,
                }
            )
    return rows


def build_definitions(database: Path, *sensors: dg.SensorDefinition) -> dg.Definitions:
    import duckdb
    import pandas as pd

    prefix = ["prod", "duckdb", database.stem, "main"]

    def run_sql(sql: str, table: str) -> dg.MaterializeResult[None]:
        with duckdb.connect(str(database)) as connection:
            connection.execute(sql)
            (rows,) = connection.execute(f"SELECT COUNT(*) FROM main.{table}").fetchone() or (0,)
        return dg.MaterializeResult(
            metadata={"Query": dg.MetadataValue.text(sql), "dagster/row_count": rows}
        )

    @dg.asset(
        key_prefix=prefix,
        io_manager_key="warehouse",
        description="Iris measurements, one row per flower.",
        owners=["team:data-science"],
        kinds={"duckdb"},
    )
    def iris_dataset() -> pd.DataFrame:
        return pd.DataFrame(iris_rows())

    @dg.asset(key_prefix=prefix, deps=[iris_dataset], kinds={"duckdb"})
    def iris_setosa() -> dg.MaterializeResult[None]:
        """Setosa flowers only."""
        return run_sql(
            "CREATE OR REPLACE TABLE main.iris_setosa AS SELECT sepal_length_cm, "
            "sepal_width_cm, petal_length_cm, petal_width_cm FROM main.iris_dataset "
            "WHERE species = 'Iris-setosa'",
            "iris_setosa",
        )

    @dg.asset(key_prefix=prefix, deps=[iris_dataset], kinds={"duckdb"})
    def iris_summary() -> dg.MaterializeResult[None]:
        """Average measurements per species."""
        return run_sql(
            "CREATE OR REPLACE TABLE main.iris_summary AS SELECT species, "
            "AVG(sepal_length_cm) AS avg_sepal_length, AVG(petal_length_cm) AS "
            "avg_petal_length, COUNT(*) AS flowers FROM main.iris_dataset GROUP BY species",
            "iris_summary",
        )

    @dg.asset_check(asset=iris_summary, description="all three species are present")
    def three_species() -> dg.AssetCheckResult:
        with duckdb.connect(str(database)) as connection:
            (count,) = connection.execute("SELECT COUNT(*) FROM main.iris_summary").fetchone() or (
                0,
            )
        return dg.AssetCheckResult(passed=count == 3, metadata={"species": count})

    @dg.op
    def extract_orders() -> list[dict[str, object]]:
        return [{"id": 1, "test": False}, {"id": 2, "test": True}]

    @dg.op(
        ins={"raw": dg.In(metadata={"datahub.inputs": [SHOP_ORDERS]})},
        out=dg.Out(metadata={"datahub.outputs": [CLEAN_ORDERS]}),
    )
    def clean_orders(raw: list[dict[str, object]]) -> list[dict[str, object]]:
        """Drops test orders."""
        return [row for row in raw if not row.get("test")]

    @dg.job(description="Copies real orders from the shop database to the warehouse.")
    def orders_pipeline() -> None:
        clean_orders(extract_orders())

    @dg.op
    def export_to_partner() -> None:
        raise ConnectionError("partner SFTP server refused the connection")

    @dg.job(description="Exports the summary to a partner every night.")
    def nightly_export() -> None:
        export_to_partner()

    return dg.Definitions(
        assets=[iris_dataset, iris_setosa, iris_summary],
        asset_checks=[three_species],
        jobs=[
            dg.define_asset_job(
                "iris_job", selection=[iris_dataset, iris_setosa, iris_summary, three_species]
            ),
            orders_pipeline,
            nightly_export,
        ],
        resources={"warehouse": DuckDBTableIOManager(database=str(database))},
        sensors=list(sensors),
    )
