"""Property-based fuzzing of the receiver over real HTTP: no 5xx, no crash, whatever arrives."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ol_bridge.datahub.transport import event_to_dict
from ol_bridge.server.config import ServerConfig
from tests.fakes import dagster_run_events
from tests.server.helpers import Running, running_server

ANSWERS = {201, 400, 401, 413, 415}
TOKEN = "fuzz-token"
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
#: Paths into a valid event where a mutation lands.
TARGETS = [
    (),
    ("run",),
    ("run", "runId"),
    ("run", "facets"),
    ("job",),
    ("job", "name"),
    ("job", "facets"),
    ("eventTime",),
    ("eventType",),
    ("inputs",),
    ("outputs",),
    ("schemaURL",),
    ("producer",),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    # The file sink: this test is about what reaches the sink, and Lite's writes would
    # spend the time budget on the few mutations that stay valid.
    metadata: Path = tmp_path_factory.mktemp("fuzz") / "mcps.json"
    config = ServerConfig.from_dict(
        {
            "datahub": {"sink": "file", "file_path": str(metadata)},
            "token": TOKEN,
            "max_body_bytes": 65_536,
        }
    )
    with running_server(config) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: Running) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=HEADERS, timeout=30) as http:
        yield http


def _check(client: httpx.Client, body: bytes, headers: dict[str, bytes] | None = None) -> None:
    answer = client.post("/api/v1/lineage", content=body, headers=headers)
    assert answer.status_code in ANSWERS, (answer.status_code, answer.text, body[:200])
    if answer.status_code != 201:
        assert set(answer.json()) >= {"error", "field", "message"}


@settings(FUZZ, max_examples=1_000)
@given(body=st.binary(max_size=2_000))
def test_random_bytes(client: httpx.Client, body: bytes) -> None:
    _check(client, body)


@settings(FUZZ, max_examples=1_000)
@given(document=json_values)
def test_random_json_documents(client: httpx.Client, document: Any) -> None:
    _check(client, json.dumps(document).encode())


def _mutate(event: dict[str, Any], path: tuple[str, ...], value: Any, delete: bool) -> Any:
    mutated = copy.deepcopy(event)
    if not path:
        return value
    node = mutated
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node
    if isinstance(node, dict):
        if delete:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return mutated


@settings(FUZZ, max_examples=300)
@given(
    which=st.integers(min_value=0, max_value=3),
    path=st.sampled_from(TARGETS),
    value=json_values,
    delete=st.booleans(),
    as_batch=st.booleans(),
)
def test_mutated_events(
    client: httpx.Client,
    which: int,
    path: tuple[str, ...],
    value: Any,
    delete: bool,
    as_batch: bool,
) -> None:
    event = event_to_dict(dagster_run_events()[which])
    mutated = _mutate(event, path, value, delete)
    _check(client, json.dumps([mutated] if as_batch else mutated).encode())


@settings(FUZZ, max_examples=400)
@given(
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/x+json"]),
    encoding=st.sampled_from(["identity", "gzip", "deflate", ""]),
    authorization=st.sampled_from([f"Bearer {TOKEN}", "Bearer", "Basic x", "", "Bearer \u00e9"]),
    body=st.binary(max_size=200),
)
def test_random_headers(
    client: httpx.Client, content_type: str, encoding: str, authorization: str, body: bytes
) -> None:
    headers = {
        "Content-Type": content_type.encode(),
        "Content-Encoding": encoding.encode(),
        # bytes: HTTP headers may carry Latin-1, which httpx refuses in a str
        "Authorization": authorization.encode("latin-1"),
    }
    _check(client, body, headers)


def test_server_still_healthy_after_fuzzing(client: httpx.Client, server: Running) -> None:
    assert client.get("/health").status_code == 200
    assert server.metrics.value("rejected") > 0
