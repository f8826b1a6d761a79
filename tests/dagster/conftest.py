"""Real Dagster instances on each storage the sensor must support, and a recording
OpenLineage client whose events the tests assert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport

from tests.conftest import fresh_database, postgres_storage

STORAGES = ["sqlite_run_sharded", "sqlite_consolidated", "postgres"]


class RecordingTransport(Transport):
    """Keeps every event as the JSON dict a real transport would send."""

    kind = "recording"

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail_with: Exception | None = None

    def emit(self, event: Any) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.events.append(Serde.to_dict(event))


@pytest.fixture
def recorder() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def ol_client(recorder: RecordingTransport) -> OpenLineageClient:
    return OpenLineageClient(transport=recorder)


def make_instance(storage: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    if storage == "sqlite_run_sharded":
        return dg.instance_for_test(temp_dir=str(tmp_path))
    if storage == "sqlite_consolidated":
        return dg.instance_for_test(
            temp_dir=str(tmp_path),
            overrides={
                "event_log_storage": {
                    "module": "dagster.core.storage.event_log",
                    "class": "ConsolidatedSqliteEventLogStorage",
                    "config": {"base_dir": str(tmp_path / "event_logs")},
                }
            },
        )
    if storage == "postgres":
        url = request.getfixturevalue("postgres_url")
        return dg.instance_for_test(
            temp_dir=str(tmp_path), overrides=postgres_storage(fresh_database(url))
        )
    raise ValueError(storage)


@pytest.fixture
def instance(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dg.DagsterInstance]:
    """The default storage (run-sharded SQLite); see ``any_instance`` for all of them."""
    with make_instance("sqlite_run_sharded", tmp_path, request) as inst:
        yield inst


@pytest.fixture(params=STORAGES)
def any_instance(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dg.DagsterInstance]:
    with make_instance(request.param, tmp_path, request) as inst:
        yield inst
