"""The shop dbt project as Dagster definitions: a Python asset writes the source table
raw.orders, dagster-dbt builds the dbt project (`dbt build`: seeds, models and tests).

No `from __future__ import annotations`: Dagster reads the `context` annotation at runtime.
"""

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

SOURCE_DIR = Path(__file__).parent / "shop_dbt"
#: models added on top of the shop project by ``copy_project(failing=True)``
FAILING_DIR = Path(__file__).parent / "shop_dbt_failing"
#: models added by ``copy_project(cut=True)``: a model a test can hold while dbt runs it
CUT_DIR = Path(__file__).parent / "shop_dbt_cut"
#: ``big_customers`` of the failing variant compiles with this variable's value
MIN_ORDERS_VARIABLE = "SHOP_MIN_ORDERS"
#: with this variable set to a folder, ``held_customers`` (cut variant) writes ``started``
#: there and waits for ``released``
HOLD_DIR_VARIABLE = "SHOP_HOLD_DIR"
#: dbt as installed next to this Python (the venv need not be on PATH)
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
#: the dbt profile reads the DuckDB file from this variable
DUCKDB_PATH_VARIABLE = "SHOP_DUCKDB_PATH"


def copy_project(to: Path, failing: bool = False, cut: bool = False) -> Path:
    """A fresh copy of the dbt project (dbt writes target/ and logs/ next to it).

    ``failing``: with shop_dbt_failing's models too: customer_rank fails at run time,
    customer_rank_report (downstream of it) is skipped by dbt, big_customers' SQL depends on
    ``SHOP_MIN_ORDERS``.
    ``cut``: with shop_dbt_cut's models too: held_customers (a Python model) waits while
    ``SHOP_HOLD_DIR`` says so, flaky_rank fails at run time under
    ``--vars "{shop_fail_rank: true}"``.
    """
    project_dir = to / "shop_dbt"
    shutil.copytree(SOURCE_DIR, project_dir)
    if failing:
        shutil.copytree(FAILING_DIR, project_dir, dirs_exist_ok=True)
    if cut:
        shutil.copytree(CUT_DIR, project_dir, dirs_exist_ok=True)
    return project_dir


def database_name(duckdb_path: Path) -> str:
    """DuckDB names the database after its file."""
    return duckdb_path.stem


def load_external_tables(duckdb_path: Path) -> None:
    """raw.fx_rates: a dbt source that no Dagster asset writes."""
    with duckdb.connect(str(duckdb_path)) as connection:
        connection.execute("create schema if not exists raw")
        connection.execute(
            "create or replace table raw.fx_rates as "
            "select * from (values ('EUR', 1.0), ('USD', 0.9)) as t(currency, rate)"
        )


def build_definitions(
    project_dir: Path,
    duckdb_path: Path,
    sensors: list[dg.SensorDefinition],
    fetch_metadata: bool = True,
    retry_policy: dg.RetryPolicy | None = None,
    dbt_args: Callable[[int], list[str]] | None = None,
) -> dg.Definitions:
    """``fetch_metadata=False``: no row counts and column types, whose in-process DuckDB
    connection (dbt-duckdb keeps it open) would lock the file against a second run's dbt.
    ``retry_policy``: the dbt step's; ``dbt_args``: the dbt command of each attempt of the
    step, from its retry number (default ``build``)."""
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    table = f"{database_name(duckdb_path)}.raw.orders"

    @dg.asset(
        key=["raw", "orders"],
        description="Orders exported from the shop.",
        metadata={"dagster/table_name": table, "dagster/storage_kind": "duckdb"},
    )
    def raw_orders() -> dg.MaterializeResult:
        with duckdb.connect(str(duckdb_path)) as connection:
            connection.execute("create schema if not exists raw")
            connection.execute(
                "create or replace table raw.orders as select * from (values "
                "(100, 1, 1250, 'EUR'), (101, 1, 800, 'USD'), (102, 2, 4300, 'EUR'), "
                "(103, 3, 999, 'EUR')) as t(id, customer_id, amount_cents, currency)"
            )
        # recorded as Dagster's DuckDB IO managers do, so that a sensor without these
        # definitions names it too (the definition's metadata is not in the instance)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": 4,
                "dagster/table_name": table,
                "dagster/storage_kind": "duckdb",
            }
        )

    @dbt_assets(manifest=project.manifest_path, project=project, retry_policy=retry_policy)
    def shop_models(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[object]:
        args = dbt_args(context.retry_number) if dbt_args else ["build"]
        events = dbt.cli(args, context=context).stream()
        if fetch_metadata:
            events = events.fetch_row_counts().fetch_column_metadata()
        yield from events

    return dg.Definitions(
        assets=[raw_orders, shop_models],
        jobs=[dg.define_asset_job("shop_job", selection=dg.AssetSelection.all())],
        resources={"dbt": DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)},
        sensors=sensors,
    )


def prepare(project_dir: Path, duckdb_path: Path) -> None:
    """Point the profile at ``duckdb_path`` and parse the project (target/manifest.json)."""
    os.environ[DUCKDB_PATH_VARIABLE] = str(duckdb_path)
    load_external_tables(duckdb_path)
    DbtCliResource(
        project_dir=str(project_dir), profiles_dir=str(project_dir), dbt_executable=DBT_EXECUTABLE
    ).cli(["parse", "--quiet"], target_path=Path("target")).wait()
