"""OpenLineage events (as JSON dicts) -> the lineage graph. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ol_bridge.lineage_graph.model import (
    FAILED_STATES,
    Edge,
    Group,
    JobNode,
    LineageGraph,
    disambiguate,
)

_TERMINAL = {"COMPLETE", "FAIL", "ABORT"}


@attrs.define
class _Job:
    namespace: str
    name: str
    parent: tuple[str, str] | None = None
    #: run id -> latest event type seen for it, in event order
    runs: dict[str, str] = attrs.field(factory=dict)
    last_run: str | None = None


def graph_from_events(events: Iterable[Mapping[str, Any]]) -> LineageGraph:
    """The graph of RunEvents: a node per job and per dataset; a child job (``parent``
    facet) is drawn inside its parent's group. Job events (no run) add lineage only."""
    jobs: dict[tuple[str, str], _Job] = {}
    datasets: set[tuple[str, str, str]] = set()
    edges: set[Edge] = set()
    for event in events:
        job_ref = event.get("job") or {}
        key = (str(job_ref.get("namespace", "")), str(job_ref.get("name", "")))
        job = jobs.setdefault(key, _Job(*key))
        run = event.get("run") or {}
        parent = (run.get("facets") or {}).get("parent")
        if parent and parent.get("job"):
            job.parent = (str(parent["job"]["namespace"]), str(parent["job"]["name"]))
        run_id = run.get("runId")
        event_type = event.get("eventType")
        if run_id and event_type:
            previous = job.runs.get(run_id)
            # a late START must not hide an end that was already seen
            if previous not in _TERMINAL or event_type in _TERMINAL:
                job.runs[run_id] = "RUNNING" if event_type in {"START", "RUNNING"} else event_type
            job.last_run = run_id
        for side, source in (("inputs", True), ("outputs", False)):
            for dataset in event.get(side) or ():
                dataset_id = _dataset_id(dataset["namespace"], dataset["name"])
                datasets.add((dataset_id, dataset["namespace"], dataset["name"]))
                job_id = _job_id(*key)
                edges.add(Edge(dataset_id, job_id) if source else Edge(job_id, dataset_id))
    # A parent job is drawn as the group of its tasks; it is a node too only when it has
    # lineage of its own (producers that put datasets on the parent's events).
    touched = {edge.source for edge in edges} | {edge.target for edge in edges}
    parents = {job.parent for job in jobs.values() if job.parent is not None}
    groups = tuple(
        Group(_job_id(*key), key[1], _last_status(jobs[key]) if key in jobs else None)
        for key in sorted(parents)
    )
    nodes = tuple(
        _node(job)
        for key, job in sorted(jobs.items())
        if key not in parents or _job_id(*key) in touched
    )
    return LineageGraph(
        jobs=nodes, datasets=disambiguate(datasets), edges=tuple(sorted(edges)), groups=groups
    )


def _node(job: _Job) -> JobNode:
    label = job.name
    if job.parent is not None and job.name.startswith(job.parent[1] + "."):
        label = job.name[len(job.parent[1]) + 1 :]
    return JobNode(
        id=_job_id(job.namespace, job.name),
        label=label,
        group=_job_id(*job.parent) if job.parent is not None else None,
        runs=len(job.runs),
        failed_runs=sum(1 for state in job.runs.values() if state in FAILED_STATES),
        last_status=_last_status(job),
    )


def _last_status(job: _Job) -> str | None:
    return job.runs.get(job.last_run) if job.last_run is not None else None


def _job_id(namespace: str, name: str) -> str:
    return f"job:{namespace}/{name}"


def _dataset_id(namespace: str, name: str) -> str:
    return f"dataset:{namespace}/{name}"
