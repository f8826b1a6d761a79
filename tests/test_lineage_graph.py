"""The lineage picture of the demo: nodes and edges read back from Mermaid, DOT and SVG."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ol_bridge.cli import main
from ol_bridge.commands.demo import demo_client
from ol_bridge.demo.runner import read_events, run_demo
from ol_bridge.errors import LineageRenderError
from ol_bridge.lineage_graph import (
    Edge,
    LineageGraph,
    graph_from_events,
    graph_from_lite,
    render_png,
    render_svg,
    to_dot,
    to_mermaid,
    to_svg,
)
from ol_bridge.lineage_graph.svg import layers

TASKS = {
    "iris_job": {
        "prod__duckdb__iris__main__iris_dataset",
        "prod__duckdb__iris__main__iris_setosa",
        "prod__duckdb__iris__main__iris_summary",
        "prod__duckdb__iris__main__iris_summary_three_species",
    },
    "orders_pipeline": {"clean_orders", "extract_orders"},
    "nightly_export (failed)": {"export_to_partner (failed)"},
}
DATASETS = {
    "iris.main.iris_dataset",
    "iris.main.iris_setosa",
    "iris.main.iris_summary",
    "iris.main.orders_clean",
    "shop.public.orders",
}
EDGES = {
    ("prod__duckdb__iris__main__iris_dataset", "iris.main.iris_dataset"),
    ("iris.main.iris_dataset", "prod__duckdb__iris__main__iris_setosa"),
    ("prod__duckdb__iris__main__iris_setosa", "iris.main.iris_setosa"),
    ("iris.main.iris_dataset", "prod__duckdb__iris__main__iris_summary"),
    ("prod__duckdb__iris__main__iris_summary", "iris.main.iris_summary"),
    ("iris.main.iris_summary", "prod__duckdb__iris__main__iris_summary_three_species"),
    ("shop.public.orders", "clean_orders"),
    ("clean_orders", "iris.main.orders_clean"),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The demo's events file and DataHub Lite, written by the real sensor."""
    workdir = tmp_path_factory.mktemp("demo")
    lite = workdir / "datahub-lite.duckdb"
    result = run_demo(workdir, lambda events_file: demo_client(events_file, lite))
    yield result.events_file, lite


@pytest.fixture(scope="module")
def graph(demo: tuple[Path, Path]) -> LineageGraph:
    return graph_from_events(read_events(demo[0]))


def parse_mermaid(text: str) -> tuple[dict[str, str], set[tuple[str, str]], dict[str, set[str]]]:
    """(id -> label, label edges, group label -> member labels), from Mermaid text."""
    labels: dict[str, str] = {}
    groups: dict[str, set[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        if match := re.fullmatch(r'\s*subgraph (\w+)\["(.*)"\]', line):
            current = match.group(2)
            groups[current] = set()
        elif line.strip() == "end":
            current = None
        elif match := re.fullmatch(r'\s*(\w+)\[\(?"(.*)"\)?\]', line):
            labels[match.group(1)] = match.group(2)
            if current is not None:
                groups[current].add(match.group(2))
    edges = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\w+) --> (\w+)$", text, re.M)}
    return labels, edges, groups


def parse_svg(text: str) -> tuple[dict[str, tuple[str, str]], set[tuple[str, str]]]:
    """(title -> (first text, class), label edges) from Graphviz-shaped SVG."""
    root = ET.fromstring(text)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    nodes: dict[str, tuple[str, str]] = {}
    titles: list[str] = []
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        title = group.findtext("svg:title", namespaces=ns) or ""
        classes = group.get("class", "")
        if classes.startswith("node"):
            text = "".join(group.find("svg:text", ns).itertext())  # type: ignore[union-attr]
            nodes[title] = (text, classes)
        elif classes == "edge":
            titles.append(title)
    edges = set()
    for title in titles:
        source, target = title.split("->")
        edges.add((nodes[source][0], nodes[target][0]))
    return nodes, edges


def test_mermaid_of_the_demo(graph: LineageGraph) -> None:
    text = to_mermaid(graph)
    labels, edges, groups = parse_mermaid(text)
    assert groups == TASKS
    assert set(labels.values()) >= DATASETS
    assert len(labels) == len(DATASETS) + sum(len(tasks) for tasks in TASKS.values())
    assert edges == EDGES
    failed = re.findall(r"^\s*class (\w+) failed$", text, re.M)
    assert [labels[node] for node in failed] == ["export_to_partner (failed)"]


def test_builtin_svg_of_the_demo(graph: LineageGraph) -> None:
    nodes, edges = parse_svg(to_svg(graph))
    assert edges == EDGES
    assert {text for text, classes in nodes.values() if "dataset" in classes} == DATASETS
    assert {text for text, classes in nodes.values() if "failed" in classes} == {
        "export_to_partner (failed)"
    }
    # data flows left to right: every edge ends right of where it starts
    root = ET.fromstring(to_svg(graph))
    for path in root.iter("{http://www.w3.org/2000/svg}path"):
        numbers = [float(n) for n in re.findall(r"-?\d+\.\d+", path.get("d", ""))]
        if len(numbers) == 8:
            assert numbers[6] > numbers[0]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_svg_of_the_demo(graph: LineageGraph) -> None:
    _, edges = parse_svg(render_svg(graph, renderer="graphviz"))
    assert edges == EDGES
    assert render_png(graph).startswith(b"\x89PNG")


@pytest.mark.skipif(shutil.which("dot") is not None, reason="Graphviz is installed")
def test_without_graphviz_svg_is_builtin_and_png_says_what_to_do(graph: LineageGraph) -> None:
    assert render_svg(graph) == to_svg(graph)
    with pytest.raises(LineageRenderError, match="PNG needs Graphviz's `dot`"):
        render_png(graph)


def test_dot_text_of_the_demo(graph: LineageGraph) -> None:
    text = to_dot(graph)
    labels = dict(re.findall(r'^\s*(\w+) \[label="([^"]*)"', text, re.M))
    edges = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\w+) -> (\w+);$", text, re.M)}
    assert edges == EDGES
    assert re.findall(r'^\s*label="(.*)";$', text, re.M) == [
        "iris_job",
        "nightly_export (failed)",
        "orders_pipeline",
    ]
    assert 'j4 [label="export_to_partner (failed)", shape=box, style="rounded,filled,bold"' in text


def test_datahub_lite_gives_the_same_picture(demo: tuple[Path, Path], graph: LineageGraph) -> None:
    from_lite = graph_from_lite(demo[1])
    assert to_mermaid(from_lite) == to_mermaid(graph)


def test_command_writes_each_format(demo: tuple[Path, Path], tmp_path: Path) -> None:
    events, lite = demo
    runner = CliRunner()
    svg = runner.invoke(main, ["lineage", str(events), "-o", str(tmp_path / "demo.svg")])
    assert svg.exit_code == 0, svg.output
    assert "demo.svg: 7 jobs, 5 datasets, 8 edges, 1 failed." in svg.output
    assert parse_svg((tmp_path / "demo.svg").read_text(encoding="utf-8"))[1] == EDGES

    markdown = runner.invoke(main, ["lineage", str(lite), "-o", str(tmp_path / "demo.md")])
    assert markdown.exit_code == 0, markdown.output
    text = (tmp_path / "demo.md").read_text(encoding="utf-8")
    assert text.startswith("```mermaid\nflowchart LR\n") and text.endswith("```\n")

    stdout = runner.invoke(main, ["lineage", str(events)])
    assert parse_mermaid(stdout.output)[1] == EDGES

    unknown = runner.invoke(main, ["lineage", str(events), "-o", str(tmp_path / "demo.txt")])
    assert unknown.exit_code == 2
    assert "Cannot tell the format from" in unknown.output


def test_json_array_input_and_bad_input(tmp_path: Path, demo: tuple[Path, Path]) -> None:
    array = tmp_path / "events.json"
    array.write_text(json.dumps(read_events(demo[0])), encoding="utf-8")
    result = CliRunner().invoke(main, ["lineage", str(array), "--format", "mermaid"])
    assert parse_mermaid(result.output)[1] == EDGES
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"eventType": "START"}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["lineage", str(broken)])
    assert result.exit_code == 1
    # the shared events-file reader names the file and the line at fault
    assert "broken.jsonl:2: invalid JSON" in result.output


def _event(job: str, event_type: str, run: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "job": {"namespace": "ns", "name": job},
        "run": {"runId": run},
        **extra,
    }


def test_failed_runs_and_name_clashes() -> None:
    events = [
        _event("load", "START", "r1"),
        _event("load", "FAIL", "r1", outputs=[{"namespace": "postgres://a", "name": "t"}]),
        _event("load", "COMPLETE", "r2", outputs=[{"namespace": "postgres://b", "name": "t"}]),
        _event("load", "START", "r2"),  # late START does not hide the end
    ]
    graph = graph_from_events(events)
    (job,) = graph.jobs
    assert (job.runs, job.failed_runs, job.last_status, job.failed) == (2, 1, "COMPLETE", False)
    assert [dataset.label for dataset in graph.datasets] == ["postgres://a/t", "postgres://b/t"]
    assert 'j0["load (1 of 2 runs failed)"]' in to_mermaid(graph)


def test_layers_ignore_cycles() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
    assert layers(["a", "b", "c", "d"], edges) == {"a": 0, "b": 1, "c": 2, "d": 3}
    graph = LineageGraph(edges=(Edge("x", "y"),))
    assert graph.edges[0].source == "x"
