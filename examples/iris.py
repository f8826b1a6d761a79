"""Iris assets in DuckDB whose SQL becomes table and column lineage.

The raw table is written by ol-bridge's DuckDB IO manager (which records the table name,
schema and row count); the derived tables run SQL in DuckDB and put it in ``Query``
metadata, where the sensor parses it with sqlglot.

Run it:  dagster dev -f examples/iris.py   (then switch on ``openlineage_sensor``)
"""

from __future__ import annotations

import os
import random

import dagster as dg
import duckdb
import pandas as pd

from ol_bridge.dagster import (
    DuckDBTableIOManager,
    NamingConfig,
    OpenLineageTranslator,
    build_openlineage_sensor,
)

DATABASE = os.environ.get("OL_BRIDGE_EXAMPLE_DB", "iris.duckdb")
#: key_prefix = [env, platform, database, schema]; DuckDB names the database after the file
PREFIX = ["prod", "duckdb", os.path.basename(DATABASE).split(".")[0], "main"]
SPECIES = {"Iris-setosa": (5.0, 3.4), "Iris-versicolor": (5.9, 2.8), "Iris-virginica": (6.6, 3.0)}


def iris_rows(per_species: int = 50, seed: int = 7) -> list[dict[str, object]]:
    """A deterministic, iris-shaped sample (no download needed)."""
    rng = random.Random(seed)
    return [
        {
            "sepal_length_cm": round(rng.gauss(sepal_length, 0.3), 1),
            "sepal_width_cm": round(rng.gauss(sepal_width, 0.3), 1),
            "petal_length_cm": round(rng.uniform(1.0, 6.5), 1),
            "petal_width_cm": round(rng.uniform(0.1, 2.5), 1),
            "species": species,
        }
        for species, (sepal_length, sepal_width) in SPECIES.items()
        for _ in range(per_species)
    ]


@dg.asset(
    key_prefix=PREFIX,
    io_manager_key="warehouse",
    description="Iris measurements, one row per flower.",
    owners=["team:data-science"],
    kinds={"duckdb"},
)
def iris_dataset() -> pd.DataFrame:
    return pd.DataFrame(iris_rows())


def run_sql(sql: str, table: str) -> dg.MaterializeResult:
    with duckdb.connect(DATABASE) as connection:
        connection.execute(sql)
        (rows,) = connection.execute(f"SELECT COUNT(*) FROM main.{table}").fetchone() or (0,)
    return dg.MaterializeResult(
        metadata={"Query": dg.MetadataValue.text(sql), "dagster/row_count": rows}
    )


@dg.asset(key_prefix=PREFIX, deps=[iris_dataset], kinds={"duckdb"})
def iris_setosa() -> dg.MaterializeResult:
    """Setosa flowers only."""
    return run_sql(
        "CREATE OR REPLACE TABLE main.iris_setosa AS "
        "SELECT sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm "
        "FROM main.iris_dataset WHERE species = 'Iris-setosa'",
        "iris_setosa",
    )


@dg.asset(key_prefix=PREFIX, deps=[iris_dataset], kinds={"duckdb"})
def iris_summary() -> dg.MaterializeResult:
    """Average measurements per species."""
    return run_sql(
        "CREATE OR REPLACE TABLE main.iris_summary AS "
        "SELECT species, AVG(sepal_length_cm) AS avg_sepal_length, "
        "AVG(petal_length_cm) AS avg_petal_length, COUNT(*) AS flowers "
        "FROM main.iris_dataset GROUP BY species",
        "iris_summary",
    )


@dg.asset_check(asset=iris_summary, description="three species")
def three_species() -> dg.AssetCheckResult:
    with duckdb.connect(DATABASE) as connection:
        (count,) = connection.execute("SELECT COUNT(*) FROM main.iris_summary").fetchone() or (0,)
    return dg.AssetCheckResult(passed=count == 3, metadata={"species": count})


iris_job = dg.define_asset_job(
    "iris_job", selection=[iris_dataset, iris_setosa, iris_summary, three_species]
)

translator = OpenLineageTranslator(
    naming=NamingConfig.from_dict(
        {"connections": {"duckdb": f"duckdb://{os.path.abspath(DATABASE)}"}}
    )
)

defs = dg.Definitions(
    assets=[iris_dataset, iris_setosa, iris_summary],
    asset_checks=[three_species],
    jobs=[iris_job],
    resources={"warehouse": DuckDBTableIOManager(database=DATABASE)},
    sensors=[build_openlineage_sensor(translator=translator)],
)
