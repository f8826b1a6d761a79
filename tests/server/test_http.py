"""The real receiver (uvicorn + Starlette on 127.0.0.1) driven by openlineage-python."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import DatasetEvent, JobEvent, StaticDataset
from openlineage.client.event_v2 import Job as JobRef

from ol_bridge.datahub.converter import convert_event
from ol_bridge.datahub.transport import event_to_dict
from ol_bridge.server.config import ServerConfig
from tests.fakes import PRODUCER, dagster_run_events, fan_out_client
from tests.server.helpers import FakeMarquez, Running, lite_contents, running_server

TOKEN = "s3cret-token"
JSON = {"Content-Type": "application/json"}
AUTH = {**JSON, "Authorization": f"Bearer {TOKEN}"}


def expected_urns(events: list[Any]) -> set[str]:
    return {str(mcp.entityUrn) for event in events for mcp in convert_event(event_to_dict(event))}


def events_json() -> list[dict[str, Any]]:
    return [event_to_dict(event) for event in dagster_run_events()]


@pytest.fixture
def lite_path(tmp_path: Path) -> Path:
    return tmp_path / "lite.duckdb"


@pytest.fixture
def server(lite_path: Path) -> Iterator[Running]:
    config = ServerConfig.from_dict(
        {"datahub": {"lite_path": str(lite_path)}, "token": TOKEN, "max_body_bytes": 200_000}
    )
    with running_server(config) as running:
        yield running


def http_client(url: str, **extra: Any) -> OpenLineageClient:
    return OpenLineageClient(config={"transport": {"type": "http", "url": url, **extra}})


def test_openlineage_http_transport_with_api_key_lands_in_datahub_lite(
    server: Running, lite_path: Path
) -> None:
    client = http_client(server.url, auth={"type": "api_key", "apiKey": TOKEN})
    for event in dagster_run_events():
        client.emit(event)
    client.close()

    contents = lite_contents(lite_path)
    assert set(contents) == expected_urns(dagster_run_events())
    run = contents["urn:li:dataProcessInstance:0f5f6b4e-1d1c-4bb3-9e84-6d2a7a1f0c11"]
    assert run["dataProcessInstanceRunEvent"]["status"] == "COMPLETE"
    assert (server.metrics.value("received"), server.metrics.value("stored")) == (4, 4)


def test_http_transport_without_or_with_a_wrong_key_gets_401(server: Running) -> None:
    event = dagster_run_events()[0]
    for extra in ({}, {"auth": {"type": "api_key", "apiKey": "wrong"}}):
        client = http_client(server.url, retry={"total": 0}, **extra)
        with pytest.raises(requests.HTTPError, match="401"):
            client.transport.emit(event)
    assert server.metrics.value("rejected", reason="unauthorized") == 2
    assert server.metrics.value("received") == 0


def test_datahub_path_batch_and_composite_fan_out(server: Running, lite_path: Path) -> None:
    with FakeMarquez() as marquez:
        client = fan_out_client(
            ol_bridge={
                "type": "http",
                "url": server.url,
                "endpoint": "openapi/openlineage/api/v1/lineage",
                "auth": {"type": "api_key", "apiKey": TOKEN},
            },
            marquez={"type": "http", "url": marquez.url},
        )
        for event in dagster_run_events():
            client.emit(event)
        client.close()
        assert [e["run"]["runId"] for e in marquez.events] == [
            e["run"]["runId"] for e in events_json()
        ]
    # The same events again, as one JSON array: idempotent writes, same entities.
    answer = httpx.post(f"{server.url}/api/v1/lineage", json=events_json(), headers=AUTH)
    assert (answer.status_code, answer.json()) == (201, {"received": 4})
    assert set(lite_contents(lite_path)) == expected_urns(dagster_run_events())
    assert server.metrics.value("received") == 8


def test_job_and_dataset_events(server: Running, lite_path: Path) -> None:
    job_event = JobEvent(
        eventTime="2024-05-01T12:00:00Z",
        producer=PRODUCER,
        job=JobRef(namespace="airflow", name="etl.load"),
        inputs=[],
        outputs=[],
    )
    dataset_event = DatasetEvent(
        eventTime="2024-05-01T12:00:00Z",
        producer=PRODUCER,
        dataset=StaticDataset(namespace="postgres://db:5432", name="public.orders"),
    )
    client = http_client(server.url, auth={"type": "api_key", "apiKey": TOKEN})
    client.emit(job_event)
    client.emit(dataset_event)
    assert set(lite_contents(lite_path)) == expected_urns([job_event, dataset_event])
    assert server.metrics.value("stored") == 2


def _post(server: Running, body: bytes, headers: dict[str, str] = AUTH) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/lineage", content=body, headers=headers)


def test_400_names_the_bad_field(server: Running) -> None:
    event = events_json()[0]
    event["run"]["runId"] = "not-a-uuid"
    answer = _post(server, json.dumps(event).encode())
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_event",
        "field": "run.runId",
        "message": "run.runId must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6, "
        "got 'not-a-uuid' (OpenLineage RunEvent schema)",
    }
    batch = events_json()
    del batch[2]["eventTime"]
    answer = _post(server, json.dumps(batch).encode())
    assert (answer.status_code, answer.json()["field"]) == (400, "[2].eventTime")
    unconvertible = events_json()[0]
    unconvertible["job"]["name"] = ""
    answer = _post(server, json.dumps(unconvertible).encode())
    assert answer.status_code == 400
    assert answer.json()["message"] == "job.namespace and job.name must be non-empty strings"
    assert server.metrics.value("stored") == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff\xfe{}", "the body is not UTF-8 text (byte 0); send JSON"),
        (b"[" * 50_000 + b"]" * 50_000, "the JSON nests deeper than 64 levels"),
        (b"{" + b'"a":{' * 100 + b"}" * 101, "the JSON nests deeper than 64 levels"),
        (b'{"eventTime": 1e999}', "the body is not valid JSON: the number 1e999 is out of range"),
        (b"NaN", "the body is not valid JSON: NaN is not valid JSON"),
        (b"[]", "the batch is an empty array; send at least one event"),
        (b'"event"', "the body must be an event object or a JSON array of events"),
    ],
)
def test_malformed_bodies_get_400(server: Running, body: bytes, message: str) -> None:
    answer = _post(server, body)
    assert (answer.status_code, answer.json()["message"]) == (400, message)


def test_huge_integer_gets_400(server: Running) -> None:
    answer = _post(server, b'{"eventTime": ' + b"9" * 5000 + b"}")
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("the body is not valid JSON: Exceeds the limit")


def test_415_for_non_json_content_or_unknown_encoding(server: Running) -> None:
    body = json.dumps(events_json()[0]).encode()
    for headers, field in (
        ({"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"}, "Content-Type"),
        ({"Authorization": f"Bearer {TOKEN}"}, "Content-Type"),
        ({**AUTH, "Content-Encoding": "br"}, "Content-Encoding"),
    ):
        answer = _post(server, body, headers)
        assert (answer.status_code, answer.json()["field"]) == (415, field)
    answer = _post(server, body, {**AUTH, "Content-Type": "application/json; charset=utf-8"})
    assert answer.status_code == 201


def test_413_over_the_size_limit_declared_streamed_or_inflated(server: Running) -> None:
    big = json.dumps([events_json()[0]] * 400).encode()
    assert len(big) > 200_000
    assert _post(server, big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        for start in range(0, len(big), 16_384):
            yield big[start : start + 16_384]

    streamed = httpx.post(f"{server.url}/api/v1/lineage", content=chunks(), headers=AUTH)
    assert streamed.status_code == 413
    bomb = gzip.compress(b"[" + b" " * 50_000_000 + b"]")
    assert len(bomb) < 200_000
    assert _post(server, bomb, {**AUTH, "Content-Encoding": "gzip"}).status_code == 413
    assert server.metrics.value("rejected", reason="too_large") == 3


def test_gzip_body_as_the_http_transport_compresses_it(server: Running, lite_path: Path) -> None:
    client = http_client(server.url, compression="gzip", auth={"type": "api_key", "apiKey": TOKEN})
    client.emit(dagster_run_events()[0])
    assert server.metrics.value("stored") == 1
    corrupt = _post(server, b"\x1f\x8b\x08\x00garbage", {**AUTH, "Content-Encoding": "gzip"})
    assert corrupt.status_code == 400


def test_health_and_metrics(server: Running) -> None:
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok", "queued": {"datahub": 0}}
    _post(server, json.dumps(events_json()[:2]).encode())
    _post(server, b"{}", JSON)
    metrics = httpx.get(f"{server.url}/metrics")
    assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    values = [line for line in metrics.text.splitlines() if not line.startswith("#")]
    assert values == [
        "ol_bridge_events_received_total 2",
        "ol_bridge_events_converted_total 2",
        "ol_bridge_events_stored_total 2",
        "ol_bridge_events_relayed_total 0",
        'ol_bridge_events_rejected_total{reason="unauthorized"} 1',
        "ol_bridge_events_failed_total 0",
        "ol_bridge_events_duplicates_total 0",
        'ol_bridge_events_queued{destination="datahub"} 0',
    ]
