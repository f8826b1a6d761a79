"""The smallest useful setup: your definitions plus one sensor.

Point OpenLineage at your backend the standard way before starting Dagster, e.g. DataHub:

    export OPENLINEAGE_URL=http://datahub-gms:8080
    export OPENLINEAGE_ENDPOINT=openapi/openlineage/api/v1/lineage
    export OPENLINEAGE_API_KEY=<datahub token>

or Marquez (OPENLINEAGE_URL=http://marquez:5000), or an openlineage.yml
(see examples/openlineage.yml). Then: dagster dev -f examples/basic_setup.py
"""

from __future__ import annotations

import dagster as dg

from ol_bridge.dagster import build_openlineage_sensor


@dg.asset(key_prefix=["prod", "snowflake", "analytics", "public"])
def users() -> None:
    """Users, as the warehouse knows them."""


@dg.asset(key_prefix=["prod", "snowflake", "analytics", "public"], deps=[users])
def active_users() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"Query": "SELECT id, email FROM analytics.public.users WHERE active"}
    )


defs = dg.Definitions(
    assets=[users, active_users],
    jobs=[dg.define_asset_job("users_job")],
    sensors=[build_openlineage_sensor()],
)
