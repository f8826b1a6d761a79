"""The README's main command, run for real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ol_bridge.demo.lite_report import read_lite
from ol_bridge.demo.report import summarize
from ol_bridge.demo.runner import read_events


def test_demo_command_end_to_end(tmp_path: Path, ol_validator) -> None:
    workdir = tmp_path / "demo"
    completed = subprocess.run(
        [sys.executable, "-m", "ol_bridge.cli", "demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert "SUCCESS  iris_job" in out
    assert "FAILURE  nightly_export" in out
    assert "ConnectionError: partner SFTP server refused the connection" in out
    assert "iris.main.iris_dataset.species  ->  " in out
    assert "Traceback" not in out + completed.stderr

    events = read_events(workdir / "openlineage-events.jsonl")
    for event in events:
        ol_validator.validate(event)
    report = summarize(events)
    assert {(run.job, run.result) for run in report.pipelines} == {
        ("iris_job", "SUCCESS"),
        ("orders_pipeline", "SUCCESS"),
        ("nightly_export", "FAILURE"),
    }
    assert any(edge[2].endswith("iris.main.iris_summary") for edge in report.table_edges)
    assert any(
        target.endswith("iris_summary.avg_petal_length") for _, target in report.column_edges
    )

    # DataHub Lite, read back with acryl-datahub's own Lite API
    lite = read_lite(workdir / "datahub-lite.duckdb")
    assert lite.entities["dataFlow"] == 3
    assert lite.entities["dataset"] == 5
    assert sorted(lite.run_results.values()).count("FAILURE") == 2
    assert sorted(lite.run_results.values()).count("SUCCESS") == 8
    summary_job = next(urn for urn in lite.job_lineage if urn.endswith("iris__main__iris_summary)"))
    inputs, outputs = lite.job_lineage[summary_job]
    assert inputs == ("urn:li:dataset:(urn:li:dataPlatform:duckdb,iris.main.iris_dataset,PROD)",)
    assert outputs == ("urn:li:dataset:(urn:li:dataPlatform:duckdb,iris.main.iris_summary,PROD)",)
    assert lite.fine_grained_edges >= 7
    assert "DataHub Lite" in out and "datahub lite list-urns" in out
