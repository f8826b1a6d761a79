"""Odd input never stops the flow: each case gives a specific warning and the rest of the
lineage still goes out."""

import json
import logging
from typing import Any

import dagster as dg
import pytest

from ol_bridge.dagster import OpenLineageTranslator, build_openlineage_sensor
from ol_bridge.dagster.text import MAX_SQL_CHARS
from ol_bridge.delivery import DeliveryConfig
from tests.dagster.helpers import by_job, run, tick_until_idle

HUGE_SQL = "SELECT " + ", ".join(f"col_{i}" for i in range(40_000)) + " FROM db.s.t"


@dg.asset(key_prefix=["prod", "duckdb", "db", "s"], description="caf\udce9 on a path")
def huge_query() -> dg.MaterializeResult[None]:
    return dg.MaterializeResult(metadata={"Query": HUGE_SQL})


@dg.op
def undecodable() -> None:
    raise ValueError("bad byte \udcff in input")


@dg.job
def undecodable_job() -> None:
    undecodable()


@dg.asset(key=["explodes"])
def explodes() -> None:
    return None


@dg.asset(key=["fine"])
def fine() -> None:
    return None


class Fragile(OpenLineageTranslator):
    def get_asset_dataset(self, asset_key: dg.AssetKey, metadata: Any):  # type: ignore[no-untyped-def]
        if asset_key.path == ["explodes"]:
            raise RuntimeError("translator bug")
        return super().get_asset_dataset(asset_key, metadata)


def definitions(sensor: dg.SensorDefinition) -> dg.Definitions:
    return dg.Definitions(
        assets=[huge_query, explodes, fine],
        jobs=[
            undecodable_job,
            dg.define_asset_job("huge_job", selection=[huge_query]),
            dg.define_asset_job("explodes_job", selection=[explodes]),
            dg.define_asset_job("fine_job", selection=[fine]),
        ],
        sensors=[sensor],
    )


def test_huge_sql_is_not_parsed_but_the_rest_goes_out(
    instance, ol_client, recorder, ol_validator
) -> None:
    sensor = build_openlineage_sensor(client=ol_client)
    defs = definitions(sensor)
    run(defs, "huge_job", instance)
    tick_until_idle(sensor, instance, defs)
    complete = by_job(recorder.events, "huge_job.prod__duckdb__db__s__huge_query")[-1]
    ol_validator.validate(complete)
    assert complete["outputs"][0]["name"] == "db.s.huge_query"
    [error] = complete["run"]["facets"]["extractionError"]["errors"]
    assert f"more than the {MAX_SQL_CHARS}" in error["errorMessage"]
    query = complete["job"]["facets"]["sql"]["query"]
    assert len(query) < MAX_SQL_CHARS + 200 and "more characters not included" in query
    description = complete["outputs"][0]["facets"]["documentation"]["description"]
    assert description == "caf\ufffd on a path"


def test_text_that_is_not_utf8_is_replaced(instance, ol_client, recorder) -> None:
    sensor = build_openlineage_sensor(client=ol_client)
    defs = definitions(sensor)
    run(defs, "undecodable_job", instance)
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        json.dumps(event, ensure_ascii=False).encode("utf-8")  # what an HTTP transport sends
    failed = by_job(recorder.events, "undecodable_job.undecodable")[-1]
    assert "bad byte \ufffd in input" in failed["run"]["facets"]["errorMessage"]["message"]


def test_an_event_that_cannot_be_built_goes_out_degraded(
    instance, recorder, caplog: pytest.LogCaptureFixture, ol_validator
) -> None:
    from openlineage.client import OpenLineageClient

    sensor = build_openlineage_sensor(
        client=OpenLineageClient(transport=recorder),
        translator=Fragile(),
        delivery=DeliveryConfig(outbox=False),
    )
    defs = definitions(sensor)
    run(defs, "explodes_job", instance)
    fine_run = run(defs, "fine_job", instance)
    with caplog.at_level(logging.ERROR):
        tick_until_idle(sensor, instance, defs)
    degraded = by_job(recorder.events, "explodes_job.explodes")
    assert [e["eventType"] for e in degraded] == ["START", "COMPLETE"]
    error = degraded[-1]["run"]["facets"]["extractionError"]["errors"][0]
    assert "RuntimeError: translator bug" in error["errorMessage"]
    assert "Could not build the COMPLETE event" in caplog.text
    for event in recorder.events:
        ol_validator.validate(event)
    # later runs are unaffected
    fine = by_job(recorder.events, "fine_job.fine")
    assert fine[-1]["outputs"][0]["name"] == "fine"
    assert fine[-1]["run"]["facets"]["parent"]["run"]["runId"] == fine_run
