"""``ol-bridge doctor`` against the real OpenLineage client, real loopback servers and real
Dagster instances (sensor states written by ``dagster sensor start`` and ``dagster-daemon``).

The doctor reads the process's environment, working directory and home, as the client
does; each test sets them with ``monkeypatch`` (``clean`` starts from none of them).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import attrs
import dagster as dg
import pytest
from click.testing import CliRunner
from openlineage.client import OpenLineageClient

from ol_bridge.cli import main
from ol_bridge.dagster import build_openlineage_sensor
from ol_bridge.doctor.client import config_file
from ol_bridge.doctor.instance import check_instance, pending_events_location
from ol_bridge.doctor.model import Check
from ol_bridge.doctor.run import run_checks
from ol_bridge.doctor.sensors import SensorState, Tick, check_sensors, sensor_states
from tests.conftest import fresh_database, postgres_storage
from tests.fakes.gms import running_gms

DATAHUB = "openapi/openlineage/api/v1/lineage"
BIN = Path(sys.executable).parent


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.define
class Receiver:
    """A loopback server with one lineage path, answering as Marquez does: 400 to an
    invalid event there, 404 anywhere else. Records every (method, path)."""

    lineage_path: str
    url: str = ""
    requests: list[tuple[str, str]] = attrs.field(factory=list)


@contextmanager
def receiver(lineage_path: str = "/api/v1/lineage") -> Iterator[Receiver]:
    state = Receiver(lineage_path)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append((self.command, self.path))
            if self.command == "POST" and self.path == state.lineage_path:
                event = json.loads(body or b"{}")
                status = HTTPStatus.CREATED if "eventTime" in event else HTTPStatus.BAD_REQUEST
            else:
                status = HTTPStatus.NOT_FOUND
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No OpenLineage or Dagster settings; cwd and home in ``tmp_path``."""
    for key in list(os.environ):
        if key.startswith("OPENLINEAGE") or key in {"DAGSTER_HOME", "DATAHUB_GMS_URL"}:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def dagster_home(clean: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = clean / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def write_yml(directory: Path, text: str) -> Path:
    path = directory / "openlineage.yml"
    path.write_text(text, encoding="utf-8")
    return path


# -- which configuration the client really uses -------------------------------------------


def test_file_wins_over_the_transport_variable_and_only_its_url_is_probed(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver() as in_file, receiver() as in_env:
        path = write_yml(clean, f"transport:\n  type: http\n  url: {in_file.url}\n")
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", in_env.url)
        result = run_checks(timeout=2.0)
        client_url = OpenLineageClient().transport.url  # type: ignore[attr-defined]
    assert client_url == in_file.url
    lineage = f"{in_file.url}/api/v1/lineage"
    assert result[:3] == [
        Check(
            "openlineage config",
            "PASS",
            f"OpenLineageClient() from config file {path} + OPENLINEAGE__* variables: 'http' "
            f"transport, 1 destination ({lineage}).",
        ),
        Check(
            "openlineage config",
            "WARN",
            f"OPENLINEAGE__TRANSPORT__URL={in_env.url} is not used: {path} sets transport.url "
            f"to {in_file.url}, and the file wins.",
            "Change the setting in the file (variables only fill in what it lacks), or "
            "remove the variable.",
        ),
        Check(
            f"destination {lineage} endpoint",
            "PASS",
            f"{lineage} takes OpenLineage events (an HTTP server; it rejected doctor's empty "
            "probe event with HTTP 400).",
        ),
    ]
    assert in_file.requests == [("GET", "/config"), ("POST", "/api/v1/lineage")]
    assert in_env.requests == []


def test_composite_and_openlineage_url_check_the_added_default_http(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver() as marquez, receiver(lineage_path="/lineage") as extra:
        path = write_yml(
            clean,
            "transport:\n  type: composite\n  transports:\n"
            f"    marquez:\n      type: http\n      url: {marquez.url}\n",
        )
        monkeypatch.setenv("OPENLINEAGE_URL", extra.url)
        result = run_checks(timeout=2.0)
    assert result[0].message == (
        f"OpenLineageClient() from config file {path} + OPENLINEAGE_URL: 'composite' "
        "transport, 2 destinations (default_http, marquez); OPENLINEAGE_URL added the "
        "'default_http' destination to the composite."
    )
    checks = by_name(result)
    assert checks["destination marquez endpoint"].status == "PASS"
    wrong = checks["destination default_http endpoint"]
    assert wrong == Check(
        "destination default_http endpoint",
        "FAIL",
        f"{extra.url}/api/v1/lineage answered HTTP 404: no OpenLineage endpoint there (an HTTP "
        f"server at {extra.url}); every event would be refused.",
        "Set the endpoint to the server's lineage path (OPENLINEAGE_ENDPOINT or endpoint: in "
        f"openlineage.yml): api/v1/lineage for Marquez and ol-bridge serve, {DATAHUB} for "
        "DataHub.",
    )
    assert ("POST", "/api/v1/lineage") in extra.requests
    # the client's aliasing of OPENLINEAGE_URL did not leak into this process
    assert not [key for key in os.environ if key.startswith("OPENLINEAGE__")]


def test_openlineage_url_replaced_by_a_file_transport_is_said(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver() as in_file:
        write_yml(clean, f"transport:\n  type: http\n  url: {in_file.url}\n")
        monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:1")
        result = run_checks(timeout=2.0)
    unused = [check for check in result if check.message.startswith("OPENLINEAGE_URL=")]
    assert [check.status for check in unused] == ["WARN"]
    assert "is not used" in unused[0].message


def test_file_children_are_checked(clean: Path) -> None:
    (clean / "events").mkdir()
    write_yml(
        clean,
        "transport:\n  type: composite\n  transports:\n"
        f"    archive:\n      type: file\n      log_file_path: {clean / 'events' / 'ol'}\n"
        f"    missing:\n      type: file\n      log_file_path: {clean / 'nope' / 'ol'}\n"
        f"    appended:\n      type: file\n      append: true\n"
        f"      log_file_path: {clean / 'events' / 'all.jsonl'}\n",
    )
    checks = by_name(run_checks(timeout=2.0))
    assert checks["destination archive"] == Check(
        "destination archive",
        "PASS",
        f"writes {clean / 'events' / 'ol'}-<time>.json files ({clean / 'events'} is writable).",
    )
    assert checks["destination missing"] == Check(
        "destination missing",
        "FAIL",
        f"writes {clean / 'nope' / 'ol'}-<time>.json files, but the directory "
        f"{clean / 'nope'} does not exist and is not created.",
        f"Create it (mkdir -p {clean / 'nope'}), or point the path at an existing one.",
    )
    assert checks["destination appended"].status == "PASS"


def test_a_real_404_is_a_failure_with_the_fix(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with receiver(lineage_path="/ingest") as server:
        monkeypatch.setenv("OPENLINEAGE_URL", server.url)
        result = run_checks(timeout=2.0)
    endpoint = by_name(result)[f"destination {server.url}/api/v1/lineage endpoint"]
    assert endpoint.status == "FAIL"
    assert "answered HTTP 404: no OpenLineage endpoint there" in endpoint.message
    assert server.requests == [("GET", "/config"), ("POST", "/api/v1/lineage")]


def test_unreachable_destination(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{port}")
    check = run_checks(timeout=2.0)[1]
    assert check.status == "FAIL"
    assert check.message == f"Cannot reach http://127.0.0.1:{port}: ConnectionError."


# -- DataHub -------------------------------------------------------------------------------


def test_datahub_configured_right_passes(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_gms(required_token="secret") as gms:
        monkeypatch.setenv("OPENLINEAGE_URL", gms.url)
        monkeypatch.setenv("OPENLINEAGE_ENDPOINT", DATAHUB)
        monkeypatch.setenv("OPENLINEAGE_API_KEY", "secret")
        result = run_checks(timeout=2.0)
        assert [(r.method, r.path) for r in gms.requests] == [
            ("GET", "/config"),
            ("POST", f"/{DATAHUB}"),
        ]
    assert result[1] == Check(
        f"destination {gms.url}/{DATAHUB} endpoint",
        "PASS",
        f"{gms.url}/{DATAHUB} takes OpenLineage events (DataHub GMS v1.2.0; it accepted "
        "doctor's empty probe event with HTTP 200).",
    )


def test_datahub_with_the_marquez_endpoint_fails_with_datahubs_path(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_gms() as gms:
        monkeypatch.setenv("OPENLINEAGE_URL", gms.url)
        monkeypatch.setenv("OPENLINEAGE_API_KEY", "t")
        endpoint = run_checks(timeout=2.0)[1]
    assert endpoint.status == "FAIL"
    assert endpoint.fix == (
        f"This is DataHub: set the endpoint to {DATAHUB} (OPENLINEAGE_ENDPOINT or endpoint: "
        "in openlineage.yml)."
    )


def test_url_with_the_lineage_path_and_an_endpoint_is_the_join_trap(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_gms() as gms:
        monkeypatch.setenv("OPENLINEAGE_URL", f"{gms.url}/{DATAHUB}")
        monkeypatch.setenv("OPENLINEAGE_ENDPOINT", DATAHUB)
        checks = by_name(run_checks(timeout=2.0))
    trap = checks[f"destination {gms.url}/{DATAHUB}/{DATAHUB} url"]
    assert trap.status == "FAIL"
    assert trap.message == (
        "The URL already ends with the lineage path and the endpoint is appended: events go "
        f"to {gms.url}/openapi/openlineage/api/v1/{DATAHUB}."
    )
    assert checks[f"destination {gms.url}/{DATAHUB}/{DATAHUB} endpoint"].status == "FAIL"


def test_missing_token_for_a_secured_datahub(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_gms(required_token="secret") as gms:
        monkeypatch.setenv("OPENLINEAGE_URL", gms.url)
        monkeypatch.setenv("OPENLINEAGE_ENDPOINT", DATAHUB)
        result = run_checks(timeout=2.0)
    assert [(check.name.rsplit(" ", 1)[1], check.status) for check in result[1:3]] == [
        ("token", "WARN"),
        ("endpoint", "FAIL"),
    ]
    assert result[2].message == (
        f"{gms.url}/{DATAHUB} refused the request (HTTP 401): the token is missing."
    )


def test_datahub_transport_sinks(clean: Path) -> None:
    with running_gms() as gms:
        write_yml(
            clean,
            "transport:\n  type: composite\n  transports:\n"
            f"    gms:\n      type: datahub\n      sink: rest\n      server: {gms.url}\n"
            f"    lite:\n      type: datahub\n      lite_path: {clean / 'new' / 'lite.duckdb'}\n"
            f"    down:\n      type: datahub\n      sink: rest\n"
            f"      server: http://127.0.0.1:{closed_port()}\n",
        )
        checks = by_name(run_checks(timeout=2.0))
    assert checks["destination gms (rest sink)"] == Check(
        "destination gms (rest sink)", "PASS", f"DataHub GMS v1.2.0 at {gms.url}."
    )
    assert checks["destination lite (lite sink)"].status == "PASS"
    assert checks["destination down (rest sink)"].status == "FAIL"


def test_datahub_kafka_sink_brokers(clean: Path) -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        up = f"127.0.0.1:{listening.getsockname()[1]}"
        down = f"127.0.0.1:{closed_port()}"
        write_yml(
            clean,
            "transport:\n  type: composite\n  transports:\n"
            f"    up:\n      type: datahub\n      sink: kafka\n"
            f"      kafka:\n        bootstrap: {down},{up}\n"
            f"    down:\n      type: datahub\n      sink: kafka\n"
            f"      kafka:\n        bootstrap: {down}\n",
        )
        checks = by_name(run_checks(timeout=2.0))
    assert checks["destination up (kafka sink)"] == Check(
        "destination up (kafka sink)", "PASS", f"the Kafka broker at {up} accepts connections."
    )
    failed = checks["destination down (kafka sink)"]
    assert failed.status == "FAIL"
    assert failed.message == (
        f"no Kafka bootstrap server accepts a connection ({down}: ConnectionRefusedError)."
    )


# -- configuration sources ----------------------------------------------------------------


def test_nothing_configured_missing_file_disabled_and_unbuildable(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nothing = run_checks(timeout=2.0)
    assert nothing[0] == Check(
        "openlineage config",
        "WARN",
        "OpenLineageClient() found no configuration: it prints events to the console, no "
        "backend receives them.",
        "Set OPENLINEAGE_URL (+ OPENLINEAGE_ENDPOINT, OPENLINEAGE_API_KEY) or write an "
        "openlineage.yml with a transport.",
    )
    assert nothing[1].status == "WARN" and "DAGSTER_HOME is not set" in nothing[1].message
    assert len(nothing) == 2

    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(clean / "nope.yml"))
    missing = run_checks(timeout=2.0)[0]
    assert missing.status == "FAIL" and missing.fix == "Fix the path, or unset OPENLINEAGE_CONFIG."

    monkeypatch.delenv("OPENLINEAGE_CONFIG")
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:1")
    disabled = run_checks(timeout=2.0)
    assert disabled[0].message.startswith("OPENLINEAGE_DISABLED=true")

    monkeypatch.delenv("OPENLINEAGE_DISABLED")
    monkeypatch.delenv("OPENLINEAGE_URL")
    write_yml(clean, "transport:\n  type: datahub\n  sink: rest\n  nope: 1\n")
    broken = run_checks(timeout=2.0)[0]
    assert broken.status == "FAIL"
    assert "OpenLineageClient() cannot be built" in broken.message
    assert "Unknown key(s) ['nope']" in broken.message


def test_transport_variables_without_a_type(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", "http://127.0.0.1:1")
    result = run_checks(timeout=2.0)
    assert result[1] == Check(
        "openlineage config",
        "WARN",
        "OPENLINEAGE__TRANSPORT__URL set without a transport type: openlineage-python "
        "ignores them.",
        "Set OPENLINEAGE__TRANSPORT__TYPE (e.g. http) as well.",
    )


def test_config_file_lookup_agrees_with_the_client(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openlineage-python's own lookup is private; this fails loudly if it changes
    def both() -> tuple[Path | None, Path | None]:
        found = OpenLineageClient._find_yaml_config_path()
        return config_file(os.environ), Path(found) if found else None

    assert both() == (None, None)
    (clean / "home" / ".openlineage").mkdir(parents=True)
    in_home = write_yml(clean / "home" / ".openlineage", "transport: {}\n")
    assert both() == (in_home, in_home)
    in_cwd = write_yml(clean, "transport: {}\n")
    assert both() == (in_cwd, in_cwd)
    explicit = clean / "elsewhere.yml"
    explicit.write_text("transport: {}\n", encoding="utf-8")
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(explicit))
    assert both() == (explicit, explicit)


# -- the Dagster instance -----------------------------------------------------------------


def test_dagster_home_missing_and_with_runs(
    dagster_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @dg.op
    def hello() -> None:
        pass

    @dg.job
    def greet() -> None:
        hello()

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        greet.execute_in_process(instance=instance)
    checks = run_checks(timeout=2.0)
    assert checks[1:] == [
        Check(
            "dagster instance",
            "PASS",
            f"{dagster_home}: run storage SqliteRunStorage, event log run-sharded SQLite; the "
            "sensor reads every storage kind.",
        ),
        Check(
            "pending events",
            "PASS",
            f"in {dagster_home / 'ol-bridge' / 'outbox.sqlite'} (not created yet), next to the "
            "SQLite instance: as durable as the instance.",
        ),
        Check(
            "sensor",
            "WARN",
            "No sensor of this instance has ticked or been turned on yet: the ol-bridge "
            "sensor is stopped (sensors start stopped unless built with "
            "default_status=RUNNING), or no daemon has ticked it yet.",
            "Turn it on in the Dagster UI (Automation > Sensors), run `dagster sensor start "
            "openlineage_sensor`, or build it with default_status=DefaultSensorStatus.RUNNING; "
            "if it is built so, check that the daemon runs (`dagster dev` or `dagster-daemon "
            "run`) and look again after one sensor interval.",
        ),
    ]
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home / "gone"))
    gone = run_checks(timeout=2.0)[-1]
    assert gone.status == "FAIL" and gone.message.endswith("gone does not exist.")


@pytest.mark.postgres
def test_pending_events_in_the_postgres_instance_database(
    tmp_path: Path, postgres_url: str
) -> None:
    overrides = postgres_storage(fresh_database(postgres_url))
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=overrides) as instance:
        description, durable = pending_events_location(instance)
    assert durable
    assert description.startswith("in the Dagster instance's database (postgresql+psycopg2://")
    assert description.endswith(
        " (nothing handed off yet), the instance's PostgreSQL storage: as durable as the instance."
    )
    assert "***" in description  # the password is hidden


def test_pending_events_on_local_disk_next_to_storage_elsewhere_is_a_warning() -> None:
    # an in-memory run storage stands for any storage that is not a file on this disk
    with dg.DagsterInstance.ephemeral() as instance:
        description, durable = pending_events_location(instance)
        pending = by_name(check_instance(instance))["pending events"]
        outbox = Path(instance.root_directory) / "ol-bridge" / "outbox.sqlite"
    assert not durable
    assert description == (
        f"in {outbox} (not created yet), on the local disk of the process that runs the "
        "sensor, while the instance's storage is "
        "dagster._core.storage.runs.in_memory.InMemoryRunStorage: a redeploy that replaces "
        "that disk loses the events waiting there, although the instance keeps the sensor's "
        "cursor."
    )
    assert pending.status == "WARN"
    assert "DeliveryConfig(url=<a PostgreSQL URL>)" in (pending.fix or "")


def test_pending_events_counted_after_a_real_tick_with_the_backend_down(
    tmp_path: Path,
) -> None:
    @dg.op
    def hello() -> None:
        pass

    @dg.job
    def greet() -> None:
        hello()

    down = f"http://127.0.0.1:{closed_port()}"
    client = OpenLineageClient(config={"transport": {"type": "http", "url": down}})
    sensor = build_openlineage_sensor(client=client)
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        greet.execute_in_process(instance=instance)
        sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        description, durable = pending_events_location(instance)
    assert durable
    assert description == (
        f"in {tmp_path / 'ol-bridge' / 'outbox.sqlite'} (4 for {down}/api/v1/lineage "
        "waiting), next to the SQLite instance: as durable as the instance."
    )


DEFS = """
import dagster as dg
from ol_bridge.dagster import build_openlineage_sensor

@dg.sensor(minimum_interval_seconds=30)
def unrelated_sensor(context):
    return dg.SkipReason("nothing")

defs = dg.Definitions(
    sensors=[build_openlineage_sensor(name="lineage_to_datahub"), unrelated_sensor]
)
"""


def test_a_renamed_sensor_started_then_ticked_by_the_real_daemon(dagster_home: Path) -> None:
    (dagster_home.parent / "defs.py").write_text(DEFS, encoding="utf-8")
    cli = {"cwd": dagster_home.parent, "capture_output": True, "text": True, "timeout": 120}
    started = subprocess.run(
        [BIN / "dagster", "sensor", "start", "lineage_to_datahub", "-f", "defs.py"],
        check=False,
        **cli,  # type: ignore[arg-type]
    )
    assert started.returncode == 0, started.stderr
    # started, never ticked, and not recognisable by its (absent) cursor
    assert by_name(run_checks(timeout=2.0))["sensor"].message == (
        "None of this instance's sensors (lineage_to_datahub (running)) is recognisably "
        "ol-bridge's (named openlineage_sensor, or holding an ol-bridge cursor); a renamed one "
        "that has not ticked yet cannot be told apart."
    )
    with running_daemon(dagster_home.parent):
        deadline = time.monotonic() + 60
        while not _has_ticked(dagster_home, "lineage_to_datahub"):
            assert time.monotonic() < deadline, "the daemon did not tick the sensor in 60 s"
            time.sleep(0.5)
    checks = by_name(run_checks(timeout=2.0))
    assert checks["sensor lineage_to_datahub"].status == "PASS"
    assert checks["sensor lineage_to_datahub"].message.startswith(
        "running (in code location defs.py); last tick "
    )
    assert checks["sensor lineage_to_datahub"].message.endswith(
        " ago, SKIPPED: No new runs to emit."
    )


@contextmanager
def running_daemon(cwd: Path) -> Iterator[None]:
    process = subprocess.Popen(
        [BIN / "dagster-daemon", "run", "-f", "defs.py"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        # the daemon and the code server it started share its process group
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _has_ticked(home: Path, name: str) -> bool:
    """A finished tick (the daemon records a STARTED tick before it evaluates)."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        states = sensor_states(instance)
    ticks = [s.last_tick for s in states if s.name == name and s.last_tick is not None]
    return any(tick.status != "STARTED" for tick in ticks)


def test_sensor_states_judged() -> None:
    now = 1_000_000.0
    ok = SensorState("a", "loc", True, 30, Tick(now - 10, "SKIPPED", "No new runs to emit."))
    stale = attrs.evolve(ok, name="b", last_tick=Tick(now - 3600, "SUCCESS", None))
    failing = attrs.evolve(ok, name="c", last_tick=Tick(now - 5, "FAILURE", "boom"))
    stopped = SensorState("d", "loc", False, 30, None, cursor='{"v":1,"status":{},"runs":{}}')
    other = SensorState("e", "loc", True, 30, None, cursor="not ours")
    renamed = [attrs.evolve(s, cursor='{"v":1,"status":{},"runs":{}}') for s in (ok, stale)]
    result = check_sensors([*renamed, failing, stopped, other], now)
    assert [(check.name, check.status) for check in result] == [
        ("sensor a", "PASS"),
        ("sensor b", "WARN"),
        ("sensor d", "WARN"),
        ("sensors", "WARN"),
    ]
    assert result[1].message == (
        "running (in code location loc) but no tick since: last tick 60m ago, SUCCESS"
    )
    assert check_sensors([attrs.evolve(failing, name="openlineage_sensor")], now)[0] == Check(
        "sensor openlineage_sensor",
        "FAIL",
        "running (in code location loc); last tick 5s ago, FAILURE: boom",
        "The tick's log (Dagster UI, sensor page) and the code location server's log say more.",
    )


# -- the command --------------------------------------------------------------------------


def test_command_prints_fixes_and_fails(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("DAGSTER_HOME", str(clean / "missing"))
    result = CliRunner().invoke(main, ["doctor", "--timeout", "2"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("PASS  openlineage config: OpenLineageClient() from OPENLINEAGE_URL")
    assert lines[-2] == f"FAIL  dagster instance: DAGSTER_HOME={clean / 'missing'} does not exist."
    assert lines[-1] == (
        "      fix: Create it, or point DAGSTER_HOME at the directory holding dagster.yaml."
    )
