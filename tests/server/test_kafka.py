"""Two ``ol-bridge serve --source kafka`` workers in one consumer group on a real broker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

from ol_bridge.delivery.store import Outbox
from tests.fakes import PRODUCER
from tests.server.helpers import lite_contents
from tests.server.kafka_broker import running_broker

pytestmark = pytest.mark.kafka

TOPIC = "openlineage"
PARTITIONS = 4
EVENTS = 120
_COMMITTED = re.compile(r"committed (\S+)\[(\d+)\] (\d+)-(\d+)")


def events(start: int, stop: int) -> list[RunEvent]:
    return [
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime="2024-05-01T12:00:00Z",
            producer=PRODUCER,
            run=Run(runId=str(uuid.uuid5(uuid.NAMESPACE_URL, f"run-{i}"))),
            job=Job(namespace="spark", name=f"job_{i % 12}"),
        )
        for i in range(start, stop)
    ]


def poison() -> RunEvent:
    """Valid OpenLineage, impossible for DataHub: the job name `.x` leaves no DataFlow id."""
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2024-05-01T12:00:00Z",
        producer=PRODUCER,
        run=Run(runId=str(uuid.uuid5(uuid.NAMESPACE_URL, "poison"))),
        job=Job(namespace="spark", name=".x"),
    )


def produce(bootstrap: str, batch: list[RunEvent]) -> None:
    """Through openlineage-python's own kafka transport, as a Spark or Airflow job would."""
    client = OpenLineageClient(
        config={
            "transport": {
                "type": "kafka",
                "topic": TOPIC,
                "config": {"bootstrap.servers": bootstrap},
                "flush": False,
            }
        }
    )
    for event in batch:
        client.emit(event)
    client.transport.producer.flush(10)  # type: ignore[attr-defined]


def committed(log: str) -> list[tuple[int, int]]:
    """(partition, offset) of every offset a worker's log says it committed."""
    return [
        (int(m[2]), offset)
        for m in _COMMITTED.finditer(log)
        for offset in range(int(m[3]), int(m[4]) + 1)
    ]


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def run_ids(lite: Path) -> set[str]:
    if not lite.exists():
        return set()
    prefix = "urn:li:dataProcessInstance:"
    try:
        contents = lite_contents(lite)
    except duckdb.CatalogException:  # the worker created the file, not yet its tables
        return set()
    return {urn[len(prefix) :] for urn in contents if urn.startswith(prefix)}


def test_two_workers_one_killed_mid_stream_every_event_lands_once(tmp_path: Path) -> None:
    """And a poison event among them is parked (rejected in the outbox), not retried in
    front of the others, and does not stop its partition."""
    lite = tmp_path / "lite.duckdb"
    outbox = tmp_path / "outbox.sqlite"
    with running_broker({TOPIC: PARTITIONS}) as bootstrap:
        config = tmp_path / "worker.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "source": "kafka",
                    "datahub": {"lite_path": str(lite)},
                    "delivery": {"path": str(outbox)},
                    "kafka": {
                        "bootstrap": bootstrap,
                        "topic": TOPIC,
                        "group_id": "ol-bridge-test",
                        "batch_size": 10,
                        "consumer_config": {
                            "session.timeout.ms": 6000,
                            "heartbeat.interval.ms": 500,
                        },
                    },
                }
            )
        )
        produce(bootstrap, [*events(0, EVENTS // 4), poison(), *events(EVENTS // 4, EVENTS // 2)])
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "ol_bridge.cli", "serve", "--config", str(config)],
                stderr=log.open("w"),
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            for log in logs
        ]
        try:
            started = time.monotonic()
            wait_for(lambda: "committed" in logs[0].read_text(), 60, "worker a's first commit")
            workers[0].send_signal(signal.SIGKILL)  # mid-stream: no goodbye to the group
            workers[0].wait(10)
            killed_after = time.monotonic() - started
            produce(bootstrap, events(EVENTS // 2, EVENTS))
            expected = {str(e.run.runId) for e in events(0, EVENTS)}
            wait_for(lambda: run_ids(lite) == expected, 60, "every event in DataHub Lite")
            all_stored = time.monotonic() - started
            workers[1].send_signal(signal.SIGTERM)
            assert workers[1].wait(20) == 0
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait(10)

    contents = lite_contents(lite)
    runs = [urn for urn in contents if urn.startswith("urn:li:dataProcessInstance:")]
    assert len(runs) == EVENTS  # one entity per event: nothing lost, nothing doubled
    assert all(contents[urn]["dataProcessInstanceRunEvent"]["status"] == "COMPLETE" for urn in runs)
    per_worker = [committed(log.read_text()) for log in logs]
    assert per_worker[0], "worker a committed before it was killed"
    counts = Counter(per_worker[0] + per_worker[1])
    assert len(counts) == EVENTS + 1  # every offset of every partition committed, poison too
    with Outbox(outbox) as box:
        datahub = next(s for s in box.stats() if s.name == "datahub")
    assert (datahub.queued, datahub.rejected) == (1, 1)  # parked, visible, nothing else waits
    assert "DataFlowUrn flow_id cannot be empty" in (datahub.last_error or "")
    duplicates = sum(counts.values()) - len(counts)
    print(
        f"killed worker a after {killed_after:.1f}s; all stored after "
        f"{all_stored:.1f}s; {duplicates} offsets committed twice"
    )
