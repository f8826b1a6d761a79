"""The directly built JSON patches equal what acryl-datahub's patch builders produce, byte for
byte, on every corpus event and on real-shaped Dagster events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from datahub.metadata.schema_classes import (
    FineGrainedLineageClass,
    FineGrainedLineageDownstreamTypeClass,
    FineGrainedLineageUpstreamTypeClass,
    MetadataChangeProposalClass,
)
from datahub.specific.datajob import DataJobPatchBuilder
from datahub.specific.dataset import DatasetPatchBuilder

from ol_bridge.datahub import ConverterConfig, aspects, patches
from ol_bridge.datahub.datasets import (
    _column_edges,
    _facet_aspects,
    job_lineage_patch,
    plan_datasets,
)
from ol_bridge.datahub.transport import event_to_dict
from ol_bridge.errors import ConversionError
from tests.corpora import COMPAT_DIR as CORPUS
from tests.corpora import required
from tests.fakes import dagster_run_events

CONFIG = ConverterConfig()


def corpus_events() -> list[dict[str, Any]]:
    events = []
    inputs = list((CORPUS / "input").rglob("*.json"))
    for path in required(inputs, expected=74, what="DataHub's converter corpus inputs"):
        data = json.loads(path.read_text())
        events += data if isinstance(data, list) else [data]
    return events


def dagster_events() -> list[dict[str, Any]]:
    events = [event_to_dict(e) for e in dagster_run_events()]
    rich = json.loads(json.dumps(events[2]))
    rich["outputs"][0]["facets"].update(
        {
            "documentation": {"description": "Iris / summary ~ per species"},
            "dagster_asset": {
                "assetKey": ["prod", "duckdb", "iris_summary"],
                "assetUrl": "http://dagster.local:3000/assets/prod/duckdb/iris_summary",
                "codeLocation": "iris",
                "groupName": "default",
            },
            "ownership": {"owners": [{"name": "team:data-eng"}]},
            "tags": {"tags": [{"key": "domain", "value": "sales"}]},
        }
    )
    rich["job"]["facets"]["sql"] = {"query": "SELECT a / b AS total FROM main.raw.iris"}
    return [*events, rich]


def builder_lineage(event: dict[str, Any]) -> list[MetadataChangeProposalClass]:
    """The previous implementation, through DataJobPatchBuilder."""
    plan = plan_datasets(event, CONFIG)
    if not plan.inputs and not plan.outputs:
        return []
    builder = DataJobPatchBuilder("urn:li:dataJob:(urn:li:dataFlow:(dagster,f,ns),f.t)")
    for dataset in plan.inputs:
        builder.add_input_dataset(aspects.edge(dataset.urn, 1700000000000))
    for dataset in plan.outputs:
        builder.add_output_dataset(aspects.edge(dataset.urn, 1700000000000))
    sql = event.get("job", {}).get("facets", {}).get("sql", {}).get("query")
    for column in _column_edges(plan, sql, CONFIG):
        builder.add_fine_grained_lineage(
            FineGrainedLineageClass(
                upstreamType=FineGrainedLineageUpstreamTypeClass.FIELD_SET,
                downstreamType=FineGrainedLineageDownstreamTypeClass.FIELD,
                upstreams=[str(column.upstream)],
                downstreams=[str(column.downstream)],
                transformOperation=column.transform,
                confidenceScore=1.0,
            )
        )
    return list(builder.build())


def builder_extras(event: dict[str, Any]) -> list[MetadataChangeProposalClass]:
    """The previous implementation of the dataset extras, through DatasetPatchBuilder."""
    out: list[MetadataChangeProposalClass] = []
    plan = plan_datasets(event, CONFIG)
    for dataset in (*plan.inputs, *plan.outputs):
        facets = dataset.raw.get("facets") or {}
        builder = DatasetPatchBuilder(str(dataset.urn))
        description = (facets.get("documentation") or {}).get("description")
        if isinstance(description, str):
            builder.set_description(description)
        storage = facets.get("storage") or {}
        for key in ("storageLayer", "fileFormat"):
            if (storage.get(key) or "").strip():
                builder.add_custom_property(key, storage[key])
        catalog = facets.get("catalog") or {}
        for key, value in (catalog.get("catalogProperties") or {}).items():
            builder.add_custom_property(f"openlineage.catalog.{key}", value)
        for key in ("framework", "type", "name", "metadataUri", "warehouseUri", "source"):
            if (catalog.get(key) or "").strip():
                builder.add_custom_property(f"catalog{key[0].upper()}{key[1:]}", catalog[key])
        version = (facets.get("version") or {}).get("datasetVersion")
        if (version or "").strip():
            builder.add_custom_property("openlineage.datasetVersion", version)
        asset = facets.get("dagster_asset") or {}
        if asset.get("assetUrl"):
            builder.set_external_url(asset["assetUrl"])
        if isinstance(asset.get("assetKey"), list):
            builder.add_custom_property("dagsterAssetKey", "/".join(asset["assetKey"]))
        for key in ("codeLocation", "groupName"):
            if asset.get(key):
                builder.add_custom_property(f"dagster{key[0].upper()}{key[1:]}", asset[key])
        for owner in aspects.owners(facets.get("ownership") or {}):
            builder.add_owner(owner)
        out += builder.build()
    return out


def as_json(mcps: list[Any]) -> list[Any]:
    return [m.to_obj() for m in mcps]


def convertible(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        try:
            plan_datasets(event, CONFIG)
        except ConversionError:
            continue
        out.append(event)
    return out


@pytest.mark.parametrize("source", ["corpus", "dagster"])
def test_direct_patches_equal_the_builders(source: str) -> None:
    events = convertible(corpus_events() if source == "corpus" else dagster_events())
    assert events
    lineage_patches = extras = 0
    for event in events:
        sql = event.get("job", {}).get("facets", {}).get("sql", {}).get("query")
        ours = job_lineage_patch(
            "urn:li:dataJob:(urn:li:dataFlow:(dagster,f,ns),f.t)",  # type: ignore[arg-type]
            plan_datasets(event, CONFIG),
            1700000000000,
            sql,
            CONFIG,
        )
        assert as_json(ours) == as_json(builder_lineage(event))
        lineage_patches += len(ours)
        plan = plan_datasets(event, CONFIG)
        ours_extras = [
            p
            for d in (*plan.inputs, *plan.outputs)
            for p in _facet_aspects(d, CONFIG)
            if p.aspectName in ("datasetProperties", "ownership")
        ]
        assert as_json(ours_extras) == as_json(builder_extras(event))
        extras += len(ours_extras)
    assert lineage_patches > 0
    if source == "dagster":
        assert extras == 2  # datasetProperties and ownership of the rich output


def test_path_components_are_json_pointer_quoted() -> None:
    op = patches.add(("customProperties", "a/b~c"), "v")
    assert op == {"op": "add", "path": "/customProperties/a~1b~0c", "value": "v"}
