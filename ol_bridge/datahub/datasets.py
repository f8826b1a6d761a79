"""The datasets of one event: their URNs, their aspects, and the DataJob lineage patch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from datahub.metadata.schema_classes import DatasetKeyClass, StatusClass
from datahub.metadata.urns import DataJobUrn, DatasetUrn
from datahub.specific.dataset import DatasetPatchBuilder

from ol_bridge.datahub import aspects, patches
from ol_bridge.datahub.aspects import Proposal
from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.dataset_urns import DatasetResolver, resolve_dataset_urn
from ol_bridge.datahub.job_dependencies import UpstreamJob
from ol_bridge.datahub.lineage import ColumnEdge, column_edges, schema_metadata
from ol_bridge.datahub.olevent import java_string, mapping, text

_DAGSTER_ASSET_KEYS = ("codeLocation", "groupName")
_ASSET_PROPERTY = {"codeLocation": "dagsterCodeLocation", "groupName": "dagsterGroupName"}


@attrs.frozen
class PlannedDataset:
    """One input or output with its resolved URN."""

    urn: DatasetUrn
    raw: Mapping[str, Any]
    is_output: bool
    #: ``str(urn)``, rendered once: the converter needs it many times per dataset
    urn_str: str = attrs.field(
        init=False, default=attrs.Factory(lambda s: str(s.urn), takes_self=True)
    )


@attrs.frozen
class DatasetPlan:
    """Inputs and outputs of an event, each sorted by URN and de-duplicated, as DataHub does."""

    inputs: tuple[PlannedDataset, ...]
    outputs: tuple[PlannedDataset, ...]
    resolver: DatasetResolver
    #: every input with a URN, in the event's order, repeats kept (what DataHub's converter
    #: walks for per-input extras such as data quality assertions)
    inputs_as_sent: tuple[PlannedDataset, ...] = ()

    @property
    def input_urns(self) -> list[DatasetUrn]:
        return [d.urn for d in self.inputs]

    @property
    def output_urns(self) -> list[DatasetUrn]:
        return [d.urn for d in self.outputs]


def _planned(raw: object, resolver: DatasetResolver, *, is_output: bool) -> PlannedDataset | None:
    dataset = mapping(raw)
    urn = resolver.dataset(dataset)
    return None if urn is None else PlannedDataset(urn, dataset, is_output)


def _unique_sorted(items: list[PlannedDataset | None]) -> tuple[PlannedDataset, ...]:
    seen: dict[str, PlannedDataset] = {}
    for item in items:
        if item is not None:
            seen.setdefault(item.urn_str, item)  # the first one wins, like Java's TreeSet
    return tuple(seen[k] for k in sorted(seen))


def plan_datasets(data: Mapping[str, Any], config: ConverterConfig) -> DatasetPlan:
    """Resolve the URNs of an event's inputs, then outputs (aliases build up in that order)."""
    resolver = DatasetResolver(config)
    raw_inputs, raw_outputs = data.get("inputs"), data.get("outputs")
    inputs = [
        _planned(d, resolver, is_output=False)
        for d in (raw_inputs if isinstance(raw_inputs, list) else ())
    ]
    outputs = [
        _planned(d, resolver, is_output=True)
        for d in (raw_outputs if isinstance(raw_outputs, list) else ())
    ]
    return DatasetPlan(
        _unique_sorted(inputs),
        _unique_sorted(outputs),
        resolver,
        tuple(d for d in inputs if d is not None),
    )


def _schema_platform(raw: Mapping[str, Any], config: ConverterConfig) -> str:
    # DataHub takes the schema's platform from the dataset's own namespace, not its symlink.
    urn = resolve_dataset_urn(str(raw.get("namespace")), str(raw.get("name")), None, config)
    return urn.platform  # the platform URN string, as get_data_platform_urn() renders it


def _extras(dataset: PlannedDataset) -> list[Proposal]:
    """Dataset facets DataHub's converter drops: documentation, ownership, tags, Dagster asset.

    The same proposals, in the same order, as one ``DatasetPatchBuilder`` would build.
    """
    facets = mapping(dataset.raw.get("facets"))
    urn = dataset.urn_str
    ops: list[patches.JsonOp] = []
    description = text(mapping(facets.get("documentation")).get("description"))
    if description:
        ops.append(patches.add(("description",), description))
    asset = mapping(facets.get("dagster_asset"))
    if text(asset.get("assetUrl")):
        ops.append(patches.add(("externalUrl",), asset["assetUrl"]))
    if isinstance(asset.get("assetKey"), list):
        key_path = "/".join(java_string(p) for p in asset["assetKey"])
        ops.append(patches.add(("customProperties", "dagsterAssetKey"), key_path))
    for key in _DAGSTER_ASSET_KEYS:
        if text(asset.get(key)):
            ops.append(patches.add(("customProperties", _ASSET_PROPERTY[key]), asset[key]))
    out: list[Proposal] = []
    if ops:
        out.append(patches.patch_proposal("dataset", urn, "datasetProperties", ops))
    owners = aspects.owners(mapping(facets.get("ownership")))
    tags = aspects.facet_tags(mapping(facets.get("tags")))
    if owners or tags:
        builder = DatasetPatchBuilder(urn)
        for owner in owners:
            builder.add_owner(owner)
        for tag in tags:
            builder.add_tag(tag)
        out += builder.build()
    return out


def dataset_proposals(
    plan: DatasetPlan, config: ConverterConfig, millis: int | None
) -> list[Proposal]:
    """Per dataset, inputs then outputs: key + status, schema, operation (outputs), extras."""
    out: list[Proposal] = []
    for dataset in (*plan.inputs, *plan.outputs):
        urn = dataset.urn
        facets = mapping(dataset.raw.get("facets"))
        items: list[Any] = []
        if config.materialize_datasets:
            key = DatasetKeyClass(platform=urn.platform, name=urn.name, origin=urn.env)
            items += [key, StatusClass(removed=False)]
        if config.include_schema_metadata:
            items.append(schema_metadata(facets, _schema_platform(dataset.raw, config)))
        if dataset.is_output and millis is not None:
            items.append(aspects.operation(dataset.raw, millis))
        out += aspects.upserts(dataset.urn_str, items)
        out += _extras(dataset)
    return out


def _column_edges(plan: DatasetPlan, sql: str | None, config: ConverterConfig) -> list[ColumnEdge]:
    if not config.capture_column_lineage:
        return []
    edges: list[ColumnEdge] = []
    for dataset in (*plan.inputs, *plan.outputs):
        edges += column_edges(dataset.urn, mapping(dataset.raw.get("facets")), plan.resolver, sql)
    return edges


def job_lineage_patch(
    job: DataJobUrn,
    plan: DatasetPlan,
    millis: int,
    sql: str | None,
    config: ConverterConfig,
    upstream_jobs: Sequence[UpstreamJob] = (),
) -> list[Proposal]:
    """``dataJobInputOutput`` PATCH: dataset edges, upstream DataJob edges
    (``jobDependencies``) and column lineage are added, never reset."""
    if not plan.inputs and not plan.outputs and not upstream_jobs:
        return []  # an empty patch would change nothing; DataHub skips it too
    # What DataJobPatchBuilder's add_input_dataset / add_output_dataset /
    # add_fine_grained_lineage (no query, confidence 0.5) write, built directly.
    ops = [
        patches.add(("inputDatasetEdges", d.urn_str), _edge(d.urn_str, millis)) for d in plan.inputs
    ]
    ops += [
        patches.add(("outputDatasetEdges", d.urn_str), _edge(d.urn_str, millis))
        for d in plan.outputs
    ]
    ops += [patches.add(("inputDatajobEdges", j.urn), _job_edge(j, millis)) for j in upstream_jobs]
    for column in _column_edges(plan, sql, config):
        path = ("fineGrainedLineages", column.transform, str(column.downstream), "NONE")
        ops.append(patches.add((*path, str(column.upstream)), {"confidenceScore": 0.5}))
    return [patches.patch_proposal("dataJob", str(job), "dataJobInputOutput", ops)]


def _edge(urn: str, millis: int) -> dict[str, Any]:
    return patches.edge_json(urn, millis, aspects.EDGE_ACTOR)


def _job_edge(job: UpstreamJob, millis: int) -> dict[str, Any]:
    # DataHub's converter builds this Edge itself (lastModified by the datahub actor, no
    # created, which its patch builder stamps UNKNOWN) and adds the dependency's properties.
    edge: dict[str, Any] = {
        "created": {"time": millis, "actor": aspects.EDGE_ACTOR},
        "lastModified": {"time": millis, "actor": aspects.DATAHUB_ACTOR},
    }
    if job.properties:
        edge["properties"] = dict(job.properties)
    edge["destinationUrn"] = job.urn
    return edge
