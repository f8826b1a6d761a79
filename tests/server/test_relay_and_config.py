"""Relaying to OpenLineage backends, 503 when a destination is down, and the settings model."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from ol_bridge.datahub.transport import event_to_dict
from ol_bridge.errors import ConfigError
from ol_bridge.server.config import ServerConfig, env_settings, load_config
from tests.fakes import dagster_run_events
from tests.server.helpers import FakeMarquez, lite_contents, running_server
from tests.server.kafka_broker import free_port

JSON = {"Content-Type": "application/json"}


def test_relays_to_marquez_and_answers_503_while_it_is_down(tmp_path: Path) -> None:
    events = [event_to_dict(e) for e in dagster_run_events()]
    with FakeMarquez() as marquez:
        config = ServerConfig.from_dict(
            {
                "datahub": {"lite_path": str(tmp_path / "lite.duckdb")},
                "relay": {"marquez": {"type": "http", "url": marquez.url, "retry": {"total": 0}}},
                "retry_after_sec": 7,
            }
        )
        with running_server(config) as server:
            url = f"{server.url}/api/v1/lineage"
            assert httpx.post(url, json=events[:2], headers=JSON).status_code == 201
            marquez.down = True
            down = httpx.post(url, json=events[2], headers=JSON)
            assert (down.status_code, down.headers["retry-after"]) == (503, "7")
            assert down.json()["destination"] == "marquez"
            marquez.down = False
            assert httpx.post(url, json=events[2:], headers=JSON).status_code == 201
            assert server.metrics.value("relayed", destination="marquez") == 4
            assert server.metrics.value("failed", destination="marquez") == 1
    assert [e["run"]["runId"] for e in marquez.events] == [e["run"]["runId"] for e in events]
    assert len(lite_contents(tmp_path / "lite.duckdb")) == 7


def test_503_when_datahub_is_unreachable(tmp_path: Path) -> None:
    config = ServerConfig.from_dict(
        {
            "datahub": {
                "sink": "rest",
                "server": f"http://127.0.0.1:{free_port()}",
                "retry_max_times": 0,
                "timeout_sec": 2,
            }
        }
    )
    with running_server(config) as server:
        event = event_to_dict(dagster_run_events()[0])
        answer = httpx.post(f"{server.url}/api/v1/lineage", json=event, headers=JSON)
        assert (answer.status_code, answer.headers["retry-after"]) == (503, "10")
        assert answer.json()["destination"] == "datahub"
        assert server.metrics.value("failed", destination="datahub") == 1
        assert server.metrics.value("stored") == 0


def test_settings_from_file_environment_and_flags(tmp_path: Path) -> None:
    config_file = tmp_path / "serve.yml"
    config_file.write_text(
        "server:\n  port: 6000\n  max_body_bytes: 1000\n"
        "  datahub: {sink: file, file_path: a.json}\n"
    )
    environ = {
        "OL_BRIDGE_SERVER__PORT": "7000",
        "OL_BRIDGE_SERVER__TOKEN": "t0ken",
        "OL_BRIDGE_SERVER__RELAY__MARQUEZ__TYPE": "http",
        "OL_BRIDGE_SERVER__RELAY__MARQUEZ__URL": "http://marquez:5000",
        "OL_BRIDGE_SERVER__KAFKA__GROUP_ID": "lineage",
    }
    config = load_config(config_file, environ=environ, overrides={"host": "0.0.0.0", "port": None})
    assert (config.host, config.port, config.max_body_bytes, config.token) == (
        "0.0.0.0",
        7000,
        1000,
        "t0ken",
    )
    assert (config.datahub.sink, config.datahub.file_path) == ("file", "a.json")
    assert config.relay == {"marquez": {"type": "http", "url": "http://marquez:5000"}}
    assert config.kafka.group_id == "lineage"
    assert "t0ken" not in repr(config)
    assert load_config(environ={}, overrides={"port": 8000}).port == 8000


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OL_BRIDGE_SERVER__PROT": "1"}, r"Unknown key\(s\) \['prot'\] in the `server` settings"),
        ({"OL_BRIDGE_SERVER__KAFKA__TOPICS": "x"}, r"Unknown key\(s\) \['topics'\] in the `kafka`"),
        ({"OL_BRIDGE_SERVER__DATAHUB__SINKS": "x"}, r"Unknown key\(s\) \['sinks'\]"),
        ({"OL_BRIDGE_SERVER__PORT": "http"}, r"`port` must be a number, got 'http'"),
        ({"OL_BRIDGE_SERVER__PORT": "70000"}, r"`port` must be between 0 and 65535"),
        ({"OL_BRIDGE_SERVER__SOURCE": "pulsar"}, r"`source` must be `http` or `kafka`"),
        ({"OL_BRIDGE_SERVER__RELAY__M__URL": "x"}, r"`relay.m` must be an OpenLineage transport"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(environ=environ)


def test_env_settings_nest_on_double_underscores() -> None:
    assert env_settings(
        {"OL_BRIDGE_SERVER__DATAHUB__KAFKA__BOOTSTRAP": "k:9092", "OTHER": "x"}
    ) == {"datahub": {"kafka": {"bootstrap": "k:9092"}}}
    assert json.dumps(env_settings({})) == "{}"


def test_with_an_outbox_relays_are_accepted_while_marquez_is_down(tmp_path: Path) -> None:
    events = [event_to_dict(e) for e in dagster_run_events()]
    with FakeMarquez() as marquez:
        marquez.down = True
        config = ServerConfig.from_dict(
            {
                "datahub": {"lite_path": str(tmp_path / "lite.duckdb")},
                "relay": {"marquez": {"type": "http", "url": marquez.url}},
                "outbox_path": str(tmp_path / "outbox.sqlite"),
            }
        )
        with running_server(config) as server:
            url = f"{server.url}/api/v1/lineage"
            assert httpx.post(url, json=events, headers=JSON).status_code == 201
            assert httpx.get(f"{server.url}/health").json()["queued"]["marquez"] == 4
            marquez.down = False
            deadline = time.monotonic() + 30
            while len(marquez.events) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
    assert [e["run"]["runId"] for e in marquez.events] == [e["run"]["runId"] for e in events]
