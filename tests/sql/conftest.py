"""The Dagster fixtures of tests/dagster (a real instance, a recording OpenLineage client)
for the SQL tests that run real Dagster assets through the sensor."""

from __future__ import annotations

from tests.dagster.conftest import instance, ol_client, recorder

__all__ = ["instance", "ol_client", "recorder"]
