"""The REST sink's Rest.li requests are byte for byte those acryl-datahub's ``emit_mcps``
sends for the same proposals, on the loopback GMS (tests/fakes/gms.py).

Both paths post through one ``DataHubRestEmitter`` whose ``_emit_generic`` (where every
body goes out) is wrapped to record the bodies; the clock is frozen, as the system metadata
carries it. The proposals: the converted corpora (older and newest) and the sensor-shaped
events of the fakes, with batches large enough to be split at the 200-proposal limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.rest_emitter import DataHubRestEmitter, EmitMode
from datahub.metadata.schema_classes import SystemMetadataClass

from ol_bridge.datahub import convert_events
from ol_bridge.datahub.sinks import restli_body
from ol_bridge.datahub.sinks.rest import RestSink
from ol_bridge.datahub.transport import event_to_dict
from tests.corpora import COMPAT_DIR, DATA_DIR
from tests.fakes import dagster_run_events
from tests.fakes.gms import running_gms

NOW_MS = 1_740_823_200_000


def corpus_events() -> list[dict[str, Any]]:
    paths = sorted((COMPAT_DIR / "input").glob("*/*.json"))
    paths += sorted((DATA_DIR / "datahub-ol-newest" / "input").glob("*.json"))
    events = [json.loads(p.read_text()) for p in paths]
    events = [e for e in events if e.get("run", {}).get("runId") != "run_id"]
    return events + [event_to_dict(e) for e in dagster_run_events()]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    bodies: list[tuple[str, str]] = []
    original = DataHubRestEmitter._emit_generic

    def record(self: DataHubRestEmitter, url: str, payload: Any, method: str = "POST") -> Any:
        bodies.append((url, payload if isinstance(payload, str) else json.dumps(payload)))
        return original(self, url, payload, method)

    monkeypatch.setattr(DataHubRestEmitter, "_emit_generic", record)
    monkeypatch.setattr("time.time", lambda: NOW_MS / 1000)
    yield bodies


def test_rest_sink_sends_what_emit_mcps_sends(recorded: list[tuple[str, str]]) -> None:
    proposals = convert_events(corpus_events())
    assert len(proposals) > 400  # more than two full requests
    with running_gms() as gms:
        sink = RestSink(gms.url)
        sink.write(proposals)
        ours = list(recorded)
        recorded.clear()
        emitter = DataHubRestEmitter(gms.url)
        # emit_mcps stamps system metadata in place: give it copies
        copies = [
            MetadataChangeProposalWrapper(entityUrn=m.entityUrn, aspect=m.aspect)
            if isinstance(m, MetadataChangeProposalWrapper)
            else type(m).from_obj(m.to_obj())
            for m in proposals
        ]
        emitter.emit_mcps(copies, emit_mode=EmitMode.SYNC_PRIMARY)
        theirs = list(recorded)
        sink.close()
        emitter.close()
    assert len(ours) == len(theirs) >= 3
    for (our_url, our_body), (their_url, their_body) in zip(ours, theirs, strict=True):
        assert our_url == their_url
        assert our_body == their_body


def test_proposals_with_their_own_system_metadata_keep_it() -> None:
    proposal = convert_events(corpus_events()[:1])[0]
    assert isinstance(proposal, MetadataChangeProposalWrapper)
    stamped = MetadataChangeProposalWrapper(
        entityUrn=proposal.entityUrn,
        aspect=proposal.aspect,
        systemMetadata=SystemMetadataClass(lastObserved=5, runId="backfill-1"),
    )
    body = json.loads(restli_body.batch_bodies([stamped], now_ms=NOW_MS)[0])["proposals"][0]
    system = body["systemMetadata"]
    assert (system["runId"], system["lastObserved"]) == ("backfill-1", 5)
    assert set(system["properties"]) == {"clientId", "clientVersion"}  # as emit_mcps adds
    assert stamped.systemMetadata.properties is None  # the proposal itself is unchanged
