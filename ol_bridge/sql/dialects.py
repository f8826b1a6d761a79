"""Which sqlglot dialect parses the SQL of a DataHub / OpenLineage platform."""

from __future__ import annotations

# Keys are lower-case DataHub platform ids and OpenLineage namespace schemes.
_DIALECT_BY_PLATFORM: dict[str, str] = {
    "athena": "athena",
    "awsathena": "athena",
    "bigquery": "bigquery",
    "clickhouse": "clickhouse",
    "databricks": "databricks",
    "duckdb": "duckdb",
    "hive": "hive",
    "mariadb": "mysql",
    "mssql": "tsql",
    "mysql": "mysql",
    "oracle": "oracle",
    "postgres": "postgres",
    "postgresql": "postgres",
    "presto": "presto",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "spark": "spark",
    "sqlite": "sqlite",
    "sqlserver": "tsql",
    "teradata": "teradata",
    "trino": "trino",
}


def dialect_for_platform(platform: str) -> str | None:
    """The sqlglot dialect for a platform name (case-insensitive), None when unknown.

    None makes sqlglot use its default dialect, which parses most ANSI SQL.
    """
    return _DIALECT_BY_PLATFORM.get(platform.strip().lower())
