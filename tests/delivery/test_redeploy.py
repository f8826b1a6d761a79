"""Production's deployment, for real: a PostgreSQL instance (pgserver), the sensor running in
a separate user-code server (``dagster api grpc``) ticked by the real daemon, the
OpenLineage destination down, then a redeploy: both processes restarted and the code
server's local disk wiped, with the destination back. Nothing may be lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from ol_bridge.dagster.cursor import SensorCursor
from ol_bridge.delivery import DeliveryConfig, Outbox
from ol_bridge.delivery.location import locate
from tests.conftest import fresh_database, postgres_storage
from tests.delivery.jobs import tiny_job
from tests.delivery.receiver import Receiver
from tests.deployment import code_server, daemon, free_port, wait_until, write_instance_home

RUNS = 4
EVENTS = RUNS * 4  # job START/COMPLETE + step START/COMPLETE per run
MODULE = "tests.delivery.redeploy_defs"


def waiting(instance: dg.DagsterInstance) -> int:
    with Outbox(locate(DeliveryConfig(), instance).database) as outbox:
        return sum(stats.queued for stats in outbox.stats())


def stored_cursor(instance: dg.DagsterInstance) -> SensorCursor | None:
    """The sensor's cursor as the daemon stored it in the instance."""
    for state in instance.all_instigator_state():
        if state.name == "openlineage_sensor" and state.instigator_data is not None:
            return SensorCursor.from_json(getattr(state.instigator_data, "cursor", None))
    return None


def wipe_local_disk(home: Path) -> None:
    """What a redeploy does to the code server's disk; dagster.yaml is mounted config."""
    for entry in home.iterdir():
        if entry.name != "dagster.yaml":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


@pytest.mark.postgres
def test_redeploy_with_an_empty_local_disk_delivers_everything(
    postgres_url: str, tmp_path: Path, receivers: list[Receiver]
) -> None:
    home = write_instance_home(tmp_path / "home", postgres_storage(fresh_database(postgres_url)))
    receiver = Receiver().start()  # binds a port, then goes down: the destination is down
    receivers.append(receiver)
    receiver.stop()
    env = {"OPENLINEAGE_URL": receiver.url}
    port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        with (
            code_server(MODULE, home, port, env, logs / "code-server-1.log"),
            daemon(home, port, "redeploy", logs / "daemon-1.log"),
        ):
            for _ in range(RUNS):
                assert tiny_job.execute_in_process(instance=instance).success
            wait_until(lambda: waiting(instance) == EVENTS, 120, f"{EVENTS} events handed off")

            def cursor_past_every_run() -> bool:
                cursor = stored_cursor(instance)
                return cursor is not None and not cursor.runs and bool(cursor.status_after)

            wait_until(cursor_past_every_run, 60, "the daemon stored a cursor past all runs")
        assert receiver.events == []

        wipe_local_disk(home)
        receiver.start()  # same port: the destination is back
        with (
            code_server(MODULE, home, port, env, logs / "code-server-2.log"),
            daemon(home, port, "redeploy", logs / "daemon-2.log"),
        ):
            wait_until(lambda: len(set(receiver.keys())) == EVENTS, 120, "all events delivered")
            wait_until(lambda: waiting(instance) == 0, 30, "the outbox drained")

    keys = receiver.keys()
    print(f"\nredeploy: {len(set(keys))} of {EVENTS} events delivered, {len(keys)} received")
    assert len(set(keys)) == EVENTS
    assert len(keys) <= 2 * EVENTS  # at most one duplicate per event
