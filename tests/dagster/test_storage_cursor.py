from __future__ import annotations

import dagster as dg

from ol_bridge.dagster.storage_cursor import parse_storage_id_cursor, storage_id_cursor
from tests.dagster import jobs


def test_cursor_format_matches_dagster(instance) -> None:
    result = jobs.failing_job.execute_in_process(instance=instance, raise_on_error=False)
    connection = instance.get_records_for_run(result.run_id)
    last = connection.records[-1].storage_id
    assert parse_storage_id_cursor(connection.cursor) == last
    middle = connection.records[3].storage_id
    after = instance.get_records_for_run(result.run_id, cursor=storage_id_cursor(middle))
    assert [r.storage_id for r in after.records] == [
        r.storage_id for r in connection.records if r.storage_id > middle
    ]
    assert isinstance(dg.DagsterEventType.RUN_START, dg.DagsterEventType)
