"""The outbox on each database it lives in (a SQLite file, a real PostgreSQL server), its
schema version and migrations, and concurrent drains that must never send twice."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ol_bridge.delivery import Destination, Outbox, drain
from ol_bridge.delivery.database import DatabaseUrl, OutboxDatabase, SqliteFile
from ol_bridge.delivery.payload import to_payload
from ol_bridge.delivery.schema import SCHEMA_VERSION, VERSION
from ol_bridge.errors import ConfigError
from tests.conftest import fresh_database
from tests.delivery.receiver import Receiver
from tests.fakes import dagster_run_events

PAYLOADS = [to_payload(event) for event in dagster_run_events()]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OutboxDatabase]:
    if request.param == "sqlite":
        yield SqliteFile(tmp_path / "outbox.sqlite")
    else:
        yield DatabaseUrl(fresh_database(request.getfixturevalue("postgres_url")))


def numbered(count: int) -> list[str]:
    base = json.loads(PAYLOADS[0])
    return [json.dumps({**base, "eventTime": f"2024-05-01T12:00:{i:02d}Z"}) for i in range(count)]


def test_hand_off_deliver_fail_reject_and_count(database: OutboxDatabase) -> None:
    now = [1000.0]
    with Outbox(database, clock=lambda: now[0]) as box:
        for payload in PAYLOADS:
            assert not box.enqueue(payload, ["a", "b"]).duplicate
        assert box.enqueue(PAYLOADS[0], ["a", "b"]).duplicate
        assert box.due() == ["a", "b"]
        pending = box.batch("a", 10)
        assert [p.payload for p in pending] == PAYLOADS
        box.delivered_many("a", [p.event_id for p in pending[:2]])
        failures, delay = box.failed("a", pending[2].event_id, "down", lambda n: 5.0 * n)
        assert (failures, delay) == (1, 5.0)
        assert box.due() == ["b"]  # a backs off
        box.reject("a", pending[3].event_id, "refused")
        now[0] += 6
        stats = {s.name: s for s in box.stats()}
        assert (stats["a"].queued, stats["a"].rejected, stats["a"].delivered) == (2, 1, 2)
        assert stats["a"].last_error == "refused" and stats["a"].oldest_age_seconds == 6.0
        assert (stats["b"].queued, stats["b"].delivered) == (4, 0)
        assert box.counter("duplicates_dropped") == 1
        assert box.requeue_rejected("a") == 1
        assert box.discard("a") == 2
        assert box.discard("b", rejected_only=True) == 0
        assert [s.queued for s in box.stats()] == [0, 4]


def test_a_new_outbox_is_at_the_current_schema_version(database: OutboxDatabase) -> None:
    with Outbox(database) as box, box.database.connect() as connection:
        version = connection.execute(sa.text(f"SELECT version FROM {VERSION}")).scalar_one()
    assert version == SCHEMA_VERSION


def test_an_outbox_from_a_newer_ol_bridge_is_refused_untouched(database: OutboxDatabase) -> None:
    with Outbox(database) as box:
        box.enqueue(PAYLOADS[0], ["a"])
    with database.connect() as connection, connection.begin():
        connection.execute(sa.text(f"UPDATE {VERSION} SET version = 99"))
    from ol_bridge.delivery import connection as outbox_connection

    outbox_connection._PREPARED.clear()  # a new process: it checks the tables again
    with pytest.raises(ConfigError, match="schema version 99, newer than this ol-bridge"):
        Outbox(database)


#: the outbox file of ol-bridge 0.1 (schema version 0), as it created it
VERSION_0 = """
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
    payload TEXT, created REAL NOT NULL, waiting INTEGER NOT NULL);
CREATE INDEX events_done ON events (created) WHERE payload IS NULL;
CREATE TABLE queue (destination TEXT NOT NULL, event_id INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, rejected TEXT,
    PRIMARY KEY (destination, event_id)) WITHOUT ROWID;
CREATE TABLE destinations (name TEXT PRIMARY KEY, queued INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_error_at REAL,
    last_success_at REAL, delivered INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0, dropped INTEGER NOT NULL DEFAULT 0,
    lease_until REAL NOT NULL DEFAULT 0, lease_owner TEXT);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO events (key, payload, created, waiting) VALUES ('k1', :p1, 1.0, 1), ('k2', :p2, 2.0, 1);
INSERT INTO queue (destination, event_id) VALUES ('marquez', 1), ('marquez', 2);
INSERT INTO destinations (name, queued, delivered) VALUES ('marquez', 2, 7);
INSERT INTO counters (name, value) VALUES ('duplicates_dropped', 3);
"""


def test_an_ol_bridge_0_1_outbox_file_is_migrated_with_its_waiting_events(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with sqlite3.connect(path) as db:
        for statement in VERSION_0.split(";"):
            if statement.strip():
                db.execute(statement, {"p1": PAYLOADS[0], "p2": PAYLOADS[1]})
    with Outbox(path) as box:
        assert [p.payload for p in box.batch("marquez", 10)] == PAYLOADS[:2]
        [stats] = box.stats()
        assert (stats.name, stats.queued, stats.delivered) == ("marquez", 2, 7)
        assert box.counter("duplicates_dropped") == 3
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        (version,) = db.execute(f"SELECT version FROM {VERSION}").fetchone()
    assert version == SCHEMA_VERSION
    assert not tables & {"events", "queue", "destinations", "counters"}


def test_concurrent_drains_send_each_event_once(
    database: OutboxDatabase, receivers: list[Receiver]
) -> None:
    """Two drains at once (two sensors, replicas, the CLI) each with its own connection:
    the destination's lease lets one of them send at a time."""
    from openlineage.client.transport.http import HttpConfig, HttpTransport

    receiver = Receiver().start()
    receivers.append(receiver)
    receiver.delay = 0.002
    with Outbox(database) as box:
        for payload in numbered(60):
            box.enqueue(payload, ["marquez"])

    def drainer() -> None:
        transport = HttpTransport(HttpConfig(url=receiver.url, endpoint="api/v1/lineage"))
        with Outbox(database) as box:
            for _ in range(50):
                drain(box, [Destination("marquez", transport)], seconds=5, batch_size=5)

    threads = [threading.Thread(target=drainer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    times = [event["eventTime"] for event in receiver.events]
    assert len(times) == 60 and len(set(times)) == 60
    with Outbox(database) as box:
        assert [s.queued for s in box.stats()] == [0]


def test_the_instance_database_is_where_a_postgres_instance_keeps_its_outbox(
    postgres_url: str, tmp_path: Path
) -> None:
    import dagster as dg

    from ol_bridge.delivery import DeliveryConfig
    from ol_bridge.delivery.location import locate
    from tests.conftest import postgres_storage

    database = fresh_database(postgres_url)
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=postgres_storage(database)) as inst:
        location = locate(DeliveryConfig(), inst)
        assert location.durable and location.reason == "the instance's PostgreSQL storage"
        with Outbox(location.database) as box:
            box.enqueue(PAYLOADS[0], ["a"])
        assert "***" in location.where or "@" not in location.where
    engine = sa.create_engine(database)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM ol_bridge_outbox_events"))
        assert count.scalar_one() == 1
    engine.dispose()
    assert not (tmp_path / "ol-bridge").exists()  # nothing on the local disk


@pytest.mark.parametrize("storage", ["sqlite", "postgres"])
def test_two_sensors_over_one_instance_deliver_each_event_once(
    storage: str, postgres_url: str, tmp_path: Path, receivers: list[Receiver]
) -> None:
    """Two sensors (say, one per code location) walk the same runs and tick at the same
    time: each event reaches the destination once."""
    import dagster as dg

    from tests.conftest import postgres_storage
    from tests.delivery.conftest import client_for, http, sensor_for, tick
    from tests.delivery.jobs import tiny_job

    receiver = Receiver().start()
    receivers.append(receiver)
    overrides = postgres_storage(fresh_database(postgres_url)) if storage == "postgres" else {}
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=overrides) as instance:
        for _ in range(5):
            tiny_job.execute_in_process(instance=instance)
        sensors = [sensor_for(client_for(http(receiver))) for _ in range(2)]
        errors: list[BaseException] = []
        cursors: dict[int, str | None] = {0: None, 1: None}

        def ticker(index: int) -> None:
            try:
                for _ in range(6):
                    _, cursors[index] = tick(sensors[index], instance, cursors[index])
            except BaseException as error:  # reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=ticker, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        # then the second sensor lags: the first has delivered everything already
        for _ in range(3):
            tiny_job.execute_in_process(instance=instance)
        ticker(0)
        ticker(1)
    assert errors == []
    keys = receiver.keys()
    assert len(keys) == 8 * 4 and len(set(keys)) == len(keys)


def test_the_outbox_command_finds_a_postgres_instance_outbox(
    postgres_url: str, tmp_path: Path
) -> None:
    """`ol-bridge outbox` looks where the sensor keeps its events: with DAGSTER_HOME (or
    --dagster-home) on a PostgreSQL instance, the instance's database; a command's own
    --path works after the command name too."""
    import dagster as dg
    from click.testing import CliRunner

    from ol_bridge.commands.outbox import outbox as outbox_cli
    from ol_bridge.delivery import DeliveryConfig
    from ol_bridge.delivery.location import locate
    from tests.conftest import postgres_storage
    from tests.deployment import write_instance_home

    home = write_instance_home(tmp_path / "home", postgres_storage(fresh_database(postgres_url)))
    runner = CliRunner()
    empty = runner.invoke(outbox_cli, ["status"], env={"DAGSTER_HOME": str(home)})
    assert empty.exit_code == 1 and "nothing was handed off there yet" in empty.output
    with (
        dg.DagsterInstance.from_config(str(home)) as instance,
        Outbox(locate(DeliveryConfig(), instance).database) as box,
    ):
        for payload in numbered(3):
            box.enqueue(payload, ["marquez"])
    found = runner.invoke(outbox_cli, ["status", "--json"], env={"DAGSTER_HOME": str(home)})
    assert found.exit_code == 0, found.output
    report = json.loads(found.output)
    assert report["outbox"].startswith("the Dagster instance's database (postgresql")
    assert [(d["name"], d["queued"]) for d in report["destinations"]] == [("marquez", 3)]
    named = runner.invoke(outbox_cli, ["status", "--dagster-home", str(home)])
    assert "marquez\n  waiting: 3" in named.output

    path = tmp_path / "file.sqlite"
    with Outbox(path) as box:
        box.enqueue(PAYLOADS[0], ["a"])
    after = runner.invoke(outbox_cli, ["status", "--path", str(path)])
    assert after.exit_code == 0 and "a\n  waiting: 1" in after.output


def test_a_destination_added_later_gets_the_events_the_others_do_not_again(
    database: OutboxDatabase,
) -> None:
    """Deduplication is per destination: replaying history after adding a destination
    queues every event for the new one only."""
    with Outbox(database, dedup_seconds=3600) as box:
        for payload in numbered(3):
            box.enqueue(payload, ["marquez", "file"])
        for name in ("marquez", "file"):
            box.delivered_many(name, [p.event_id for p in box.batch(name, 10)])
        box.prune()
        replay = [box.enqueue(p, ["marquez", "file", "datahub"]) for p in numbered(3)]
        assert [r.duplicate for r in replay] == [False] * 3
        waiting = {s.name: s.queued for s in box.stats()}
        assert waiting == {"datahub": 3, "file": 0, "marquez": 0}
        again = [box.enqueue(p, ["marquez", "file", "datahub"]) for p in numbered(3)]
        assert all(r.duplicate for r in again)
        assert box.counter("duplicates_dropped") == 3
