"""Each destination of the sensor's client, checked for real: HTTP endpoints answer
OpenLineage, files can be written, the ``datahub`` transport's sink is reachable, Kafka
brokers accept a connection."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from openlineage.client.transport.console import ConsoleTransport
from openlineage.client.transport.file import FileTransport
from openlineage.client.transport.http import HttpTransport
from openlineage.client.transport.kafka import KafkaTransport

from ol_bridge.delivery import Destination
from ol_bridge.delivery.redact import redact
from ol_bridge.doctor.http import HttpTarget, check_http, identify
from ol_bridge.doctor.model import Check


def check_destination(destination: Destination, timeout: float) -> list[Check]:
    transport = destination.transport
    label = f"destination {destination.name}"
    if isinstance(transport, HttpTransport):
        return check_http(HttpTarget.of(label, transport), timeout)
    if isinstance(transport, FileTransport):
        config = transport.config
        return [check_file_target(label, config.log_file_path, append=config.append)]
    if isinstance(transport, KafkaTransport):
        settings: Any = transport.kafka_config  # type: ignore[attr-defined]
        servers = str(settings.config.get("bootstrap.servers", ""))
        return [check_brokers(label, servers, timeout)]
    if transport.kind == "datahub":
        return check_datahub_sink(label, getattr(transport, "config", None), timeout)
    if isinstance(transport, ConsoleTransport):
        return [
            Check(
                label,
                "WARN",
                "prints events to the code location server's stdout; no backend receives them.",
                "Remove it, or replace it with a backend.",
            )
        ]
    return [
        Check(
            label,
            "WARN",
            f"doctor cannot check a {transport.kind!r} transport; the sensor uses it as "
            "configured.",
            "Check that events arrive after the sensor's first tick that emits.",
        )
    ]


def check_file_target(
    label: str,
    location: str,
    *,
    append: bool,
    creates_dirs: bool = False,
    what: str | None = None,
) -> Check:
    """The openlineage ``file`` transport writes ``<log_file_path>-<time>.json`` files (or
    appends to ``log_file_path``) and does not create directories; our sinks do."""
    scheme = urlsplit(location).scheme
    if "://" in location and scheme != "file":
        return Check(
            label,
            "WARN",
            f"writes to {redact(location)} ({scheme}): doctor does not check remote file systems.",
            "Check that its credentials (storage_options) allow writing there.",
        )
    path = Path(url2pathname(urlsplit(location).path) if scheme == "file" else location)
    directory = path.parent
    what = what or (f"appends to {path}" if append else f"writes {path}-<time>.json files")
    if not directory.is_dir():
        existing = _nearest_existing(directory)
        if not creates_dirs:
            return Check(
                label,
                "FAIL",
                f"{what}, but the directory {directory} does not exist and is not created.",
                f"Create it (mkdir -p {directory}), or point the path at an existing one.",
            )
        directory = existing
    if not os.access(directory, os.W_OK | os.X_OK):
        return Check(
            label,
            "FAIL",
            f"{what}, but {directory} is not writable by this user.",
            f"Make {directory} writable by the user the code location server runs as.",
        )
    if append and path.exists() and not os.access(path, os.W_OK):
        return Check(label, "FAIL", f"{what}, but it is read-only.", f"Make {path} writable.")
    return Check(label, "PASS", f"{what} ({directory} is writable).")


def _nearest_existing(directory: Path) -> Path:
    for candidate in (directory, *directory.parents):
        if candidate.is_dir():
            return candidate
    return Path(directory.anchor or ".")


def check_brokers(label: str, servers: str, timeout: float) -> Check:
    """A TCP connection to the first Kafka bootstrap server that accepts one."""
    addresses = [part.strip() for part in servers.split(",") if part.strip()]
    if not addresses:
        return Check(
            label,
            "FAIL",
            "no Kafka bootstrap servers configured.",
            "Set bootstrap.servers in the transport's config.",
        )
    errors = []
    for address in addresses:
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host or address, int(port or 9092)), timeout):
                return Check(label, "PASS", f"the Kafka broker at {address} accepts connections.")
        except (OSError, ValueError) as error:
            errors.append(f"{address}: {type(error).__name__}")
    return Check(
        label,
        "FAIL",
        f"no Kafka bootstrap server accepts a connection ({'; '.join(errors)}).",
        "Check bootstrap.servers, and that the brokers are reachable from the code location "
        "server.",
    )


def check_datahub_sink(label: str, config: Any, timeout: float) -> list[Check]:
    """ol-bridge's ``datahub`` transport: where its sink writes (``DatahubConfig``)."""
    sink = config.sink
    label = f"{label} ({sink} sink)"
    if sink == "lite":
        return [check_file_target(label, config.lite_path, append=True, creates_dirs=True)]
    if sink == "file":
        writes = f"writes DataHub proposals to {config.file_path} (one JSON array, rewritten)"
        return [
            check_file_target(label, config.file_path, append=False, creates_dirs=True, what=writes)
        ]
    if sink == "kafka":
        return [check_brokers(label, config.kafka.bootstrap, timeout)]
    headers = {"Authorization": f"Bearer {config.token}"} if config.token else {}
    target = HttpTarget(label, config.server, "", headers, True, bool(config.token))
    identity = identify(target, timeout)
    if not identity.reachable:
        return [
            Check(
                label,
                "FAIL",
                f"Cannot reach DataHub GMS at {redact(config.server)}: {identity.detail}.",
                "Check `server` / DATAHUB_GMS_URL and that GMS is reachable from the code "
                "location server.",
            )
        ]
    if not identity.is_datahub:
        return [
            Check(
                label,
                "FAIL",
                f"{redact(config.server)}/config does not answer as DataHub GMS (a wrong port, "
                "the frontend instead of GMS, or a token it refused).",
                "Set `server` to GMS (e.g. http://datahub-gms:8080) and `token` / "
                "DATAHUB_GMS_TOKEN to a valid personal access token.",
            )
        ]
    return [Check(label, "PASS", f"{identity.detail} at {redact(config.server)}.")]
