"""The lineage graph of OpenLineage events or DataHub Lite, and pictures of it.

``graph_from_events`` / ``graph_from_lite`` build a :class:`LineageGraph` (pure data);
``to_dot``, ``to_mermaid`` and ``to_svg`` render it. SVG comes from Graphviz's ``dot`` when it
is installed and otherwise from a small built-in layered layout, so a picture never needs
a system package.
"""

from __future__ import annotations

from ol_bridge.lineage_graph.dot import to_dot
from ol_bridge.lineage_graph.events import graph_from_events
from ol_bridge.lineage_graph.lite import graph_from_aspects, graph_from_lite
from ol_bridge.lineage_graph.mermaid import to_mermaid
from ol_bridge.lineage_graph.model import DatasetNode, Edge, Group, JobNode, LineageGraph
from ol_bridge.lineage_graph.render import render_png, render_svg
from ol_bridge.lineage_graph.svg import to_svg

__all__ = [
    "DatasetNode",
    "Edge",
    "Group",
    "JobNode",
    "LineageGraph",
    "graph_from_aspects",
    "graph_from_events",
    "graph_from_lite",
    "render_png",
    "render_svg",
    "to_dot",
    "to_mermaid",
    "to_svg",
]
