"""Fault injection: the real sensor on a real instance, real HTTP receivers that are stopped
and started, a sensor process killed with SIGKILL. Each test prints its counts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ol_bridge.dagster import TickLimits, build_openlineage_sensor
from ol_bridge.delivery import DeliveryConfig, Outbox
from tests.delivery.backlog import make_failed_runs
from tests.delivery.conftest import FAST, client_for, http, sensor_for, tick
from tests.delivery.jobs import tiny_job
from tests.delivery.receiver import Receiver

EVENTS_PER_RUN = 4  # job START/COMPLETE + step START/COMPLETE


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


def outbox_of(instance: dg.DagsterInstance) -> Outbox:
    return Outbox(DeliveryConfig().outbox_path(instance.root_directory))


def waiting(instance: dg.DagsterInstance) -> dict[str, int]:
    with outbox_of(instance) as outbox:
        return {s.name: s.queued for s in outbox.stats()}


def tick_until_delivered(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None
) -> tuple[str | None, int]:
    for ticks in range(1, 200):
        before = cursor
        _, cursor = tick(sensor, instance, cursor)
        if cursor == before and not any(waiting(instance).values()):
            return cursor, ticks
    raise AssertionError(f"outbox not drained: {waiting(instance)}")


def duplicates(receiver: Receiver) -> int:
    return len(receiver.keys()) - len(set(receiver.keys()))


def test_backend_down_during_burst_then_back(instance, receivers) -> None:
    receiver = Receiver().start()
    receivers.append(receiver)
    sensor = sensor_for(client_for(http(receiver)))
    receiver.stop()
    cursor = None
    runs = 6
    for _ in range(runs):
        tiny_job.execute_in_process(instance=instance)
        _, cursor = tick(sensor, instance, cursor)
    assert receiver.events == []
    assert waiting(instance) == {f"{receiver.url}/api/v1/lineage": runs * EVENTS_PER_RUN}

    receiver.lost_acks = 3  # stored, then 503: the sender cannot know it arrived
    receiver.start()
    _, ticks = tick_until_delivered(sensor, instance, cursor)
    unique = set(receiver.keys())
    print(
        f"\nburst: {runs} runs, {len(unique)} distinct events delivered, "
        f"{len(receiver.events)} received, {duplicates(receiver)} duplicates, {ticks} ticks"
    )
    assert len(unique) == runs * EVENTS_PER_RUN
    assert {run_id for run_id, job, _ in unique if job == "tiny_job"} == {
        r.run_id for r in instance.get_runs()
    }
    assert duplicates(receiver) == 3  # exactly one re-send per lost acknowledgement


def test_one_fanout_destination_down(instance, receivers) -> None:
    healthy, down = Receiver().start(), Receiver().start()
    receivers.extend([healthy, down])
    composite = {
        "type": "composite",
        "transports": {"datahub": http(healthy), "marquez": http(down)},
    }
    sensor = sensor_for(client_for(composite))
    down.stop()
    cursor = None
    runs = 4
    for _ in range(runs):
        tiny_job.execute_in_process(instance=instance)
        _, cursor = tick(sensor, instance, cursor)
    _, cursor = tick(sensor, instance, cursor)
    expected = runs * EVENTS_PER_RUN
    print(
        f"\nfan-out, marquez down: datahub received {len(healthy.events)} "
        f"({len(set(healthy.keys()))} distinct), marquez {len(down.events)}, "
        f"waiting {waiting(instance)}"
    )
    assert len(healthy.events) == len(set(healthy.keys())) == expected
    assert down.events == []
    assert waiting(instance) == {"datahub": 0, "marquez": expected}

    down.start()
    tick_until_delivered(sensor, instance, cursor)
    print(
        f"marquez back: datahub {len(healthy.events)}, marquez {len(down.events)} "
        f"({duplicates(down)} duplicates)"
    )
    assert len(healthy.events) == expected  # nothing re-sent to the healthy one
    assert down.bodies == healthy.bodies  # same events, same order


def test_sensor_process_killed_mid_tick(tmp_path: Path, receivers) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    receiver = Receiver().start()
    receivers.append(receiver)
    receiver.delay = 0.02
    runs = 9
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for _ in range(runs):
            tiny_job.execute_in_process(instance=instance)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "OPENLINEAGE_URL": receiver.url,
        "OPENLINEAGE_ENDPOINT": "api/v1/lineage",
    }
    env.pop("OPENLINEAGE_CONFIG", None)
    command = [sys.executable, "-m", "tests.delivery.ticker", str(tmp_path / "cursor")]
    cwd = Path(__file__).parents[2]

    kills = 0
    for kill_at in (5, 18):  # events received when the process is killed
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while len(receiver.events) < kill_at and process.poll() is None:
                assert time.monotonic() < deadline, "the sensor process delivered nothing"
                time.sleep(0.005)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait()
    assert kills == 2, "the process finished before it could be killed"
    received_at_kill = len(receiver.events)
    finished = subprocess.run(
        command, check=False, env=env, cwd=cwd, capture_output=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    unique = set(receiver.keys())
    print(
        f"\nkilled twice: {received_at_kill} events received before the restart, "
        f"{len(receiver.events)} in total, {len(unique)} distinct, "
        f"{duplicates(receiver)} duplicates"
    )
    assert len(unique) == runs * EVENTS_PER_RUN
    # a kill can only re-send what the killed tick had sent and not yet acknowledged in the
    # cursor: at most one tick's events (3 runs per tick here) per kill
    assert duplicates(receiver) <= kills * 3 * EVENTS_PER_RUN


def test_backlog_of_thousands_of_runs_drains_over_time_boxed_ticks(instance, receivers) -> None:
    receiver = Receiver().start()
    receivers.append(receiver)
    runs = 1000
    make_failed_runs(instance, runs)
    budget = 1.5
    sensor = build_openlineage_sensor(
        client=client_for(http(receiver)),
        limits=TickLimits(time_budget_seconds=budget, max_new_runs=400),
        delivery=DeliveryConfig(drain_seconds=0.3, **FAST),
    )
    cursor = None
    durations: list[float] = []
    for _ in range(100):
        started = time.monotonic()
        before = cursor
        _, cursor = tick(sensor, instance, cursor)
        durations.append(time.monotonic() - started)
        if cursor == before and not any(waiting(instance).values()):
            break
    counts = Counter(key[2] for key in receiver.keys())  # noqa: SIM118 (not a dict)
    print(
        f"\nbacklog: {runs} runs, {len(durations)} ticks, longest {max(durations):.2f}s "
        f"(time box {budget}s), delivered {dict(counts)}, {duplicates(receiver)} duplicates"
    )
    assert counts == {"FAIL": runs} and duplicates(receiver) == 0
    assert len(durations) >= 4
    # the time box bounds when work starts; one run's page or one send may finish after it
    assert max(durations) < budget + 0.5


def test_idle_tick_makes_no_network_call(instance, receivers, monkeypatch) -> None:
    receiver = Receiver().start()
    receivers.append(receiver)
    sensor = sensor_for(client_for(http(receiver)))
    tiny_job.execute_in_process(instance=instance)
    cursor, _ = tick_until_delivered(sensor, instance, None)
    requests = receiver.requests

    import socket

    def no_network(*args: Any) -> None:
        raise AssertionError("an idle tick opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    result, _ = tick(sensor, instance, cursor)
    assert result.skip_message == "No new runs to emit."
    assert receiver.requests == requests
