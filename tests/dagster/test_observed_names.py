"""An observable source asset has one dataset name, whichever event names it: the URI its
observation recorded, in the observation's own event and as the input of every asset
downstream, whether the observation is read in the same tick or from storage in a later
one (review 2, defect 1; /work/review2/repro1)."""

from __future__ import annotations

from typing import Any

import dagster as dg

from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.delivery import DeliveryConfig
from tests.dagster.helpers import tick_until_idle

URI = "s3://landing-bucket/trips/"


@dg.observable_source_asset
def landing_folder() -> dg.ObserveResult:
    return dg.ObserveResult(data_version=dg.DataVersion("1"), metadata={"dagster/uri": URI})


@dg.asset(deps=[landing_folder])
def trips_file() -> None:
    pass


def _names(events: list[dict[str, Any]], side: str) -> set[tuple[str, str, str]]:
    return {
        (event["job"]["name"].rsplit(".", 1)[-1], dataset["namespace"], dataset["name"])
        for event in events
        if event["eventType"] == "COMPLETE" and "." in event["job"]["name"]
        for dataset in event[side]
    }


OBSERVE = dg.define_asset_job("observe_landing", selection=[landing_folder])


def _definitions(sensor: dg.SensorDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[landing_folder, trips_file], jobs=[OBSERVE], sensors=[sensor])


def _observe(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    """As ``dagster asset materialize --select landing_folder`` does: the observation runs
    as a step of a run."""
    assert defs.resolve_job_def("observe_landing").execute_in_process(instance=instance).success


def _materialize_downstream(instance: dg.DagsterInstance) -> None:
    assert dg.materialize([landing_folder, trips_file], selection=[trips_file], instance=instance)


def test_the_observation_names_the_source_in_the_same_tick(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    sensor = build_openlineage_sensor(client=ol_client)
    defs = _definitions(sensor)
    _observe(defs, instance)
    _materialize_downstream(instance)
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)
    assert _names(recorder.events, "inputs") == {
        ("landing_folder", "s3://landing-bucket", "trips/"),
        ("trips_file", "s3://landing-bucket", "trips/"),
    }


def test_the_latest_observation_in_storage_names_the_source(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any
) -> None:
    """The observation ran before the sensor's cursor: the downstream run's tick reads it
    from storage. Without the definitions (as ``ol-bridge backfill`` runs) too."""
    sensor = build_openlineage_sensor(client=ol_client)
    defs = _definitions(sensor)
    _observe(defs, instance)
    cursor, _ = tick_until_idle(sensor, instance, defs)
    _materialize_downstream(instance)
    recorder.events.clear()
    tick_until_idle(sensor, instance, defs, cursor)
    assert _names(recorder.events, "inputs") == {("trips_file", "s3://landing-bucket", "trips/")}

    recorder.events.clear()
    direct = build_openlineage_sensor(client=ol_client, delivery=DeliveryConfig(outbox=False))
    bare = dg.Definitions(sensors=[direct])  # no asset definitions in this code location
    tick_until_idle(direct, instance, bare, cursor)
    assert _names(recorder.events, "inputs") == {("trips_file", "s3://landing-bucket", "trips/")}


def test_a_materialization_newer_than_the_observation_names_the_asset(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any
) -> None:
    """An asset both observed and materialized is named by whichever came last."""

    @dg.asset(metadata={"dagster/uri": "s3://landing-bucket/old/"})
    def landing() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"dagster/uri": "s3://landing-bucket/new/"})

    @dg.asset(deps=[landing])
    def downstream() -> None:
        pass

    sensor = build_openlineage_sensor(client=ol_client)
    defs = dg.Definitions(assets=[landing, downstream], sensors=[sensor])
    instance.report_runless_asset_event(
        dg.AssetObservation("landing", metadata={"dagster/uri": "s3://landing-bucket/obs/"})
    )
    assert dg.materialize([landing], instance=instance)
    assert dg.materialize([landing, downstream], selection=[downstream], instance=instance)
    tick_until_idle(sensor, instance, defs)
    assert _names(recorder.events, "inputs") == {("downstream", "s3://landing-bucket", "new/")}
