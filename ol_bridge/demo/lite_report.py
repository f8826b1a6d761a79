"""What DataHub Lite holds after the demo, read back with acryl-datahub's Lite API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import attrs
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    DataJobInputOutputClass,
    DataProcessInstanceRunEventClass,
)

from ol_bridge.datahub.sinks.lite import open_lite


@attrs.frozen
class LiteReport:
    entities: dict[str, int]
    #: DataProcessInstance urn -> result (SUCCESS / FAILURE / SKIPPED), for finished runs
    run_results: dict[str, str]
    #: DataJob urn -> (input dataset urns, output dataset urns)
    job_lineage: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    fine_grained_edges: int


def read_lite(path: Path) -> LiteReport:
    lite = open_lite(path, read_only=True)
    try:
        return summarize_aspects(lite.get_all_aspects())
    finally:
        lite.close()


def summarize_aspects(aspects: Iterable[MetadataChangeProposalWrapper]) -> LiteReport:
    entities: dict[str, set[str]] = {}
    results: dict[str, str] = {}
    lineage: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    fine_grained = 0
    for mcp in aspects:
        urn = str(mcp.entityUrn)
        entities.setdefault(mcp.entityType, set()).add(urn)
        aspect = mcp.aspect
        if isinstance(aspect, DataProcessInstanceRunEventClass) and aspect.result is not None:
            results[urn] = str(aspect.result.type)
        elif isinstance(aspect, DataJobInputOutputClass):
            inputs = tuple(sorted(edge.destinationUrn for edge in aspect.inputDatasetEdges or ()))
            outputs = tuple(sorted(edge.destinationUrn for edge in aspect.outputDatasetEdges or ()))
            lineage[urn] = (inputs, outputs)
            fine_grained += len(aspect.fineGrainedLineages or ())
    return LiteReport(
        entities=dict(sorted(Counter({k: len(v) for k, v in entities.items()}).items())),
        run_results=results,
        job_lineage=lineage,
        fine_grained_edges=fine_grained,
    )


def render(report: LiteReport, path: Path) -> str:
    lines = [f"DataHub Lite ({path}):"]
    lines += [f"  {count:>3} {entity_type}" for entity_type, count in report.entities.items()]
    outcomes = Counter(report.run_results.values())
    lines.append(
        "  run results: " + ", ".join(f"{n} {result}" for result, n in sorted(outcomes.items()))
    )
    edges = sum(len(i) + len(o) for i, o in report.job_lineage.values())
    lines.append(
        f"  task lineage edges: {edges}; column lineage edges: {report.fine_grained_edges}"
    )
    return "\n".join(lines)
