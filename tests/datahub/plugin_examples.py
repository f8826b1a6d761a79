"""acryl-datahub-dagster-plugin's documented example jobs, rebuilt to run here.

The plugin documents five examples (``metadata-ingestion-modules/dagster-plugin/examples``
in the DataHub repository): ``basic_setup.py`` (a sensor, no jobs), ``ops_job.py`` and
``advanced_ops_jobs.py`` (the same ops job ``do_stuff``: ``datahub.inputs`` /
``datahub.outputs`` on In/Out; the advanced one adds an extractor that only acts on
materializations, which ``do_stuff`` has none of), ``assets_job.py`` (a multi-asset and an
asset with ``datahub.outputs`` / ``datahub.inputs`` on AssetOut / AssetIn) and ``iris.py``
(``[env, platform, db, schema]`` keys on Snowflake and Redshift, a Snowflake pandas IO
manager, ``Query`` SQL). These are the same jobs with the same keys, metadata and SQL,
written for this test: the Snowflake IO manager is Dagster's DbIOManager with the
stand-ins of ``tests/dagster/warehouses.py``, and the warehouse clients the SQL assets use
to run their queries are left out (the queries are recorded exactly as in the examples).
"""

from __future__ import annotations

import dagster as dg
import pandas as pd
from datahub.utilities.urns.dataset_urn import DatasetUrn

from tests.dagster import warehouses

# -- ops_job.py / advanced_ops_jobs.py ------------------------------------------------


@dg.op
def extract_numbers() -> list[int]:
    return [1, 2, 3, 4]


@dg.op(
    ins={
        "data": dg.In(
            dagster_type=dg.PythonObjectDagsterType(list),
            metadata={"datahub.inputs": [DatasetUrn("snowflake", "tableA").urn()]},
        )
    },
    out={"result": dg.Out(metadata={"datahub.outputs": [DatasetUrn("snowflake", "tableB").urn()]})},
)
def transform_numbers(data: list[int]) -> list[str]:
    return [str(each) for each in data]


@dg.job
def do_stuff() -> None:
    transform_numbers(extract_numbers())


# -- assets_job.py ----------------------------------------------------------------------


@dg.multi_asset(
    outs={
        "extract": dg.AssetOut(
            metadata={"datahub.outputs": [DatasetUrn("snowflake", "tableD").urn()]}
        )
    }
)
def extract() -> dg.Output[list[int]]:
    results = [1, 2, 3, 4]
    return dg.Output(value=results, metadata={"num_record": len(results)})


@dg.asset(
    ins={
        "extract": dg.AssetIn(
            "extract", metadata={"datahub.inputs": [DatasetUrn("snowflake", "tableC").urn()]}
        )
    }
)
def transform(extract: list[int]) -> list[str]:
    return [str(each) for each in extract]


assets_job = dg.define_asset_job(name="assets_job", selection=[extract, transform])

# -- iris.py ----------------------------------------------------------------------------

IRIS = ["prod", "snowflake", "test_db", "public"]


@dg.asset(
    metadata={"schema": "public"}, key_prefix=IRIS, group_name="iris",
    io_manager_key="snowflake_io_manager",
)  # fmt: skip
def iris_dataset() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sepal_length_cm": [5.1, 7.0],
            "sepal_width_cm": [3.5, 3.2],
            "petal_length_cm": [1.4, 4.7],
            "petal_width_cm": [0.2, 1.4],
            "species": ["Iris-setosa", "Iris-versicolor"],
        }
    )


@dg.asset(
    metadata={"schema": "public"}, key_prefix=IRIS, group_name="iris",
    io_manager_key="snowflake_io_manager",
)  # fmt: skip
def iris_cleaned(iris_dataset: pd.DataFrame) -> pd.DataFrame:
    return iris_dataset.dropna().drop_duplicates()


@dg.asset(metadata={"schema": "public"}, key_prefix=IRIS, group_name="iris", deps=[iris_dataset])
def iris_setosa() -> dg.MaterializeResult:
    query = """
        create or replace table TEST_DB.public.iris_setosa as (
            SELECT *
            FROM TEST_DB.public.iris_cleaned
            WHERE species = 'Iris-setosa'
        );
    """
    return dg.MaterializeResult(metadata={"Query": dg.MetadataValue.text(query)})


@dg.asset(
    key_prefix=["prod", "snowflake", "db_name", "schema_name"], group_name="iris",
    deps=[iris_dataset],
)  # fmt: skip
def my_asset_table_a() -> dg.MaterializeResult:
    query = """
        create or replace table db_name.schema_name.my_asset_table_a as (
            SELECT *
            FROM db_name.schema_name.my_asset_table_b
        );
    """
    return dg.MaterializeResult(metadata={"Query": dg.MetadataValue.text(query)})


@dg.asset(
    key_prefix=["prod", "redshift", "dev", "public", "blood_storage_count"],
    group_name="blood_storage",
)
def blood_storage_cleaned() -> dg.MaterializeResult:
    query = """
        select count(*) from public.blood_storage;
    """
    return dg.MaterializeResult(metadata={"Query": dg.MetadataValue.text(query)})


iris_job = dg.define_asset_job(
    "iris_job",
    selection=[iris_dataset, iris_cleaned, iris_setosa, my_asset_table_a, blood_storage_cleaned],
)


def definitions(sensor: dg.SensorDefinition) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            extract, transform, iris_dataset, iris_cleaned, iris_setosa, my_asset_table_a,
            blood_storage_cleaned,
        ],
        jobs=[do_stuff, assets_job, iris_job],
        resources={"snowflake_io_manager": warehouses.snowflake_io_manager(database="TEST_DB")},
        sensors=[sensor],
    )  # fmt: skip


JOBS = ["do_stuff", "assets_job", "iris_job"]
