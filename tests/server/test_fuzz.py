"""Property-based fuzzing of the receiver over real HTTP, 10,000 bodies: never a 5xx for
input, and never a keep-alive connection dropped without ``Connection: close``.

Every request goes over one ``http.client`` connection: when the server closes it without
saying so (what uvicorn did after each 500), the next request fails and so does the test.
Names and facets are drawn from the edge cases issue 17 found (``.x``, ``urn:li:x``,
``../../etc/passwd``, an empty column name, lone surrogates, 5,000-character names, ...).
"""

from __future__ import annotations

import copy
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ol_bridge.datahub.transport import event_to_dict
from tests.fakes import dagster_run_events
from tests.fakes.gms import running_gms
from tests.server.helpers import Running, running_server, server_config

ANSWERS = {201, 400, 401, 413, 415}
TOKEN = "fuzz-token"
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

#: names that broke the converter or the sinks (issue 17), and their neighbours
EDGE_NAMES = [
    ".x", "x.", "..", ".", "", " ", "../../../../etc/passwd", "urn:li:x", "urn:li:corpuser:x",
    "urn:li:dataset:(x,y,z)", "urn:li:dataPlatform:", "(", ")", ",", "a,b", "a:b", "::", "//",
    "x\ud800", "\udc00", "\x00", "é", "日本", "🙂", "a" * 5000, "a" * 4096, "%", "%2F", "\\",
    'q"uote', "tab\tname", "line\nbreak", "s3://bucket/key", "postgres://db:5432",
    "jdbc:postgresql://db/sales?password=x", "file:///tmp/x", "a.b.c.d.e.f",
]  # fmt: skip
edge_names = st.sampled_from(EDGE_NAMES) | st.text(max_size=12)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | edge_names,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(edge_names, children, max_size=4)
    ),
    max_leaves=20,
)
#: Paths into a valid event where a mutation lands.
TARGETS = [
    (),
    ("run",),
    ("run", "runId"),
    ("run", "facets"),
    ("run", "facets", "parent"),
    ("job",),
    ("job", "name"),
    ("job", "namespace"),
    ("job", "facets"),
    ("eventTime",),
    ("eventType",),
    ("inputs",),
    ("inputs", 0, "namespace"),
    ("inputs", 0, "name"),
    ("outputs", 0, "name"),
    ("outputs", 0, "facets", "columnLineage", "fields"),
    ("outputs", 0, "facets", "schema", "fields"),
    ("schemaURL",),
    ("producer",),
]
NAME_TARGETS = [
    ("job", "name"),
    ("job", "namespace"),
    ("inputs", 0, "namespace"),
    ("inputs", 0, "name"),
    ("outputs", 0, "namespace"),
    ("outputs", 0, "name"),
]


class KeepAliveClient:
    """One HTTP/1.1 connection; fails if the server drops it without ``Connection: close``."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self._connection = http.client.HTTPConnection(host, int(port), timeout=30)
        self.requests = self.reconnects = 0

    def post(self, body: bytes, headers: dict[str, Any]) -> tuple[int, bytes]:
        before = self._connection.sock
        self._connection.request("POST", "/api/v1/lineage", body=body, headers=headers)
        response = self._connection.getresponse()
        payload = response.read()
        self.requests += 1
        if before is not None and self._connection.sock is not before:
            self.reconnects += 1
        if response.getheader("connection", "").lower() == "close":
            self._connection.close()  # announced: the next request may open a new one
        return response.status, payload

    def close(self) -> None:
        self._connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    # DataHub is the loopback GMS: this test is about the answers, and Lite's writes would
    # spend the time budget on the mutations that stay valid.
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    with running_gms() as gms:
        config = server_config(
            tmp,
            datahub={"sink": "rest", "server": gms.url},
            token=TOKEN,
            max_body_bytes=65_536,
        )
        with running_server(config) as running:
            yield running


@pytest.fixture(scope="module")
def client(server: Running) -> Iterator[KeepAliveClient]:
    http_client = KeepAliveClient(server.url)
    yield http_client
    http_client.close()


def _check(client: KeepAliveClient, body: bytes, headers: dict[str, Any] = HEADERS) -> None:
    status, payload = client.post(body, headers)
    assert status in ANSWERS, (status, payload[:300], body[:200])
    if status != 201:
        assert set(json.loads(payload)) >= {"error", "field", "message"}


def _event(which: int) -> dict[str, Any]:
    return event_to_dict(dagster_run_events()[which])


def _mutate(event: dict[str, Any], path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    mutated = copy.deepcopy(event)
    if not path:
        return value
    node: Any = mutated
    for key in path[:-1]:
        if isinstance(node, dict) and isinstance(key, str):
            node = node.setdefault(key, {})
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return mutated
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        if delete:
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    return mutated


def _dumps(document: Any) -> bytes:
    return json.dumps(document).encode()  # lone surrogates travel as \ud800 escapes


@settings(FUZZ, max_examples=2_000)
@given(body=st.binary(max_size=2_000))
def test_random_bytes(client: KeepAliveClient, body: bytes) -> None:
    _check(client, body)


@settings(FUZZ, max_examples=1_500)
@given(document=json_values)
def test_random_json_documents(client: KeepAliveClient, document: Any) -> None:
    _check(client, _dumps(document))


@settings(FUZZ, max_examples=3_000)
@given(
    which=st.integers(min_value=0, max_value=3),
    path=st.sampled_from(TARGETS),
    value=json_values,
    delete=st.booleans(),
    as_batch=st.booleans(),
)
def test_mutated_events(
    client: KeepAliveClient,
    which: int,
    path: tuple[Any, ...],
    value: Any,
    delete: bool,
    as_batch: bool,
) -> None:
    mutated = _mutate(_event(which), path, value, delete)
    _check(client, _dumps([mutated] if as_batch else mutated))


@settings(FUZZ, max_examples=2_000)
@given(
    names=st.lists(st.tuples(st.sampled_from(NAME_TARGETS), edge_names), min_size=1, max_size=3),
    column=edge_names,
    source_column=edge_names,
)
def test_edge_case_names_and_column_lineage(
    client: KeepAliveClient,
    names: list[tuple[tuple[Any, ...], str]],
    column: str,
    source_column: str,
) -> None:
    event = _event(2)  # the step's COMPLETE: an input, an output with schema and lineage
    lineage = event["outputs"][0]["facets"]["columnLineage"]
    lineage["fields"] = {
        column: {
            "inputFields": [
                {**lineage["fields"]["total"]["inputFields"][0], "field": source_column}
            ]
        }
    }
    event["outputs"][0]["facets"]["schema"]["fields"][0]["name"] = column
    for path, name in names:
        event = _mutate(event, path, name, delete=False)
    _check(client, _dumps(event))


@settings(FUZZ, max_examples=1_500)
@given(
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/x+json"]),
    encoding=st.sampled_from(["identity", "gzip", "deflate", ""]),
    authorization=st.sampled_from(
        [f"Bearer {TOKEN}", "Bearer", "Basic x", "", "Bearer \u00e9", f"bearer  {TOKEN} "]
    ),
    body=st.binary(max_size=200),
)
def test_random_headers(
    client: KeepAliveClient, content_type: str, encoding: str, authorization: str, body: bytes
) -> None:
    headers = {
        "Content-Type": content_type.encode(),
        "Content-Encoding": encoding.encode(),
        # bytes: HTTP headers may carry Latin-1
        "Authorization": authorization.encode("latin-1"),
    }
    _check(client, body, headers)


def test_every_request_kept_its_connection(client: KeepAliveClient, server: Running) -> None:
    assert client.requests >= 10_000
    assert client.reconnects == 0
    assert server.metrics.value("rejected") > 0
    assert server.metrics.value("accepted") > 0
