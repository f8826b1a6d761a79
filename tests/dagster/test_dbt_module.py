"""ol_bridge.dagster.dbt over dagster-dbt's real objects and dbt's artifact layout."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject
from dagster_dbt.dagster_dbt_translator import DbtManifestWrapper

from ol_bridge.dagster import dbt
from tests.dagster.projects import shop

RUN_ID = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
MODEL = "model.shop.customer_orders"
TEST = "test.shop.not_null_customer_orders_customer_id.582e6bcaa0"


def manifest(compiled_code: str | None = None) -> dict[str, Any]:
    model: dict[str, Any] = {
        "unique_id": MODEL,
        "package_name": "shop",
        "original_file_path": "models/marts/customer_orders.sql",
    }
    if compiled_code is not None:
        model["compiled_code"] = compiled_code
    return {
        "metadata": {"adapter_type": "snowflake"},
        "nodes": {
            MODEL: model,
            TEST: {
                "name": "not_null_customer_orders_customer_id",
                "column_name": "customer_id",
                "description": "",
                "test_metadata": {"name": "not_null"},
            },
        },
    }


def project_copy(tmp_path: Path) -> DbtProject:
    return DbtProject(project_dir=shop.copy_project(tmp_path))


def node_of(project: DbtProject | None, compiled_code: str | None = None) -> dbt.DbtNode:
    metadata: dict[str, Any] = {
        dbt.UNIQUE_ID_KEY: MODEL,
        dbt.MANIFEST_KEY: DbtManifestWrapper(manifest=manifest(compiled_code)),
    }
    if project is not None:
        metadata[dbt.PROJECT_KEY] = project
    node = dbt.dbt_node(metadata)
    assert node is not None
    return node


def write_run_results(folder: Path, invocation_id: str, sql: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    results = [{"unique_id": uid, "compiled_code": code} for uid, code in sql.items()]
    (folder / "run_results.json").write_text(
        json.dumps({"metadata": {"invocation_id": invocation_id}, "results": results})
    )


def test_node_reads_dagster_dbt_metadata(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    node = node_of(project)
    assert node.unique_id == MODEL and node.adapter == "snowflake"
    assert node.project_dir == project.project_dir
    assert node.target_dir == project.project_dir / "target"
    assert dbt.dbt_node({"dagster/table_name": "db.s.t"}) is None


def test_compiled_sql_of_the_runs_own_invocation(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    target = project.project_dir / "target"
    mine, other = str(uuid.uuid4()), str(uuid.uuid4())
    # two dbt steps of this run, and a folder of another run with the same op name
    write_run_results(target / f"shop_models-{RUN_ID[:7]}-aaaaaaa", other, {MODEL: "select 1"})
    write_run_results(target / f"shop_models-{RUN_ID[:7]}-bbbbbbb", mine, {MODEL: "select 2"})
    write_run_results(target / "shop_models-1234567-ccccccc", str(uuid.uuid4()), {MODEL: "x"})
    node = node_of(project, compiled_code="select 3")
    assert dbt.compiled_sql(node, RUN_ID, mine) == "select 2"
    assert dbt.compiled_sql(node, RUN_ID, other) == "select 1"


def test_no_sql_but_the_runs_own_and_why(tmp_path: Path) -> None:
    """The project's manifest and target/compiled hold what was compiled last, not what the
    run ran: never used for a run's SQL; the reason says what is missing."""
    project = project_copy(tmp_path)
    compiled = project.project_dir / "target" / "compiled" / "shop" / "models" / "marts"
    compiled.mkdir(parents=True)
    (compiled / "customer_orders.sql").write_text("select * from shop.main.stg_orders")
    node = node_of(project, compiled_code="select 3")
    unknown = str(uuid.uuid4())
    missing = dbt.run_sql(node, RUN_ID, unknown)
    assert missing.sql is None
    assert missing.missing is not None and unknown in missing.missing
    assert "not readable here" in missing.missing and str(project.project_dir) in missing.missing
    no_invocation = dbt.run_sql(node, RUN_ID, None)
    assert no_invocation.sql is None
    assert no_invocation.missing is not None and "no dbt invocation_id" in no_invocation.missing
    ran = str(uuid.uuid4())
    write_run_results(project.project_dir / "target" / f"shop_models-{RUN_ID[:7]}-ddddddd", ran, {})
    not_compiled = dbt.run_sql(node, RUN_ID, ran)
    assert not_compiled.sql is None
    assert not_compiled.missing is not None and "did not compile" in not_compiled.missing
    assert dbt.run_sql(node_of(None), RUN_ID, unknown).sql is None


def test_dbt_test_details(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    invocation = str(uuid.uuid4())
    write_run_results(
        project.project_dir / "target" / f"shop_models-{RUN_ID[:7]}-ddddddd",
        invocation,
        {TEST: "select customer_id from t where customer_id is null"},
    )
    test = dbt.dbt_test(node_of(project), TEST, RUN_ID, invocation)
    assert test == dbt.DbtTest(
        kind="not_null",
        column="customer_id",
        description=None,
        sql="select customer_id from t where customer_id is null",
    )
