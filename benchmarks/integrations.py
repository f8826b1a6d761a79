"""The integrations under test, each behind the same small interface.

``start()`` gives a fresh state (cursor at the beginning of history, fresh sinks) and is
not timed; ``tick()`` runs one sensor evaluation the way Dagster's daemon does
(``SensorDefinition.evaluate_tick``) and returns the cursor(s) after it, so the caller can
tell an idle tick (cursor unchanged) from a working one. Anchors are imported only when
chosen, so this module loads in both venvs.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg

OL_BRIDGE = ("ol-bridge/ol-http", "ol-bridge/datahub-rest", "ol-bridge/datahub-lite")
ANCHORS = ("acryl-datahub-dagster-plugin", "dagster-openlineage")
ALL = OL_BRIDGE + ANCHORS


class Integration:
    name = ""
    destination = ""
    events = 0  # OL events handed to a transport (where we can see them in-process)
    mcps = 0  # DataHub proposals written (where we can see them in-process)

    def __init__(
        self, instance: dg.DagsterInstance, defs: dg.Definitions, urls: dict[str, str]
    ) -> None:
        self.instance = instance
        self.defs = defs
        self.urls = urls

    def start(self, work: Path) -> None:
        raise NotImplementedError

    def tick(self) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        """Free connections and files after a repeat."""


class _Counting:
    """Wraps an ol-bridge DataHub sink and counts what it is given."""

    def __init__(self, inner: Any, owner: Integration) -> None:
        self.inner, self.owner = inner, owner

    def write(self, mcps: Sequence[Any]) -> None:
        self.owner.mcps += len(mcps)
        self.inner.write(mcps)

    def __getattr__(self, name: str) -> Any:
        # anything else the transport asks the sink (e.g. the Lite sink's held_open)
        return getattr(self.inner, name)

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()


class OlBridge(Integration):
    def __init__(self, kind: str, *args: Any) -> None:
        super().__init__(*args)
        self.kind = kind
        self.name = f"ol-bridge/{kind}"
        self.destination = {"ol-http": "ol", "datahub-rest": "gms", "datahub-lite": "lite"}[kind]
        self.capture: list[Any] | None = None

    def _transport(self, work: Path) -> Any:
        from openlineage.client.transport import Transport
        from openlineage.client.transport.http import HttpConfig, HttpTransport

        from ol_bridge.datahub import DatahubConfig, DatahubTransport
        from ol_bridge.datahub.transport import open_sink

        owner = self

        class Counted(Transport):
            kind = "counted"

            def __init__(self, inner: Transport) -> None:
                self.inner = inner

            def emit(self, event: Any) -> Any:
                owner.events += 1
                if owner.capture is not None:
                    owner.capture.append(event)
                return self.inner.emit(event)

            def emit_batch(self, events: Any) -> Any:
                # ol-bridge's outbox hands a destination that has emit_batch whole batches;
                # pass that through so the datahub transport is measured as it really runs.
                owner.events += len(events)
                if owner.capture is not None:
                    owner.capture.extend(events)
                batch = getattr(self.inner, "emit_batch", None)
                if callable(batch):
                    return batch(events)
                for event in events:
                    self.inner.emit(event)
                return None

            def close(self, timeout: float = -1) -> bool:
                return bool(self.inner.close(timeout))

        inner: Transport
        if self.kind == "ol-http":
            inner = HttpTransport(HttpConfig.from_dict({"url": self.urls["ol"]}))
            if self.capture is None:
                # as users configure it: the outbox posts its stored JSON straight through a
                # plain HttpTransport (a wrapper would force the slower emit path); the
                # loopback endpoint counts the events
                return inner
        else:
            params: dict[str, Any] = (
                {"sink": "rest", "server": self.urls["gms"]}
                if self.kind == "datahub-rest"
                else {"sink": "lite", "lite_path": str(work / "datahub-lite.duckdb")}
            )
            config = DatahubConfig.from_dict(params, environ={})
            inner = DatahubTransport(config, sink=_Counting(open_sink(config), self))  # type: ignore[arg-type]
        return Counted(inner)

    def start(self, work: Path) -> None:
        from openlineage.client import OpenLineageClient

        from ol_bridge.dagster.sensor import build_openlineage_sensor

        self.events = self.mcps = 0
        self.transport = self._transport(work)
        options: dict[str, Any] = {}
        if "delivery" in inspect.signature(build_openlineage_sensor).parameters:
            # The durable outbox (default on) lives next to the instance unless told
            # otherwise: give each repeat its own, so repeats don't dedupe each other.
            from ol_bridge.delivery.config import DeliveryConfig

            options["delivery"] = DeliveryConfig(path=work / "outbox.sqlite")
        self.sensor = build_openlineage_sensor(
            client=OpenLineageClient(transport=self.transport), start="beginning", **options
        )
        self.repo = self.defs.get_repository_def()
        self.cursor: str | None = None

    def tick(self) -> Any:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, repository_def=self.repo
        )
        result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return self.cursor

    def close(self) -> None:
        self.transport.close()


class DatahubPlugin(Integration):
    """``DatahubSensors`` built once per repeat (untimed: its constructor checks the
    connection with ``GET /config``), its four sensors ticked with their own cursors.
    ``make_datahub_sensor`` (the documented wrapper) would rebuild it on every tick."""

    name = "acryl-datahub-dagster-plugin"
    destination = "gms"

    def start(self, work: Path) -> None:
        from dagster._core.definitions.run_status_sensor_definition import (
            RunStatusSensorCursor,  # the anchor's cursor format; no public constructor
        )
        from datahub.ingestion.graph.client import DatahubClientConfig
        from datahub_dagster_plugin.client.dagster_generator import DatahubDagsterSourceConfig
        from datahub_dagster_plugin.sensors.datahub_sensors import DatahubSensors

        config = DatahubDagsterSourceConfig(
            datahub_client_config=DatahubClientConfig(server=self.urls["gms"])
        )
        self.plugin = DatahubSensors(config, monitor_all_code_locations=True)
        beginning = RunStatusSensorCursor(record_id=-1, record_timestamp=None).to_json()
        self.cursors: dict[str, str | None] = {}
        for sensor in self.plugin.sensors:
            run_status = sensor.name != "datahub_multi_asset_sensor"
            self.cursors[sensor.name] = beginning if run_status else None
        self.repo = self.defs.get_repository_def()

    def tick(self) -> Any:
        for sensor in self.plugin.sensors:
            repo = self.repo if sensor.name == "datahub_multi_asset_sensor" else None
            context = dg.build_sensor_context(
                instance=self.instance, cursor=self.cursors[sensor.name], repository_def=repo
            )
            result = sensor.evaluate_tick(context)
            self.cursors[sensor.name] = result.cursor
        # The multi-asset sensor never advances its cursor (the plugin only refreshes a
        # group-name cache), so idleness is judged on the run-status sensors.
        return {k: v for k, v in self.cursors.items() if k != "datahub_multi_asset_sensor"}

    def close(self) -> None:
        self.plugin.graph.close()


class DagsterOpenLineage(Integration):
    """dagster-openlineage's sensor with ``include_asset_events=True`` (its way to emit
    dataset lineage) and its default per-tick record limit."""

    name = "dagster-openlineage"
    destination = "ol"

    def start(self, work: Path) -> None:
        # Its adapter builds the HTTP client from OPENLINEAGE_URL at import time.
        os.environ["OPENLINEAGE_URL"] = self.urls["ol"]
        from dagster_openlineage import openlineage_sensor

        self.sensor = openlineage_sensor(include_asset_events=True)
        self.cursor: str | None = None

    def tick(self) -> Any:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor)
        result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return self.cursor


def make(
    name: str, instance: dg.DagsterInstance, defs: dg.Definitions, urls: dict[str, str]
) -> Integration:
    if name in OL_BRIDGE:
        return OlBridge(name.split("/", 1)[1], instance, defs, urls)
    if name == "acryl-datahub-dagster-plugin":
        return DatahubPlugin(instance, defs, urls)
    if name == "dagster-openlineage":
        return DagsterOpenLineage(instance, defs, urls)
    raise SystemExit(f"unknown integration {name!r}; choose from {ALL}")
