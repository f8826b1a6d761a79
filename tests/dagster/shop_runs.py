"""The set-up the dbt tests share: a prepared copy of the shop project (tests/dagster/projects)
with a fresh Dagster instance, a sensor with no definitions of its own, and events by run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import dagster as dg
import pytest
from openlineage.client import OpenLineageClient

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.delivery import DeliveryConfig
from ol_bridge.naming import NamingConfig
from tests.dagster.conftest import RecordingTransport
from tests.dagster.projects import shop

NAMESPACE = "duckdb:///data/shop.duckdb"
NAMING = NamingConfig.from_dict({"connections": {"duckdb": NAMESPACE}})
#: also loaded by `ol-bridge backfill --translator tests.dagster.shop_runs:TRANSLATOR`
TRANSLATOR = OpenLineageTranslator(naming=NAMING)


@attrs.frozen
class Shop:
    root: Path
    project_dir: Path
    duckdb_path: Path
    #: the shop's definitions with the given sensors
    definitions: dg.Definitions
    instance: dg.DagsterInstance
    #: the environment, with the profile's variable set (tests may set more)
    env: pytest.MonkeyPatch


@contextmanager
def shop_instance(
    root: Path,
    sensors: list[dg.SensorDefinition],
    *,
    failing: bool = False,
    cut: bool = False,
    fetch_metadata: bool = True,
    synchronous_run_launcher: bool = False,
) -> Iterator[Shop]:
    """A fresh copy of the shop project in ``root`` (see ``shop.copy_project``), parsed, its
    DuckDB file in ``root``, its definitions with ``sensors`` and a fresh instance in
    ``root/dagster``; the profile's environment variable stays set until the end."""
    project_dir = shop.copy_project(root, failing=failing, cut=cut)
    duckdb_path = root / "shop.duckdb"
    (root / "dagster").mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv(shop.DUCKDB_PATH_VARIABLE, str(duckdb_path))
        shop.prepare(project_dir, duckdb_path)
        definitions = shop.build_definitions(
            project_dir, duckdb_path, sensors, fetch_metadata=fetch_metadata
        )
        with dg.instance_for_test(
            temp_dir=str(root / "dagster"), synchronous_run_launcher=synchronous_run_launcher
        ) as instance:
            yield Shop(root, project_dir, duckdb_path, definitions, instance, env)


def recording_sensor(
    name: str = "openlineage_sensor", **kwargs: Any
) -> tuple[dg.SensorDefinition, RecordingTransport]:
    """The sensor with the dbt tests' translator, and what it emits."""
    recorder = RecordingTransport()
    sensor = build_openlineage_sensor(
        name=name, client=OpenLineageClient(transport=recorder), translator=TRANSLATOR, **kwargs
    )
    return sensor, recorder


def bare_sensor() -> tuple[dg.SensorDefinition, RecordingTransport]:
    """A sensor as in another code location: ticked with Definitions holding only itself."""
    return recording_sensor("bare_sensor", delivery=DeliveryConfig(outbox=False))


def by_run(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Events by the Dagster run they describe, in emission order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        found.setdefault(event["run"]["facets"]["dagster_run"]["dagsterRunId"], []).append(event)
    return found
