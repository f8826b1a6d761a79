"""A Snowflake pandas IO manager that records where it wrote, for lineage.

The counterpart of acryl-datahub-dagster-plugin's ``DataHubSnowflakePandasIOManager``: it
writes exactly like ``dagster_snowflake_pandas.SnowflakePandasIOManager`` (it is one) and
adds ``dagster/table_name``, ``dagster/storage_kind`` and, with ``datahub_url``, a DataHub
link to each output, using public IO-manager APIs only. Needs the ``snowflake`` extra.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from ol_bridge.dagster.io_managers import AnnotatingIOManager

try:
    from dagster_snowflake_pandas import SnowflakePandasIOManager
except ImportError as error:  # pragma: no cover - depends on the optional extra
    raise ImportError(
        "ol_bridge.dagster.snowflake_io_manager needs dagster-snowflake-pandas: "
        "pip install 'ol-bridge[snowflake]'"
    ) from error


class SnowflakePandasTableIOManager(SnowflakePandasIOManager):  # type: ignore[misc]
    """``SnowflakePandasIOManager`` that annotates outputs for lineage (and DataHub links)."""

    datahub_url: str | None = Field(default=None, description="DataHub UI base URL")
    datahub_env: str = Field(default="PROD", description="DataHub env of the tables")

    def create_io_manager(  # type: ignore[override]
        self, context: dg.InitResourceContext
    ) -> dg.IOManager:
        return AnnotatingIOManager(
            super().create_io_manager(context),
            platform="snowflake",
            database=self.database,
            default_schema=self.schema_,
            datahub_url=self.datahub_url,
            env=self.datahub_env,
        )
