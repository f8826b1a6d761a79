"""One Dagster job is one OpenLineage job and one DataHub pipeline however it is launched,
and a run launched by Dagster's real scheduler carries its nominal time.

The scheduled run is made by Dagster's own scheduler code (``launch_scheduled_runs``, what
the daemon runs every tick) for a code location whose name has dots, so the run has the
tags and origin the daemon gives it; the same job is also run in process, with no code
location at all (as ``dagster job execute`` / ``dagster asset materialize`` do).
"""

from __future__ import annotations

import datetime
import logging
import textwrap
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._scheduler.scheduler import launch_scheduled_runs

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.dagster.nominal_time import nominal_start_time
from ol_bridge.dagster.run_info import RunInfo
from ol_bridge.datahub import ConverterConfig, convert_event
from tests.dagster.helpers import tick_until_idle

DEFINITIONS = textwrap.dedent(
    """
    import dagster as dg

    @dg.op
    def hello() -> int:
        return 1

    @dg.job
    def nightly() -> None:
        hello()

    defs = dg.Definitions(
        jobs=[nightly],
        schedules=[dg.ScheduleDefinition(job=nightly, cron_schedule="* * * * *")],
        executor=dg.in_process_executor,
    )
    """
)
LOCATION = "analytics.prod.v2"  # a location name with dots
TICK = "2024-05-01T02:00:00+00:00"


@pytest.fixture
def scheduled_instance(tmp_path: Path) -> Any:
    """An instance whose runs are launched synchronously, as the daemon's launcher would."""
    overrides = {
        "run_launcher": {
            "module": "dagster._core.launcher.sync_in_memory_run_launcher",
            "class": "SyncInMemoryRunLauncher",
        },
        "run_coordinator": {
            "module": "dagster._core.run_coordinator",
            "class": "DefaultRunCoordinator",
        },
    }
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=overrides) as instance:
        yield instance


def _schedule_one_tick(instance: dg.DagsterInstance, definitions: Path) -> dg.DagsterRun:
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(python_file=str(definitions), attribute="defs"),
        location_name=LOCATION,
    )
    with create_test_daemon_workspace_context(
        InProcessWorkspaceLoadTarget([origin]), instance
    ) as workspace:
        entry = next(iter(workspace.create_request_context().get_code_location_entries().values()))
        assert entry.code_location is not None, entry.load_error
        [repository] = entry.code_location.get_repositories().values()
        instance.start_schedule(repository.get_schedule("nightly_schedule"))
        now = datetime.datetime.now(datetime.timezone.utc)
        tick = now.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        list(launch_scheduled_runs(workspace, logging.getLogger(__name__), tick, {}))
    [run] = instance.get_runs()
    return run


def test_scheduled_and_in_process_runs_are_one_job_with_nominal_time(
    tmp_path: Path, scheduled_instance: Any, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    definitions = tmp_path / "definitions.py"
    definitions.write_text(DEFINITIONS, encoding="utf-8")
    run = _schedule_one_tick(scheduled_instance, definitions)
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.remote_job_origin is not None
    assert run.remote_job_origin.location_name == LOCATION
    scheduled_at = run.tags[".dagster/scheduled_execution_time"]  # as the daemon wrote it
    assert "dagster/scheduled_execution_time" not in run.tags

    # The same job, run in process: no code location.
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("scheduled_definitions", definitions)
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    defs: dg.Definitions = module.defs
    assert defs.resolve_job_def("nightly").execute_in_process(instance=scheduled_instance).success

    sensor = build_openlineage_sensor(client=ol_client)
    tick_until_idle(sensor, scheduled_instance, dg.Definitions(sensors=[sensor]))
    for event in recorder.events:
        ol_validator.validate(event)
    job_runs = [e for e in recorder.events if "parent" not in e["run"]["facets"]]
    assert {e["job"]["name"] for e in recorder.events} == {"nightly", "nightly.hello"}
    locations = {e["job"]["facets"]["dagster_job"].get("codeLocation") for e in job_runs}
    assert locations == {LOCATION, None}

    flows = {
        str(p.entityUrn)
        for e in recorder.events
        for p in convert_event(e, ConverterConfig())
        if p.entityType == "dataFlow"
    }
    assert flows == {"urn:li:dataFlow:(dagster,nightly,dagster)"}  # never split at a dot

    nominal = {
        e["run"]["runId"]: e["run"]["facets"].get("nominalTime", {}).get("nominalStartTime")
        for e in job_runs
    }
    assert nominal == {run.run_id: scheduled_at, next(k for k in nominal if k != run.run_id): None}
    assert datetime.datetime.fromisoformat(scheduled_at).second == 0
    steps = [e for e in recorder.events if e["run"]["facets"].get("parent")]
    scheduled_steps = [
        e for e in steps if e["run"]["facets"]["parent"]["run"]["runId"] == run.run_id
    ]
    assert {e["run"]["facets"]["nominalTime"]["nominalStartTime"] for e in scheduled_steps} == {
        scheduled_at
    }


@pytest.mark.parametrize("location", [None, "definitions.py", "loc_b", "a.b.c"])
def test_implicit_asset_job_is_one_job_whatever_its_location(location: str | None) -> None:
    """``dagster asset materialize`` (no location), ``dagster dev -f definitions.py`` and a
    workspace location all launch the same ``__ASSET_JOB``."""
    run = RunInfo(run_id="r", job_name="__ASSET_JOB", code_location=location)
    translator = OpenLineageTranslator()
    assert translator.get_job_name(run) == "__ASSET_JOB"


def test_multi_partitions_with_a_time_dimension_get_nominal_time(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    partitions = dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition("2024-01-01"),
            "region": dg.StaticPartitionsDefinition(["eu", "us"]),
        }
    )

    @dg.asset(partitions_def=partitions)
    def sales() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"dagster/partition_row_count": 42})

    sensor = build_openlineage_sensor(client=ol_client)
    defs = dg.Definitions(assets=[sales], sensors=[sensor])
    key = dg.MultiPartitionKey({"date": "2024-01-02", "region": "us"})
    assert dg.materialize([sales], instance=instance, partition_key=key).success
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)
    [complete] = [e for e in recorder.events if e["eventType"] == "COMPLETE" and e["outputs"]]
    assert complete["run"]["facets"]["nominalTime"]["nominalStartTime"] == (
        "2024-01-02T00:00:00+00:00"
    )
    [output] = complete["outputs"]
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 42


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({".dagster/scheduled_execution_time": TICK}, TICK),
        ({"dagster/scheduled_execution_time": TICK}, TICK),
        ({"dagster/partition": "2024-01-31"}, "2024-01-31T00:00:00+00:00"),
        ({"dagster/partition": "2024-01-31-05:00"}, "2024-01-31T05:00:00+00:00"),
        ({"dagster/partition": "us|2024-01-31", "dagster/partition/date": "2024-01-31",
          "dagster/partition/region": "us"}, "2024-01-31T00:00:00+00:00"),
        ({"dagster/asset_partition_range_start": "2024-02-01",
          "dagster/asset_partition_range_end": "2024-02-07"}, "2024-02-01T00:00:00+00:00"),
        ({"dagster/partition": "us"}, None),
        ({"dagster/partition": "20240131"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_nominal_start_time_from_tags(tags: dict[str, str], expected: str | None) -> None:
    assert nominal_start_time(tags) == expected


def test_a_sensor_without_a_cursor_says_why_it_starts_over(
    instance: dg.DagsterInstance, ol_client: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    sensor = build_openlineage_sensor(client=ol_client)
    defs = dg.Definitions(sensors=[sensor])
    capfd.readouterr()
    cursor, _ = tick_until_idle(sensor, instance, defs)  # Dagster's logger: process stderr
    first = [line for line in capfd.readouterr().err.splitlines() if "no cursor" in line]
    tick_until_idle(sensor, instance, defs, cursor)
    again = first + [line for line in capfd.readouterr().err.splitlines() if "no cursor" in line]
    assert len(first) == 1 and again == first  # said once, on the first tick only
    assert "code location or name changed" in first[0]
