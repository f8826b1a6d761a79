"""Per-dataset proposals DataHub's newest converter writes after the job's lineage.

Its ``OpenLineageJobMapper`` collects them while walking the event's inputs, then outputs,
in the order sent (repeats included), and emits them after ``dataJobInputOutput`` and before
the run instance: for each input its ``datasetProfile`` (``dataQualityMetrics``), its READ
``operation`` (``inputStatistics``), its assertions (``dataQualityAssertions``) and its
containers (``hierarchy``); for each output its WRITE ``operation`` and its containers.
A container proposal already written for the event is not repeated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ol_bridge.datahub import aspects
from ol_bridge.datahub.aspects import Proposal
from ol_bridge.datahub.assertions import assertion_proposals
from ol_bridge.datahub.containers import hierarchy_proposals
from ol_bridge.datahub.dataset_facets import dataset_profile
from ol_bridge.datahub.datasets import DatasetPlan


def _first_time(proposals: list[Proposal], seen: set[tuple[str, str, str]]) -> list[Proposal]:
    out = []
    for proposal in proposals:
        aspect = getattr(proposal, "aspect", None)
        body = json.dumps(aspect.to_obj(), sort_keys=True) if aspect is not None else ""
        key = (str(proposal.entityUrn), str(proposal.aspectName), body)
        if key not in seen:
            seen.add(key)
            out.append(proposal)
    return out


def dataset_extras(
    plan: DatasetPlan,
    *,
    orchestrator: str,
    run_id: str | None,
    millis: int,
    sql: str | None,
    run_facets: Mapping[str, Any],
) -> list[Proposal]:
    """The extras of one event's datasets (``run_id`` None for a JobEvent: no run results)."""
    out: list[Proposal] = []
    containers: set[tuple[str, str, str]] = set()
    for dataset in plan.inputs_as_sent:
        out += aspects.upserts(
            dataset.urn_str,
            [
                dataset_profile(dataset.raw, millis),
                aspects.input_operation(dataset.raw, millis),
            ],
        )
        out += assertion_proposals(dataset, orchestrator=orchestrator, run_id=run_id, millis=millis)
        out += _first_time(hierarchy_proposals(dataset.raw, dataset.urn), containers)
    for dataset in plan.outputs_as_sent:
        operation = aspects.output_operation(dataset.raw, sql, run_facets, millis)
        out += aspects.upserts(dataset.urn_str, [operation])
        out += _first_time(hierarchy_proposals(dataset.raw, dataset.urn), containers)
    return out
