"""The outbox on its own: cap policies, refused events, dedup, and the operator CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openlineage.client.transport import Transport
from openlineage.client.transport.http import HttpConfig, HttpTransport

from ol_bridge.commands.outbox import outbox as outbox_cli
from ol_bridge.delivery import Destination, Outbox, drain
from ol_bridge.delivery.deliver import batch_limit
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
    assert missing.exit_code == 1 and "no outbox in" in missing.output


def test_a_slow_whole_batch_destination_gets_batches_that_fit_the_time_box(
    tmp_path: Path,
) -> None:
    """A batch is one uninterruptible call: once a destination has shown its pace, the
    next batches are cut to what the time left allows (DataHub Lite writes ~20 events/s)."""
    now = [0.0]

    class SlowBatches(Transport):
        kind = "slow"
        batches: list[int] = []

        def emit(self, event: Any) -> None:
            self.emit_batch([event])

        def emit_batch(self, events: list[Any]) -> None:
            self.batches.append(len(events))
            now[0] += 0.5 * len(events)  # half a second per event

    slow = Destination("lite", SlowBatches())
    payloads = [json.dumps({**json.loads(PAYLOADS[0]), "eventTime": f"t{i}"}) for i in range(40)]
    with Outbox(tmp_path / "o.sqlite") as box:
        for payload in payloads:
            box.enqueue(payload, ["lite"])
        first = drain(box, [slow], seconds=5, batch_size=10, clock=lambda: now[0])
        # no pace known yet: a full batch of 10 overran the 5 s box once, then 5 s / 0.5 s
        assert SlowBatches.batches == [10]
        assert first.out_of_time and first.delivered == {"lite": 10}
        second = drain(box, [slow], seconds=5, batch_size=10, clock=lambda: now[0])
        assert SlowBatches.batches == [10, 10]  # 5 s left / 0.5 s per event = 10
        third = drain(box, [slow], seconds=3, batch_size=10, clock=lambda: now[0])
        assert SlowBatches.batches[2:] == [6]  # 3 s / 0.5 s
        assert second.delivered == {"lite": 10} and third.delivered == {"lite": 6}


@pytest.mark.parametrize(
    ("pace", "left", "expected"),
    [(None, 1.0, 500), (0.0, 1.0, 500), (0.004, 10.0, 500), (0.05, 10.0, 200), (0.5, 0.1, 1)],
)
def test_batch_limit(pace: float | None, left: float, expected: int) -> None:
    assert batch_limit(pace, 500, left) == expected
