"""Graphviz DOT text of a lineage graph: pipelines as clusters, datasets as cylinders."""

from __future__ import annotations

from ol_bridge.lineage_graph.model import LineageGraph, caption, short_ids
from ol_bridge.lineage_graph.model import ordered_edges as _ordered

JOB_STYLE = 'shape=box, style="rounded,filled", fillcolor="#e8f0fe", color="#4a6fa5"'
FAILED_STYLE = 'shape=box, style="rounded,filled,bold", fillcolor="#fde2e1", color="#c0392b"'
DATASET_STYLE = 'shape=cylinder, style=filled, fillcolor="#f4f4f4", color="#777777"'


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: LineageGraph) -> str:
    ids = short_ids(graph)
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555"];',
    ]

    def job_line(job_id: str, label: str, failed: bool, indent: str) -> str:
        style = FAILED_STYLE if failed else JOB_STYLE
        return f"{indent}{ids[job_id]} [label={quote(label)}, {style}];"

    for group in graph.groups:
        color = "#c0392b" if group.failed else "#999999"
        lines += [
            f"  subgraph cluster_{ids[group.id]} {{",
            f"    label={quote(caption(group))};",
            f'    style="rounded,dashed"; color="{color}"; fontname="Helvetica";',
        ]
        lines += [
            job_line(job.id, caption(job), job.failed, "    ")
            for job in graph.jobs
            if job.group == group.id
        ]
        lines.append("  }")
    lines += [
        job_line(job.id, caption(job), job.failed, "  ") for job in graph.jobs if job.group is None
    ]
    lines += [
        f"  {ids[dataset.id]} [label={quote(dataset.label)}, {DATASET_STYLE}, "
        f"tooltip={quote(dataset.namespace)}];"
        for dataset in graph.datasets
    ]
    lines += [f"  {ids[edge.source]} -> {ids[edge.target]};" for edge in _ordered(graph.edges, ids)]
    lines.append("}")
    return "\n".join(lines) + "\n"
