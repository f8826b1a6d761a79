"""The outbox on its own: cap policies, refused events, dedup, and the operator CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openlineage.client.transport.http import HttpConfig, HttpTransport

from ol_bridge.commands.outbox import outbox as outbox_cli
from ol_bridge.delivery import Destination, Outbox, drain
from ol_bridge.delivery.payload import to_payload
from ol_bridge.errors import OutboxFullError
from tests.delivery.receiver import Receiver
from tests.fakes import dagster_run_events

PAYLOADS = [to_payload(event) for event in dagster_run_events()]


def test_pause_refuses_new_events_and_drop_oldest_counts(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(PAYLOADS[0], ["a"], max_events=2)
        box.enqueue(PAYLOADS[1], ["a"], max_events=2)
        with pytest.raises(OutboxFullError, match="holds 2 events for destination 'a'"):
            box.enqueue(PAYLOADS[2], ["a"], max_events=2)
        result = box.enqueue(PAYLOADS[2], ["a"], max_events=2, on_full="drop_oldest")
        assert result.dropped_for == ("a",)
        assert [p.payload for p in box.batch("a", 10)] == PAYLOADS[1:3]
        assert box.enqueue(PAYLOADS[1], ["a"]).duplicate  # still waiting: not queued twice
        [stats] = box.stats()
        assert (stats.queued, stats.dropped) == (2, 1)
        assert box.counter("duplicates_dropped") == 1


def test_refused_event_is_parked_and_the_rest_go_on(tmp_path: Path, receivers) -> None:
    receiver = Receiver().start()
    receivers.append(receiver)
    transport = HttpTransport(HttpConfig(url=receiver.url, endpoint="api/v1/lineage"))
    bad = json.dumps({"eventType": "START", "run": {"runId": "x"}})  # no eventTime/job/producer
    with Outbox(tmp_path / "o.sqlite") as box:
        box.enqueue(bad, ["marquez"])
        box.enqueue(PAYLOADS[0], ["marquez"])
        report = drain(box, [Destination("marquez", transport)], seconds=5)
        assert report.delivered == {"marquez": 1} and report.rejected == 1
        [stats] = box.stats()
        assert (stats.queued, stats.rejected, stats.delivered) == (1, 1, 1)
        assert stats.last_error.startswith("HTTPError: 400 Client Error")
    assert len(receiver.events) == 1


def test_cli_status_and_discard(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    with Outbox(path) as box:
        for payload in PAYLOADS[:3]:
            box.enqueue(payload, ["datahub", "marquez"])
    runner = CliRunner()
    status = runner.invoke(outbox_cli, ["--path", str(path), "status", "--json"])
    assert status.exit_code == 0, status.output
    queued = {d["name"]: d["queued"] for d in json.loads(status.output)["destinations"]}
    assert queued == {"datahub": 3, "marquez": 3}
    declined = runner.invoke(outbox_cli, ["--path", str(path), "discard", "marquez"], input="n\n")
    assert declined.exit_code == 1 and "Discard 3 waiting events for marquez?" in declined.output
    done = runner.invoke(outbox_cli, ["--path", str(path), "discard", "marquez", "--yes"])
    assert done.output == "marquez: discarded 3 waiting events\n"
    text = runner.invoke(outbox_cli, ["--path", str(path), "status"]).output
    assert "datahub\n  waiting: 3" in text and "marquez\n  waiting: 0" in text
    missing = runner.invoke(outbox_cli, ["--path", str(tmp_path / "none.sqlite"), "status"])
    assert missing.exit_code == 1 and "no outbox at" in missing.output
