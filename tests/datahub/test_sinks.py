"""Sinks against real things: DataHub Lite (DuckDB), a loopback GMS, real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from datahub.emitter.kafka_emitter import KafkaEmitterConfig
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.ingestion.source.file import read_metadata_file
from datahub.lite.lite_local import SearchFlavor
from datahub.metadata.schema_classes import (
    DataJobInfoClass,
    FineGrainedLineageClass,
    StatusClass,
)
from datahub.specific.datajob import DataJobPatchBuilder

from ol_bridge.datahub.sinks.file import FileSink, mcp_to_file_obj
from ol_bridge.datahub.sinks.kafka import KafkaSinkConfig
from ol_bridge.datahub.sinks.lite import LiteSink, open_lite
from ol_bridge.datahub.sinks.patch import apply_patch
from ol_bridge.datahub.sinks.rest import RestSink
from ol_bridge.errors import ConfigError, DeliveryError, LitePatchError
from tests.fakes.gms import running_gms

FLOW = "urn:li:dataFlow:(dagster,iris_job,dagster)"
JOB = f"urn:li:dataJob:({FLOW},iris_job.iris_summary)"
RAW = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.raw.iris,PROD)"
OTHER = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.raw.other,PROD)"
OUT = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.analytics.iris_summary,PROD)"


def field(dataset: str, column: str) -> str:
    return f"urn:li:schemaField:({dataset},{column})"


def job_info() -> MetadataChangeProposalWrapper:
    return MetadataChangeProposalWrapper(
        entityUrn=JOB, aspect=DataJobInfoClass(name="iris_summary", type="COMMAND")
    )


def lineage_patch(inputs: list[str], column_inputs: list[str]) -> list[Any]:
    builder = DataJobPatchBuilder(JOB)
    for urn in inputs:
        builder.add_input_dataset(urn)
    builder.add_output_dataset(OUT)
    builder.add_fine_grained_lineage(
        FineGrainedLineageClass(
            upstreamType="FIELD_SET",
            downstreamType="FIELD",
            upstreams=column_inputs,
            downstreams=[field(OUT, "total")],
            transformOperation="TRANSFORM",
            confidenceScore=1.0,
        )
    )
    return list(builder.build())


# --- patch semantics (pure) -------------------------------------------------------------


def test_patch_merges_edges_and_fine_grained_lineage_like_gms() -> None:
    first = json.loads(lineage_patch([RAW], [field(RAW, "a")])[0].aspect.value)
    second = json.loads(lineage_patch([OTHER], [field(OTHER, "b")])[0].aspect.value)

    merged = apply_patch(
        "dataJobInputOutput", apply_patch("dataJobInputOutput", None, first), second
    )

    assert merged == {
        "inputDatasets": [],
        "outputDatasets": [],
        "inputDatasetEdges": [{"destinationUrn": RAW}, {"destinationUrn": OTHER}],
        "outputDatasetEdges": [{"destinationUrn": OUT}],
        "fineGrainedLineages": [
            {
                "upstreamType": "FIELD_SET",
                "upstreams": [field(RAW, "a"), field(OTHER, "b")],
                "downstreamType": "FIELD",
                "downstreams": [field(OUT, "total")],
                "confidenceScore": 1.0,
                "transformOperation": "TRANSFORM",
            }
        ],
    }


def test_patch_with_array_primary_keys_and_remove() -> None:
    owners = {
        "arrayPrimaryKeys": {"owners": ["owner", "type", "typeUrn", "attribution\u241fsource"]},
        "patch": [
            {
                "op": "add",
                "path": "/owners/urn:li:corpuser:ann/TECHNICAL_OWNER//",
                "value": {"owner": "urn:li:corpuser:ann", "type": "TECHNICAL_OWNER"},
            }
        ],
    }
    current = {
        "owners": [{"owner": "urn:li:corpuser:bob", "type": "DATAOWNER"}],
        "lastModified": {"time": 0, "actor": "urn:li:corpuser:unknown"},
    }
    added = apply_patch("ownership", current, owners)
    assert added["owners"] == [
        {"owner": "urn:li:corpuser:bob", "type": "DATAOWNER"},
        {"owner": "urn:li:corpuser:ann", "type": "TECHNICAL_OWNER"},
    ]
    removed = apply_patch(
        "ownership", added, [{"op": "remove", "path": "/owners/urn:li:corpuser:bob/DATAOWNER"}]
    )
    assert removed["owners"] == [{"owner": "urn:li:corpuser:ann", "type": "TECHNICAL_OWNER"}]


def test_patch_escaped_pointer_and_map_fields() -> None:
    patched = apply_patch(
        "dataJobInfo",
        {"name": "n", "type": "COMMAND", "customProperties": {}},
        [{"op": "add", "path": "/customProperties/a~1b~0c", "value": "v"}],
    )
    assert patched["customProperties"] == {"a/b~c": "v"}


def test_patch_rejects_unsupported_operations() -> None:
    with pytest.raises(LitePatchError, match="'move'"):
        apply_patch("status", {"removed": False}, [{"op": "move", "from": "/a", "path": "/b"}])
    with pytest.raises(LitePatchError, match="not a list of JSON patch operations"):
        apply_patch("status", None, {"patch": "nope"})


# --- DataHub Lite -------------------------------------------------------------------------


def test_lite_sink_applies_patches_and_is_readable_with_the_lite_api(tmp_path: Path) -> None:
    path = tmp_path / "lite" / "datahub.duckdb"
    sink = LiteSink(path)
    sink.write([job_info(), *lineage_patch([RAW], [field(RAW, "a")])])
    # A later event adds lineage; it must not wipe what the first one set.
    sink.write(lineage_patch([OTHER], [field(OTHER, "b")]))
    sink.close()

    lite = open_lite(path, read_only=True)
    try:
        stored = lite.get(JOB, ["dataJobInputOutput"])
        assert stored is not None
        io = stored["dataJobInputOutput"]
        assert isinstance(io, dict)
        assert [e["destinationUrn"] for e in io["inputDatasetEdges"]] == [RAW, OTHER]
        assert [e["destinationUrn"] for e in io["outputDatasetEdges"]] == [OUT]
        assert io["fineGrainedLineages"][0]["upstreams"] == [field(RAW, "a"), field(OTHER, "b")]
        assert sorted(lite.list_ids()) == [JOB]
        hits = {(h.id, h.aspect) for h in lite.search("iris_summary", SearchFlavor.FREE_TEXT)}
        assert (JOB, "dataJobInfo") in hits
    finally:
        lite.close()


def test_lite_sink_leaves_the_file_unlocked_between_writes(tmp_path: Path) -> None:
    path = tmp_path / "datahub.duckdb"
    sink = LiteSink(path)
    sink.write([job_info()])
    other_writer = LiteSink(path)  # a second process / `datahub lite` could open it now
    other_writer.write(
        [MetadataChangeProposalWrapper(entityUrn=JOB, aspect=StatusClass(removed=False))]
    )
    lite = open_lite(path, read_only=True)
    try:
        assert sorted(a for a in (lite.get(JOB, None) or {}) if a != "urn") == [
            "dataJobInfo",
            "status",
        ]
    finally:
        lite.close()


# --- file ---------------------------------------------------------------------------------


def test_file_sink_writes_datahub_metadata_files_readable_by_datahub(tmp_path: Path) -> None:
    path = tmp_path / "out" / "mcps.json"
    proposals = [job_info(), *lineage_patch([RAW], [field(RAW, "a")])]
    sink = FileSink(path)
    sink.write(proposals[:1])
    sink.close()
    FileSink(path).close()  # reopening keeps the content
    again = FileSink(path)
    again.write(proposals[1:])
    again.close()

    on_disk = json.loads(path.read_text())
    assert on_disk == [mcp_to_file_obj(p) for p in proposals]
    assert on_disk[1]["changeType"] == "PATCH"
    assert on_disk[1]["aspect"]["json"][0]["path"] == f"/inputDatasetEdges/{RAW}"
    read_back = list(read_metadata_file(path))
    assert [(r.entityUrn, r.aspectName, r.changeType) for r in read_back] == [
        (JOB, "dataJobInfo", "UPSERT"),
        (JOB, "dataJobInputOutput", "PATCH"),
    ]


def test_file_sink_refuses_to_overwrite_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text('{"not": "an array"}')
    with pytest.raises(DeliveryError, match="expected a JSON array"):
        FileSink(path)


# --- REST ---------------------------------------------------------------------------------


def test_rest_sink_batches_through_ingest_proposal_batch() -> None:
    proposals = [job_info(), *lineage_patch([RAW, OTHER], [field(RAW, "a")])]
    with running_gms(required_token="s3cret") as gms:
        sink = RestSink(gms.url, token="s3cret", retry_max_times=0)
        sink.write(proposals)
        sink.write(proposals)
        sink.close()
    assert [(r.method, r.path) for r in gms.requests] == [
        ("GET", "/config"),
        ("POST", "/aspects"),
        ("POST", "/aspects"),
    ]
    assert {r.query["action"][0] for r in gms.ingest_requests} == {"ingestProposalBatch"}
    assert all(r.headers["authorization"] == "Bearer s3cret" for r in gms.requests)
    assert [p["aspectName"] for p in gms.proposals[:2]] == ["dataJobInfo", "dataJobInputOutput"]
    assert gms.proposals[1]["changeType"] == "PATCH"
    assert gms.proposals == [mcp_to_file_obj_inline(p) for p in proposals * 2]


def mcp_to_file_obj_inline(mcp: Any) -> dict[str, Any]:
    # The emitter stamps systemMetadata onto the proposals it sends; compare the rest.
    obj = {k: v for k, v in mcp_to_file_obj(mcp).items() if k != "systemMetadata"}
    return {**obj, "aspect": obj["aspect"]["json"]}


def test_rest_sink_openapi_groups_requests_by_entity_type_and_method() -> None:
    proposals = [
        job_info(),
        MetadataChangeProposalWrapper(entityUrn=FLOW, aspect=StatusClass(removed=False)),
        *lineage_patch([RAW], [field(RAW, "a")]),
    ]
    with running_gms() as gms:
        sink = RestSink(gms.url, endpoint="openapi", retry_max_times=0)
        sink.write(proposals)
        sink.close()
    assert sorted((r.method, r.path) for r in gms.ingest_requests) == [
        ("PATCH", "/openapi/v3/entity/dataJob"),
        ("POST", "/openapi/v3/entity/dataFlow"),
        ("POST", "/openapi/v3/entity/dataJob"),
    ]
    assert sorted((p["entityUrn"], p["changeType"]) for p in gms.proposals) == [
        (FLOW, "UPSERT"),
        (JOB, "PATCH"),
        (JOB, "UPSERT"),
    ]


def test_rest_sink_reports_an_unavailable_gms_and_a_bad_token() -> None:
    with running_gms(required_token="right") as gms:
        with pytest.raises(DeliveryError, match="not usable"):
            RestSink(gms.url, token="wrong", retry_max_times=0).write([job_info()])
        sink = RestSink(gms.url, token="right", retry_max_times=0)
        gms.fail_next(1)
        with pytest.raises(DeliveryError, match="refused or did not answer a batch of 1"):
            sink.write([job_info()])
        sink.write([job_info()])  # the next attempt goes through
        sink.close()
    assert [r.status for r in gms.ingest_requests] == [503, 200]
    assert len(gms.proposals) == 1


def test_rest_sink_needs_a_server() -> None:
    with pytest.raises(ConfigError, match="DATAHUB_GMS_URL"):
        RestSink("")


# --- Kafka (configuration only; a broker test lives with the Kafka scale-out work) --------


def test_kafka_config_maps_onto_datahubs_emitter_config() -> None:
    config = KafkaSinkConfig.from_dict(
        {
            "bootstrap": "broker-1:9092,broker-2:9092",
            "schema_registry_url": "http://registry:8081",
            "topic": "MCP_custom",
            "producer_config": {"security.protocol": "SASL_SSL"},
        }
    )
    emitter_config = KafkaEmitterConfig.model_validate(config.emitter_config())
    assert emitter_config.connection.bootstrap == "broker-1:9092,broker-2:9092"
    assert emitter_config.connection.schema_registry_url == "http://registry:8081"
    assert emitter_config.connection.producer_config == {"security.protocol": "SASL_SSL"}
    assert emitter_config.topic_routes == {"MetadataChangeProposal": "MCP_custom"}


def test_kafka_config_rejects_unknown_keys_and_bad_types() -> None:
    with pytest.raises(ConfigError, match=r"Unknown key\(s\) \['bootstrap_servers'\]"):
        KafkaSinkConfig.from_dict({"bootstrap_servers": "x:1"})
    with pytest.raises(ConfigError, match="producer_config"):
        KafkaSinkConfig.from_dict({"producer_config": "acks=all"})
