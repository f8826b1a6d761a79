"""A run of a time partition says its whole window: ``nominalEndTime`` next to the start,
for one partition (hourly, daily, weekly, monthly, a multi-partition's time dimension) and
for a partition range run by one backfill run (review 2, defect 11)."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.dagster.nominal_time import NominalTime, nominal_time
from tests.dagster.helpers import tick_until_idle

HOURLY = dg.HourlyPartitionsDefinition("2024-01-01-00:00")
DAILY = dg.DailyPartitionsDefinition("2024-01-01")
WEEKLY = dg.WeeklyPartitionsDefinition("2024-01-07")
MONTHLY = dg.MonthlyPartitionsDefinition("2024-01-01")
DAILY_BERLIN = dg.DailyPartitionsDefinition("2024-01-01", timezone="Europe/Berlin")
MULTI = dg.MultiPartitionsDefinition(
    {"date": DAILY, "region": dg.StaticPartitionsDefinition(["eu"])}
)


def _range(first: str, last: str) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


@pytest.mark.parametrize(
    ("partitions", "tags", "window"),
    [
        (HOURLY, {"dagster/partition": "2024-01-01-05:00"},
         ("2024-01-01T05:00:00+00:00", "2024-01-01T06:00:00+00:00")),
        (DAILY, {"dagster/partition": "2024-01-02"},
         ("2024-01-02T00:00:00+00:00", "2024-01-03T00:00:00+00:00")),
        (WEEKLY, {"dagster/partition": "2024-01-07"},
         ("2024-01-07T00:00:00+00:00", "2024-01-14T00:00:00+00:00")),
        (MONTHLY, {"dagster/partition": "2024-02-01"},
         ("2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00")),
        (DAILY_BERLIN, {"dagster/partition": "2024-01-02"},
         ("2024-01-02T00:00:00+01:00", "2024-01-03T00:00:00+01:00")),
        (MULTI, {"dagster/partition": "2024-01-02|eu", "dagster/partition/date": "2024-01-02",
                 "dagster/partition/region": "eu"},
         ("2024-01-02T00:00:00+00:00", "2024-01-03T00:00:00+00:00")),
        (DAILY, _range("2024-01-01", "2024-01-03"),
         ("2024-01-01T00:00:00+00:00", "2024-01-04T00:00:00+00:00")),
        (MULTI, _range("2024-01-01|eu", "2024-01-03|eu"),
         ("2024-01-01T00:00:00+00:00", "2024-01-04T00:00:00+00:00")),
    ],
)  # fmt: skip
def test_the_window_of_a_time_partition(
    partitions: dg.PartitionsDefinition, tags: dict[str, str], window: tuple[str, str]
) -> None:
    assert nominal_time(tags, partitions) == NominalTime(*window)


def test_without_the_definition_or_with_a_schedule_tick_there_is_no_end() -> None:
    hourly = {"dagster/partition": "2024-01-01-05:00"}
    assert nominal_time(hourly) == NominalTime("2024-01-01T05:00:00+00:00")
    static = dg.StaticPartitionsDefinition(["2024-01-01-05:00"])
    assert nominal_time(hourly, static) == NominalTime("2024-01-01T05:00:00+00:00")
    scheduled = {**hourly, ".dagster/scheduled_execution_time": "2024-01-01T06:00:00+00:00"}
    assert nominal_time(scheduled, HOURLY) == NominalTime("2024-01-01T06:00:00+00:00")


def test_sensor_sends_the_window_of_an_hourly_partition_and_of_a_backfill_range(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    @dg.asset(partitions_def=HOURLY)
    def hourly_events() -> None:
        pass

    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def daily_totals() -> None:
        pass

    sensor = build_openlineage_sensor(client=ol_client)
    defs = dg.Definitions(assets=[hourly_events, daily_totals], sensors=[sensor])
    assert dg.materialize([hourly_events], instance=instance, partition_key="2024-01-01-05:00")
    assert dg.materialize(
        [daily_totals], instance=instance, tags=_range("2024-01-01", "2024-01-03")
    )
    tick_until_idle(sensor, instance, defs)
    windows = set()
    for event in recorder.events:
        ol_validator.validate(event)
        if event["eventType"] == "COMPLETE":
            nominal = event["run"]["facets"]["nominalTime"]
            windows.add(
                (event["job"]["name"], nominal["nominalStartTime"], nominal.get("nominalEndTime"))
            )
    assert windows == {
        ("__ephemeral_asset_job__", "2024-01-01T05:00:00+00:00", "2024-01-01T06:00:00+00:00"),
        (
            "__ephemeral_asset_job__.hourly_events",
            "2024-01-01T05:00:00+00:00",
            "2024-01-01T06:00:00+00:00",
        ),
        ("__ephemeral_asset_job__", "2024-01-01T00:00:00+00:00", "2024-01-04T00:00:00+00:00"),
        (
            "__ephemeral_asset_job__.daily_totals",
            "2024-01-01T00:00:00+00:00",
            "2024-01-04T00:00:00+00:00",
        ),
    }
