"""Dataset -> job -> dataset edges as DataHub stores them, found two independent ways.

* ``endpoint_edges``: what DataHub's own OpenLineage endpoint writes for the events, by the
  rules of its converter (``OpenLineageToDataHub``): a DataJob per OL job (DataFlow id = the
  job name up to its first dot, cluster = the job namespace, orchestrator = the ``jobType``
  integration), with every input and output of the job's events as its
  ``dataJobInputOutput`` edges (added up, never removed); a dataset's platform is its
  namespace's scheme (or the namespace itself) and its name is kept, env PROD.
* ``converter_edges``: what our converter wrote into DataHub Lite (``dataJobInputOutput``).

DataHub draws lineage through the job: an edge (upstream, job, downstream) is the path
upstream -> job -> downstream in its lineage graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

Edge = tuple[str, str, str]


def _dataset_urn(dataset: Mapping[str, Any]) -> str:
    namespace = dataset["namespace"]
    platform = urlsplit(namespace).scheme if "://" in namespace else namespace
    return f"urn:li:dataset:(urn:li:dataPlatform:{platform},{dataset['name']},PROD)"


def _job_urn(event: Mapping[str, Any]) -> str:
    job = event["job"]
    orchestrator = job["facets"]["jobType"]["integration"].lower()
    flow = f"urn:li:dataFlow:({orchestrator},{job['name'].split('.', 1)[0]},{job['namespace']})"
    return f"urn:li:dataJob:({flow},{job['name']})"


def endpoint_edges(events: Iterable[Mapping[str, Any]]) -> set[Edge]:
    inputs: dict[str, set[str]] = {}
    outputs: dict[str, set[str]] = {}
    for event in events:
        job = _job_urn(event)
        inputs.setdefault(job, set()).update(_dataset_urn(d) for d in event.get("inputs") or ())
        outputs.setdefault(job, set()).update(_dataset_urn(d) for d in event.get("outputs") or ())
    return {(i, job, o) for job in inputs for i in inputs[job] for o in outputs[job]}


def converter_edges(lite: Any) -> set[Edge]:
    edges: set[Edge] = set()
    for urn in lite.list_ids():
        if not urn.startswith("urn:li:dataJob:"):
            continue
        io = (lite.get(urn, ["dataJobInputOutput"]) or {}).get("dataJobInputOutput")
        if not io:
            continue
        ins = [e["destinationUrn"] for e in io.get("inputDatasetEdges", [])]
        outs = [e["destinationUrn"] for e in io.get("outputDatasetEdges", [])]
        edges |= {(i, urn, o) for i in ins for o in outs}
    return edges


def reachable(edges: set[Edge], start: str) -> set[str]:
    """Every dataset downstream of ``start`` through jobs."""
    found: set[str] = set()
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for upstream, _, downstream in edges:
            if upstream == current and downstream not in found:
                found.add(downstream)
                frontier.append(downstream)
    return found
