"""Planted secrets (an environment variable behind a resource's config, a password in a
``dagster/uri``, credentials in the destination URL) appear in no event, no log line and no
outbox row, while the destination is down and after it is back."""

from __future__ import annotations

import logging
import sqlite3
import time

import dagster as dg
import pytest

from ol_bridge.delivery import DeliveryConfig
from tests.delivery.conftest import client_for, sensor_for, tick
from tests.delivery.jobs import secret_definitions
from tests.delivery.receiver import Receiver

SECRETS = ["env-s3cret", "uri-s3cret", "dest-s3cret"]


def test_planted_secrets_appear_nowhere(
    receivers, monkeypatch, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OLB_TEST_WAREHOUSE_PASSWORD", "env-s3cret")
    instance = dg.DagsterInstance.ephemeral()
    receiver = Receiver().start()
    receivers.append(receiver)
    url = receiver.url.replace("http://", "http://etl:dest-s3cret@")
    transport = {"type": "http", "url": url, "endpoint": "api/v1/lineage"}
    sensor = sensor_for(client_for(transport))
    defs = secret_definitions()
    with caplog.at_level(logging.DEBUG):
        result = defs.resolve_job_def("secret_job").execute_in_process(instance=instance)
        assert result.success
        receiver.stop()
        _, cursor = tick(sensor, instance, None)  # the destination is down: errors logged
        with sqlite3.connect(DeliveryConfig().outbox_path(instance.root_directory)) as db:
            stored = "\n".join(
                str(row)
                for table in ("events", "destinations")
                for row in db.execute(f"SELECT * FROM ol_bridge_outbox_{table}")
            )
        receiver.start()
        # FAST backs off 10 ms after the failure; on a quick machine the next tick can
        # come sooner than that and rightly find nothing due yet.
        time.sleep(0.05)
        tick(sensor, instance, cursor)
    bodies = b"\n".join(receiver.bodies).decode()
    outputs = [e for event in receiver.events for e in event.get("outputs", [])]
    print(f"\nsecrets: {len(receiver.events)} events, {len(caplog.records)} log records checked")
    assert {(o["namespace"], o["name"]) for o in outputs} == {
        ("postgres://db.internal:5432", "sales.public.orders")
    }
    # Dagster's logger writes the sensor's lines to the process's stderr (and the tick log)
    process_output = "".join(capfd.readouterr())
    logged = caplog.text + process_output
    assert "ol-bridge delivery: http://etl:***@127.0.0.1" in logged  # the outage logged
    for secret in SECRETS:
        assert secret not in bodies
        assert secret not in logged
        assert secret not in stored
