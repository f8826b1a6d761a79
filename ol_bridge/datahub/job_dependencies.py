"""The ``jobDependencies`` run facet -> DataJob-to-DataJob lineage, as DataHub maps it.

DataHub's newest converter (``OpenLineageRunMapper.processJobDependencies``):

* each ``upstream`` dependency with a job namespace and name becomes an input DataJob edge
  of the event's DataJob (``dataJobInputOutput.inputDatajobEdges``), to the DataJob named
  by the usual rules with the event's orchestrator (cluster = the dependency's namespace,
  or the configured platform instance); the edge's properties carry ``dependencyType``,
  ``sequenceTriggerRule``, ``statusTriggerRule`` and the dependency's ``runId``;
* ``downstream`` dependencies get no edge (DataHub has no output-DataJob edge); each is
  kept as DataJob custom properties ``openlineage.jobDependencies.downstream.<i>.job`` (its
  URN) and ``...<i>.<property>``;
* ``trigger_rule`` becomes the custom property ``openlineage.jobDependencies.triggerRule``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from datahub.metadata.urns import DataJobUrn

from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.job_urns import job_urns
from ol_bridge.datahub.olevent import mapping, text

_PREFIX = "openlineage.jobDependencies"
_EDGE_PROPERTIES = (
    ("dependency_type", "dependencyType"),
    ("sequence_trigger_rule", "sequenceTriggerRule"),
    ("status_trigger_rule", "statusTriggerRule"),
)


@attrs.frozen
class UpstreamJob:
    """An upstream DataJob edge: its destination and the edge's properties."""

    urn: str
    properties: dict[str, str]


@attrs.frozen
class JobDependencies:
    """What one event's ``jobDependencies`` facet adds to its DataJob."""

    #: sorted by URN and de-duplicated, as DataHub
    upstream: tuple[UpstreamJob, ...] = ()
    custom_properties: dict[str, str] = attrs.field(factory=dict)


def _blank(value: object) -> bool:
    return not isinstance(value, str) or not value.strip()


def _job_urn(
    dependency: Mapping[str, Any], orchestrator: str, config: ConverterConfig
) -> str | None:
    job = mapping(dependency.get("job"))
    namespace, name = job.get("namespace"), job.get("name")
    if _blank(namespace) or _blank(name):
        return None
    urn: DataJobUrn = job_urns(str(namespace), str(name), orchestrator, config).job
    return str(urn)


def _edge_properties(dependency: Mapping[str, Any]) -> dict[str, str]:
    props = {
        key: str(dependency[facet_key])
        for facet_key, key in _EDGE_PROPERTIES
        if not _blank(dependency.get(facet_key))
    }
    run_id = text(mapping(dependency.get("run")).get("runId"))
    if run_id is not None:
        props["runId"] = run_id
    return props


def job_dependencies(
    run_facets: Mapping[str, Any], orchestrator: str, config: ConverterConfig
) -> JobDependencies:
    """The DataJob edges and custom properties of the ``jobDependencies`` run facet."""
    facet = mapping(run_facets.get("jobDependencies"))
    if not facet:
        return JobDependencies()
    props: dict[str, str] = {}
    if not _blank(facet.get("trigger_rule")):
        props[f"{_PREFIX}.triggerRule"] = str(facet["trigger_rule"])
    upstream: dict[str, UpstreamJob] = {}
    raw_up = facet.get("upstream")
    for raw in raw_up if isinstance(raw_up, list) else ():
        dependency = mapping(raw)
        urn = _job_urn(dependency, orchestrator, config)
        if urn is None:
            continue
        # DataHub keeps the first edge of a job, with the last non-empty properties given
        properties = _edge_properties(dependency)
        if urn not in upstream or properties:
            upstream[urn] = UpstreamJob(urn, properties)
    index = 0
    raw_down = facet.get("downstream")
    for raw in raw_down if isinstance(raw_down, list) else ():
        dependency = mapping(raw)
        urn = _job_urn(dependency, orchestrator, config)
        if urn is None:
            continue
        prefix = f"{_PREFIX}.downstream.{index}"
        props[f"{prefix}.job"] = urn
        props.update({f"{prefix}.{k}": v for k, v in _edge_properties(dependency).items()})
        index += 1
    return JobDependencies(tuple(upstream[k] for k in sorted(upstream)), props)
