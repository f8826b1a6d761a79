"""Dagster asset checks as DataHub assertions, from real runs through the real sensor.

A separate-step check (WARN, with a description) and a same-step check (declared with
``check_specs``, reported by the materializing step) run in two runs, failing in the first
and passing in the second. Through a ``composite`` transport the events reach DataHub Lite and the
REST sink (a loopback GMS) at once. Each check is one assertion on its dataset, with the
URN DataHub's endpoint derives (``nameUUIDFromBytes`` of ``dataset:column:check``), its
description and severity, and one ``assertionRunEvent`` per evaluation, tied to the run.
"""

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
import duckdb
import pytest
from dagster import AssetCheckExecutionContext, AssetExecutionContext

from ol_bridge.datahub.assertions import assertion_id
from ol_bridge.datahub.sinks.lite import open_lite
from tests.datahub.sensor_runs import emit_runs
from tests.fakes import fan_out_client
from tests.fakes.gms import running_gms

DOTTED = "ol_bridge.datahub.transport.DatahubTransport"
WAREHOUSE = ["prod", "duckdb", "analytics", "main"]
SCORES = "urn:li:dataset:(urn:li:dataPlatform:duckdb,analytics.main.scores,PROD)"
#: run number -> whether its checks pass: the first run fails them, the second passes
RUNS: list[str] = []


def passing(context: AssetExecutionContext | AssetCheckExecutionContext) -> bool:
    run_id = context.run.run_id
    if run_id not in RUNS:
        RUNS.append(run_id)
    return RUNS.index(run_id) > 0


@dg.asset(
    key_prefix=WAREHOUSE,
    check_specs=[dg.AssetCheckSpec("scores_not_empty", asset=dg.AssetKey([*WAREHOUSE, "scores"]))],
)
def scores(context: AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"dagster/row_count": 3},
        check_results=[dg.AssetCheckResult(check_name="scores_not_empty", passed=passing(context))],
    )


@dg.asset_check(asset=scores, description="every score is between 0 and 100", blocking=False)
def scores_in_range(context: AssetCheckExecutionContext) -> dg.AssetCheckResult:
    # The evaluation carries the result's description; the definition's reaches the events
    # once the sensor reads check specs (issue 11).
    return dg.AssetCheckResult(
        passed=passing(context),
        severity=dg.AssetCheckSeverity.WARN,
        description="every score is between 0 and 100",
    )


def definitions(*sensors: dg.SensorDefinition) -> dg.Definitions:
    job = dg.define_asset_job("scores_job", selection=dg.AssetSelection.assets(scores))
    return dg.Definitions(
        assets=[scores], asset_checks=[scores_in_range], jobs=[job], sensors=list(sensors)
    )


def assertion(check: str) -> str:
    return f"urn:li:assertion:{assertion_id(SCORES, None, check)}"


@pytest.fixture(scope="module")
def checked_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("checks")
    lite_path = root / "lite.duckdb"
    with running_gms() as gms:
        client = fan_out_client(
            lite={"type": DOTTED, "sink": "lite", "lite_path": str(lite_path)},
            rest={"type": DOTTED, "sink": "rest", "server": gms.url},
        )
        with dg.instance_for_test(temp_dir=str(root)) as instance:
            run_ids = emit_runs(instance, client, definitions, ["scores_job", "scores_job"])
        client.close()
        yield lite_path, gms.proposals, run_ids


def lite_rows(path: Any, urn: str, aspect_name: str) -> list[dict[str, Any]]:
    """Every stored version (>= 1) of an aspect, oldest first: Lite keeps each data point."""
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.execute(
            "SELECT metadata FROM metadata_aspect_v2 WHERE urn = ? AND aspect_name = ? "
            "AND version > 0 ORDER BY version",
            [urn, aspect_name],
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


@pytest.mark.parametrize(
    ("check", "description", "severity"),
    [
        ("scores_in_range", "every score is between 0 and 100", "warn"),
        ("scores_not_empty", "scores_not_empty", "error"),  # same step (issue 11)
    ],
)
def test_each_check_is_one_assertion_with_a_result_per_run(
    checked_runs: Any, check: str, description: str, severity: str
) -> None:
    lite_path, proposals, _ = checked_runs
    urn = assertion(check)
    lite = open_lite(lite_path, read_only=True)
    try:
        info = lite.get(urn, ["assertionInfo"])["assertionInfo"]
    finally:
        lite.close()
    assert info["description"] == description
    assert info["customProperties"] == {"name": check, "severity": severity}
    assert info["customAssertion"]["entity"] == SCORES
    results = [r["result"]["type"] for r in lite_rows(lite_path, urn, "assertionRunEvent")]
    assert results == ["FAILURE", "SUCCESS"]
    rest = [
        p["aspect"]
        for p in proposals
        if (p["entityUrn"], p["aspectName"]) == (urn, "assertionRunEvent")
    ]
    assert [r["result"]["type"] for r in rest] == ["FAILURE", "SUCCESS"]
    assert all(r["asserteeUrn"] == SCORES for r in rest)


def test_the_run_events_are_tied_to_the_step_runs(checked_runs: Any) -> None:
    _, proposals, _ = checked_runs
    step_runs = {
        p["entityUrn"].rsplit(":", 1)[1]
        for p in proposals
        if p["aspectName"] == "dataProcessInstanceRelationships"
        and p["aspect"].get("parentInstance")
    }
    assertion_runs = {
        p["aspect"]["runId"] for p in proposals if p["aspectName"] == "assertionRunEvent"
    }
    assert assertion_runs and assertion_runs <= step_runs
    assertions = {p["entityUrn"] for p in proposals if p["entityType"] == "assertion"}
    assert assertion("scores_in_range") in assertions
