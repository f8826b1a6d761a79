"""A small built-in SVG renderer: a left-to-right layered layout, no Graphviz needed.

Layers follow the longest path from the sources (so data flows left to right); within a
layer, nodes are ordered by a few barycenter sweeps to keep edges short. The markup mirrors
Graphviz's (``<g class="node"><title>id</title>...``, ``<g class="edge"><title>a->b</title>``),
so tools and tests read either renderer's output the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

import attrs

from ol_bridge.lineage_graph.model import LineageGraph, caption, short_ids

CHAR_WIDTH = 7.0
NODE_HEIGHT = 44.0
ROW_GAP = 18.0
LAYER_GAP = 70.0
MARGIN = 20.0
SWEEPS = 4


@attrs.frozen
class _Box:
    id: str
    kind: str  # job | dataset
    text: str
    subtext: str
    failed: bool
    width: float


@attrs.frozen
class Placed:
    x: float
    y: float
    width: float


def layers(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layer of each node; edges closing a cycle are ignored."""
    successors: dict[str, list[str]] = {node: [] for node in nodes}
    for source, target in edges:
        successors[source].append(target)
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(node: str) -> None:
        # iterative DFS: big graphs must not hit the recursion limit
        stack = [(node, iter(successors[node]))]
        state[node] = 1
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[current] = 2
                order.append(current)
                stack.pop()
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(successors[child])))

    for node in nodes:
        if node not in state:
            visit(node)
    rank = {node: index for index, node in enumerate(reversed(order))}
    layer = dict.fromkeys(nodes, 0)
    for node in reversed(order):
        for child in successors[node]:
            if rank[child] > rank[node]:  # forward edge in topological order
                layer[child] = max(layer[child], layer[node] + 1)
    return layer


def order_layers(
    layer: Mapping[str, int], edges: Sequence[tuple[str, str]], initial: Sequence[str]
) -> list[list[str]]:
    count = max(layer.values(), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(count)]
    for node in initial:
        rows[layer[node]].append(node)
    neighbours: dict[str, list[str]] = {node: [] for node in initial}
    for source, target in edges:
        neighbours[source].append(target)
        neighbours[target].append(source)
    for sweep in range(SWEEPS):
        sequence = range(1, count) if sweep % 2 == 0 else range(count - 2, -1, -1)
        for index in sequence:
            reference = rows[index - 1] if sweep % 2 == 0 else rows[index + 1]
            position = {node: place for place, node in enumerate(reference)}

            def barycenter(node: str, position: dict[str, int] = position) -> float:
                placed = [position[other] for other in neighbours[node] if other in position]
                return sum(placed) / len(placed) if placed else float("inf")

            current = {node: place for place, node in enumerate(rows[index])}
            rows[index].sort(key=lambda node: (barycenter(node), current[node]))
    return rows


def to_svg(graph: LineageGraph) -> str:
    ids = short_ids(graph)
    groups = {group.id: group.label for group in graph.groups}
    boxes: dict[str, _Box] = {}
    for dataset in graph.datasets:
        boxes[dataset.id] = _box(
            ids[dataset.id], "dataset", dataset.label, dataset.namespace, False
        )
    for job in graph.jobs:
        group = groups.get(job.group or "", "")
        boxes[job.id] = _box(ids[job.id], "job", caption(job), group, job.failed)
    edges = [(edge.source, edge.target) for edge in graph.edges]
    initial = [job.id for job in graph.jobs] + [dataset.id for dataset in graph.datasets]
    rows = order_layers(layers(initial, edges), edges, initial)
    placed: dict[str, Placed] = {}
    x = MARGIN
    height = MARGIN
    for row in rows:
        widest = max((boxes[node].width for node in row), default=0.0)
        for index, node in enumerate(row):
            placed[node] = Placed(x, MARGIN + index * (NODE_HEIGHT + ROW_GAP), boxes[node].width)
        height = max(height, MARGIN + len(row) * (NODE_HEIGHT + ROW_GAP))
        x += widest + LAYER_GAP
    width = max(x - LAYER_GAP + MARGIN, 2 * MARGIN)
    height = max(height - ROW_GAP + MARGIN, 2 * MARGIN)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
        "<title>lineage</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>',
    ]
    for source, target in edges:
        parts.append(_edge(boxes[source].id, boxes[target].id, placed[source], placed[target]))
    for node, box in boxes.items():
        parts.append(_node(box, placed[node]))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _box(short_id: str, kind: str, text: str, subtext: str, failed: bool) -> _Box:
    longest = max(len(text), len(subtext) * 0.85)
    return _Box(short_id, kind, text, subtext, failed, max(110.0, longest * CHAR_WIDTH + 24))


def _edge(source_id: str, target_id: str, source: Placed, target: Placed) -> str:
    x1, y1 = source.x + source.width, source.y + NODE_HEIGHT / 2
    x2, y2 = target.x, target.y + NODE_HEIGHT / 2
    bend = max(abs(x2 - x1) / 2, 30.0)
    return (
        f'<g class="edge"><title>{source_id}-&gt;{target_id}</title>'
        f'<path d="M {x1:.1f} {y1:.1f} C {x1 + bend:.1f} {y1:.1f} {x2 - bend:.1f} {y2:.1f} '
        f'{x2:.1f} {y2:.1f}" fill="none" stroke="#555555" marker-end="url(#arrow)"/></g>'
    )


def _node(box: _Box, at: Placed) -> str:
    if box.kind == "dataset":
        fill, stroke, radius = "#f4f4f4", "#777777", 14
    elif box.failed:
        fill, stroke, radius = "#fde2e1", "#c0392b", 6
    else:
        fill, stroke, radius = "#e8f0fe", "#4a6fa5", 6
    classes = f"node {box.kind}" + (" failed" if box.failed else "")
    centre = at.x + at.width / 2
    lines = [
        f'<g class="{classes}"><title>{box.id}</title>',
        f'<rect x="{at.x:.1f}" y="{at.y:.1f}" width="{at.width:.1f}" height="{NODE_HEIGHT:.0f}" '
        f'rx="{radius}" fill="{fill}" stroke="{stroke}"'
        + (' stroke-width="2"' if box.failed else "")
        + "/>",
        f'<text x="{centre:.1f}" y="{at.y + 19:.1f}" text-anchor="middle" font-size="12" '
        f'fill="#1a1a1a">{escape(box.text)}</text>',
    ]
    if box.subtext:
        lines.append(
            f'<text class="sub" x="{centre:.1f}" y="{at.y + 35:.1f}" text-anchor="middle" '
            f'font-size="10" fill="#666666">{escape(box.subtext)}</text>'
        )
    lines.append("</g>")
    return "".join(lines)
