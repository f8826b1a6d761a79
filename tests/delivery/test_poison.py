"""A poison event through the sensor's `type: datahub` destination: one Dagster asset whose
column lineage names an empty column (the case issue 17 found retried forever, blocking
every later run). It may convert (with the bad field left out) or be parked as rejected;
either way every other event, before and after it, reaches DataHub Lite."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.delivery import DeliveryConfig, Outbox
from ol_bridge.delivery.location import locate
from tests.delivery.conftest import client_for, tick


@dg.asset
def clean_source() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 1})


@dg.asset(deps=[clean_source])
def poisoned() -> dg.MaterializeResult:
    lineage = dg.TableColumnLineage(
        deps_by_column={"": [dg.TableColumnDep(asset_key=clean_source.key, column_name="id")]}
    )
    return dg.MaterializeResult(metadata={"dagster/column_lineage": lineage})


@dg.asset
def later() -> None:
    pass


def lite_runs(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.execute(
            "SELECT DISTINCT urn FROM metadata_aspect_v2 "
            "WHERE aspect_name = 'dataProcessInstanceRunEvent'"
        ).fetchall()
    return {row[0] for row in rows}


def test_a_poison_event_blocks_nothing(tmp_path: Path) -> None:
    lite = tmp_path / "lite.duckdb"
    client = client_for({"type": "datahub", "sink": "lite", "lite_path": str(lite)})
    sensor = build_openlineage_sensor(
        client=client, delivery=DeliveryConfig(backoff_seconds=0.01, max_backoff_seconds=0.01)
    )
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        assert dg.materialize([clean_source, poisoned], instance=instance).success
        cursor = None
        for _ in range(3):
            _, cursor = tick(sensor, instance, cursor)
        assert dg.materialize([later], instance=instance).success
        for _ in range(3):
            _, cursor = tick(sensor, instance, cursor)
        with Outbox(locate(DeliveryConfig(), instance).database) as box:
            [stats] = box.stats()
    assert stats.queued == stats.rejected <= 1  # nothing waits but a parked poison event
    # every run instance (2 job runs, 3 steps) reached DataHub, minus the poison one at most
    assert len(lite_runs(lite)) >= 5 - stats.rejected
    print(f"\npoison: {stats.delivered} delivered, {stats.rejected} parked")
