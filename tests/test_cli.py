"""The command line: ``--help`` imports only click and ol-bridge's small modules, and
moving the ``datahub`` transport registration off ``import ol_bridge`` lost nothing.

Imports are measured in a fresh interpreter (this test process has everything loaded);
the help text is what the user sees, so it is checked too. No timing: what is imported
is what makes ``--help`` slow (all of Dagster was ~2 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

from ol_bridge.cli import main

#: what ``--help`` must not import: big libraries only a command's work needs
HEAVY = frozenset(
    {
        "dagster",
        "datahub",
        "openlineage",
        "sqlglot",
        "duckdb",
        "pandas",
        "starlette",
        "uvicorn",
        "confluent_kafka",
        "requests",
        "rich",
        "yaml",
    }
)

HELP_RUNNER = """
import json, sys
from ol_bridge.cli import main

report = {}
for args in json.loads(sys.argv[1]):
    try:
        main(args, prog_name="ol-bridge")
    except SystemExit as exit:
        assert exit.code in (0, None), (args, exit.code)
    report[" ".join(args)] = sorted({name.split(".")[0] for name in sys.modules})
with open(sys.argv[2], "w") as out:
    json.dump(report, out)
"""


def help_invocations() -> list[list[str]]:
    context = click.Context(main)
    invocations = [["--help"], ["--version"]]
    for name in main.list_commands(context):
        invocations.append([name, "--help"])
        command = main.get_command(context, name)
        if isinstance(command, click.Group):
            for sub in command.list_commands(click.Context(command)):
                invocations.append([name, sub, "--help"])
    return invocations


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    invocations = help_invocations()
    assert len(invocations) >= 12  # the group, version, 7 commands, outbox's subcommands
    report_file = tmp_path / "modules.json"
    completed = subprocess.run(
        [sys.executable, "-c", HELP_RUNNER, json.dumps(invocations), str(report_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    for name in ("backfill", "convert", "demo", "doctor", "lineage", "outbox", "serve"):
        assert f"  {name} " in completed.stdout, name
    assert "--timeout FLOAT" in completed.stdout  # `doctor --help` printed its options
    report = json.loads(report_file.read_text(encoding="utf-8"))
    heavy = {args: sorted(HEAVY & set(modules)) for args, modules in report.items()}
    # modules accumulate in the one interpreter: the first invocation listed is the culprit
    assert heavy == {" ".join(args): [] for args in invocations}


def run_python(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_import_ol_bridge_is_light_and_the_datahub_type_still_resolves(tmp_path: Path) -> None:
    config = {"type": "datahub", "sink": "file", "file_path": str(tmp_path / "mcps.json")}
    build = f"OpenLineageClient(config={{'transport': {config!r}}}).transport.kind"
    assert run_python("import sys, ol_bridge; print('openlineage' in sys.modules)") == "False"
    for package in ("ol_bridge.dagster", "ol_bridge.delivery"):
        code = f"import {package}\nfrom openlineage.client import OpenLineageClient\nprint({build})"
        assert run_python(code) == "datahub", package
