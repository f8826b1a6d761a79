"""Which sensors of a Dagster instance are ol-bridge's, and whether they run and tick.

Dagster has no public API for sensor states outside a workspace (the UI and ``dagster
sensor list`` load the code). ``DagsterInstance.all_instigator_state()`` and
``get_ticks()`` are instance methods; the attributes read from their results are listed in
:func:`sensor_states` and :func:`last_tick`, and ``tests/test_doctor.py`` reads them from
states and ticks written by the real ``dagster sensor start`` and ``dagster-daemon``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import attrs

from ol_bridge.doctor.model import Check

#: ``build_openlineage_sensor``'s default name
DEFAULT_SENSOR_NAME = "openlineage_sensor"
#: a running sensor whose last tick is older than this many intervals has stopped ticking
STALE_INTERVALS = 5
STALE_MINIMUM_SECONDS = 300.0


@attrs.frozen
class Tick:
    timestamp: float
    status: str  # SUCCESS, SKIPPED, FAILURE, STARTED
    message: str | None


@attrs.frozen
class SensorState:
    name: str
    location: str
    running: bool
    min_interval: int | None
    last_tick: Tick | None
    cursor: str | None = attrs.field(default=None, repr=False)

    @property
    def is_ol_bridge(self) -> bool:
        """Named as by default, or holding an ol-bridge cursor (a renamed sensor that ticked)."""
        return self.name == DEFAULT_SENSOR_NAME or looks_like_our_cursor(self.cursor)


def looks_like_our_cursor(cursor: str | None) -> bool:
    """The shape of ``ol_bridge.dagster.cursor.SensorCursor.to_json`` (version and streams)."""
    if not cursor:
        return False
    try:
        raw = json.loads(cursor)
    except ValueError:
        return False
    return isinstance(raw, dict) and "v" in raw and isinstance(raw.get("status"), dict)


def sensor_states(instance: Any) -> list[SensorState]:
    """Every sensor the instance has a state for (started, stopped, or declared running)."""
    states = []
    for state in instance.all_instigator_state():
        if state.instigator_type.value != "SENSOR":
            continue
        data = state.instigator_data
        states.append(
            SensorState(
                name=state.instigator_name,
                location=state.origin.repository_origin.code_location_origin.location_name,
                running=state.is_running,
                min_interval=getattr(data, "min_interval", None),
                last_tick=last_tick(instance, state),
                cursor=getattr(data, "cursor", None),
            )
        )
    return states


def last_tick(instance: Any, state: Any) -> Tick | None:
    ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
    if not ticks:
        return None
    tick = ticks[0]
    message = tick.error.message.strip() if tick.error is not None else tick.skip_reason
    return Tick(float(tick.timestamp), tick.status.value, message)


def check_instance_sensors(instance: Any) -> list[Check]:
    if instance.schedule_storage is None:
        return [
            Check(
                "sensor",
                "WARN",
                "This instance keeps no sensor state (it has no schedule storage): no sensor "
                "can run on it.",
                "Point DAGSTER_HOME at the instance the daemon uses.",
            )
        ]
    return check_sensors(sensor_states(instance))


def check_sensors(states: Sequence[SensorState], now: float | None = None) -> list[Check]:
    now = time.time() if now is None else now
    ours = [state for state in states if state.is_ol_bridge]
    if not ours:
        return [_none_found(states)]
    checks = [check_sensor(state, now) for state in ours]
    running = [state.name for state in ours if state.running]
    if len(running) > 1:
        checks.append(
            Check(
                "sensors",
                "WARN",
                f"{len(running)} ol-bridge sensors are running ({', '.join(running)}): each "
                "emits every run of the instance, so a backend both send to gets every event "
                "twice.",
                "Keep one running per instance, unless they deliberately send to different "
                "backends.",
            )
        )
    return checks


def _none_found(states: Sequence[SensorState]) -> Check:
    start = (
        f"Turn it on in the Dagster UI (Automation > Sensors), run `dagster sensor start "
        f"{DEFAULT_SENSOR_NAME}`, or build it with default_status=DefaultSensorStatus.RUNNING; "
        "if it is built so, check that the daemon runs (`dagster dev` or `dagster-daemon run`) "
        "and look again after one sensor interval."
    )
    if not states:
        return Check(
            "sensor",
            "WARN",
            "No sensor of this instance has ticked or been turned on yet: the ol-bridge "
            "sensor is stopped (sensors start stopped unless built with "
            "default_status=RUNNING), or no daemon has ticked it yet.",
            start,
        )
    listed = ", ".join(f"{s.name} ({'running' if s.running else 'stopped'})" for s in states)
    return Check(
        "sensor",
        "WARN",
        f"None of this instance's sensors ({listed}) is recognisably ol-bridge's (named "
        f"{DEFAULT_SENSOR_NAME}, or holding an ol-bridge cursor); a renamed one that has not "
        "ticked yet cannot be told apart.",
        start,
    )


def check_sensor(state: SensorState, now: float) -> Check:
    name = f"sensor {state.name}"
    where = f"in code location {state.location}"
    if not state.running:
        return Check(
            name,
            "WARN",
            f"stopped ({where}): no lineage is emitted.",
            f"Start it in the Dagster UI or with `dagster sensor start {state.name}`.",
        )
    tick = state.last_tick
    daemon_fix = (
        "Ticks come from the dagster-daemon: check that it runs against this instance "
        "(`dagster-daemon run`, or the daemon deployment) and its log."
    )
    if tick is None:
        return Check(name, "WARN", f"running ({where}) but it has never ticked.", daemon_fix)
    age = now - tick.timestamp
    said = f"last tick {_age(age)} ago, {tick.status}" + (
        f": {tick.message}" if tick.message else ""
    )
    if tick.status == "FAILURE":
        return Check(
            name,
            "FAIL",
            f"running ({where}); {said}",
            "The tick's log (Dagster UI, sensor page) and the code location server's log say more.",
        )
    stale_after = max(STALE_INTERVALS * (state.min_interval or 30), STALE_MINIMUM_SECONDS)
    if age > stale_after:
        return Check(name, "WARN", f"running ({where}) but no tick since: {said}", daemon_fix)
    return Check(name, "PASS", f"running ({where}); {said}")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{max(seconds, 0):.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
