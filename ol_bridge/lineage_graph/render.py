"""SVG and PNG files: Graphviz's ``dot`` when it is on PATH, else the built-in renderer.

Graphviz draws better pictures (clusters per pipeline, edge routing) but is a system
package that many machines and CI images lack, so SVG never depends on it. PNG does: a
raster needs a real layout engine and font rendering, which we do not reimplement.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Literal

from ol_bridge.errors import LineageRenderError
from ol_bridge.lineage_graph.dot import to_dot
from ol_bridge.lineage_graph.model import LineageGraph
from ol_bridge.lineage_graph.svg import to_svg

Renderer = Literal["auto", "graphviz", "builtin"]

DOT_TIMEOUT_SECONDS = 60


def render_svg(graph: LineageGraph, *, renderer: Renderer = "auto") -> str:
    dot = shutil.which("dot") if renderer != "builtin" else None
    if dot is None:
        if renderer == "graphviz":
            raise LineageRenderError(
                "Graphviz's `dot` is not on PATH; install graphviz or use --renderer builtin."
            )
        return to_svg(graph)
    return _run_dot(dot, graph, "svg").decode("utf-8")


def render_png(graph: LineageGraph) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise LineageRenderError(
            "PNG needs Graphviz's `dot`, which is not on PATH. Install graphviz "
            "(apt install graphviz / brew install graphviz), or write .svg, .dot or .mmd."
        )
    return _run_dot(dot, graph, "png")


def _run_dot(dot: str, graph: LineageGraph, output: str) -> bytes:
    completed = subprocess.run(
        [dot, f"-T{output}"],
        input=to_dot(graph).encode("utf-8"),
        capture_output=True,
        timeout=DOT_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise LineageRenderError(
            f"`dot -T{output}` failed ({completed.returncode}): "
            f"{completed.stderr.decode('utf-8', 'replace').strip()}"
        )
    return completed.stdout
