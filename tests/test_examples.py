"""Every example runs: its jobs execute, its own sensor emits valid events."""

from __future__ import annotations

import json
import os
import runpy
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ol_bridge.dagster.sensor import IDLE_MESSAGE

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str) -> dg.Definitions:
    definitions = runpy.run_path(str(EXAMPLES / name))["defs"]
    assert isinstance(definitions, dg.Definitions)
    return definitions


@pytest.fixture
def events_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the examples' default OpenLineage client at a file, the standard way."""
    for key in list(os.environ):
        if key.startswith("OPENLINEAGE"):
            monkeypatch.delenv(key)
    path = tmp_path / "events.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(
        f"transport:\n  type: file\n  log_file_path: {path}\n  append: true\n", encoding="utf-8"
    )
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))
    monkeypatch.setenv("OL_BRIDGE_EXAMPLE_DB", str(tmp_path / "iris.duckdb"))
    monkeypatch.chdir(tmp_path)
    return path


def run_all(definitions: dg.Definitions, tmp_path: Path) -> list[dict[str, Any]]:
    sensor = next(iter(definitions.sensors or []))
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        for job in definitions.resolve_all_job_defs():
            if job.name.startswith("__"):
                continue
            job.execute_in_process(instance=instance, raise_on_error=False)
        cursor = None
        for _ in range(10):
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, definitions=definitions
            )
            result: Any = sensor.evaluate_tick(context)
            cursor = result.cursor
            if result.skip_message == IDLE_MESSAGE:
                break
    path = tmp_path / "events.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("example", "expected_jobs"),
    [
        ("basic_setup.py", {"users_job"}),
        (
            "assets_job.py",
            {"sales_job", "sales_job.prod__snowflake__analytics__sales__daily_revenue"},
        ),
        ("ops_job.py", {"orders_pipeline", "orders_pipeline.transform"}),
        ("iris.py", {"iris_job", "iris_job.prod__duckdb__iris__main__iris_summary"}),
        ("advanced_ops_jobs.py", {"maintenance", "lake_job", "lake_job.lake__silver__sessions"}),
    ],
)
def test_example_runs_and_emits_valid_events(
    example: str, expected_jobs: set[str], events_file: Path, tmp_path: Path, ol_validator
) -> None:
    events = run_all(load(example), tmp_path)
    assert events, f"{example} emitted nothing"
    for event in events:
        ol_validator.validate(event)
    assert expected_jobs <= {e["job"]["name"] for e in events}


def test_advanced_translator_names_lake_assets(events_file: Path, tmp_path: Path) -> None:
    events = run_all(load("advanced_ops_jobs.py"), tmp_path)
    sessions = [e for e in events if e["job"]["name"] == "lake_job.lake__silver__sessions"][-1]
    assert [(o["namespace"], o["name"]) for o in sessions["outputs"]] == [
        ("s3://acme-lake", "silver/sessions")
    ]
    assert ("postgres://config-db:5432", "ops.public.settings") in {
        (i["namespace"], i["name"]) for i in sessions["inputs"]
    }
    assert sessions["job"]["namespace"] == "dagster-prod"


def test_assets_job_sql_and_keys_name_one_table(events_file: Path, tmp_path: Path) -> None:
    """``FROM analytics.sales.orders`` (Snowflake SQL: ANALYTICS.SALES.ORDERS) and the asset
    keyed ``prod/snowflake/analytics/sales/orders`` are one dataset (issue 12)."""
    events = run_all(load("assets_job.py"), tmp_path)
    revenue = [
        e
        for e in events
        if e["job"]["name"] == "sales_job.prod__snowflake__analytics__sales__daily_revenue"
        and e["eventType"] == "COMPLETE"
    ][-1]
    assert {(i["namespace"], i["name"]) for i in revenue["inputs"]} == {
        ("snowflake", "analytics.sales.orders")
    }
    [output] = revenue["outputs"]
    column_inputs = {
        (f["namespace"], f["name"])
        for spec in output["facets"]["columnLineage"]["fields"].values()
        for f in spec["inputFields"]
    }
    assert column_inputs == {("snowflake", "analytics.sales.orders")}
