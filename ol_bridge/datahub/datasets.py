"""The datasets of one event: their URNs, their aspects, and the DataJob lineage patch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from datahub.metadata.schema_classes import DatasetKeyClass, StatusClass
from datahub.metadata.urns import DataJobUrn, DatasetUrn
from datahub.specific.dataset import DatasetPatchBuilder

from ol_bridge.datahub import aspects, dataset_facets, patches
from ol_bridge.datahub.aspects import Proposal
from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.dataset_urns import DatasetResolver, resolve_dataset_urn
from ol_bridge.datahub.job_dependencies import UpstreamJob
from ol_bridge.datahub.lineage import ColumnEdge, column_edges, schema_metadata
from ol_bridge.datahub.olevent import java_string, mapping, text
from ol_bridge.datahub.plugin_urns import URN_SCHEME

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
        kw_only=True, default=attrs.Factory(lambda s: str(s.urn), takes_self=True)
    )


@attrs.frozen
class DatasetPlan:
    """Inputs and outputs of an event, each sorted by URN and de-duplicated, as DataHub does."""

    inputs: tuple[PlannedDataset, ...]
    outputs: tuple[PlannedDataset, ...]
    resolver: DatasetResolver
    #: every input / output with a URN, in the event's order, repeats kept (what DataHub's
    #: converter walks for per-dataset extras: operations, profiles, assertions, containers)
    inputs_as_sent: tuple[PlannedDataset, ...] = ()
    outputs_as_sent: tuple[PlannedDataset, ...] = ()

    @property
    def input_urns(self) -> list[DatasetUrn]:
        return [d.urn for d in self.inputs]

    @property
    def output_urns(self) -> list[DatasetUrn]:
        return [d.urn for d in self.outputs]


def _planned(raw: object, resolver: DatasetResolver, *, is_output: bool) -> PlannedDataset | None:
    dataset = mapping(raw)
    resolved = resolver.dataset_with_str(dataset)
    if resolved is None:
        return None
    return PlannedDataset(resolved[0], dataset, is_output, urn_str=resolved[1])


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
        tuple(d for d in outputs if d is not None),
    )


def _schema_platform(raw: Mapping[str, Any], config: ConverterConfig) -> str:
    # DataHub takes the schema's platform from the dataset's own namespace, not its symlink.
    urn = resolve_dataset_urn(str(raw.get("namespace")), str(raw.get("name")), None, config)
    return urn.platform  # the platform URN string, as get_data_platform_urn() renders it


def _property_ops(facets: Mapping[str, Any]) -> list[str]:
    """DataHub's newest ``datasetProperties`` fields, then ours: the Dagster asset's URL as
    ``externalUrl`` and its key, group and code location as custom properties."""
    ops = dataset_facets.property_ops(facets)
    asset = mapping(facets.get("dagster_asset"))
    if text(asset.get("assetUrl")):
        ops.append(patches.add_json(("externalUrl",), asset["assetUrl"]))
    if isinstance(asset.get("assetKey"), list):
        key_path = "/".join(java_string(p) for p in asset["assetKey"])
        ops.append(patches.add_json(("customProperties", "dagsterAssetKey"), key_path))
    for key in _DAGSTER_ASSET_KEYS:
        if text(asset.get(key)):
            ops.append(patches.add_json(("customProperties", _ASSET_PROPERTY[key]), asset[key]))
    return ops


def _facet_aspects(dataset: PlannedDataset, config: ConverterConfig) -> list[Proposal]:
    """Properties, ownership, tags, subtypes and siblings of one dataset, in the order of
    DataHub's newest converter; additions (properties, owners, tags, siblings) as PATCH."""
    facets = mapping(dataset.raw.get("facets"))
    urn = dataset.urn_str
    out: list[Proposal] = []
    ops = _property_ops(facets)
    if ops:
        out.append(patches.patch_proposal_json("dataset", urn, "datasetProperties", ops))
    owners = aspects.owners(mapping(facets.get("ownership")))
    if owners:
        builder = DatasetPatchBuilder(urn)
        for owner in owners:
            builder.add_owner(owner)
        out += builder.build()
    tags = aspects.facet_tag_urns(mapping(facets.get("tags")))
    if tags:
        out.append(patches.tags_patch("dataset", urn, tags))
    out += aspects.upserts(urn, [dataset_facets.subtypes(facets)])
    if config.urn_scheme != URN_SCHEME:  # plugin URNs are not the namespace/name ones
        sibling_urns = dataset_facets.siblings(dataset.raw, urn, config)
        if sibling_urns:
            out.append(dataset_facets.siblings_patch(urn, sibling_urns))
    return out


def dataset_proposals(
    plan: DatasetPlan, config: ConverterConfig, *, dataset_event: bool = False
) -> list[Proposal]:
    """Per dataset, inputs then outputs: key + status, schema, then :func:`_facet_aspects`.

    A DatasetEvent always writes key and status, as DataHub does; a run or job event only
    when ``materialize_datasets`` (a dropped dataset's ``status`` either way).
    """
    out: list[Proposal] = []
    for dataset in (*plan.inputs, *plan.outputs):
        urn = dataset.urn
        facets = mapping(dataset.raw.get("facets"))
        items: list[Any] = []
        dropped = dataset_facets.is_dropped(facets)
        if config.materialize_datasets or dataset_event:
            key = DatasetKeyClass(platform=urn.platform, name=urn.name, origin=urn.env)
            items += [key, StatusClass(removed=dropped)]
        elif dropped:
            items.append(StatusClass(removed=True))
        if (
            config.include_schema_metadata
            and (config.materialize_datasets or dataset_event)
            and "schema" in facets  # else there is no schemaMetadata: skip its platform
        ):
            items.append(schema_metadata(facets, _schema_platform(dataset.raw, config)))
        out += aspects.upserts(dataset.urn_str, items)
        out += _facet_aspects(dataset, config)
    return out


def _column_edges(plan: DatasetPlan, sql: str | None, config: ConverterConfig) -> list[ColumnEdge]:
    if not config.capture_column_lineage:
        return []
    edges: list[ColumnEdge] = []
    for dataset in (*plan.inputs, *plan.outputs):
        facets = mapping(dataset.raw.get("facets"))
        edges += column_edges(dataset.urn, facets, plan.resolver, sql, dataset.urn_str)
    return edges


def job_lineage_patch(
    job: DataJobUrn | str,
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
    # add_fine_grained_lineage (no query, confidence 1.0 as in DataHub's newest converter)
    # write, built directly, and written as JSON text from pieces cached per dataset and
    # column (the edges repeat on every event; json.dumps of the whole array was the cost).
    actor = aspects.EDGE_ACTOR
    ops = [
        patches.add_edge_json("inputDatasetEdges", d.urn_str, millis, actor) for d in plan.inputs
    ]
    ops += [
        patches.add_edge_json("outputDatasetEdges", d.urn_str, millis, actor) for d in plan.outputs
    ]
    ops += [
        patches.op_json(patches.add(("inputDatajobEdges", j.urn), _job_edge(j, millis)))
        for j in upstream_jobs
    ]
    transforms: dict[str, str] = {}  # an event's edges share a few transforms (with its SQL)
    pointer = patches.cached_pointer_json
    for column in _column_edges(plan, sql, config):
        transform = transforms.get(column.transform)
        if transform is None:
            transform = transforms[column.transform] = patches.pointer_json(column.transform)
        ops.append(
            f'{{"op": "add", "path": "/fineGrainedLineages/{transform}/'
            f'{pointer(column.downstream)}/NONE/{pointer(column.upstream)}", '
            '"value": {"confidenceScore": 1.0}}'
        )
    return [patches.patch_proposal_json("dataJob", str(job), "dataJobInputOutput", ops)]


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
