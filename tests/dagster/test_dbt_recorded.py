"""The pieces that describe dbt nodes without their definitions (dbt_manifest, dbt_runs) and
the line that says why an asset got its fallback name. The whole route runs on a real
``dbt build`` in test_dbt_assets.py (test_names_do_not_depend_on_the_sensors_own_definitions)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from dagster import AssetKey

from ol_bridge.dagster import dbt_manifest
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.dbt_runs import folders_named_in

MANIFEST = {
    "metadata": {"adapter_type": "snowflake"},
    "nodes": {
        "model.shop.orders": {
            "resource_type": "model",
            "name": "orders",
            "database": "ANALYTICS",
            "schema": "marts",
            "alias": "fct_orders",
            "config": {"materialized": "table", "schema": "marts"},
            "description": "",
            "raw_code": "select 1",
            "columns": {"id": {"name": "id", "description": "Key.", "data_type": None}},
            "depends_on": {"nodes": ["source.shop.raw.orders"]},
            "tags": ["finance"],
            "meta": {"dagster": {"owners": ["team:data"]}},
        },
    },
    "sources": {
        "source.shop.raw.orders": {
            "resource_type": "source",
            "name": "orders",
            "source_name": "raw",
            "database": "ANALYTICS",
            "schema": "raw",
            "identifier": "orders_v2",
        },
    },
}


def test_a_manifest_node_is_described_as_dagster_dbts_default_translator_does() -> None:
    assert dbt_manifest.asset_keys(MANIFEST) == {
        AssetKey(["marts", "orders"]): "model.shop.orders",  # the configured schema
        AssetKey(["raw", "orders"]): "source.shop.raw.orders",
    }
    described = dbt_manifest.describe_node(MANIFEST, "model.shop.orders", None)
    assert described is not None
    assert described.metadata["dagster/table_name"] == "ANALYTICS.marts.fct_orders"
    assert described.kinds == ("dbt", "snowflake")
    assert described.parent_keys == (AssetKey(["raw", "orders"]),)
    assert described.description == "dbt model orders\n\n#### Raw SQL:\n```sql\n    select 1\n```"
    assert described.owners == ("team:data",) and described.tags == {"finance": ""}
    [column] = described.metadata["dagster/column_schema"].columns
    assert (column.name, column.description) == ("id", "Key.")
    # a source: database.schema.name, as dagster-dbt records it (not the identifier)
    source = dbt_manifest.describe_node(MANIFEST, "source.shop.raw.orders", None)
    assert source is not None and source.metadata["dagster/table_name"] == "ANALYTICS.raw.orders"
    # a key the instance recorded for an upstream node wins over the default one
    renamed = dbt_manifest.describe_node(
        MANIFEST, "model.shop.orders", None, {"source.shop.raw.orders": AssetKey("landing")}
    )
    assert renamed is not None and renamed.parent_keys == (AssetKey("landing"),)


def test_the_run_folder_is_read_from_dagster_dbts_log_line_and_error() -> None:
    copied = (
        "Copying `/p/target/partial_parse.msgpack` to "
        "`/p/target/shop_models-1a2b3c4-9f8e7d6/partial_parse.msgpack` to take advantage "
        "of partial parsing."
    )
    failed = "view the dbt debug log: /p/target/shop_models-1a2b3c4-0000000/dbt.log."
    assert folders_named_in([copied, failed, "unrelated"]) == [
        Path("/p/target/shop_models-1a2b3c4-9f8e7d6"),
        Path("/p/target/shop_models-1a2b3c4-0000000"),
    ]


def test_a_fallback_name_the_instance_could_explain_is_explained_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalog = AssetCatalog()
    key = AssetKey(["explained", "model"])
    with caplog.at_level(logging.INFO, logger="ol_bridge.dagster.catalog"):
        catalog.explain_fallback(key, {"unique_id": "model.shop.model"}, "dagster / model")
        catalog.explain_fallback(key, {"unique_id": "model.shop.model"}, "dagster / model")
        catalog.explain_fallback(
            AssetKey("report"), {"dagster/table_name": "db.main.report"}, "dagster / report"
        )
        catalog.explain_fallback(AssetKey("pickled"), {}, "dagster / pickled")
    records = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert len(records) == 3
    assert records[0][0] == "WARNING" and "dbt node model.shop.model" in records[0][1]
    assert records[1][0] == "WARNING" and "dagster/storage_kind" in records[1][1]
    assert records[2][0] == "INFO" and "records no table name" in records[2][1]
