"""The `datahub` transport through openlineage-python's own client and factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.transport import get_default_factory
from openlineage.client.transport.composite import CompositeTransport

from ol_bridge import register_transports
from ol_bridge.datahub import DatahubConfig, DatahubTransport
from ol_bridge.datahub.config import DEFAULT_LITE_PATH
from ol_bridge.datahub.converter import convert_event
from ol_bridge.datahub.sinks.lite import open_lite
from ol_bridge.datahub.transport import event_to_dict
from ol_bridge.errors import ConfigError
from tests.fakes import DAGSTER_RUN_ID, dagster_run_events, fan_out_client
from tests.fakes.gms import running_gms

DOTTED = "ol_bridge.datahub.transport.DatahubTransport"


# --- configuration -----------------------------------------------------------------------


def test_defaults_write_to_datahub_lite_in_a_local_folder() -> None:
    config = DatahubConfig.from_dict({"type": "datahub"}, environ={})
    assert (config.sink, config.lite_path, config.server, config.token) == (
        "lite",
        DEFAULT_LITE_PATH,
        None,
        None,
    )
    assert config.batch_size == 1000  # a multiple of acryl-datahub's 200 proposals per request


@pytest.mark.parametrize(
    ("params", "environ", "sink"),
    [
        ({"server": "http://gms:8080"}, {}, "rest"),
        ({}, {"DATAHUB_GMS_URL": "http://env-gms:8080"}, "rest"),
        ({}, {}, "lite"),
        ({"server": "http://gms:8080", "sink": "lite"}, {}, "lite"),  # asked for explicitly
    ],
)
def test_the_sink_defaults_to_rest_when_a_server_is_configured(
    params: dict[str, str], environ: dict[str, str], sink: str
) -> None:
    assert DatahubConfig.from_dict(params, environ=environ).sink == sink


def test_precedence_config_over_environment_over_defaults() -> None:
    environ = {
        "DATAHUB_GMS_URL": "http://env-gms:8080",
        "DATAHUB_GMS_TOKEN": "env-token",
        "OL_BRIDGE_HOME": "/srv/ol-bridge",
    }
    from_env = DatahubConfig.from_dict({"sink": "rest"}, environ=environ)
    assert (from_env.server, from_env.token, from_env.lite_path) == (
        "http://env-gms:8080",
        "env-token",
        "/srv/ol-bridge/datahub-lite.duckdb",
    )
    explicit = DatahubConfig.from_dict(
        {"sink": "rest", "server": "http://gms:8080", "token": "t", "lite_path": "x.duckdb"},
        environ=environ,
    )
    assert (explicit.server, explicit.token, explicit.lite_path) == (
        "http://gms:8080",
        "t",
        "x.duckdb",
    )


def test_token_is_never_shown() -> None:
    config = DatahubConfig.from_dict({"sink": "rest", "server": "http://g", "token": "s3cret"})
    assert "s3cret" not in repr(config)
    assert "s3cret" not in str(DatahubTransport(config))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sinks": "lite"}, r"Unknown key\(s\) \['sinks'\] in the `datahub` transport config"),
        ({"sink": "s3"}, r"`sink` must be one of \['lite', 'rest', 'kafka', 'file'\]"),
        ({"sink": "rest"}, "needs the GMS address"),
        ({"sink": "file"}, "needs `file_path`"),
        ({"batch_size": 0}, "`batch_size` must be at least 1"),
        ({"batch_size": "many"}, "`batch_size` must be a number"),
        ({"kafka": {"brokers": "x"}}, r"Unknown key\(s\) \['brokers'\]"),
        ({"converter": ["env"]}, "`converter` must be a mapping"),
        ({"rest_endpoint": "graphql"}, "`rest_endpoint` must be one of"),
    ],
)
def test_bad_config_is_rejected_with_a_clear_message(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DatahubConfig.from_dict(params, environ={})


def test_converter_mapping_is_checked_when_the_config_is_built() -> None:
    with pytest.raises(ConfigError):
        DatahubConfig.from_dict({"converter": {"no_such_option": True}}, environ={})
    config = DatahubConfig.from_dict({"converter": {"env": "DEV"}}, environ={})
    assert config.converter_config().env == "DEV"


# --- registration with openlineage-python ------------------------------------------------


def test_dotted_path_and_short_name_resolve_through_the_factory(tmp_path: Path) -> None:
    factory = get_default_factory()
    by_path = factory.create({"type": DOTTED, "lite_path": str(tmp_path / "a.duckdb")})
    register_transports()
    by_name = factory.create({"type": "datahub", "lite_path": str(tmp_path / "b.duckdb")})
    assert isinstance(by_path, DatahubTransport)
    assert isinstance(by_name, DatahubTransport)
    assert by_name.config.lite_path == str(tmp_path / "b.duckdb")


def test_environment_variables_configure_the_transport(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "datahub")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LITE_PATH", str(tmp_path / "env.duckdb"))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__BATCH_SIZE", "50")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__CONVERTER__ENV", "DEV")
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    monkeypatch.delenv("OPENLINEAGE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no openlineage.yml here
    register_transports()
    transport = OpenLineageClient().transport
    assert isinstance(transport, DatahubTransport)
    assert transport.config.lite_path == str(tmp_path / "env.duckdb")
    assert transport.config.batch_size == 50
    assert transport.config.converter_config().env == "DEV"


# --- end to end ----------------------------------------------------------------------------


def expected_urns() -> set[str]:
    return {
        str(mcp.entityUrn)
        for event in dagster_run_events()
        for mcp in convert_event(event_to_dict(event))
    }


def test_a_dagster_run_lands_in_datahub_lite(tmp_path: Path) -> None:
    path = tmp_path / "lite.duckdb"
    client = OpenLineageClient(config={"transport": {"type": DOTTED, "lite_path": str(path)}})
    for event in dagster_run_events():
        client.emit(event)
    client.close()

    lite = open_lite(path, read_only=True)
    try:
        assert set(lite.list_ids()) == expected_urns()
        flows = [u for u in lite.list_ids() if u.startswith("urn:li:dataFlow:")]
        jobs = [u for u in lite.list_ids() if u.startswith("urn:li:dataJob:")]
        runs = [u for u in lite.list_ids() if u.startswith("urn:li:dataProcessInstance:")]
        assert (len(flows), len(jobs), len(runs)) == (1, 2, 2)
        step_job = next(u for u in jobs if u.endswith("iris_job.iris_summary)"))
        io = (lite.get(step_job, ["dataJobInputOutput"]) or {})["dataJobInputOutput"]
        assert isinstance(io, dict)
        assert [e["destinationUrn"] for e in io["inputDatasetEdges"]] == [
            "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.raw.iris,PROD)"
        ]
        assert [e["destinationUrn"] for e in io["outputDatasetEdges"]] == [
            "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.analytics.iris_summary,PROD)"
        ]
        raw = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.raw.iris,PROD)"
        summary = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.analytics.iris_summary,PROD)"
        assert [(f["upstreams"], f["downstreams"]) for f in io["fineGrainedLineages"]] == [
            (
                [f"urn:li:schemaField:({raw},a)", f"urn:li:schemaField:({raw},b)"],
                [f"urn:li:schemaField:({summary},total)"],
            )
        ]
        run_events = [
            (lite.get(u, ["dataProcessInstanceRunEvent"]) or {}).get("dataProcessInstanceRunEvent")
            for u in runs
        ]
        assert all(isinstance(e, dict) and e["status"] == "COMPLETE" for e in run_events)
    finally:
        lite.close()


def test_composite_next_to_http_and_requests_per_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_gms() as gms:
        client = fan_out_client(
            datahub_rest={"type": DOTTED, "sink": "rest", "server": gms.url, "retry_max_times": 0},
            datahub_endpoint={
                "type": "http",
                "url": gms.url,
                "endpoint": "openapi/openlineage/api/v1/lineage",
            },
        )
        assert isinstance(client.transport, CompositeTransport)
        events = dagster_run_events()
        for event in events:
            client.emit(event)
        client.close()

    ingest = [r for r in gms.ingest_requests if r.path == "/aspects"]
    proposals = sum(len(convert_event(event_to_dict(e))) for e in events)
    with capsys.disabled():
        print(
            f"\nREST sink: one Dagster run = {len(events)} OL events -> {proposals} proposals "
            f"in {len(ingest)} ingest requests (+1 GET /config), "
            f"{sum(r.body_bytes for r in ingest)} bytes"
        )
    # Batched: one ingestProposalBatch per event, never one request per aspect.
    assert len(ingest) == len(events) < proposals
    assert {r.query["action"][0] for r in ingest} == {"ingestProposalBatch"}
    assert len(gms.proposals) == proposals
    assert gms.openlineage_events[0]["run"]["runId"] == DAGSTER_RUN_ID
    assert len(gms.openlineage_events) == len(events)
