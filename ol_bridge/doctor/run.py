"""All checks, in the order an operator fixes things: the OpenLineage configuration, each
destination, then the Dagster instance (storage, pending events, sensors)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ol_bridge.doctor.client import inspect_client, leaves
from ol_bridge.doctor.destinations import check_destination
from ol_bridge.doctor.instance import check_dagster
from ol_bridge.doctor.model import DEFAULT_TIMEOUT_SECONDS, Check


def run_checks(
    *, timeout: float = DEFAULT_TIMEOUT_SECONDS, env: Mapping[str, str] | None = None
) -> list[Check]:
    """Check the configuration of this process (its environment, working directory and
    home), as the sensor would see it if it ran here.

    ``env`` defaults to ``os.environ``; the OpenLineage client always reads the process's
    own environment, so pass ``env`` only to override the Dagster part.
    """
    env = dict(os.environ) if env is None else env
    destinations, checks = inspect_client(env)
    for destination in leaves(destinations):
        checks.extend(check_destination(destination, timeout))
    checks.extend(check_dagster(env))
    return checks
