"""The sensor commits a run's hand-offs together (one outbox transaction per page of the
run's log), and the cursor still moves only past events that are stored: the real sensor
on a real instance, a real outbox filling up with the backend down, real HTTP after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ol_bridge.dagster import OpenLineageTranslator
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.cursor import RunProgress
from ol_bridge.dagster.tick import walk_run
from ol_bridge.delivery import DeliveryConfig, Outbox
from ol_bridge.delivery.handoff import HandedOff
from ol_bridge.errors import OutboxFullError
from tests.delivery.conftest import client_for, http, sensor_for, tick
from tests.delivery.jobs import tiny_job
from tests.delivery.receiver import Receiver

EVENTS_PER_RUN = 4  # job START/COMPLETE + step START/COMPLETE


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


def _waiting(instance: dg.DagsterInstance) -> int:
    with Outbox(DeliveryConfig().outbox_path(instance.root_directory)) as outbox:
        return sum(s.queued for s in outbox.stats())


def test_a_full_outbox_stores_what_fits_and_the_cursor_stops_there(instance, receivers) -> None:
    """The group cannot be stored whole (pause at 6 events): the events that fit are stored
    one by one, the cursor moves past those only, and once the backend is back every event
    arrives exactly once."""
    receiver = Receiver().start()
    receivers.append(receiver)
    sensor = sensor_for(client_for(http(receiver)), max_events_per_destination=6)
    receiver.stop()
    for _ in range(3):
        tiny_job.execute_in_process(instance=instance)

    result, cursor = tick(sensor, instance, None)
    assert _waiting(instance) == 6  # what fitted; the 7th was refused
    assert "outbox" in str(result.skip_message) and "limit" in str(result.skip_message)

    receiver.start()
    for _ in range(20):
        before = cursor
        _, cursor = tick(sensor, instance, cursor)
        if cursor == before and not _waiting(instance):
            break
    keys = receiver.keys()
    assert len(keys) == 3 * EVENTS_PER_RUN
    assert len(set(keys)) == len(keys)  # the stored six were not handed off twice


def _walk(instance: dg.DagsterInstance, run_id: str, commit: Any) -> tuple[Any, list[Any]]:
    emitted: list[Any] = []
    walked = walk_run(
        instance,
        run_id,
        RunProgress(),
        emitted.append,
        translator=OpenLineageTranslator(),
        catalog=AssetCatalog(),
        commit=commit,
    )
    return walked, emitted


def test_the_walk_reports_only_the_moments_whose_events_were_all_stored(instance) -> None:
    run_id = tiny_job.execute_in_process(instance=instance).run_id
    full, emitted = _walk(instance, run_id, lambda: HandedOff(EVENTS_PER_RUN))
    assert full.finished and full.progress is None and full.emitted == EVENTS_PER_RUN
    assert len(emitted) == EVENTS_PER_RUN

    calls: list[int] = []

    def stores_two() -> HandedOff:
        calls.append(1)
        error = OutboxFullError("full")
        return HandedOff(2, error, job_name="tiny_job.tiny_op", event_type="START")

    partial, _ = _walk(instance, run_id, stores_two)
    assert len(calls) == 1  # the run's one page, one commit
    assert not partial.finished and partial.has_more and partial.emitted == 2
    assert partial.failure is not None and "OutboxFullError: full" in partial.failure.error
    assert partial.failure.event_type == "START"
    # the walk resumes from the progress it reported: the other two events, nothing else
    resumed: list[Any] = []
    again = walk_run(
        instance,
        run_id,
        partial.progress,
        resumed.append,
        translator=OpenLineageTranslator(),
        catalog=AssetCatalog(),
    )
    assert again.finished and len(resumed) == EVENTS_PER_RUN - 2
    assert [e.eventType for e in emitted[2:]] == [e.eventType for e in resumed]
    assert [e.run.runId for e in emitted[2:]] == [e.run.runId for e in resumed]


def test_enqueue_each_is_enqueue_of_each_in_one_transaction(tmp_path: Path) -> None:
    items = [(f'{{"n": {n}}}', f"k{n % 3}") for n in range(5)]
    with Outbox(tmp_path / "each.db") as each, Outbox(tmp_path / "one.db") as one:
        grouped = each.enqueue_each(items, ["a", "b"], max_events=3, on_full="drop_oldest")
        single = [
            one.enqueue(p, ["a", "b"], key=k, max_events=3, on_full="drop_oldest") for p, k in items
        ]
        assert grouped == single
        assert [s.queued for s in each.stats()] == [s.queued for s in one.stats()]
        assert [p.payload for p in each.batch("a", 10)] == [p.payload for p in one.batch("a", 10)]

    with Outbox(tmp_path / "pause.db") as box:
        with pytest.raises(OutboxFullError):
            box.enqueue_each([(f'{{"n": {n}}}', f"p{n}") for n in range(4)], ["a"], max_events=3)
        assert box.batch("a", 10) == []  # all or nothing
