"""IO managers that write warehouse tables and say so in the metadata lineage reads.

Each write records ``dagster/table_name`` (``db.schema.table``), ``dagster/storage_kind``,
``connection``,
``dagster/row_count``, ``dagster/column_schema`` and, when ``datahub_url`` is set, a link
to the table's DataHub page. Those keys land on the asset materialization, so the sensor
names the dataset exactly as the warehouse knows it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import dagster as dg
from datahub.metadata.urns import DataPlatformUrn, DatasetUrn
from pydantic import Field

from ol_bridge.naming import NamingConfig

#: pandas / DuckDB type names -> the column types written to ``dagster/column_schema``
_TYPE_NAMES = {"object": "string", "str": "string", "string": "string"}


def datahub_dataset_url(datahub_url: str, platform: str, name: str, env: str = "PROD") -> str:
    """Link to a dataset's page in the DataHub UI."""
    urn = DatasetUrn(platform=DataPlatformUrn(platform).platform_name, name=name, env=env)
    return f"{datahub_url.rstrip('/')}/dataset/{quote(str(urn), safe='')}"


def table_metadata(
    *,
    platform: str,
    database: str,
    schema: str,
    table: str,
    uri: str,
    columns: Sequence[tuple[str, str]],
    row_count: int | None,
    datahub_url: str | None = None,
    env: str = "PROD",
) -> dict[str, Any]:
    """The output metadata of one written table (pure; shared by every warehouse)."""
    qualified = f"{database}.{schema}.{table}"
    metadata: dict[str, Any] = {
        "dagster/table_name": qualified,
        "dagster/storage_kind": platform,
        "connection": dg.MetadataValue.url(uri),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name, type_name) for name, type_name in columns]
        ),
    }
    if row_count is not None:
        metadata["dagster/row_count"] = row_count
    if datahub_url:
        metadata["datahub/url"] = dg.MetadataValue.url(
            datahub_dataset_url(datahub_url, platform, qualified, env)
        )
    return metadata


def table_location(key: dg.AssetKey, default_schema: str) -> tuple[str, str]:
    """(schema, table) for an asset: the last key part is the table, the one before it
    the schema (``[env, platform, db, schema, table]`` keys), else ``default_schema``."""
    path = key.path
    schema = path[-2] if len(path) >= 2 else default_schema
    return schema, path[-1]


def db_table_location(
    context: dg.OutputContext, configured_schema: str | None
) -> tuple[str, str] | None:
    """(schema, table) where Dagster's ``DbIOManager`` writes an asset output: schema from
    the ``schema`` definition metadata, else the IO manager's ``schema``, else the key
    part before the table, else ``public`` (``DbIOManager._get_table_slice``)."""
    if not context.has_asset_key:
        return None
    path = context.asset_key.path
    metadata = context.definition_metadata or {}
    schema = metadata.get("schema") or configured_schema
    if not schema:
        schema = path[-2] if len(path) > 1 else "public"
    return str(schema), path[-1]


class AnnotatingIOManager(dg.IOManager):
    """Delegates to ``inner`` and then records the warehouse table an output went to.

    Wrap one of Dagster's table IO managers (``SnowflakePandasIOManager``,
    ``BigQueryPandasIOManager``, ``DuckDBPandasIOManager``, ...) to give every output a
    ``datahub/url`` link to its DataHub page, as acryl-datahub-dagster-plugin's
    ``DataHubSnowflakePandasIOManager`` does::

        class SnowflakeWithDataHubLinks(SnowflakePandasIOManager):
            def create_io_manager(self, context: dg.InitResourceContext) -> dg.IOManager:
                return AnnotatingIOManager(
                    super().create_io_manager(context), platform="snowflake",
                    database=self.database, default_schema=self.schema_,
                    datahub_url="https://datahub.example.com",
                )

    (docs/migrating-from-datahub-dagster-plugin.md runs the same with DuckDB.)

    ``dagster/table_name`` and ``dagster/storage_kind`` are added unless ``inner`` (one of
    Dagster's ``DbIOManager`` s) recorded them already; the DataHub link names the table as
    ol-bridge's naming rule does, so it opens the dataset lineage lands on.
    ``default_schema`` is the IO manager's ``schema`` setting, which (as in ``DbIOManager``)
    wins over the key part before the table name.
    """

    def __init__(
        self,
        inner: dg.IOManager,
        *,
        platform: str,
        database: str,
        default_schema: str | None = None,
        datahub_url: str | None = None,
        env: str = "PROD",
    ) -> None:
        self.inner = inner
        self.platform = platform
        self.database = database
        self.default_schema = default_schema
        self.datahub_url = datahub_url
        self.env = env

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.inner.handle_output(context, obj)
        location = db_table_location(context, self.default_schema)
        if location is None:
            return
        qualified = f"{self.database}.{location[0]}.{location[1]}"
        # DagsterInvalidMetadata (not exported): the inner IO manager recorded them already
        with contextlib.suppress(dg.DagsterError):
            context.add_output_metadata(
                {"dagster/table_name": qualified, "dagster/storage_kind": self.platform}
            )
        if self.datahub_url:
            name = NamingConfig().table_name(self.platform, qualified)
            context.add_output_metadata(
                {
                    "datahub/url": dg.MetadataValue.url(
                        datahub_dataset_url(self.datahub_url, self.platform, name, self.env)
                    )
                }
            )

    def load_input(self, context: dg.InputContext) -> Any:
        return self.inner.load_input(context)


class DuckDBTableIOManager(dg.ConfigurableIOManager):
    """Stores DataFrames (pandas, or anything DuckDB can scan: Arrow, Polars) as DuckDB tables.

    Attributes:
        database: path of the DuckDB file.
        schema_: schema for assets whose key has a single part (``main`` by default).
        datahub_url: DataHub UI base URL; when set, outputs link to their DataHub page.
    """

    database: str
    schema_: str = Field(default="main", alias="schema")
    datahub_url: str | None = None
    env: str = "PROD"

    @property
    def catalog(self) -> str:
        """DuckDB's name for the database: the file name without its extension."""
        name = self.database.rsplit("/", 1)[-1]
        return name.split(".", 1)[0] or "memory"

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        import duckdb

        if obj is None:
            return
        schema, table = table_location(context.asset_key, self.schema_)
        with duckdb.connect(self.database) as connection:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            connection.register("ol_bridge_output", obj)
            connection.execute(
                f'CREATE OR REPLACE TABLE "{schema}"."{table}" AS SELECT * FROM ol_bridge_output'
            )
            connection.unregister("ol_bridge_output")
            described = connection.execute(f'DESCRIBE "{schema}"."{table}"').fetchall()
            (row_count,) = connection.execute(
                f'SELECT COUNT(*) FROM "{schema}"."{table}"'
            ).fetchone() or (0,)
        columns = [
            (str(row[0]), _TYPE_NAMES.get(str(row[1]).lower(), str(row[1]).lower()))
            for row in described
        ]
        context.add_output_metadata(
            table_metadata(
                platform="duckdb",
                database=self.catalog,
                schema=schema,
                table=table,
                uri=f"duckdb://{self.database}",
                columns=columns,
                row_count=int(row_count),
                datahub_url=self.datahub_url,
                env=self.env,
            )
        )

    def load_input(self, context: dg.InputContext) -> Any:
        import duckdb

        schema, table = table_location(context.asset_key, self.schema_)
        with duckdb.connect(self.database, read_only=False) as connection:
            return connection.execute(f'SELECT * FROM "{schema}"."{table}"').df()


def column_types(frame: Any) -> list[tuple[str, str]]:
    """(name, type) of a pandas DataFrame's columns."""
    dtypes: Mapping[str, Any] = frame.dtypes.to_dict()
    return [(str(name), _TYPE_NAMES.get(str(dtype), str(dtype))) for name, dtype in dtypes.items()]
