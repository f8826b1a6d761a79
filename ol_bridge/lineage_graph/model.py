"""The graph: datasets and jobs as nodes, read/write edges, jobs grouped by pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

#: run outcomes that mark a job as failed in pictures
FAILED_STATES = frozenset({"FAIL", "ABORT"})


@attrs.frozen
class JobNode:
    id: str
    label: str
    #: id of the pipeline (parent job / DataFlow) this task belongs to, if any
    group: str | None = None
    runs: int = 0
    failed_runs: int = 0
    #: outcome of the latest run: COMPLETE, FAIL, ABORT, RUNNING, or None when unknown
    last_status: str | None = None

    @property
    def failed(self) -> bool:
        return self.last_status in FAILED_STATES


@attrs.frozen
class DatasetNode:
    id: str
    label: str
    namespace: str


@attrs.frozen
class Group:
    id: str
    label: str
    last_status: str | None = None

    @property
    def failed(self) -> bool:
        return self.last_status in FAILED_STATES


@attrs.frozen(order=True)
class Edge:
    source: str
    target: str


@attrs.frozen
class LineageGraph:
    jobs: tuple[JobNode, ...] = ()
    datasets: tuple[DatasetNode, ...] = ()
    edges: tuple[Edge, ...] = ()
    groups: tuple[Group, ...] = ()

    def label_of(self, node_id: str) -> str:
        labels = {job.id: job.label for job in self.jobs}
        labels.update((dataset.id, dataset.label) for dataset in self.datasets)
        return labels[node_id]


def disambiguate(datasets: Iterable[tuple[str, str, str]]) -> tuple[DatasetNode, ...]:
    """``(id, namespace, name)`` -> nodes labelled by name, or ``namespace/name`` where two
    datasets of different namespaces share a name."""
    items = sorted(set(datasets), key=lambda item: (item[2], item[1]))
    names: dict[str, int] = {}
    for _, _, name in items:
        names[name] = names.get(name, 0) + 1
    return tuple(
        DatasetNode(
            id=node_id,
            label=name if names[name] == 1 else f"{namespace}/{name}",
            namespace=namespace,
        )
        for node_id, namespace, name in items
    )


def caption(node: JobNode | Group) -> str:
    """The label shown for a job or pipeline: its name, marked when its latest run failed
    (``failed``) or when earlier runs did (``1 of 3 runs failed``)."""
    if node.failed:
        return f"{node.label} (failed)"
    if isinstance(node, JobNode) and node.failed_runs:
        return f"{node.label} ({node.failed_runs} of {node.runs} runs failed)"
    return node.label


def short_ids(graph: LineageGraph) -> dict[str, str]:
    """Stable, renderer-safe ids: ``g0..`` for groups, ``d0..`` datasets, ``j0..`` jobs."""
    ids = {group.id: f"g{index}" for index, group in enumerate(graph.groups)}
    ids.update((dataset.id, f"d{index}") for index, dataset in enumerate(graph.datasets))
    ids.update((job.id, f"j{index}") for index, job in enumerate(graph.jobs))
    return ids


def ordered_edges(edges: Iterable[Edge], ids: Mapping[str, str]) -> list[Edge]:
    """Edges in the order of their short ids, so both sources give the same text."""
    return sorted(edges, key=lambda edge: (ids[edge.source], ids[edge.target]))
