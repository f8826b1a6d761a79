"""What landed, in words: a summary of OpenLineage events. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

_RESULT = {"COMPLETE": "SUCCESS", "FAIL": "FAILURE", "ABORT": "CANCELED", "START": "RUNNING"}


@attrs.frozen
class RunSummary:
    job: str
    run_id: str
    result: str
    is_pipeline: bool
    error: str | None = None


@attrs.frozen
class LineageReport:
    runs: tuple[RunSummary, ...]
    #: (input dataset, job, output dataset)
    table_edges: tuple[tuple[str, str, str], ...]
    #: (input dataset.column, output dataset.column)
    column_edges: tuple[tuple[str, str], ...]

    @property
    def pipelines(self) -> list[RunSummary]:
        return [run for run in self.runs if run.is_pipeline]

    @property
    def tasks(self) -> list[RunSummary]:
        return [run for run in self.runs if not run.is_pipeline]


def dataset_label(dataset: Mapping[str, Any]) -> str:
    return f"{dataset['namespace']}/{dataset['name']}"


def summarize(events: Iterable[Mapping[str, Any]]) -> LineageReport:
    last: dict[str, Mapping[str, Any]] = {}
    table_edges: dict[tuple[str, str, str], None] = {}
    column_edges: dict[tuple[str, str], None] = {}
    for event in events:
        run_id = event["run"]["runId"]
        last[run_id] = event
        job = event["job"]["name"]
        for output in event.get("outputs") or []:
            target = dataset_label(output)
            for source in event.get("inputs") or []:
                table_edges[(dataset_label(source), job, target)] = None
            lineage = (output.get("facets") or {}).get("columnLineage") or {}
            for column, field in sorted((lineage.get("fields") or {}).items()):
                for source in field.get("inputFields") or []:
                    origin = f"{source['namespace']}/{source['name']}.{source['field']}"
                    column_edges[(origin, f"{target}.{column}")] = None
    runs = []
    for run_id, event in last.items():
        facets = event["run"].get("facets") or {}
        error = (facets.get("errorMessage") or {}).get("message")
        runs.append(
            RunSummary(
                job=event["job"]["name"],
                run_id=run_id,
                result=_RESULT.get(event["eventType"], event["eventType"]),
                is_pipeline="parent" not in facets,
                error=error,
            )
        )
    runs.sort(key=lambda run: (not run.is_pipeline, run.job, run.run_id))
    return LineageReport(tuple(runs), tuple(table_edges), tuple(column_edges))


def render(report: LineageReport) -> str:
    lines = ["Pipelines (Dagster jobs) and their runs:"]
    lines += [_run_line(run) for run in report.pipelines]
    lines.append("")
    lines.append("Tasks (steps) and their runs:")
    lines += [_run_line(run) for run in report.tasks]
    lines.append("")
    lines.append("Table lineage (input -> task -> output):")
    lines += [f"  {source}  ->  {job}  ->  {target}" for source, job, target in report.table_edges]
    lines.append("")
    lines.append("Column lineage:")
    lines += [f"  {source}  ->  {target}" for source, target in report.column_edges]
    return "\n".join(lines)


def _run_line(run: RunSummary) -> str:
    line = f"  {run.result:<8} {run.job}  (run {run.run_id})"
    if run.error:
        first = run.error.strip().splitlines()[0]
        line += f"\n           error: {first[:160]}"
    return line
