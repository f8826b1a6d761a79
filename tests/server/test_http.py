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
from tests.fakes import PRODUCER, dagster_run_events, fan_out_client
from tests.server.helpers import (
    FakeMarquez,
    Running,
    lite_contents,
    running_server,
    server_config,
    wait_for,
)

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
def server(tmp_path: Path) -> Iterator[Running]:
    with running_server(server_config(tmp_path, token=TOKEN, max_body_bytes=200_000)) as running:
        yield running


def delivered(server: Running, count: int) -> None:
    wait_for(lambda: server.metrics.value("delivered", destination="datahub") >= count, "delivery")


def http_client(url: str, **extra: Any) -> OpenLineageClient:
    return OpenLineageClient(config={"transport": {"type": "http", "url": url, **extra}})


def test_openlineage_http_transport_with_api_key_lands_in_datahub_lite(
    server: Running, lite_path: Path
) -> None:
    client = http_client(server.url, auth={"type": "api_key", "apiKey": TOKEN})
    for event in dagster_run_events():
        client.emit(event)
    client.close()

    delivered(server, 4)
    contents = lite_contents(lite_path)
    assert set(contents) == expected_urns(dagster_run_events())
    run = contents["urn:li:dataProcessInstance:0f5f6b4e-1d1c-4bb3-9e84-6d2a7a1f0c11"]
    assert run["dataProcessInstanceRunEvent"]["status"] == "COMPLETE"
    assert (server.metrics.value("received"), server.metrics.value("accepted")) == (4, 4)


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
    # The same events again, as one JSON array: recognised, not queued twice.
    answer = httpx.post(f"{server.url}/api/v1/lineage", json=events_json(), headers=AUTH)
    assert (answer.status_code, answer.json()) == (201, {"received": 4})
    delivered(server, 4)
    assert set(lite_contents(lite_path)) == expected_urns(dagster_run_events())
    assert server.metrics.value("received") == 8
    assert server.metrics.value("duplicates") == 4


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
    delivered(server, 2)
    assert set(lite_contents(lite_path)) == expected_urns([job_event, dataset_event])


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
    assert answer.json()["message"] == (
        "job.name cannot be converted to DataHub metadata: "
        "job.namespace and job.name must be non-empty strings"
    )
    assert server.metrics.value("accepted") == 0


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
    assert server.metrics.value("accepted") == 1
    gzipped = {**AUTH, "Content-Encoding": "gzip"}
    corrupt = _post(server, b"\x1f\x8b\x08\x00garbage", gzipped)
    assert corrupt.status_code == 400
    # a second gzip member is part of the body (RFC 1952); bytes after the end are not
    first, second = (json.dumps(e).encode() for e in events_json()[1:3])
    members = gzip.compress(b"[" + first + b",") + gzip.compress(second + b"]")
    assert _post(server, members, gzipped).json() == {"received": 2}
    trailing = _post(server, gzip.compress(first) + b"trailing garbage", gzipped)
    assert trailing.status_code == 400
    assert "bytes after its end" in trailing.json()["message"]


def test_health_and_metrics_need_the_token_for_their_details(server: Running) -> None:
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/metrics").status_code == 401
    _post(server, json.dumps(events_json()[:2]).encode())
    _post(server, b"{}", JSON)
    delivered(server, 2)
    health = httpx.get(f"{server.url}/health", headers=AUTH).json()
    assert health["status"] == "ok"
    assert health["destinations"]["datahub"]["state"] == "up"
    assert health["destinations"]["datahub"]["delivered"] == 2
    metrics = httpx.get(f"{server.url}/metrics", headers=AUTH)
    assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    values = [line for line in metrics.text.splitlines() if not line.startswith("#")]
    assert values == [
        "ol_bridge_events_received_total 2",
        "ol_bridge_events_accepted_total 2",
        "ol_bridge_events_duplicates_total 0",
        'ol_bridge_events_delivered_total{destination="datahub"} 2',
        "ol_bridge_events_parked_total 0",
        'ol_bridge_events_rejected_total{reason="unauthorized"} 1',
        "ol_bridge_events_unavailable_total 0",
        'ol_bridge_events_queued{destination="datahub"} 0',
    ]


def test_a_non_ascii_token_works_utf8_or_latin1_encoded(tmp_path: Path) -> None:
    token = "s\u00e9same"
    with running_server(server_config(tmp_path, token=token)) as running:
        body = json.dumps(events_json()[0]).encode()
        for encoded in (token.encode("utf-8"), token.encode("latin-1")):
            headers = {"Content-Type": "application/json", "Authorization": b"Bearer " + encoded}
            answer = httpx.post(f"{running.url}/api/v1/lineage", content=body, headers=headers)
            assert answer.status_code == 201
        wrong = {"Content-Type": "application/json", "Authorization": b"Bearer s\xc3\xa9sam"}
        answer = httpx.post(f"{running.url}/api/v1/lineage", content=body, headers=wrong)
        assert answer.status_code == 401
