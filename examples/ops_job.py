"""An ops job whose lineage comes from In/Out metadata.

``datahub.inputs`` / ``datahub.outputs`` take DataHub dataset URNs, exactly as with
acryl-datahub-dagster-plugin, so existing jobs keep their lineage when moving to ol-bridge.
"""

from __future__ import annotations

import dagster as dg

from ol_bridge.dagster import build_openlineage_sensor

SOURCE = "urn:li:dataset:(urn:li:dataPlatform:postgres,shop.public.orders,PROD)"
TARGET = "urn:li:dataset:(urn:li:dataPlatform:snowflake,analytics.public.orders_clean,PROD)"


@dg.op(
    out=dg.Out(metadata={"datahub.outputs": [TARGET]}),
    ins={"raw": dg.In(metadata={"datahub.inputs": [SOURCE]})},
)
def transform(raw: list[dict[str, object]]) -> list[dict[str, object]]:
    """Drops test orders."""
    return [row for row in raw if not row.get("test")]


@dg.op
def extract() -> list[dict[str, object]]:
    return [{"id": 1, "test": False}, {"id": 2, "test": True}]


@dg.job(description="Copies real orders from the shop database to the warehouse.")
def orders_pipeline() -> None:
    transform(extract())


defs = dg.Definitions(jobs=[orders_pipeline], sensors=[build_openlineage_sensor()])
