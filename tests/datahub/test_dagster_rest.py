"""Real sensor events to a loopback GMS: through our REST sink and through DataHub's own
OpenLineage endpoint at once (a ``composite`` transport), as a user switching paths would.

* Requests per Dagster run through the REST sink are counted and printed.
* The events DataHub's endpoint receives name, by DataHub's mapping rules, exactly the
  entities our converter wrote: switching paths creates no duplicate DataFlow, DataJob,
  DataProcessInstance or dataset.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import pytest

from ol_bridge.datahub import convert_events
from tests.dagster import jobs
from tests.datahub.sensor_runs import emit_runs
from tests.fakes import fan_out_client
from tests.fakes.gms import running_gms

OL_ENDPOINT = "/openapi/openlineage/api/v1/lineage"
DOTTED = "ol_bridge.datahub.transport.DatahubTransport"


def datahub_endpoint_urns(event: dict[str, Any]) -> set[str]:
    """Entities DataHub's OpenLineage endpoint writes for one of our Dagster events.

    Written independently of the converter, from DataHub's rules (``OpenLineageToDataHub``):
    orchestrator = the ``jobType`` integration lower-cased; DataFlow id = job name up to
    its first dot, cluster = job namespace; DataJob id = the full job name; the
    DataProcessInstance id is the OL run id; a dataset ``<scheme>://...`` namespace names
    the platform and the dataset name is kept (env PROD); each input data quality
    assertion is ``urn:li:assertion:<name-based UUID of dataset:column:assertion>``
    (``OpenLineageRunMapper.processDataQualityAssertions``).
    """
    job = event["job"]
    orchestrator = job["facets"]["jobType"]["integration"].lower()
    flow = f"urn:li:dataFlow:({orchestrator},{job['name'].split('.', 1)[0]},{job['namespace']})"
    urns = {flow, f"urn:li:dataJob:({flow},{job['name']})"}
    urns.add(f"urn:li:dataProcessInstance:{event['run']['runId']}")
    for item in [*event.get("inputs", []), *event.get("outputs", [])]:
        platform = urlsplit(item["namespace"]).scheme
        dataset = f"urn:li:dataset:(urn:li:dataPlatform:{platform},{item['name']},PROD)"
        urns.add(dataset)
        checks = item.get("inputFacets", {}).get("dataQualityAssertions", {})
        for check in checks.get("assertions", []):
            seed = f"{dataset}:{check.get('column') or ''}:{check['assertion']}"
            urns.add(f"urn:li:assertion:{name_uuid(seed)}")
    return urns


def name_uuid(name: str) -> str:
    """Java's ``UUID.nameUUIDFromBytes``: MD5 of the bytes, version 3, IETF variant."""
    digest = bytearray(hashlib.md5(name.encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    hex_ = digest.hex()
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"


@pytest.fixture(scope="module")
def both_paths(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running_gms() as gms:
        client = fan_out_client(
            datahub_rest={"type": DOTTED, "sink": "rest", "server": gms.url},
            datahub_endpoint={"type": "http", "url": gms.url, "endpoint": OL_ENDPOINT.lstrip("/")},
        )
        per_tick: list[int] = []

        def count_tick() -> None:
            rest = [r for r in gms.ingest_requests if r.path != OL_ENDPOINT]
            per_tick.append(len(rest) - sum(per_tick))

        temp_dir = str(tmp_path_factory.mktemp("rest"))
        with dg.instance_for_test(temp_dir=temp_dir) as instance:
            run_ids = emit_runs(
                instance, client, jobs.definitions, ["asset_job", "failing_job"], on_tick=count_tick
            )
        client.close()
        yield gms, run_ids, per_tick


def test_rest_requests_per_dagster_run(both_paths: Any, capsys: pytest.CaptureFixture[str]) -> None:
    gms, run_ids, per_tick = both_paths
    rest = [r for r in gms.ingest_requests if r.path != OL_ENDPOINT]
    events = gms.openlineage_events
    per_run = Counter(e["run"]["facets"]["dagster_run"]["dagsterRunId"] for e in events)
    proposals = len(gms.proposals)
    with capsys.disabled():
        print(
            f"\nREST sink via the sensor: {len(run_ids)} Dagster runs, {len(events)} OL events, "
            f"{proposals} proposals, {len(rest)} ingest requests "
            f"({len(rest) / len(run_ids):.1f} per run; per tick {per_tick}), "
            f"{sum(r.body_bytes for r in rest)} bytes"
        )
    assert {r.query["action"][0] for r in rest} == {"ingestProposalBatch"}
    # The outbox hands each tick's events to the transport as one batch: at most one ingest
    # request per tick while it fits one request; never one per aspect or per event.
    # asset_job is 10 events, failing_job 4.
    assert sorted(per_run.values()) == [4, 10]
    assert all(requests <= 1 for requests in per_tick) and len(rest) == sum(per_tick) == 1


def test_datahub_endpoint_and_converter_name_the_same_entities(both_paths: Any) -> None:
    gms, run_ids, _ = both_paths
    received = gms.openlineage_events
    assert {e["run"]["facets"]["dagster_run"]["dagsterRunId"] for e in received} == set(run_ids)

    written = {p["entityUrn"] for p in gms.proposals}
    by_datahub = set().union(*(datahub_endpoint_urns(e) for e in received))
    assert written == by_datahub
    # The endpoint's copy of the events converts to exactly what the REST sink wrote
    # (the sink's batch coalesced: each aspect of each entity once, run events all kept).
    reconverted = [(str(m.entityUrn), m.aspectName) for m in convert_events(received)]
    assert Counter(reconverted) == Counter((p["entityUrn"], p["aspectName"]) for p in gms.proposals)
