"""Relays and DataHub through the outbox: outages, restarts, backpressure; and the settings."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from ol_bridge.datahub.transport import event_to_dict
from ol_bridge.delivery.store import Outbox
from ol_bridge.errors import ConfigError
from ol_bridge.server.config import ServerConfig, default_outbox_path, env_settings, load_config
from tests.fakes import dagster_run_events
from tests.fakes.gms import running_gms
from tests.server.helpers import FakeMarquez, lite_contents, running_server, server_config, wait_for

JSON = {"Content-Type": "application/json"}


def _events() -> list[dict[str, object]]:
    return [event_to_dict(e) for e in dagster_run_events()]


def test_marquez_down_across_a_restart_loses_nothing(tmp_path: Path) -> None:
    events = _events()
    with FakeMarquez() as marquez:
        marquez.down = True
        config = server_config(tmp_path, relay={"marquez": {"type": "http", "url": marquez.url}})
        with running_server(config) as server:
            url = f"{server.url}/api/v1/lineage"
            for event in events:  # accepted: the outbox keeps them for Marquez
                assert httpx.post(url, json=event, headers=JSON).status_code == 201
            wait_for(
                lambda: server.metrics.value("delivered", destination="datahub") == 4, "DataHub"
            )
            wait_for(
                lambda: httpx.get(f"{server.url}/health").json()["status"] == "degraded",
                "health to report Marquez down",
            )
            health = httpx.get(f"{server.url}/health").json()
            assert health["destinations"]["marquez"]["state"] == "down"
            assert health["destinations"]["marquez"]["queued"] == 4
            assert "503" in health["destinations"]["marquez"]["last_error"]
        assert marquez.events == []
        with Outbox(tmp_path / "outbox.sqlite") as outbox:  # what `ol-bridge outbox status` reads
            assert {s.name: s.queued for s in outbox.stats()} == {"datahub": 0, "marquez": 4}
        marquez.down = False
        with running_server(config) as server:  # a new process: the outbox is all it has
            wait_for(lambda: len(marquez.events) == 4, "Marquez to get the events")
    assert [e["run"]["runId"] for e in marquez.events] == [e["run"]["runId"] for e in events]
    assert len(lite_contents(tmp_path / "lite.duckdb")) == 7


def test_datahub_down_is_reported_and_can_refuse_at_once(tmp_path: Path) -> None:
    events = _events()
    with running_gms() as gms:
        gms.fail_next(10_000)
        datahub = {"sink": "rest", "server": gms.url, "retry_max_times": 0}
        config = server_config(tmp_path, datahub=datahub, refuse_while_down=True, retry_after_sec=7)
        with running_server(config) as server:
            url = f"{server.url}/api/v1/lineage"
            assert httpx.post(url, json=events[0], headers=JSON).status_code == 201
            wait_for(
                lambda: httpx.get(f"{server.url}/health").json()["status"] == "refusing",
                "DataHub reported down",
            )
            refused = httpx.post(url, json=events[1], headers=JSON)
            assert (refused.status_code, refused.headers["retry-after"]) == (503, "7")
            assert refused.json()["error"] == "destination_down"
            assert refused.json()["destination"] == "datahub"
            gms.fail_next(0)
            wait_for(
                lambda: server.metrics.value("delivered", destination="datahub") == 1,
                "DataHub back",
            )
            assert httpx.post(url, json=events[1:], headers=JSON).status_code == 201
            wait_for(lambda: server.metrics.value("delivered") == 4, "the rest")
    runs = {p["entityUrn"] for p in gms.proposals if "dataProcessInstance" in p["entityUrn"]}
    assert len(runs) == 2


def test_503_with_retry_after_when_the_outbox_is_at_its_limit(tmp_path: Path) -> None:
    events = _events()
    with FakeMarquez() as marquez:
        marquez.down = True
        config = server_config(
            tmp_path,
            relay={"marquez": {"type": "http", "url": marquez.url}},
            delivery={"max_events_per_destination": 3},
        )
        with running_server(config) as server:
            url = f"{server.url}/api/v1/lineage"
            assert httpx.post(url, json=events[:3], headers=JSON).status_code == 201
            full = httpx.post(url, json=events[3], headers=JSON)
            assert (full.status_code, full.headers["retry-after"]) == (503, "10")
            assert full.json()["error"] == "outbox_full"
            assert "max_events_per_destination=3" in full.json()["message"]
            assert "Dagster" not in full.json()["message"]
            assert httpx.get(f"{server.url}/health").status_code == 503
            marquez.down = False
            wait_for(lambda: len(marquez.events) == 3, "the backlog to drain")
            wait_for(
                lambda: httpx.post(url, json=events[3], headers=JSON).status_code == 201,
                "the receiver to take events again",
            )
            wait_for(lambda: len(marquez.events) == 4, "the last event")


def test_settings_from_file_environment_and_flags(tmp_path: Path) -> None:
    config_file = tmp_path / "serve.yml"
    config_file.write_text(
        "server:\n  port: 6000\n  max_body_bytes: 1000\n"
        "  datahub: {sink: file, file_path: a.json}\n"
        "  delivery: {url: 'postgresql://etl:pw@db/lineage'}\n"
    )
    environ = {
        "OL_BRIDGE_SERVER__PORT": "7000",
        "OL_BRIDGE_SERVER__TOKEN": "t0ken",
        "OL_BRIDGE_SERVER__RELAY__MARQUEZ__TYPE": "http",
        "OL_BRIDGE_SERVER__RELAY__MARQUEZ__URL": "http://marquez:5000",
        "OL_BRIDGE_SERVER__KAFKA__GROUP_ID": "lineage",
        "OL_BRIDGE_SERVER__KAFKA__BATCH_SIZE": "50",
        "OL_BRIDGE_SERVER__DELIVERY__MAX_EVENTS_PER_DESTINATION": "500",
        "OL_BRIDGE_SERVER__REFUSE_WHILE_DOWN": "true",
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
    assert (config.kafka.group_id, config.kafka.batch_size) == ("lineage", 50)
    assert config.delivery.max_events_per_destination == 500
    assert config.outbox_where() == "postgresql://etl:pw@db/lineage"
    assert config.refuse_while_down is True
    assert "t0ken" not in repr(config)
    assert load_config(environ={}, overrides={"port": 8000}).port == 8000


def test_defaults_are_stated_once_and_documented() -> None:
    config = ServerConfig()
    assert (config.host, config.port, config.token, config.source) == (
        "127.0.0.1",
        5000,
        None,
        "http",
    )
    assert config == ServerConfig.from_dict({})
    assert default_outbox_path({}) == Path(".ol-bridge/serve-outbox.sqlite")
    assert default_outbox_path({"OL_BRIDGE_HOME": "/srv/olb"}) == Path(
        "/srv/olb/serve-outbox.sqlite"
    )
    documented = (Path(__file__).parents[2] / "docs" / "server.md").read_text()
    for field in ("max_pending_requests", "header_timeout_sec", "refuse_while_down"):
        assert f"`{field}`" in documented


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OL_BRIDGE_SERVER__PROT": "1"}, r"Unknown key\(s\) \['prot'\] in the `server` settings"),
        ({"OL_BRIDGE_SERVER__KAFKA__TOPICS": "x"}, r"Unknown key\(s\) \['topics'\] in the `kafka`"),
        ({"OL_BRIDGE_SERVER__DATAHUB__SINKS": "x"}, r"Unknown key\(s\) \['sinks'\]"),
        ({"OL_BRIDGE_SERVER__DELIVERY__PATHS": "x"}, r"Unknown key\(s\) \['paths'\]"),
        ({"OL_BRIDGE_SERVER__PORT": "http"}, r"`port` must be a number, got 'http'"),
        ({"OL_BRIDGE_SERVER__PORT": "70000"}, r"`port` must be between 0 and 65535"),
        ({"OL_BRIDGE_SERVER__SOURCE": "pulsar"}, r"`source` must be `http` or `kafka`"),
        ({"OL_BRIDGE_SERVER__RELAY__M__URL": "x"}, r"`relay.m` must be an OpenLineage transport"),
        ({"OL_BRIDGE_SERVER__RELAY__DATAHUB__TYPE": "http"}, r"the DataHub destination's"),
        ({"OL_BRIDGE_SERVER__TOKEN": ""}, r"set but empty"),
        ({"OL_BRIDGE_SERVER__PUBLIC_STATUS": "maybe"}, r"`public_status` must be true or false"),
        ({"OL_BRIDGE_SERVER__DELIVERY__OUTBOX": "false"}, r"always commits accepted events"),
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
