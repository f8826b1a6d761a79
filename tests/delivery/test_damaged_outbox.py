"""A damaged, truncated or vanished outbox file: new lineage keeps flowing, what can be read
is recovered, and every loss is counted in the tick log. Real SQLite files damaged the way
disks and operators damage them."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from ol_bridge.commands.outbox import outbox as outbox_cli
from ol_bridge.delivery import DeliveryConfig, Outbox
from tests.delivery.conftest import client_for, http, sensor_for, tick
from tests.delivery.jobs import tiny_job
from tests.delivery.receiver import Receiver

RUNS = 10
WAITING = RUNS * 4


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


def outbox_file(instance: dg.DagsterInstance) -> Path:
    return DeliveryConfig().outbox_path(instance.root_directory)


def backlog(instance: dg.DagsterInstance, receiver: Receiver) -> tuple[dg.SensorDefinition, str]:
    """RUNS runs handed off while the destination is down: WAITING events in the outbox."""
    sensor = sensor_for(client_for(http(receiver)))
    receiver.stop()
    for _ in range(RUNS):
        tiny_job.execute_in_process(instance=instance)
    _, cursor = tick(sensor, instance, None)
    with Outbox(outbox_file(instance)) as box:
        assert sum(s.queued for s in box.stats()) == WAITING
    assert cursor is not None
    return sensor, cursor


def damage_pages(path: Path) -> None:
    """A torn write: one page holding waiting events overwritten with garbage."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        [(page,)] = db.execute(
            "SELECT pageno FROM dbstat WHERE name = 'ol_bridge_outbox_events' "
            "AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 2"
        ).fetchall()
    with path.open("r+b") as file:
        file.seek((page - 1) * page_size)
        file.write(os.urandom(page_size))


def warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if " - WARNING - " in line]


def recover_and_flow(
    instance: dg.DagsterInstance,
    sensor: dg.SensorDefinition,
    cursor: str,
    receiver: Receiver,
    capfd: pytest.CaptureFixture[str],
) -> tuple[int, int, str]:
    """Destination back, one new run: tick until idle. Returns (events delivered of the
    backlog, deliveries reported lost, the warning)."""
    receiver.start()
    time.sleep(0.05)
    capfd.readouterr()
    _, cursor = tick(sensor, instance, cursor)  # finds the damage, recovers, delivers
    new_run = tiny_job.execute_in_process(instance=instance).run_id
    for _ in range(10):
        result, cursor = tick(sensor, instance, cursor)
        if result.skip_message == "No new runs to emit.":
            break
    found = [w for w in warnings(capfd.readouterr().err) if "outbox" in w]
    print("\n".join(found))
    [warning] = found
    delivered_new = [e for e in receiver.events if e["run"]["runId"] == new_run]
    assert len(delivered_new) == 2  # new lineage flows (job START/COMPLETE; steps by parent)
    backlog_events = {
        (e["run"]["runId"], e["eventType"], e["job"]["name"]) for e in receiver.events
    }
    recovered = len(backlog_events) - 4  # the new run's own 4 events
    lost = re.search(r"(\d+) could not be read and are lost", warning) or re.search(
        r"left (\d+) deliveries waiting", warning
    )
    assert lost is not None, warning
    return recovered, int(lost.group(1)), warning


def test_damaged_pages_are_quarantined_and_the_readable_events_delivered(
    instance, receivers, capfd
) -> None:
    receiver = Receiver().start()
    receivers.append(receiver)
    sensor, cursor = backlog(instance, receiver)
    path = outbox_file(instance)
    damage_pages(path)
    recovered, lost, warning = recover_and_flow(instance, sensor, cursor, receiver, capfd)
    moved = [
        m
        for m in path.parent.glob("outbox.sqlite.corrupt-*")
        if m.suffix == ".sqlite" or m.name.endswith("Z")
    ]
    assert len(moved) == 1 and str(moved[0]) in warning
    assert f"Of {WAITING} waiting deliveries, {recovered} were read back" in warning
    assert recovered + lost == WAITING and recovered > 0
    print(f"\ndamaged pages: {recovered} of {WAITING} recovered, {lost} reported lost")


def test_a_truncated_outbox_keeps_lineage_flowing_and_counts_the_loss(
    instance, receivers, capfd
) -> None:
    receiver = Receiver().start()
    receivers.append(receiver)
    sensor, cursor = backlog(instance, receiver)
    path = outbox_file(instance)
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)
    recovered, lost, warning = recover_and_flow(instance, sensor, cursor, receiver, capfd)
    print(warning)
    assert "moved to" in warning or "left 40 deliveries waiting" in warning
    assert recovered + lost == WAITING
    print(f"\ntruncated: {recovered} recovered, {lost} reported lost")


@pytest.mark.parametrize("how", ["deleted", "zero-length"])
def test_a_vanished_outbox_is_noticed_and_its_loss_counted(instance, receivers, capfd, how) -> None:
    receiver = Receiver().start()
    receivers.append(receiver)
    sensor, cursor = backlog(instance, receiver)
    path = outbox_file(instance)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if how == "zero-length":
        path.write_bytes(b"")
    recovered, lost, warning = recover_and_flow(instance, sensor, cursor, receiver, capfd)
    assert (recovered, lost) == (0, WAITING)
    assert f"last tick left {WAITING} deliveries waiting in" in warning


def test_outbox_status_on_a_damaged_file_recovers_instead_of_a_traceback(
    instance, receivers
) -> None:
    receiver = Receiver().start()
    receivers.append(receiver)
    backlog(instance, receiver)
    path = outbox_file(instance)
    damage_pages(path)
    result = CliRunner().invoke(outbox_cli, ["status", "--path", str(path)])
    assert result.exit_code == 0, result.output
    assert "damaged" in result.output and "Traceback" not in result.output
