"""`ol-bridge convert` with click's runner, and once as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from datahub.ingestion.source.file import read_metadata_file

from ol_bridge.cli import main
from ol_bridge.datahub.converter import convert_event, convert_events
from ol_bridge.datahub.sinks.file import mcp_to_file_obj
from ol_bridge.datahub.sinks.lite import open_lite
from ol_bridge.datahub.transport import event_to_dict
from tests.fakes import dagster_run_events
from tests.fakes.gms import running_gms

ROOT = Path(__file__).resolve().parents[1]


def event_dicts() -> list[dict[str, object]]:
    return [event_to_dict(e) for e in dagster_run_events()]


def expected_output(events: list[dict[str, object]]) -> list[dict[str, object]]:
    return [mcp_to_file_obj(m) for e in events for m in convert_event(e)]


def expected_in_sinks(events: list[dict[str, object]]) -> list[dict[str, object]]:
    """What a sink receives: the proposals of all events, coalesced."""
    return [mcp_to_file_obj(m) for m in convert_events(events)]


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["convert", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("layout", ["object", "array", "jsonl"])
def test_prints_one_json_array_in_datahubs_file_format(tmp_path: Path, layout: str) -> None:
    events = event_dicts()
    path = tmp_path / "events.json"
    if layout == "object":
        events = events[:1]
        path.write_text(json.dumps(events[0], indent=2))
    elif layout == "array":
        path.write_text(json.dumps(events, indent=2))
    else:
        path.write_text("\n".join(json.dumps(e) for e in events) + "\n\n")
    code, out, _ = run(str(path))
    assert code == 0
    assert json.loads(out) == expected_output(events)
    first = json.loads(out)[0]
    assert sorted(first) == ["aspect", "aspectName", "changeType", "entityType", "entityUrn"]


def test_reads_stdin_and_several_paths_and_writes_output(tmp_path: Path) -> None:
    events = event_dicts()
    path = tmp_path / "one.json"
    path.write_text(json.dumps(events[0]))
    output = tmp_path / "mcps.json"
    stdin = "\n".join(json.dumps(e) for e in events[1:])
    code, out, _ = run(str(path), "-", "--output", str(output), stdin=stdin)
    assert (code, out) == (0, "")
    assert json.loads(output.read_text()) == expected_output(events)
    assert len(list(read_metadata_file(output))) == len(expected_output(events))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "events.json: empty input"),
        ('{"eventType": "START",\n  "run": }\n', "events.json:2: invalid JSON (Expecting value"),
        ('{"eventType": "START"}\n{"broken": \n', "events.json:2: invalid JSON"),
        ("[1]", "events.json[0]: expected an OpenLineage event (a JSON object), found int"),
        ('"text"', "events.json: expected a JSON object, an array of objects or JSON Lines"),
        ('{"eventType": "START"}', "events.json: cannot convert"),
    ],
)
def test_unreadable_input_names_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "events.json"
    path.write_text(content)
    code, out, err = run(str(path))
    assert code == 1
    assert out == ""
    assert message in err


def test_missing_file_and_file_sink_without_output(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "nope.json"))
    assert code == 1
    assert "nope.json: cannot read: [Errno 2] No such file or directory" in err
    path = tmp_path / "e.json"
    path.write_text(json.dumps(event_dicts()[0]))
    code, _, err = run(str(path), "--sink", "file")
    assert code == 2
    assert "--sink file needs --output FILE" in err


def test_sinks_lite_file_and_rest(tmp_path: Path) -> None:
    events = event_dicts()
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events))
    expected = expected_in_sinks(events)
    assert len(expected) < len(expected_output(events))  # START and COMPLETE overlap

    lite_path = tmp_path / "lite.duckdb"
    code, _, err = run(str(path), "--sink", "lite", "--lite-path", str(lite_path))
    assert code == 0, err
    assert f"Wrote {len(expected)} proposals from 4 events to lite: {lite_path}" in err
    lite = open_lite(lite_path, read_only=True)
    try:
        assert set(lite.list_ids()) == {m["entityUrn"] for m in expected}
    finally:
        lite.close()

    file_path = tmp_path / "mcps.json"
    code, _, _ = run(str(path), "--sink", "file", "--output", str(file_path))
    assert code == 0
    assert json.loads(file_path.read_text()) == expected

    with running_gms(required_token="tok") as gms:
        code, _, err = run(str(path), "--sink", "rest", "--server", gms.url, "--token", "tok")
    assert code == 0, err
    assert "tok" not in err.replace(gms.url, "")
    assert len(gms.proposals) == len(expected)
    assert len(gms.ingest_requests) == 1  # the whole input in one batch


def test_runs_as_a_real_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    events = event_dicts()
    path.write_text(json.dumps(events))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "ol_bridge.cli", "convert", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected_output(events)
    bad = subprocess.run(
        [sys.executable, "-m", "ol_bridge.cli", "convert", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 1
    assert "missing.json: cannot read" in bad.stderr
