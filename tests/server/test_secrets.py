"""Planted secrets reach no exit of ``ol-bridge serve``: its log, its HTTP answers (503
bodies, ``/health``), the outbox's rows, and ``ol-bridge outbox status``.

A GMS password in the DataHub URL while GMS fails, and a relay URL with
``?access_token=`` while the relay is down: the errors that quote them are everywhere.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import yaml
from click.testing import CliRunner

from ol_bridge.cli import main
from tests.fakes.gms import running_gms
from tests.server.helpers import FakeMarquez, wait_for
from tests.server.kafka_broker import free_port
from tests.server.test_faults import _answers, _event

SECRETS = ("gms-Pa55word", "relay-T0ken")


def test_planted_secrets_appear_in_no_output(tmp_path: Path) -> None:
    port = free_port()
    outbox = tmp_path / "outbox.sqlite"
    with running_gms() as gms, FakeMarquez() as marquez:
        gms.fail_next(10_000)
        marquez.down = True
        gms_url = gms.url.replace("http://", f"http://admin:{SECRETS[0]}@")
        config = tmp_path / "serve.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "port": port,
                    "refuse_while_down": True,
                    "datahub": {"sink": "rest", "server": gms_url, "retry_max_times": 0},
                    "relay": {
                        "marquez": {
                            "type": "http",
                            "url": marquez.url,
                            "endpoint": f"api/v1/lineage?access_token={SECRETS[1]}",
                        }
                    },
                    "delivery": {"path": str(outbox)},
                }
            )
        )
        log = tmp_path / "serve.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "ol_bridge.cli", "serve", "--config", str(config)],
            stderr=log.open("wb"),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _answers(f"{base}/health"), "the receiver to start")
            assert httpx.post(f"{base}/api/v1/lineage", json=_event(1)).status_code == 201
            wait_for(
                lambda: all(
                    d["state"] == "down"
                    for d in httpx.get(f"{base}/health").json()["destinations"].values()
                ),
                "both destinations reported down",
            )
            health = httpx.get(f"{base}/health")
            refused = httpx.post(f"{base}/api/v1/lineage", json=_event(2))
            assert refused.status_code == 503
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    with sqlite3.connect(outbox) as db:
        rows = "\n".join(
            str(row)
            for table in ("events", "queue", "destinations")
            for row in db.execute(f"SELECT * FROM ol_bridge_outbox_{table}")
        )
    status = CliRunner().invoke(main, ["outbox", "--path", str(outbox), "status"])
    status_json = CliRunner().invoke(main, ["outbox", "--path", str(outbox), "status", "--json"])
    outputs = {
        "log": log.read_text(),
        "/health": health.text,
        "503 body": refused.text,
        "outbox rows": rows,
        "outbox status": status.output + status_json.output,
    }
    assert "admin:***@" in outputs["/health"] + outputs["log"]  # the errors are there
    assert "access_token=***" in outputs["outbox status"]
    for where, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret} in {where}"
