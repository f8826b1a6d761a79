"""``ol-bridge lineage``: a picture of the lineage in an events file or DataHub Lite."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ol_bridge.errors import OlBridgeError
from ol_bridge.event_files import read_events_file

# Heavy imports (dagster, openlineage, acryl-datahub) are made where they are used, so
# `ol-bridge <command> --help` stays fast (tests/test_cli.py checks it).
if TYPE_CHECKING:
    from ol_bridge.lineage_graph import LineageGraph

#: output file suffix -> format
SUFFIXES = {
    ".svg": "svg",
    ".png": "png",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "markdown",
}
FORMATS = ("svg", "png", "dot", "mermaid", "markdown")
LITE_SUFFIXES = (".duckdb", ".db")


def load_graph(source: Path, kind: str) -> LineageGraph:
    from ol_bridge.lineage_graph import graph_from_events, graph_from_lite

    if kind == "auto":
        kind = "lite" if source.suffix in LITE_SUFFIXES else "events"
    if kind == "lite":
        return graph_from_lite(source)
    return graph_from_events(read_events_file(source))


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here; the format follows the suffix (.svg .png .dot .mmd .md). "
    "Default: Mermaid text on stdout.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Override the format.")
@click.option(
    "--from",
    "kind",
    type=click.Choice(["auto", "events", "lite"]),
    default="auto",
    show_default=True,
    help="What SOURCE is: OpenLineage events (JSON Lines / array) or a DataHub Lite file "
    "(auto: .duckdb/.db files are Lite).",
)
@click.option(
    "--renderer",
    type=click.Choice(["auto", "graphviz", "builtin"]),
    default="auto",
    show_default=True,
    help="SVG renderer: Graphviz's dot when on PATH (auto), or the built-in layout.",
)
def lineage(source: Path, output: Path | None, fmt: str | None, kind: str, renderer: str) -> None:
    """Draw the lineage graph of SOURCE: datasets and jobs, failed runs in red."""
    from ol_bridge.lineage_graph import render_png, render_svg, to_dot, to_mermaid

    if fmt is None:
        fmt = SUFFIXES.get(output.suffix.lower(), "") if output is not None else "mermaid"
        if not fmt:
            raise click.UsageError(
                f"Cannot tell the format from {output}; use a suffix "
                f"({', '.join(SUFFIXES)}) or --format."
            )
    try:
        graph = load_graph(source, kind)
        content: str | bytes
        if fmt == "svg":
            content = render_svg(graph, renderer=renderer)  # type: ignore[arg-type]
        elif fmt == "png":
            content = render_png(graph)
        elif fmt == "dot":
            content = to_dot(graph)
        elif fmt == "markdown":
            content = "```mermaid\n" + to_mermaid(graph) + "```\n"
        else:
            content = to_mermaid(graph)
    except OlBridgeError as error:
        raise click.ClickException(str(error)) from error
    if output is None:
        if isinstance(content, bytes):
            raise click.UsageError("PNG output needs -o FILE.png.")
        click.echo(content, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        output.write_bytes(content)
    else:
        output.write_text(content, encoding="utf-8")
    failed = sum(1 for job in graph.jobs if job.failed)
    click.echo(
        f"Wrote {output}: {len(graph.jobs)} jobs, {len(graph.datasets)} datasets, "
        f"{len(graph.edges)} edges, {failed} failed.",
        err=True,
    )
