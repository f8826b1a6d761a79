"""Customising ol-bridge with a Translator: your own dataset names and extra lineage.

This replaces acryl-datahub-dagster-plugin's ``asset_keys_to_dataset_urn_converter``
(override ``get_asset_dataset``) and ``asset_lineage_extractor`` (override
``get_step_lineage``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import dagster as dg
from openlineage.client.event_v2 import InputDataset

from ol_bridge.dagster import (
    DatasetId,
    OpenLineageTranslator,
    RunInfo,
    StepInfo,
    StepLineage,
    build_openlineage_sensor,
)


class LakeTranslator(OpenLineageTranslator):
    """Assets named ``lake/<zone>/<table>`` live in S3; every step also reads a config table."""

    def get_asset_dataset(self, asset_key: dg.AssetKey, metadata: Mapping[str, Any]) -> DatasetId:
        if asset_key.path[0] == "lake":
            return DatasetId(namespace="s3://acme-lake", name="/".join(asset_key.path[1:]))
        return super().get_asset_dataset(asset_key, metadata)

    def get_step_lineage(self, run: RunInfo, step: StepInfo, lineage: StepLineage) -> StepLineage:
        config_table = InputDataset(
            namespace="postgres://config-db:5432", name="ops.public.settings"
        )
        return attrs.evolve(lineage, inputs=(*lineage.inputs, config_table))


@dg.asset(key=["lake", "bronze", "events"])
def bronze_events() -> None: ...


@dg.asset(key=["lake", "silver", "sessions"], deps=[bronze_events])
def silver_sessions() -> None: ...


@dg.op
def compact_files() -> None: ...


@dg.job(tags={"team": "platform"})
def maintenance() -> None:
    compact_files()


defs = dg.Definitions(
    assets=[bronze_events, silver_sessions],
    jobs=[maintenance, dg.define_asset_job("lake_job")],
    sensors=[
        build_openlineage_sensor(
            translator=LakeTranslator(namespace="dagster-prod", dagster_url="http://localhost:3000")
        )
    ],
)
