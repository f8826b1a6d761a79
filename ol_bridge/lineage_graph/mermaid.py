"""Mermaid flowchart text of a lineage graph, for Markdown docs (GitHub renders it)."""

from __future__ import annotations

from ol_bridge.lineage_graph.model import LineageGraph, caption, short_ids
from ol_bridge.lineage_graph.model import ordered_edges as _ordered

CLASSES = (
    "  classDef job fill:#e8f0fe,stroke:#4a6fa5,color:#1a1a1a",
    "  classDef dataset fill:#f4f4f4,stroke:#777777,color:#1a1a1a",
    "  classDef failed fill:#fde2e1,stroke:#c0392b,stroke-width:2px,color:#1a1a1a",
)


def _text(label: str) -> str:
    return '"' + label.replace('"', "#quot;") + '"'


def to_mermaid(graph: LineageGraph) -> str:
    ids = short_ids(graph)
    lines = ["flowchart LR", *CLASSES]
    for group in graph.groups:
        lines.append(f"  subgraph {ids[group.id]}[{_text(caption(group))}]")
        lines += [
            f"    {ids[job.id]}[{_text(caption(job))}]"
            for job in graph.jobs
            if job.group == group.id
        ]
        lines.append("  end")
    lines += [f"  {ids[job.id]}[{_text(caption(job))}]" for job in graph.jobs if job.group is None]
    lines += [f"  {ids[dataset.id]}[({_text(dataset.label)})]" for dataset in graph.datasets]
    lines += [f"  {ids[edge.source]} --> {ids[edge.target]}" for edge in _ordered(graph.edges, ids)]
    for job in graph.jobs:
        lines.append(f"  class {ids[job.id]} {'failed' if job.failed else 'job'}")
    lines += [f"  class {ids[dataset.id]} dataset" for dataset in graph.datasets]
    for group in graph.groups:
        if group.failed:
            lines.append(f"  style {ids[group.id]} stroke:#c0392b,stroke-width:2px")
    return "\n".join(lines) + "\n"
