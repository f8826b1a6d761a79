"""dbt runs cut short and run again: the shop project with shop_dbt_cut's models, built by
dagster-dbt with dbt-duckdb under ``dbt build``, four real runs on one instance, read by the
real sensor once all have ended:

* terminated: Dagster's termination (``report_run_canceling``, then SIGTERM to the run
  worker, as the run launchers do) while dbt runs held_customers;
* killed: the run worker and dbt killed (SIGKILL: a pod or container gone) while dbt runs
  held_customers, then marked canceled (the UI's force termination);
* re-executed: the terminated run re-executed from failure, created as the UI and run
  retries create it (``create_reexecuted_run`` on a loaded code location);
* retried: the dbt step under a ``RetryPolicy``: attempt 1's ``dbt build`` fails
  flaky_rank (a dbt error), attempt 2's dbt stops before running anything, so writes no
  run_results.json (a profile target that does not exist), attempt 3 succeeds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import dagster as dg
import psutil
import pytest
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
from dagster._core.test_utils import in_process_test_workspace
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._utils.error import serializable_error_info_from_exc_info

from ol_bridge.dagster.events import step_run_id
from ol_bridge.dagster.processor import _from_error
from ol_bridge.dagster.step_jobs import asset_run_id
from tests.dagster.helpers import tick_until_idle
from tests.dagster.projects import shop, shop_location
from tests.dagster.shop_runs import by_run, recording_sensor, shop_instance

REPO = Path(__file__).resolve().parents[2]
OP = "shop_models"
STEP = f"shop_job.{OP}"
HELD, FLAKY = dg.AssetKey("held_customers"), dg.AssetKey("flaky_rank")
#: what the terminated and the killed runs build: a seed, a view and its tests before
#: held_customers, held_report after it (the whole project would only make the test slower)
HELD_REPORT = dg.AssetKey("held_report")
CUT_SELECTION = [dg.AssetKey("raw_customers"), dg.AssetKey("stg_customers"), HELD, HELD_REPORT]
#: what the retried run builds
RETRIED_SELECTION = [dg.AssetKey("stg_customers"), FLAKY]
#: the dbt command of each attempt of the retried run's dbt step
ATTEMPTS = [
    ["build", "--vars", "{shop_fail_rank: true}"],
    ["build", "--target", "missing"],
    ["build"],
]
#: bound on each wait for a worker (a broken worker fails the test instead of hanging it)
WAIT_SECONDS = 180.0


@attrs.frozen
class CutRuns:
    #: Dagster run id -> its events
    events: dict[str, list[dict[str, Any]]]
    terminated: str
    killed: str
    reexecution: str
    retried: str
    #: Dagster run id -> the dbt assets it materialized, as its event log says
    materialized: dict[str, frozenset[dg.AssetKey]]
    instance: dg.DagsterInstance


def _wait_for(condition: Callable[[], bool], what: str, worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if worker.poll() is not None and not condition():  # it may have just done it
            raise AssertionError(
                f"the run worker exited ({worker.returncode}) before {what}; its output is "
                f"in the test's temporary folder (*.log)"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {WAIT_SECONDS} s")
        time.sleep(0.1)


def _start_worker(hold: Path, log: Path) -> subprocess.Popen[bytes]:
    """``shop_job`` in a run worker process of its own; dbt holds on held_customers."""
    hold.mkdir()
    with log.open("wb") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                shop_location.__name__,
                *(key.to_user_string() for key in CUT_SELECTION),
            ],
            cwd=REPO,
            env={**os.environ, shop.HOLD_DIR_VARIABLE: str(hold)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _held_run(instance: dg.DagsterInstance, worker: subprocess.Popen[bytes], hold: Path) -> Any:
    """The worker's run, once dbt runs held_customers."""
    _wait_for((hold / "started").exists, "held_customers started", worker)
    [run] = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    return run


def _interrupted(instance: dg.DagsterInstance, run_id: str) -> bool:
    """The worker has acted on the interrupt: dagster-dbt forwarded it to dbt, or Dagster
    raised it between two of the step's events (then dbt is not told)."""
    for record in instance.get_records_for_run(run_id, limit=10_000).records:
        entry = record.event_log_entry
        if "Forwarding interrupt signal to dbt" in (entry.user_message or ""):
            return True
        if entry.dagster_event is not None and entry.dagster_event.is_step_failure:
            return True
    return False


def _terminate(instance: dg.DagsterInstance, root: Path) -> str:
    """Dagster's termination of a run whose dbt step is running: the run is marked
    canceling, its worker gets SIGTERM."""
    hold = root / "hold-terminated"
    worker = _start_worker(hold, root / "terminated.log")
    run = _held_run(instance, worker, hold)
    dbt = psutil.Process(worker.pid).children(recursive=True)
    instance.report_run_canceling(run)
    worker.send_signal(signal.SIGTERM)
    _wait_for(lambda: _interrupted(instance, run.run_id), "interrupt handled", worker)
    (hold / "released").touch()  # dbt may finish the model it runs: Dagster no longer reads
    assert worker.wait(WAIT_SECONDS) == 0, (root / "terminated.log").read_text()
    psutil.wait_procs(dbt, timeout=WAIT_SECONDS)  # the DuckDB file is free again
    return str(run.run_id)


def _kill(instance: dg.DagsterInstance, root: Path) -> str:
    """The run worker and dbt killed outright, the run then marked canceled."""
    hold = root / "hold-killed"
    worker = _start_worker(hold, root / "killed.log")
    run = _held_run(instance, worker, hold)
    processes = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
    for process in processes:
        process.kill()
    psutil.wait_procs(processes, timeout=WAIT_SECONDS)
    instance.report_run_canceled(run, message="This run was forcibly marked as canceled.")
    return str(run.run_id)


def _reexecute_from_failure(instance: dg.DagsterInstance, parent_run_id: str) -> str:
    """As the UI's "Re-execute from failure" does: a new run of the loaded code location's
    job, created with its parent's and root's tags, launched by the instance."""
    origin = LoadableTargetOrigin(
        module_name=shop_location.__name__, attribute="defs", working_directory=str(REPO)
    )
    with in_process_test_workspace(instance, origin) as context:
        [location_name] = context.code_location_names
        location = context.get_code_location(location_name)
        [repository_name] = location.get_repositories()
        parent = instance.get_run_by_id(parent_run_id)
        assert parent is not None
        job = location.get_job(
            JobSubsetSelector(
                location_name=location_name,
                repository_name=repository_name,
                job_name=parent.job_name,
                op_selection=None,
                asset_selection=parent.asset_selection,
            )
        )
        run = instance.create_reexecuted_run(
            request_context=context,
            parent_run=parent,
            code_location=location,
            remote_job=job,
            strategy=ReexecutionStrategy.FROM_FAILURE,
        )
        instance.launch_run(run.run_id, context)  # the synchronous launcher: runs it here
    done = instance.get_run_by_id(run.run_id)
    assert done is not None and done.status == dg.DagsterRunStatus.SUCCESS
    return str(run.run_id)


def _retried(project_dir: Path, duckdb_path: Path, instance: dg.DagsterInstance) -> str:
    definitions = shop.build_definitions(
        project_dir,
        duckdb_path,
        [],
        fetch_metadata=False,
        retry_policy=dg.RetryPolicy(max_retries=len(ATTEMPTS) - 1),
        dbt_args=lambda retry_number: ATTEMPTS[retry_number],
    )
    result = definitions.resolve_job_def("shop_job").execute_in_process(
        instance=instance, asset_selection=RETRIED_SELECTION
    )
    assert result.success  # the third attempt
    return str(result.run_id)


def _materialized(instance: dg.DagsterInstance, run_id: str) -> frozenset[dg.AssetKey]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=10_000
    ).records
    return frozenset(
        r.event_log_entry.dagster_event.asset_key
        for r in records
        if r.event_log_entry.dagster_event is not None
        and r.event_log_entry.dagster_event.asset_key is not None
    )


@pytest.fixture(scope="module")
def cut_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CutRuns]:
    root = tmp_path_factory.mktemp("shop_cut")
    sensor, recorder = recording_sensor()
    with shop_instance(
        root, [sensor], cut=True, fetch_metadata=False, synchronous_run_launcher=True
    ) as setup:
        instance = setup.instance
        setup.env.setenv(shop_location.PROJECT_DIR_VARIABLE, str(setup.project_dir))
        terminated = _terminate(instance, root)
        killed = _kill(instance, root)
        reexecution = _reexecute_from_failure(instance, terminated)
        retried = _retried(setup.project_dir, setup.duckdb_path, instance)
        tick_until_idle(sensor, instance, setup.definitions)
        yield CutRuns(
            by_run(recorder.events),
            terminated,
            killed,
            reexecution,
            retried,
            {
                run_id: _materialized(instance, run_id)
                for run_id in (terminated, killed, reexecution, retried)
            },
            instance,
        )


def _job(key: dg.AssetKey) -> str:
    return f"{STEP}.{key.to_user_string()}"


def _of(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["job"]["name"] == name]


def _attempt(event: dict[str, Any]) -> int:
    attempt: int = event["run"]["facets"]["dagster_run"]["attempt"]
    return attempt


def _message(event: dict[str, Any]) -> str:
    message: str = event["run"]["facets"]["errorMessage"]["message"]
    return message


def test_every_event_is_valid_and_none_is_sent_twice(cut_runs: CutRuns, ol_validator: Any) -> None:
    seen: set[tuple[str, str, str]] = set()
    for events in cut_runs.events.values():
        for event in events:
            ol_validator.validate(event)
            assert "extractionError" not in event["run"]["facets"], event["job"]["name"]
            identity = (event["job"]["name"], event["run"]["runId"], event["eventType"])
            assert identity not in seen, identity
            seen.add(identity)
    runs = {cut_runs.terminated, cut_runs.killed, cut_runs.reexecution, cut_runs.retried}
    assert runs <= set(cut_runs.events)


def _assert_cut_short(cut_runs: CutRuns, run_id: str) -> None:
    """Each dbt asset of the run's one attempt: COMPLETE if materialized, else ABORT."""
    events = cut_runs.events[run_id]
    materialized = cut_runs.materialized[run_id]
    assert dg.AssetKey("raw_customers") in materialized  # before held_customers
    assert HELD not in materialized
    assert HELD_REPORT not in materialized
    for key in CUT_SELECTION:
        [event] = _of(events, _job(key))
        assert event["run"]["runId"] == asset_run_id(run_id, OP, 1, key)
        parent = event["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == step_run_id(run_id, OP, 1)
        assert parent["root"]["run"]["runId"] == run_id
        if key in materialized:
            assert event["eventType"] == "COMPLETE", key
        else:
            assert event["eventType"] == "ABORT", key
            assert _message(event) == (
                f"{key.to_user_string()} was not materialized: the run was terminated during "
                "its step."
            )
    assert [e["eventType"] for e in _of(events, "shop_job")] == ["START", "ABORT"]


def test_a_terminated_dbt_run_aborts_the_models_it_had_not_materialized(
    cut_runs: CutRuns,
) -> None:
    run_id = cut_runs.terminated
    status = cut_runs.instance.get_run_by_id(run_id)
    assert status is not None and status.status == dg.DagsterRunStatus.CANCELED
    _assert_cut_short(cut_runs, run_id)
    step = _of(cut_runs.events[run_id], STEP)
    assert [e["eventType"] for e in step] == ["START", "ABORT"]
    assert "DagsterExecutionInterruptedError" in _message(step[-1])


def test_a_killed_dbt_run_marked_canceled_aborts_its_step_and_unmaterialized_models(
    cut_runs: CutRuns,
) -> None:
    run_id = cut_runs.killed
    _assert_cut_short(cut_runs, run_id)
    step = _of(cut_runs.events[run_id], STEP)
    assert [e["eventType"] for e in step] == ["START", "ABORT"]


def test_a_reexecution_from_failure_runs_what_the_terminated_run_had_not(
    cut_runs: CutRuns,
) -> None:
    run_id, parent = cut_runs.reexecution, cut_runs.terminated
    run = cut_runs.instance.get_run_by_id(run_id)
    assert run is not None
    # the tags Dagster writes on a re-execution, and the run's own fields
    assert run.tags["dagster/parent_run_id"] == run.tags["dagster/root_run_id"] == parent
    assert run.parent_run_id == run.root_run_id == parent
    events = cut_runs.events[run_id]
    for event in events:
        facet = event["run"]["facets"]["dagster_run"]
        assert (facet["parentRunId"], facet["rootRunId"]) == (parent, parent)
    for event in cut_runs.events[parent]:
        assert "parentRunId" not in event["run"]["facets"]["dagster_run"]
    # "from failure" runs the failed dbt step again, whole: each asset of the parent's
    # selection once more, under the re-execution's run id
    rerun = frozenset(CUT_SELECTION)
    assert cut_runs.materialized[run_id] == rerun
    assets = {e["job"]["name"] for e in events if e["job"]["name"].startswith(f"{STEP}.")}
    assert {name for name in assets if not name.endswith(".checks")} == {_job(key) for key in rerun}
    for key in rerun:
        [event] = _of(events, _job(key))
        assert event["eventType"] == "COMPLETE"
        assert event["run"]["runId"] == asset_run_id(run_id, OP, 1, key)
        assert event["run"]["facets"]["parent"]["root"]["run"]["runId"] == run_id
    assert [e["eventType"] for e in _of(events, "shop_job")] == ["START", "COMPLETE"]


def test_each_attempt_of_a_retried_dbt_step_has_its_own_events(cut_runs: CutRuns) -> None:
    run_id = cut_runs.retried
    events = cut_runs.events[run_id]
    step = _of(events, STEP)
    assert [(e["eventType"], _attempt(e)) for e in step] == [
        ("START", 1), ("FAIL", 1), ("START", 2), ("FAIL", 2), ("START", 3), ("COMPLETE", 3),
    ]  # fmt: skip
    assert [e["run"]["runId"] for e in step] == [
        step_run_id(run_id, OP, attempt) for attempt in (1, 1, 2, 2, 3, 3)
    ]
    for key in RETRIED_SELECTION:
        found = _of(events, _job(key))
        assert sorted(_attempt(e) for e in found) == [1, 2, 3], key  # one per attempt
        for event in found:
            attempt = _attempt(event)
            assert event["run"]["runId"] == asset_run_id(run_id, OP, attempt, key)
            parent = event["run"]["facets"]["parent"]
            assert parent["run"]["runId"] == step_run_id(run_id, OP, attempt)
            assert parent["root"]["run"]["runId"] == run_id
        first, _, third = sorted(found, key=_attempt)
        assert third["eventType"] == "COMPLETE", key
        assert first["eventType"] == ("FAIL" if key == FLAKY else "COMPLETE"), key
    # attempt 1: dbt's error and the SQL it ran; attempt 3: the SQL it ran then
    first, _, third = sorted(_of(events, _job(FLAKY)), key=_attempt)
    assert _message(first).startswith("dbt model.shop.flaky_rank failed: Runtime Error")
    assert "Conversion Error" in _message(first)
    assert "cast(name as integer)" in first["job"]["facets"]["sql"]["query"]
    assert "length(name)" in third["job"]["facets"]["sql"]["query"]
    assert [e["eventType"] for e in _of(events, "shop_job")] == ["START", "COMPLETE"]


def test_a_dbt_attempt_that_wrote_no_run_results_fails_each_model_with_its_error(
    cut_runs: CutRuns,
) -> None:
    """Attempt 2's dbt stopped at its profile: no run_results.json. Each model fails with
    the step's error, which says why; nothing of attempt 1's results (its failed model's
    error, its SQL) is taken for attempt 2's."""
    events = cut_runs.events[cut_runs.retried]
    [step_failure] = [e for e in _of(events, STEP) if _attempt(e) == 2 and e["eventType"] == "FAIL"]
    assert "does not have a target named 'missing'" in _message(step_failure)
    for key in RETRIED_SELECTION:
        [event] = [e for e in _of(events, _job(key)) if _attempt(e) == 2]
        assert event["eventType"] == "FAIL", key
        message = _message(event)
        assert message.startswith(
            f"{key.to_user_string()} was not materialized: step {OP} failed. "
            "DagsterDbtCliRuntimeError:"
        ), message
        assert "does not have a target named 'missing'" in message
        assert "Conversion Error" not in message
        assert "sql" not in event["job"]["facets"], key


def _dbt_does_not_stop() -> None:
    """As dagster-dbt's ``process.wait(timeout=...)`` after forwarding the interrupt."""
    raise subprocess.TimeoutExpired(["dbt", "build"], 25)


def test_an_error_raised_while_handling_dagsters_interrupt_is_an_interruption() -> None:
    """dagster-dbt, interrupted, waits for dbt to stop; when dbt does not within its
    termination timeout, the step's error is that ``TimeoutExpired``, raised while handling
    Dagster's interrupt: the step and its unmaterialized assets are still ABORTs."""
    try:
        try:
            raise DagsterExecutionInterruptedError()
        except DagsterExecutionInterruptedError:
            _dbt_does_not_stop()
    except subprocess.TimeoutExpired:
        timed_out = serializable_error_info_from_exc_info(sys.exc_info())
    error = _from_error(timed_out)
    assert (error.error_class, error.interrupted) == ("TimeoutExpired", True)
    try:
        raise subprocess.TimeoutExpired(["dbt", "build"], 25)
    except subprocess.TimeoutExpired:
        plain = serializable_error_info_from_exc_info(sys.exc_info())
    assert not _from_error(plain).interrupted
