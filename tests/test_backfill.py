"""``ol-bridge backfill`` on a real on-disk Dagster instance with hundreds of runs.

The history is built once per module: a few real executions of small jobs (successes,
failures, several steps), then copies of those runs under new run ids, written through the
instance's run and event-log storage. Copying keeps the instance big enough to show
progress and interruption while the module stays well under a minute; the events of a copy
are the real events of a real run. The storage is consolidated SQLite, on tmpfs when the
machine has one (SQLite syncs every write; hundreds of runs on a disk take minutes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import dagster as dg
import pytest
from click.testing import CliRunner
from dagster._core.remote_origin import (
    RegisteredCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from openlineage.client import OpenLineageClient
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport

from ol_bridge.backfill import BackfillState, RunSelection, load_state, save_state, select_runs
from ol_bridge.cli import main
from ol_bridge.commands.backfill import load_object
from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.dagster.cursor import OpenStep, RunProgress
from ol_bridge.errors import BackfillStateError
from tests.delivery.receiver import Receiver

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
COPIES_PER_BATCH = 97  # two batches: 194 copies + 6 real runs = 200 runs


@dg.op
def extract() -> int:
    return 1


@dg.op
def load(value: int) -> int:
    return value + 1


@dg.job
def small_etl() -> None:
    load(extract())


@dg.op
def explode() -> None:
    raise ValueError("the warehouse is on fire")


@dg.job
def broken() -> None:
    explode()


JOBS = [small_etl, broken]
DEFINITIONS = dg.Definitions(jobs=JOBS)


@attrs.frozen
class History:
    home: Path
    #: run ids of the first and second batch (the second created >= 1 s after the first)
    old: tuple[str, ...]
    new: tuple[str, ...]
    #: the creation time of the second batch's first run
    boundary: datetime
    by_job: dict[str, set[str]]
    by_location: dict[str, set[str]]


def _fast_dir() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _located(run: dg.DagsterRun, location: str) -> RemoteJobOrigin:
    return RemoteJobOrigin(
        RemoteRepositoryOrigin(RegisteredCodeLocationOrigin(location), "__repository__"),
        run.job_name,
    )


def _copy_run(instance: dg.DagsterInstance, run_id: str, location: str | None) -> str:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    new_id = str(uuid.uuid4())
    changes: dict[str, Any] = {"run_id": new_id}
    if location is not None:
        changes["remote_job_origin"] = _located(run, location)
    instance.add_run(run._replace(**changes))
    records = instance.get_records_for_run(run_id, limit=10_000).records
    instance.event_log_storage.store_event_batch(
        [record.event_log_entry._replace(run_id=new_id) for record in records]
    )
    return new_id


def _write_home(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        "event_log_storage:\n"
        "  module: dagster.core.storage.event_log\n"
        "  class: ConsolidatedSqliteEventLogStorage\n"
        f"  config:\n    base_dir: {home / 'history'}\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def history() -> Iterator[History]:
    with tempfile.TemporaryDirectory(prefix="ol-bridge-backfill-", dir=_fast_dir()) as tmp:
        home = Path(tmp) / "dagster_home"
        _write_home(home)
        by_job: dict[str, set[str]] = defaultdict(set)
        by_location: dict[str, set[str]] = defaultdict(set)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            real = []
            for job in [small_etl, broken, small_etl, broken, small_etl, small_etl]:
                result = job.execute_in_process(
                    instance=instance, raise_on_error=False, run_config=QUIET
                )
                real.append((job.name, result.run_id))
                by_job[job.name].add(result.run_id)
            old = [run_id for _, run_id in real]
            batches: list[list[str]] = [old, []]
            for batch in (0, 1):
                if batch == 1:
                    time.sleep(1.1)  # SQLite's CURRENT_TIMESTAMP has one-second resolution
                for index in range(COPIES_PER_BATCH):
                    job_name, source = real[index % len(real)]
                    location = ("analytics", "marketing", None)[index % 3]
                    copy = _copy_run(instance, source, location)
                    batches[batch].append(copy)
                    by_job[job_name].add(copy)
                    if location:
                        by_location[location].add(copy)
            records = instance.get_run_records(filters=dg.RunsFilter(run_ids=[batches[1][0]]))
            boundary = records[0].create_timestamp
        yield History(home, tuple(batches[0]), tuple(batches[1]), boundary, by_job, by_location)


class Recorder(Transport):
    kind = "test-recorder"

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: Any) -> None:
        self.events.append(Serde.to_dict(event))


Key = tuple[str, str, str]


def per_run(events: list[dict[str, Any]]) -> dict[str, list[Key]]:
    """Run id of the Dagster run -> the (job, eventType, OL runId) sequence emitted for it."""
    runs: dict[str, list[Key]] = defaultdict(list)
    for event in events:
        facets = event["run"].get("facets", {})
        parent = facets.get("parent")
        root = parent["root"]["run"]["runId"] if parent and "root" in parent else None
        dagster_run = root or (parent["run"]["runId"] if parent else event["run"]["runId"])
        runs[dagster_run].append((event["job"]["name"], event["eventType"], event["run"]["runId"]))
    return dict(runs)


@pytest.fixture(scope="module")
def sensor_events(history: History) -> list[dict[str, Any]]:
    """What the real sensor emits for the whole history, ticked until a tick adds nothing
    (the backlog is bigger than one tick's batch of 200 runs per stream)."""
    recorder = Recorder()
    sensor = build_openlineage_sensor(client=OpenLineageClient(transport=recorder))
    definitions = dg.Definitions(jobs=JOBS, sensors=[sensor])
    cursor: str | None = None
    with dg.DagsterInstance.from_config(str(history.home)) as instance:
        for _ in range(20):
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, definitions=definitions
            )
            before = len(recorder.events)
            cursor = sensor.evaluate_tick(context).cursor
            if len(recorder.events) == before:
                break
        else:
            raise AssertionError("sensor still emitting after 20 ticks")
    return recorder.events


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def backfill(*args: str) -> Any:
    return CliRunner().invoke(main, ["backfill", *args], catch_exceptions=False)


def test_backfill_emits_what_the_sensor_emits_and_resumes_after_max_runs(
    history: History, sensor_events: list[dict[str, Any]], tmp_path: Path
) -> None:
    events_file = tmp_path / "events.jsonl"
    state = tmp_path / "state.json"
    common = [
        "--dagster-home", str(history.home),
        "--events-file", str(events_file),
        "--state", str(state),
    ]  # fmt: skip
    runs = len(history.old) + len(history.new)
    first = backfill(*common, "--max-runs", "100")
    assert first.exit_code == 0, first.output
    assert f"{runs} runs selected, 0 already done" in first.output
    # not a terminal: a plain progress line every 5 % of the 100 runs
    progress = [line for line in first.output.splitlines() if line.startswith("backfill: ")]
    assert [line.split(" runs")[0] for line in progress] == [
        f"backfill: {done}/100" for done in range(5, 101, 5)
    ]
    assert "Stopped early; progress saved in" in first.output
    assert len(load_state(state).completed) == 100
    after_first = len(read_lines(events_file))
    assert f"Emitted {after_first} events for 100 runs." in first.output

    second = backfill(*common)
    assert second.exit_code == 0, second.output
    assert f"{runs} runs selected, 100 already done" in second.output
    emitted = read_lines(events_file)
    assert f"Emitted {len(emitted) - after_first} events for {runs - 100} runs." in second.output
    assert len(sensor_events) > 3 * runs  # a run, its steps, START and end each
    assert per_run(emitted) == per_run(sensor_events)
    assert set(per_run(emitted)) == set(history.old) | set(history.new)

    # a third invocation finds everything done and sends nothing
    third = backfill(*common)
    assert f"{runs} runs selected, {runs} already done" in third.output
    assert len(read_lines(events_file)) == len(emitted)


def test_interrupted_by_a_signal_resumes_without_duplicates(
    history: History, sensor_events: list[dict[str, Any]], tmp_path: Path
) -> None:
    events_file = tmp_path / "events.jsonl"
    state = tmp_path / "state.json"
    command = [
        sys.executable, "-m", "ol_bridge.cli", "backfill",
        "--dagster-home", str(history.home),
        "--events-file", str(events_file),
        "--state", str(state),
    ]  # fmt: skip
    env = {**os.environ, "OL_BRIDGE_PROGRESS_EVERY": "5"}
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).parents[1]
    )
    assert process.stderr is not None
    seen: list[str] = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("backfill: 40/"):
            process.send_signal(signal.SIGTERM)
            break
    rest = process.stderr.read()
    assert process.wait(timeout=60) == 130, "".join(seen) + rest
    assert "Stopped early; progress saved in" in rest

    saved = load_state(state)
    runs = len(history.old) + len(history.new)
    assert 40 <= len(saved.completed) < runs
    # handed off durably; what was not delivered before the signal waits in the outbox
    partial = read_lines(events_file) if events_file.exists() else []
    assert set(per_run(partial)) <= saved.completed | set(saved.in_progress)

    # resume in-process: the same command, the same state file
    resumed = backfill(*command[4:])
    assert resumed.exit_code == 0, resumed.output
    assert f"{runs} runs selected, {len(saved.completed)} already done" in resumed.output
    emitted = read_lines(events_file)
    keys = [(e["job"]["name"], e["eventType"], e["run"]["runId"]) for e in emitted]
    assert len(keys) == len(set(keys)), "an event was sent twice"
    assert per_run(emitted) == per_run(sensor_events)


def test_stopping_mid_run_saves_the_position_before_the_next_event(
    history: History, sensor_events: list[dict[str, Any]], tmp_path: Path
) -> None:
    from ol_bridge.backfill import run_backfill
    from ol_bridge.dagster import OpenLineageTranslator
    from ol_bridge.dagster.catalog import AssetCatalog

    sent: list[dict[str, Any]] = []
    saved: list[BackfillState] = []
    with dg.DagsterInstance.from_config(str(history.home)) as instance:
        runs = select_runs(instance, RunSelection())[:12]
        arguments: dict[str, Any] = {
            "translator": OpenLineageTranslator(),
            "catalog": AssetCatalog(),
            "save": saved.append,
        }
        first = run_backfill(
            instance,
            runs,
            BackfillState(),
            lambda event: sent.append(Serde.to_dict(event)),
            should_stop=lambda: len(sent) >= 7,  # mid-way through a run
            **arguments,
        )
        assert first.stopped and first.failure is None
        assert len(sent) == 7
        assert len(first.state.in_progress) == 1
        assert saved[-1] == first.state
        second = run_backfill(
            instance,
            runs,
            first.state,
            lambda event: sent.append(Serde.to_dict(event)),
            **arguments,
        )
    assert not second.stopped and second.state.in_progress == {}
    assert len(second.state.completed) == len(runs)
    expected = per_run(sensor_events)
    assert per_run(sent) == {ref.run_id: expected[ref.run_id] for ref in runs}


def test_a_destination_down_in_a_composite_loses_nothing(
    history: History, tmp_path: Path, receivers: list[Receiver]
) -> None:
    """openlineage-python's composite skips a failing child (continue_on_failure): emitting
    through it directly, that child would silently get nothing. Through the outbox each
    child has its own queue: the one that is down keeps its events, and says so."""
    up, down = Receiver().start(), Receiver().start()
    receivers += [up, down]
    down.stop()
    config = tmp_path / "openlineage.yml"
    config.write_text(
        json.dumps(
            {
                "transport": {
                    "type": "composite",
                    "transports": {
                        "marquez": {"type": "http", "url": up.url, "endpoint": "api/v1/lineage"},
                        "datahub": {"type": "http", "url": down.url, "endpoint": "api/v1/lineage"},
                    },
                }
            }
        ),
        encoding="utf-8",
    )
    state = tmp_path / "state.json"
    command = [
        "backfill", "--dagster-home", str(history.home), "--state", str(state),
        "--max-runs", "3", "--drain-seconds", "0.5",
    ]  # fmt: skip
    env = {"OPENLINEAGE_CONFIG": str(config)}
    first = CliRunner().invoke(main, command, env=env)
    assert first.exit_code == 3, first.output
    sent = len(up.events)
    assert sent > 3 and down.events == []
    assert f"{sent} events wait for delivery: datahub {sent} since" in first.output
    assert "ConnectionError" in first.output and "ol-bridge outbox status" in first.output
    assert len(load_state(state).completed) == 3  # handed off durably: the runs are done

    down.start()  # back: the next backfill delivers what waited, then goes on
    # a generous time box: it ends as soon as nothing waits, and on a loaded machine 0.5 s
    # can pass before ~30 loopback POSTs are done (the run would stop early, exit 3)
    second = CliRunner().invoke(main, [*command[:-1], "30"], env=env)
    assert second.exit_code == 0, second.output
    keys = down.keys()
    assert len(keys) == len(set(keys)) == len(up.events) > sent
    assert sorted(keys) == sorted(up.keys())


def test_filters_select_by_time_job_and_location(history: History) -> None:
    with dg.DagsterInstance.from_config(str(history.home)) as instance:

        def ids(**selection: Any) -> set[str]:
            return {ref.run_id for ref in select_runs(instance, RunSelection(**selection))}

        assert ids(since=history.boundary) == set(history.new)
        assert ids(until=history.boundary) == set(history.old)
        assert ids(jobs=("broken",)) == history.by_job["broken"]
        assert ids(jobs=("broken", "small_etl")) == set(history.old) | set(history.new)
        assert ids(locations=("analytics",)) == history.by_location["analytics"]
        assert ids(locations=("analytics",), jobs=("broken",), since=history.boundary) == (
            history.by_location["analytics"] & history.by_job["broken"] & set(history.new)
        )
        ordered = select_runs(instance, RunSelection())
        assert [ref.created for ref in ordered] == sorted(ref.created for ref in ordered)


def test_dry_run_counts(history: History, tmp_path: Path) -> None:
    result = backfill(
        "--dagster-home", str(history.home), "--dry-run", "--job", "broken",
        "--location", "marketing", "--state", str(tmp_path / "state.json"),
    )  # fmt: skip
    expected = len(history.by_job["broken"] & history.by_location["marketing"])
    assert result.output == (
        f"{expected} runs selected, 0 already done (state: {tmp_path / 'state.json'})\n"
    )


def test_since_must_be_before_until(history: History) -> None:
    result = CliRunner().invoke(
        main,
        ["backfill", "--dagster-home", str(history.home), "--since", "2024-05-02",
         "--until", "2024-05-01"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--since (2024-05-02T00:00:00+00:00) must be before --until" in result.output


def test_missing_dagster_home_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    result = CliRunner().invoke(main, ["backfill"])
    assert result.exit_code == 2
    assert "Set DAGSTER_HOME or pass --dagster-home." in result.output


def test_state_round_trips_and_an_unreadable_one_says_what_to_do(tmp_path: Path) -> None:
    state = BackfillState(
        completed=frozenset({"a", "b"}),
        in_progress={"c": RunProgress(after=12, open_steps={"load": OpenStep(10, 2, False)})},
    )
    path = tmp_path / "deep" / "state.json"
    save_state(path, state)
    assert load_state(path) == state
    assert load_state(tmp_path / "none.json") == BackfillState()
    path.write_text('{"v": 99}', encoding="utf-8")
    with pytest.raises(BackfillStateError, match=r"unsupported state version 99\)\. Delete it"):
        load_state(path)


def test_naive_times_are_utc() -> None:
    selection = RunSelection(since=datetime(2024, 5, 1), until=datetime(2024, 5, 2, 2))
    assert selection.since == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert selection.until is not None and selection.until.tzinfo is timezone.utc


def test_progress_and_deduplication_are_per_destination(
    history: History, tmp_path: Path, receivers: list[Receiver]
) -> None:
    """A backfill into a file is no progress toward Marquez; a backfill started again
    (--restart) sends again; a skipped duplicate is said, with the way to send it anyway."""
    receiver = Receiver().start()
    receivers.append(receiver)
    file = tmp_path / "events.jsonl"
    base = ["backfill", "--dagster-home", str(history.home), "--max-runs", "2"]
    into_file = CliRunner().invoke(main, [*base, "--events-file", str(file)])
    assert into_file.exit_code == 0, into_file.output
    sent_to_file = len(read_lines(file))
    env = {"OPENLINEAGE_URL": receiver.url}
    to_marquez = CliRunner().invoke(main, base, env=env)
    assert to_marquez.exit_code == 0, to_marquez.output
    assert "0 already done" in to_marquez.output
    assert len(receiver.events) == sent_to_file > 0
    # the file destination left nothing behind in the outbox once drained
    status = CliRunner().invoke(main, ["outbox", "status", "--dagster-home", str(history.home)])
    assert "file:" not in status.output

    replay = CliRunner().invoke(main, [*base, "--state", str(tmp_path / "fresh.json")], env=env)
    assert f"{sent_to_file} events had been handed to these destinations already" in (replay.output)
    assert len(receiver.events) == sent_to_file  # nothing twice
    again = CliRunner().invoke(main, [*base, "--restart"], env=env)
    assert again.exit_code == 0, again.output
    assert len(receiver.events) == 2 * sent_to_file  # --restart sends again, on purpose


def test_definitions_import_from_the_directory_it_runs_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--definitions definitions:defs` from the project directory, with no PYTHONPATH."""
    (tmp_path / "ol_bridge_cwd_project_defs.py").write_text("defs = 'the definitions'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert load_object("ol_bridge_cwd_project_defs:defs") == "the definitions"
    monkeypatch.delitem(sys.modules, "ol_bridge_cwd_project_defs")
