"""The sensor configured only the OpenLineage way (environment, openlineage.yml), sending
over real HTTP to loopback receivers that speak Marquez's wire format."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ol_bridge.dagster import build_openlineage_sensor
from tests.dagster import jobs
from tests.dagster.helpers import run, tick_until_idle

REQUIRED = ("eventTime", "producer", "job", "run")


class LineageReceiver:
    """``POST /api/v1/lineage`` -> 201 with an empty body (400 when a required field is
    missing), as Marquez answers; remembers bodies and Authorization headers."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.authorizations: list[str | None] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                event = json.loads(body)
                receiver.paths.append(self.path)
                receiver.authorizations.append(self.headers.get("Authorization"))
                missing = [key for key in REQUIRED if key not in event]
                if missing:
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(json.dumps({"missing": missing}).encode())
                    return
                receiver.events.append(event)
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LineageReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[LineageReceiver]:
    with LineageReceiver() as server:
        yield server


@pytest.fixture
def clean_openlineage_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("OPENLINEAGE"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray openlineage.yml from the working directory


def test_sensor_uses_openlineage_url_and_api_key(
    instance, receiver, clean_openlineage_env, monkeypatch, ol_validator
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    monkeypatch.setenv("OPENLINEAGE_ENDPOINT", "api/v1/lineage")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "secret-token")
    sensor = build_openlineage_sensor()  # no arguments: standard OpenLineage configuration
    defs = jobs.definitions(sensor)
    run_id = run(defs, "failing_job", instance)
    tick_until_idle(sensor, instance, defs)

    assert [e["eventType"] for e in receiver.events] == ["START", "START", "FAIL", "FAIL"]
    assert {e["run"]["facets"]["dagster_run"]["dagsterRunId"] for e in receiver.events} == {run_id}
    assert set(receiver.paths) == {"/api/v1/lineage"}
    assert set(receiver.authorizations) == {"Bearer secret-token"}
    for event in receiver.events:
        ol_validator.validate(event)


def test_sensor_fans_out_with_openlineage_yml(
    instance, clean_openlineage_env, tmp_path: Path, monkeypatch
) -> None:
    with LineageReceiver() as datahub_like, LineageReceiver() as marquez_like:
        config = tmp_path / "openlineage.yml"
        config.write_text(
            "transport:\n"
            "  type: composite\n"
            "  continue_on_failure: false\n"
            "  transports:\n"
            "    datahub:\n"
            "      type: http\n"
            f"      url: {datahub_like.url}\n"
            "      endpoint: openapi/openlineage/api/v1/lineage\n"
            "    marquez:\n"
            "      type: http\n"
            f"      url: {marquez_like.url}\n"
            "      endpoint: api/v1/lineage\n",
            encoding="utf-8",
        )
        monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))
        sensor = build_openlineage_sensor()
        defs = jobs.definitions(sensor)
        run(defs, "asset_job", instance)
        tick_until_idle(sensor, instance, defs)

    assert len(datahub_like.events) == len(marquez_like.events) == 10
    assert set(datahub_like.paths) == {"/openapi/openlineage/api/v1/lineage"}
    assert set(marquez_like.paths) == {"/api/v1/lineage"}
    assert [e["run"]["runId"] for e in datahub_like.events] == [
        e["run"]["runId"] for e in marquez_like.events
    ]
