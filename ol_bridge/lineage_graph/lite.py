"""DataHub Lite (or any stream of DataHub aspects) -> the lineage graph.

DataFlows become groups, DataJobs nodes, ``dataJobInputOutput`` the edges, and the latest
DataProcessInstance run event of each DataJob its status. The DataJob that stands for the
pipeline's own run (same id as its flow, as DataHub's OpenLineage converter makes it) gives
the group its status instead of becoming a node.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    DataJobInputOutputClass,
    DataProcessInstanceRelationshipsClass,
    DataProcessInstanceRunEventClass,
)
from datahub.metadata.urns import DataFlowUrn, DataJobUrn, DatasetUrn

from ol_bridge.datahub.sinks.lite import open_lite
from ol_bridge.lineage_graph.model import Edge, Group, JobNode, LineageGraph, disambiguate

#: DataHub run result -> the OpenLineage event type the pictures use
_RESULTS = {"SUCCESS": "COMPLETE", "FAILURE": "FAIL", "SKIPPED": "ABORT"}


def graph_from_lite(path: Path) -> LineageGraph:
    lite = open_lite(path, read_only=True)
    try:
        return graph_from_aspects(lite.get_all_aspects())
    finally:
        lite.close()


def graph_from_aspects(aspects: Iterable[MetadataChangeProposalWrapper]) -> LineageGraph:
    jobs: set[DataJobUrn] = set()
    edges: set[Edge] = set()
    datasets: set[tuple[str, str, str]] = set()
    template_of: dict[str, DataJobUrn] = {}
    #: instance urn -> (timestampMillis, status)
    instance_state: dict[str, tuple[int, str]] = {}
    for mcp in aspects:
        urn = str(mcp.entityUrn)
        aspect = mcp.aspect
        if mcp.entityType == "dataJob":
            jobs.add(DataJobUrn.from_string(urn))
        if isinstance(aspect, DataJobInputOutputClass):
            job_id = urn
            for edge in aspect.inputDatasetEdges or ():
                edges.add(Edge(_dataset(edge.destinationUrn, datasets), job_id))
            for edge in aspect.outputDatasetEdges or ():
                edges.add(Edge(job_id, _dataset(edge.destinationUrn, datasets)))
        elif isinstance(aspect, DataProcessInstanceRelationshipsClass) and aspect.parentTemplate:
            if aspect.parentTemplate.startswith("urn:li:dataJob:"):
                template_of[urn] = DataJobUrn.from_string(aspect.parentTemplate)
        elif isinstance(aspect, DataProcessInstanceRunEventClass):
            outcome = (
                _RESULTS.get(str(aspect.result.type), "COMPLETE")
                if aspect.result is not None
                else "RUNNING"
            )
            previous = instance_state.get(urn)
            if previous is None or aspect.timestampMillis >= previous[0]:
                instance_state[urn] = (aspect.timestampMillis, outcome)

    runs: dict[str, list[tuple[int, str]]] = {}
    for instance, job in template_of.items():
        if instance in instance_state:
            runs.setdefault(str(job), []).append(instance_state[instance])

    def status(job: DataJobUrn) -> tuple[int, int, str | None]:
        history = sorted(runs.get(str(job), []))
        failed = sum(1 for _, state in history if state in {"FAIL", "ABORT"})
        return len(history), failed, history[-1][1] if history else None

    groups: dict[str, Group] = {}
    nodes: list[JobNode] = []
    touched = {edge.source for edge in edges} | {edge.target for edge in edges}
    for job in sorted(jobs, key=str):
        flow = DataFlowUrn.from_string(job.flow)
        count, failed, last = status(job)
        groups.setdefault(str(flow), Group(str(flow), flow.flow_id))
        if job.job_id == flow.flow_id and str(job) not in touched:
            groups[str(flow)] = Group(str(flow), flow.flow_id, last)
            continue
        label = job.job_id
        if label.startswith(flow.flow_id + "."):
            label = label[len(flow.flow_id) + 1 :]
        nodes.append(JobNode(str(job), label, str(flow), count, failed, last))
    used = {node.group for node in nodes}
    return LineageGraph(
        jobs=tuple(nodes),
        datasets=disambiguate(datasets),
        edges=tuple(sorted(edges)),
        groups=tuple(group for key, group in sorted(groups.items()) if key in used),
    )


def _dataset(urn: str, datasets: set[tuple[str, str, str]]) -> str:
    dataset = DatasetUrn.from_string(urn)
    platform = dataset.platform.removeprefix("urn:li:dataPlatform:")
    datasets.add((urn, platform, dataset.name))
    return urn
