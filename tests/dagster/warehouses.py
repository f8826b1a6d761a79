"""Dagster's DbIOManager with Snowflake's and BigQuery's table naming, where no warehouse runs.

The IO manager is Dagster's real ``DbIOManager`` (it builds ``dagster/table_name`` and the
``Query`` metadata); only the two parts that talk to the warehouse are stand-ins, and they
record exactly what the real ones record (read from dagster-snowflake(-pandas) and
dagster-gcp(-pandas) 0.29):

* ``SnowflakeDbClient.get_select_statement``:
  ``SELECT {cols} FROM {database}.{schema}.{table}``; BigQuery's backticks the name;
  ``get_table_name`` is ``DbClient``'s default, ``{database}.{schema}.{table}``.
* ``SnowflakePandasTypeHandler.handle_output`` / ``BigQueryPandasTypeHandler``: returns
  ``TableMetadataSet(row_count=..., storage_kind="snowflake" | "bigquery")`` and
  ``dataframe_columns`` (the DataFrame's dtypes), ``partition_row_count`` for a partition.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import pandas as pd
from dagster._core.definitions.metadata import TableMetadataSet
from dagster._core.storage.db_io_manager import DbClient, DbIOManager, DbTypeHandler, TableSlice

#: tables "written" by the stand-ins, so downstream assets can load them
TABLES: dict[tuple[str, str, str], pd.DataFrame] = {}


def _key(table_slice: TableSlice) -> tuple[str, str, str]:
    return (str(table_slice.database), str(table_slice.schema), str(table_slice.table))


class _NoWarehouseClient(DbClient):
    @staticmethod
    def delete_table_slice(context: Any, table_slice: TableSlice, connection: Any) -> None:
        TABLES.pop(_key(table_slice), None)

    @staticmethod
    def ensure_schema_exists(context: Any, table_slice: TableSlice, connection: Any) -> None:
        return None

    @staticmethod
    @contextmanager
    def connect(context: Any, table_slice: TableSlice) -> Iterator[None]:
        yield None

    @staticmethod
    def get_select_statement(table_slice: TableSlice) -> str:
        raise NotImplementedError


class SnowflakeLikeClient(_NoWarehouseClient):
    @staticmethod
    def get_select_statement(table_slice: TableSlice) -> str:
        columns = ", ".join(table_slice.columns) if table_slice.columns else "*"
        return (
            f"SELECT {columns} FROM {table_slice.database}.{table_slice.schema}.{table_slice.table}"
        )


class BigQueryLikeClient(_NoWarehouseClient):
    @staticmethod
    def get_select_statement(table_slice: TableSlice) -> str:
        columns = ", ".join(table_slice.columns) if table_slice.columns else "*"
        name = f"{table_slice.database}.{table_slice.schema}.{table_slice.table}"
        return f"SELECT {columns} FROM `{name}`"


class PandasHandler(DbTypeHandler[pd.DataFrame]):
    def __init__(self, storage_kind: str) -> None:
        self.storage_kind = storage_kind

    def handle_output(
        self, context: dg.OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection: Any
    ) -> dict[str, Any]:
        TABLES[_key(table_slice)] = obj
        rows = (
            TableMetadataSet(partition_row_count=obj.shape[0], storage_kind=self.storage_kind)
            if context.has_partition_key
            else TableMetadataSet(row_count=obj.shape[0], storage_kind=self.storage_kind)
        )
        return {
            **rows,
            "dataframe_columns": dg.MetadataValue.table_schema(
                dg.TableSchema(
                    columns=[
                        dg.TableColumn(name=str(name), type=str(dtype))
                        for name, dtype in obj.dtypes.items()
                    ]
                )
            ),
        }

    def load_input(
        self, context: dg.InputContext, table_slice: TableSlice, connection: Any
    ) -> pd.DataFrame:
        return TABLES[_key(table_slice)]

    @property
    def supported_types(self) -> Sequence[type[object]]:
        return [pd.DataFrame]


def snowflake_io_manager(database: str, schema: str | None = None) -> dg.IOManagerDefinition:
    """Like ``SnowflakePandasIOManager(database=..., schema=...)``."""

    @dg.io_manager
    def manager(_: dg.InitResourceContext) -> DbIOManager:
        return DbIOManager(
            type_handlers=[PandasHandler("snowflake")],
            db_client=SnowflakeLikeClient(),
            database=database,
            schema=schema,
            io_manager_name="SnowflakeIOManager",
        )

    return manager


def bigquery_io_manager(project: str, dataset: str | None = None) -> dg.IOManagerDefinition:
    """Like ``BigQueryPandasIOManager(project=..., dataset=...)``."""

    @dg.io_manager
    def manager(_: dg.InitResourceContext) -> DbIOManager:
        return DbIOManager(
            type_handlers=[PandasHandler("bigquery")],
            db_client=BigQueryLikeClient(),
            database=project,
            schema=dataset,
            io_manager_name="BigQueryIOManager",
        )

    return manager
