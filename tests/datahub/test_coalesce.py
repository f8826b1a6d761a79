"""Coalescing a batch's proposals: fewer of them, the same DataHub afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    DataJobInfoClass,
    DataProcessInstanceRunEventClass,
    StatusClass,
)

from ol_bridge.datahub.coalesce import coalesce
from ol_bridge.datahub.converter import convert_event, convert_events
from ol_bridge.datahub.patches import add, patch_proposal
from ol_bridge.datahub.sinks.base import Proposal
from ol_bridge.datahub.sinks.lite import LiteSink, open_lite
from ol_bridge.datahub.transport import event_to_dict
from tests.fakes import dagster_run_events

FLOW = "urn:li:dataFlow:(dagster,etl,prod)"
JOB = f"urn:li:dataJob:({FLOW},etl.load)"
DPI = "urn:li:dataProcessInstance:0123456789abcdef"


def info(name: str) -> MetadataChangeProposalWrapper:
    return MetadataChangeProposalWrapper(
        entityUrn=JOB, aspect=DataJobInfoClass(name=name, type="COMMAND")
    )


def patch(*ops: tuple[str, Any]) -> Proposal:
    return patch_proposal(
        "dataJob", JOB, "dataJobInputOutput", [add(("inputDatasets", p), v) for p, v in ops]
    )


def patch_ops(mcp: Proposal) -> list[Any]:
    return list(json.loads(mcp.aspect.value))  # type: ignore[union-attr]


def run_event(millis: int) -> MetadataChangeProposalWrapper:
    return MetadataChangeProposalWrapper(
        entityUrn=DPI,
        aspect=DataProcessInstanceRunEventClass(timestampMillis=millis, status="STARTED"),
    )


def test_only_the_last_upsert_of_an_aspect_is_kept_in_its_place() -> None:
    status = MetadataChangeProposalWrapper(entityUrn=JOB, aspect=StatusClass(removed=False))
    out = coalesce([info("first"), status, info("last")])
    assert [m.aspectName for m in out] == ["status", "dataJobInfo"]
    assert out[1].aspect.name == "last"  # type: ignore[union-attr]


def test_timeseries_aspects_are_all_kept() -> None:
    assert coalesce([run_event(1), run_event(2)]) == [run_event(1), run_event(2)]


def test_patches_merge_into_one_keeping_each_operation_once_at_its_last_place() -> None:
    out = coalesce([patch(("a", 1), ("b", 1)), patch(("b", 2)), patch(("a", 1))])
    assert len(out) == 1
    # /a=1 applied last must still be applied after /b=2; the first /a=1 is redundant
    assert [(op["path"], op["value"]) for op in patch_ops(out[0])] == [
        ("/inputDatasets/b", 1),
        ("/inputDatasets/b", 2),
        ("/inputDatasets/a", 1),
    ]


def test_a_key_mixing_upserts_and_patches_is_left_alone() -> None:
    upsert = MetadataChangeProposalWrapper(
        entityUrn=JOB, aspect=DataJobInfoClass(name="x", type="COMMAND")
    )
    mixed = patch_proposal("dataJob", JOB, "dataJobInfo", [add(("name",), "y")])
    batch = [upsert, mixed, upsert]
    assert coalesce(batch) == batch


def test_a_single_patch_is_passed_through_untouched() -> None:
    single = patch(("a", 1))
    assert coalesce([single])[0] is single


def test_a_run_converts_to_fewer_proposals_and_the_same_datahub_lite(tmp_path: Path) -> None:
    events = [event_to_dict(e) for e in dagster_run_events()]
    one_by_one_path, coalesced_path = tmp_path / "one.duckdb", tmp_path / "batch.duckdb"
    one_by_one = LiteSink(one_by_one_path)
    proposals = 0
    for event in events:
        mcps = convert_event(event)
        proposals += len(mcps)
        one_by_one.write(mcps)
    one_by_one.close()
    coalesced = convert_events(events)
    assert len(coalesced) < proposals
    batch = LiteSink(coalesced_path)
    batch.write(coalesced)
    batch.close()

    assert stored(coalesced_path) == stored(one_by_one_path)


def stored(path: Path) -> dict[str, Any]:
    lite = open_lite(path, read_only=True)
    try:
        return {urn: lite.get(urn, None) for urn in sorted(lite.list_ids())}
    finally:
        lite.close()
