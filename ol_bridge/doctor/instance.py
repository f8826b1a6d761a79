"""The Dagster instance in ``DAGSTER_HOME``: its storage, where the sensor keeps events
not yet delivered (and whether they survive what the storage survives), and its sensors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ol_bridge.delivery import DeliveryConfig, Outbox
from ol_bridge.doctor.model import Check
from ol_bridge.doctor.sensors import check_sensors, sensor_states

NAME = "dagster instance"


def check_dagster(env: Mapping[str, str]) -> list[Check]:
    home = env.get("DAGSTER_HOME")
    if not home:
        return [
            Check(
                NAME,
                "WARN",
                "DAGSTER_HOME is not set: the sensor's instance, its pending events and its "
                "state cannot be checked (the daemon and backfill would use a temporary "
                "instance).",
                "export DAGSTER_HOME=/path/to/dagster_home (the directory holding dagster.yaml).",
            )
        ]
    if not Path(home).is_dir():
        return [
            Check(
                NAME,
                "FAIL",
                f"DAGSTER_HOME={home} does not exist.",
                "Create it, or point DAGSTER_HOME at the directory holding dagster.yaml.",
            )
        ]
    from dagster import DagsterInstance

    try:
        instance = DagsterInstance.from_config(home)
    except Exception as error:  # dagster raises many types for a bad dagster.yaml: report it
        return [
            Check(
                NAME,
                "FAIL",
                f"{home}/dagster.yaml cannot be loaded: {type(error).__name__}: {error}",
                "Fix dagster.yaml (see `dagster instance info`).",
            )
        ]
    with instance:
        return check_instance(instance)


def check_instance(instance: Any) -> list[Check]:
    """Storage, pending events and sensors of a loaded instance."""
    runs = type(instance.run_storage).__name__
    events = type(instance.event_log_storage).__name__
    count = len(instance.get_run_records(limit=1))
    kind = "run-sharded SQLite" if events == "SqliteEventLogStorage" else events
    checks = [
        Check(
            NAME,
            "PASS",
            f"{instance.root_directory}: run storage {runs}, event log {kind}"
            + ("" if count else " (no runs yet)")
            + "; the sensor reads every storage kind.",
        )
    ]
    description, durable = pending_events_location(instance)
    if durable:
        checks.append(Check("pending events", "PASS", description))
    else:
        checks.append(
            Check(
                "pending events",
                "WARN",
                description,
                "Put that directory on a volume that outlives the code location server, or "
                "pass build_openlineage_sensor(delivery=DeliveryConfig(path=<such a path>)); "
                "DeliveryConfig(outbox=False) keeps nothing locally (the cursor then waits "
                "while a backend is down).",
            )
        )
    checks.extend(check_sensors(sensor_states(instance)))
    return checks


def pending_events_location(instance: Any) -> tuple[str, bool]:
    """Where the sensor keeps events not yet delivered, and whether they are as durable as
    the instance's own storage.

    Today: the outbox file at ``DeliveryConfig().outbox_path(instance root)`` (the default;
    a ``DeliveryConfig(path=...)`` in the code overrides it). It is on the local disk of
    whatever runs the sensor, so it is as durable as the instance only when the instance
    storage is itself local (SQLite, or an in-memory test instance). With PostgreSQL or
    MySQL storage (Helm, Kubernetes, Dagster+), the code location server's disk is
    replaced on every deploy while the storage persists: pending events would be lost.
    """
    path = DeliveryConfig().outbox_path(instance.root_directory)
    storage = type(instance.run_storage)
    storage_name = f"{storage.__module__}.{storage.__name__}"
    waiting = _waiting(path)
    if _is_local(storage):
        return (
            f"in the outbox file {path}{waiting}, on the same disk as the instance's "
            f"{storage.__name__}: as durable as the instance.",
            True,
        )
    return (
        f"in the outbox file {path}{waiting}, on the local disk of the process that runs the "
        f"sensor, while the instance's storage is {storage_name}: a redeploy that replaces "
        "that disk loses the events waiting there, although the instance keeps its cursor.",
        False,
    )


def _is_local(storage: type) -> bool:
    text = f"{storage.__module__}.{storage.__name__}".lower()
    return "sqlite" in text or "in_memory" in text or "inmemory" in text


def _waiting(path: Path) -> str:
    if not path.is_file():
        return " (not created yet)"
    with Outbox(path) as outbox:
        stats = [s for s in outbox.stats() if s.queued]
    if not stats:
        return " (nothing waiting)"
    parts = ", ".join(f"{s.queued} for {s.name}" for s in stats)
    return f" ({parts} waiting)"
