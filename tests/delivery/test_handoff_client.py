"""Through the outbox, events get the same processing by the client as when it emits
directly: its filters, its tag and environment-variable facets."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.dagster.cursor import SensorCursor
from ol_bridge.dagster.tick import TickLimits
from ol_bridge.delivery import DeliveryConfig
from tests.delivery.conftest import FAST, http, sensor_for, tick
from tests.delivery.jobs import tiny_job
from tests.delivery.receiver import Receiver

#: the client's own processing, configured the OpenLineage way
PROCESSING: dict[str, Any] = {
    "filters": [{"type": "exact", "match": "tiny_job.tiny"}],  # the step's events
    "tags": {"job": {"team": "data"}, "run": {"tier": "gold"}},
    "facets": {"environment_variables": ["OLB_TEST_DEPLOYMENT"]},
}


def received(instance: dg.DagsterInstance, *, outbox: bool) -> list[dict[str, Any]]:
    receiver = Receiver().start()
    try:
        client = OpenLineageClient(config={"transport": http(receiver), **PROCESSING})
        sensor = sensor_for(client, outbox=outbox)
        cursor = None
        for _ in range(5):
            _, cursor = tick(sensor, instance, cursor)
        return receiver.events
    finally:
        receiver.stop()


def test_the_outbox_keeps_the_clients_processing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLB_TEST_DEPLOYMENT", "blue")
    with dg.instance_for_test() as instance:
        tiny_job.execute_in_process(instance=instance)
        direct = received(instance, outbox=False)
    with dg.instance_for_test() as instance:
        tiny_job.execute_in_process(instance=instance)
        through_outbox = received(instance, outbox=True)

    # filtered: only the job's START and COMPLETE, not the step's
    assert [e["job"]["name"] for e in through_outbox] == ["tiny_job", "tiny_job"]
    for event in through_outbox:
        job_tags = {t["key"]: t["value"] for t in event["job"]["facets"]["tags"]["tags"]}
        run_tags = {t["key"]: t["value"] for t in event["run"]["facets"]["tags"]["tags"]}
        assert job_tags["team"] == "data" and run_tags["tier"] == "gold"
        variables = event["run"]["facets"]["environmentVariables"]["environmentVariables"]
        assert {"name": "OLB_TEST_DEPLOYMENT", "value": "blue"} in variables

    def comparable(events: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
        # run ids differ between the two instances; what the client added must not
        return [
            (e["eventType"], e["job"]["name"], sorted({*e["run"]["facets"], *e["job"]["facets"]}))
            for e in events
        ]

    assert comparable(through_outbox) == comparable(direct)


@dg.op
def first() -> int:
    return 1


@dg.op
def second(value: int) -> int:
    return value + 1


@dg.op
def third(value: int) -> int:
    return value + 1


@dg.job
def chain_job() -> None:
    third(second(first()))


#: a page of a few records: the run spans several pages, each ending mid-run
SMALL_PAGES = TickLimits(records_per_page=4, time_budget_seconds=5)


def ticked(instance: dg.DagsterInstance, client: OpenLineageClient) -> SensorCursor:
    sensor = build_openlineage_sensor(
        client=client, delivery=DeliveryConfig(**FAST), limits=SMALL_PAGES
    )
    cursor = None
    for _ in range(12):
        _, cursor = tick(sensor, instance, cursor)
    parsed = SensorCursor.from_json(cursor)
    assert parsed is not None
    return parsed


def test_events_the_clients_filters_drop_do_not_hold_the_cursor_back() -> None:
    # The grouped hand-off counts what reached the outbox; events the client's filters
    # drop never do, and must not leave the walk waiting for them on every later page.
    receiver = Receiver().start()
    try:
        client = OpenLineageClient(
            config={
                "transport": http(receiver),
                "filters": [{"type": "regex", "regex": r"chain_job\..*"}],  # every step's
            }
        )
        with dg.instance_for_test() as instance:
            chain_job.execute_in_process(instance=instance)
            cursor = ticked(instance, client)
        assert [(e["eventType"], e["job"]["name"]) for e in receiver.events] == [
            ("START", "chain_job"),
            ("COMPLETE", "chain_job"),
        ]
        assert cursor.runs == {}  # the run was walked to its end
    finally:
        receiver.stop()


def test_with_openlineage_disabled_runs_are_walked_past_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    receiver = Receiver().start()
    try:
        client = OpenLineageClient(config={"transport": http(receiver)})
        with dg.instance_for_test() as instance:
            chain_job.execute_in_process(instance=instance)
            cursor = ticked(instance, client)
        assert receiver.events == []
        assert cursor.runs == {}
    finally:
        receiver.stop()
