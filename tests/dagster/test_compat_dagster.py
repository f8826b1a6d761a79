"""``ol_bridge._compat.dagster`` against the installed Dagster, on every supported storage."""

from __future__ import annotations

import dagster as dg

from ol_bridge._compat.dagster import (
    parse_storage_id_cursor,
    run_storage_is_sqlite,
    storage_id_cursor,
)
from tests.dagster import jobs


def test_cursor_format_matches_dagster(any_instance: dg.DagsterInstance) -> None:
    instance = any_instance
    result = jobs.failing_job.execute_in_process(instance=instance, raise_on_error=False)
    connection = instance.get_records_for_run(result.run_id)
    last = connection.records[-1].storage_id
    assert parse_storage_id_cursor(connection.cursor) == last
    middle = connection.records[3].storage_id
    after = instance.get_records_for_run(result.run_id, cursor=storage_id_cursor(middle))
    assert [r.storage_id for r in after.records] == [
        r.storage_id for r in connection.records if r.storage_id > middle
    ]


def test_sqlite_run_storage_is_told_apart(any_instance: dg.DagsterInstance) -> None:
    postgres = type(any_instance.run_storage).__name__ == "PostgresRunStorage"
    assert run_storage_is_sqlite(any_instance) is not postgres
    assert not run_storage_is_sqlite(dg.DagsterInstance.ephemeral())  # in memory
