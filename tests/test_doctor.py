"""``ol-bridge doctor`` against real loopback servers and real environment configurations."""

from __future__ import annotations

import socket
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from ol_bridge.cli import main
from ol_bridge.doctor import Check, run_checks
from tests.fakes.gms import running_gms

DATAHUB = "openapi/openlineage/api/v1/lineage"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return home


def checks(env: dict[str, str], tmp_path: Path) -> list[Check]:
    # cwd and home without an openlineage.yml unless the test writes one
    return run_checks(env, cwd=tmp_path, home=tmp_path, timeout=2.0)


def test_datahub_configured_right_passes(tmp_path: Path, dagster_home: Path) -> None:
    with running_gms(required_token="secret") as gms:
        env = {
            "OPENLINEAGE_URL": gms.url,
            "OPENLINEAGE_ENDPOINT": DATAHUB,
            "OPENLINEAGE_API_KEY": "secret",
            "DAGSTER_HOME": str(dagster_home),
        }
        result = checks(env, tmp_path)
        assert [request.path for request in gms.requests] == ["/config"]
    assert result == [
        Check(
            "openlineage config",
            "PASS",
            "Source: OPENLINEAGE_URL environment variables; transport type 'http'.",
        ),
        Check("transport url", "PASS", f"Events go to {gms.url}/{DATAHUB}."),
        Check("transport token", "PASS", "An API key is set."),
        Check("transport reachable", "PASS", f"DataHub GMS v1.2.0 at {gms.url}."),
        Check(
            "dagster instance",
            "PASS",
            f"{dagster_home}: run storage SqliteRunStorage, event log run-sharded SQLite "
            "(no runs yet); the sensor reads every storage kind.",
        ),
    ]


def test_url_with_the_lineage_path_and_an_endpoint_is_the_join_trap(tmp_path: Path) -> None:
    with running_gms() as gms:
        env = {"OPENLINEAGE_URL": f"{gms.url}/{DATAHUB}", "OPENLINEAGE_ENDPOINT": DATAHUB}
        url_check = checks(env, tmp_path)[1]
    assert url_check == Check(
        "transport url",
        "FAIL",
        "The URL already ends with the lineage path and the endpoint is appended: events go to "
        f"{gms.url}/openapi/openlineage/api/v1/{DATAHUB}.",
        f"Set the URL to {gms.url} and the endpoint to {DATAHUB}.",
    )


def test_datahub_with_the_marquez_endpoint(tmp_path: Path) -> None:
    with running_gms() as gms:
        result = checks({"OPENLINEAGE_URL": gms.url}, tmp_path)
    assert result[1] == Check(
        "transport url",
        "FAIL",
        f"This is DataHub but events go to {gms.url}/api/v1/lineage (the Marquez path).",
        f"Set OPENLINEAGE_ENDPOINT={DATAHUB} (or endpoint: {DATAHUB} in openlineage.yml).",
    )
    assert result[2].status == "WARN" and result[2].name == "transport token"


def test_missing_token_for_a_secured_datahub(tmp_path: Path) -> None:
    with running_gms(required_token="secret") as gms:
        result = checks({"OPENLINEAGE_URL": gms.url, "OPENLINEAGE_ENDPOINT": DATAHUB}, tmp_path)
    assert [(check.name, check.status) for check in result[1:4]] == [
        ("transport url", "PASS"),
        ("transport token", "WARN"),
        ("transport reachable", "FAIL"),
    ]
    assert result[3].message == (f"{gms.url} refused the request (HTTP 401): the token is missing.")
    assert result[3].fix == "Set OPENLINEAGE_API_KEY to a valid DataHub personal access token."


def test_openlineage_yml_composite_with_an_unreachable_marquez(tmp_path: Path) -> None:
    port = closed_port()
    with running_gms() as gms:
        (tmp_path / "openlineage.yml").write_text(
            "transport:\n  type: composite\n  transports:\n"
            f"    datahub:\n      type: http\n      url: {gms.url}\n      endpoint: {DATAHUB}\n"
            f"    marquez:\n      type: http\n      url: http://127.0.0.1:{port}\n",
            encoding="utf-8",
        )
        result = checks({"OPENLINEAGE__TRANSPORT__CONTINUE_ON_FAILURE": "true"}, tmp_path)
    assert result[0].message == (
        f"Source: file {tmp_path / 'openlineage.yml'} + OPENLINEAGE__* variables; "
        "transport type 'composite'."
    )
    by_name = {check.name: check for check in result}
    assert by_name["transport.datahub url"].status == "PASS"
    assert by_name["transport.datahub reachable"].status == "PASS"
    assert by_name["transport.marquez url"] == Check(
        "transport.marquez url", "PASS", f"Events go to http://127.0.0.1:{port}/api/v1/lineage."
    )
    unreachable = by_name["transport.marquez reachable"]
    assert unreachable.status == "FAIL"
    assert unreachable.message == f"Cannot reach http://127.0.0.1:{port}: ConnectionError."


def test_config_sources_nothing_missing_file_and_disabled(tmp_path: Path) -> None:
    nothing = checks({}, tmp_path)
    assert nothing[0].status == "WARN"
    assert nothing[0].message == (
        "Source: nothing configured (console); no events will reach a backend."
    )
    assert nothing[-1].status == "WARN" and "DAGSTER_HOME is not set" in nothing[-1].message

    missing = checks({"OPENLINEAGE_CONFIG": str(tmp_path / "nope.yml")}, tmp_path)
    assert missing[0].status == "FAIL"
    assert missing[0].fix == (
        "Fix the path, or unset OPENLINEAGE_CONFIG to use ./openlineage.yml or env vars."
    )
    disabled = checks({"OPENLINEAGE_DISABLED": "true", "OPENLINEAGE_URL": "http://x"}, tmp_path)
    assert disabled[0].message.startswith("Source: OPENLINEAGE_DISABLED=true;")


def test_dagster_home_missing_and_with_runs(tmp_path: Path, dagster_home: Path) -> None:
    gone = checks({"DAGSTER_HOME": str(tmp_path / "gone")}, tmp_path)[-1]
    assert gone.status == "FAIL" and gone.message.endswith("gone does not exist.")

    @dg.op
    def hello() -> None:
        pass

    @dg.job
    def greet() -> None:
        hello()

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        greet.execute_in_process(instance=instance)
    ok = checks({"DAGSTER_HOME": str(dagster_home)}, tmp_path)[-1]
    assert ok.status == "PASS" and "(no runs yet)" not in ok.message


def test_command_prints_fixes_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENLINEAGE_CONFIG", "OPENLINEAGE_ENDPOINT", "OPENLINEAGE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "missing"))
    result = CliRunner().invoke(main, ["doctor", "--timeout", "2"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        "PASS  openlineage config: Source: OPENLINEAGE_URL environment variables; "
        "transport type 'http'."
    )
    assert (
        lines[-2] == f"FAIL  dagster instance: DAGSTER_HOME={tmp_path / 'missing'} does not exist."
    )
    assert lines[-1] == (
        "      fix: Create it, or point DAGSTER_HOME at the directory holding dagster.yaml."
    )
