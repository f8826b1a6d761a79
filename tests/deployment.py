"""A Dagster deployment as production runs it, on 127.0.0.1: a user-code server process
(``dagster api grpc``, where the sensor's code runs) and the daemon (``dagster-daemon run``,
which ticks the sensor through that server and stores its cursor in the instance).

Each process is one "container lifetime": started, stopped, and restarted with whatever its
local disk holds wiped, as a Kubernetes redeploy does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_instance_home(home: Path, settings: Mapping[str, Any]) -> Path:
    """A ``DAGSTER_HOME`` with this ``dagster.yaml`` (telemetry off)."""
    home.mkdir(parents=True, exist_ok=True)
    config = {"telemetry": {"enabled": False}, **settings}
    (home / "dagster.yaml").write_text(yaml.safe_dump(dict(config)))
    return home


def _env(home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENLINEAGE")}
    env.update({"DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO_DIR), **extra})
    return env


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the code server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.2)
    raise TimeoutError(f"the code server did not listen on {port} within {seconds} s")


def _stop(process: subprocess.Popen[bytes], log: Path) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    print(f"--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-15:]))


@contextlib.contextmanager
def code_server(
    module: str, home: Path, port: int, env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``dagster api grpc -m module`` on ``port``, its stdout/stderr in ``log``."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BIN / "dagster"), "api", "grpc", "-m", module, "-h", "127.0.0.1", "-p", str(port)],
            env=_env(home, env),
            cwd=REPO_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, 60)
        yield process
    finally:
        _stop(process, log)


@contextlib.contextmanager
def daemon(home: Path, port: int, location: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``dagster-daemon run`` over a workspace of the one code server on ``port``."""
    workspace = home / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": location}}
                ]
            }
        )
    )
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
            env=_env(home, {}),
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        _stop(process, log)


def wait_until(condition: Any, seconds: float, what: str, poll: float = 0.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise TimeoutError(f"{what}: not within {seconds} s")
