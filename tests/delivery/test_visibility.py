"""During an outage the Dagster UI says what waits: every tick's message names each waiting
destination, how many events, since when and the last error, and the same line reaches
the tick log through Dagster's logger."""

from __future__ import annotations

import re
import time

import dagster as dg

from tests.delivery.conftest import client_for, http, sensor_for, tick
from tests.delivery.jobs import tiny_job
from tests.delivery.receiver import Receiver

WAITING = re.compile(
    r"(\d+) events wait for delivery: (\S+) (\d+) since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC "
    r"\((\d+) failed attempts, next in \d+ s, last error: ConnectionError: .*\)\.$"
)


def test_tick_messages_show_the_backlog_until_it_is_delivered(receivers) -> None:
    instance = dg.DagsterInstance.ephemeral()
    receiver = Receiver().start()
    receivers.append(receiver)
    destination = f"{receiver.url}/api/v1/lineage"
    sensor = sensor_for(client_for(http(receiver)))
    receiver.stop()
    tiny_job.execute_in_process(instance=instance)

    first, cursor = tick(sensor, instance, None)
    assert first.skip_message.startswith("Emitted 4 OpenLineage events. 4 events wait")
    match = WAITING.search(first.skip_message)
    assert match is not None, first.skip_message
    assert match.groups()[:4] == ("4", destination, "4", "1")

    time.sleep(0.05)  # past the 10 ms backoff
    second, cursor = tick(sensor, instance, cursor)
    assert second.skip_message.startswith("No new runs to emit. 4 events wait")
    match = WAITING.search(second.skip_message)
    assert match is not None and match.group(4) == "2", second.skip_message

    receiver.start()
    time.sleep(0.05)
    third, cursor = tick(sensor, instance, cursor)
    assert third.skip_message == "No new runs to emit. Delivered 4."
    fourth, _ = tick(sensor, instance, cursor)
    assert fourth.skip_message == "No new runs to emit."
    assert len(receiver.events) == 4
