"""ol-bridge's one-pass serialiser gives exactly openlineage-python's output."""

from __future__ import annotations

import json
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport

from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.delivery import DeliveryConfig
from ol_bridge.serialize import event_json, to_plain
from tests.dagster import jobs
from tests.dagster.helpers import run, tick_until_idle


class KeepObjects(Transport):
    kind = "keep"

    def __init__(self) -> None:
        self.events: list[Any] = []

    def emit(self, event: Any) -> None:
        self.events.append(event)


def test_same_json_as_serde_for_every_sensor_event(instance) -> None:
    keep = KeepObjects()
    sensor = build_openlineage_sensor(
        client=OpenLineageClient(transport=keep), delivery=DeliveryConfig(outbox=False)
    )
    defs = jobs.definitions(sensor)
    for job in ("asset_job", "ops_job", "failing_job", "retry_job", "broken_sql_job"):
        run(defs, job, instance)
    tick_until_idle(sensor, instance, defs)
    assert len(keep.events) > 30
    for event in keep.events:
        assert to_plain(event) == Serde.to_dict(event)
        assert event_json(event) == Serde.to_json(event)


def test_same_output_for_plain_dicts_with_nulls_and_empty_items() -> None:
    # (Serde leaves tuples inside a plain dict as they are; ol-bridge cleans them like lists.
    # Events never hold tuples: attrs.asdict turns them into lists before Serde sees them.)
    raw = {"a": None, "b": [None, {}, {"c": None}, 1, [2, None]], "d": {"e": {}}}
    assert to_plain(raw) == Serde.to_dict(raw)
    assert json.loads(event_json(raw)) == Serde.to_dict(raw)
