"""The Dagster instance in ``DAGSTER_HOME``: its storage, where the sensor keeps events
not yet delivered (and whether they survive what the storage survives), and its sensors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ol_bridge.delivery import DeliveryConfig, Outbox
from ol_bridge.delivery.database import OutboxDatabase, SqliteFile
from ol_bridge.delivery.location import locate
from ol_bridge.delivery.schema import current_version
from ol_bridge.doctor.model import Check
from ol_bridge.doctor.sensors import check_instance_sensors

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
                "Keep the outbox where it outlives the code location server: "
                "build_openlineage_sensor(delivery=DeliveryConfig(url=<a PostgreSQL URL>)) "
                "or DeliveryConfig(path=<a file on a persistent volume>); "
                "DeliveryConfig(outbox=False) keeps nothing (the cursor then waits while a "
                "backend is down).",
            )
        )
    checks.extend(check_instance_sensors(instance))
    return checks


def pending_events_location(instance: Any) -> tuple[str, bool]:
    """Where the sensor keeps events not yet delivered, and whether they are as durable as
    the instance's own storage.

    The rule is the sensor's own, :func:`ol_bridge.delivery.location.locate`, for the
    default ``DeliveryConfig()`` (a ``DeliveryConfig(path=...)`` or ``url=...`` in the
    sensor's code overrides it): the instance's PostgreSQL database, else a SQLite file
    next to the instance. That file is as durable as a SQLite instance, but not as an
    instance whose storage lives elsewhere (MySQL, Dagster+): a redeploy that replaces the
    code location server's disk loses what waits there.
    """
    location = locate(DeliveryConfig(), instance)
    waiting = _waiting(location.database)
    if location.durable:
        return (
            f"in {location.where}{waiting}, {location.reason}: as durable as the instance.",
            True,
        )
    storage = type(instance.run_storage)
    return (
        f"in {location.where}{waiting}, on the local disk of the process that runs the "
        f"sensor, while the instance's storage is {storage.__module__}.{storage.__name__}: "
        "a redeploy that replaces that disk loses the events waiting there, although the "
        "instance keeps the sensor's cursor.",
        False,
    )


def _waiting(database: OutboxDatabase) -> str:
    """How many events wait, per destination; read-only (no outbox is created)."""
    if isinstance(database, SqliteFile):
        if not database.path.is_file():
            return " (not created yet)"
    else:
        with database.connect() as connection:
            if current_version(connection) is None:
                return " (nothing handed off yet)"
    with Outbox(database) as outbox:
        stats = [s for s in outbox.stats() if s.queued]
    if not stats:
        return " (nothing waiting)"
    parts = ", ".join(f"{s.queued} for {s.name}" for s in stats)
    return f" ({parts} waiting)"
