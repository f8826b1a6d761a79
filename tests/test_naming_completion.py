"""Partly qualified table names completed with a connection's default database and its
platform's default schema, on every platform whose names have them (ol_bridge.naming_completion,
NamingConfig.table_name)."""

from __future__ import annotations

import pytest

from ol_bridge.errors import ConfigError
from ol_bridge.naming import (
    DatasetId,
    NamingConfig,
    dataset_for_asset,
    dataset_for_table,
    dataset_for_uri,
)
from ol_bridge.naming_completion import (
    Connection,
    complete_with_defaults,
    parse_connection,
    server_namespace,
    table_name_from_path,
)


def test_defaults_fill_only_the_parts_a_name_lacks() -> None:
    assert complete_with_defaults("orders", 3, ("shop", "public")) == "shop.public.orders"
    assert complete_with_defaults("sales.orders", 3, ("shop", "public")) == "shop.sales.orders"
    assert complete_with_defaults("wh.sales.orders", 3, ("shop", "public")) == "wh.sales.orders"
    # a database without a schema completes `schema.table` only: `shop.orders` would be
    # read as schema `shop`
    assert complete_with_defaults("orders", 3, ("hive",)) == "orders"
    assert complete_with_defaults("sales.orders", 3, ("hive",)) == "hive.sales.orders"
    assert complete_with_defaults("orders", 2, ("shop",)) == "shop.orders"
    assert complete_with_defaults("orders", 3, ()) == "orders"
    assert complete_with_defaults("a..b", 4, ("x", "y")) == "a..b"  # not a name to complete


@pytest.mark.parametrize(
    ("platform", "connection", "namespace", "defaults"),
    [
        ("postgres", "postgres://db:5432/shop", "postgres://db:5432", ("shop", "public")),
        ("postgres", "postgres://db:5432/shop/sales/", "postgres://db:5432", ("shop", "sales")),
        ("postgres", "postgres://db:5432", "postgres://db:5432", ()),
        ("postgres", "postgres://db:5432/", "postgres://db:5432", ()),
        ("postgres", "postgres://db:5432/my%20db", "postgres://db:5432", ("my db", "public")),
        ("redshift", "redshift://c.eu-west-1:5439/dev", "redshift://c.eu-west-1:5439",
         ("dev", "public")),
        ("snowflake", "snowflake://org-acct/SHOP", "snowflake://org-acct", ("SHOP", "PUBLIC")),
        ("mssql", "sqlserver://db:1433/shop", "sqlserver://db:1433", ("shop", "dbo")),
        ("trino", "trino://t:8080/hive", "trino://t:8080", ("hive",)),  # no default schema
        ("trino", "trino://t:8080/hive/sales", "trino://t:8080", ("hive", "sales")),
        ("mysql", "mysql://db:3306/shop", "mysql://db:3306", ("shop",)),
        # what users write: a user name, connection options, a driver, JDBC; the namespace
        # is the server's, as the plain form gives it
        ("postgres", "postgres://etl@db:5432/shop", "postgres://db:5432", ("shop", "public")),
        ("postgres", "postgres://db:5432/shop?sslmode=require", "postgres://db:5432",
         ("shop", "public")),
        ("postgres", "postgresql+psycopg2://db:5432/shop", "postgres://db:5432",
         ("shop", "public")),
        ("postgres", "postgresql://db:5432/shop", "postgres://db:5432", ("shop", "public")),
        ("postgres", "jdbc:postgresql://db:5432/shop?ssl=true", "postgres://db:5432",
         ("shop", "public")),
        ("mysql", "mysql+pymysql://etl@db:3306/shop?charset=utf8mb4", "mysql://db:3306",
         ("shop",)),
        ("mysql", "mariadb://db:3306/shop", "mysql://db:3306", ("shop",)),
        ("mssql", "jdbc:sqlserver://db:1433;databaseName=shop;encrypt=true",
         "sqlserver://db:1433", ("shop", "dbo")),
        ("mssql", "mssql://db:1433;database=shop", "mssql://db:1433", ("shop", "dbo")),
        ("mssql", "mssql+pyodbc://db:1433/shop?driver=ODBC+Driver+18", "mssql://db:1433",
         ("shop", "dbo")),
        ("mssql", "jdbc:sqlserver://db:1433;encrypt=true", "sqlserver://db:1433", ()),
        ("duckdb", "duckdb:///data/shop.duckdb", "duckdb:///data/shop.duckdb", ("shop", "main")),
        ("bigquery", "bigquery", "bigquery", ()),
        ("s3", "s3://bucket/prefix", "s3://bucket/prefix", ()),
    ],
)  # fmt: skip
def test_a_connection_url_names_its_server_and_default_database(
    platform: str, connection: str, namespace: str, defaults: tuple[str, ...]
) -> None:
    assert parse_connection(platform, connection) == Connection(namespace, defaults)


@pytest.mark.parametrize(
    ("platform", "connection", "says"),
    [
        ("postgres", "postgres://etl:s3cret@db:5432/shop", r"password \(user:password@\)"),
        ("postgres", "postgres://etl:@db:5432/shop", "password"),
        ("postgres", "postgres://db:5432/shop?sslmode=require&password=s3cret",
         r"keys \['password'\]"),
        ("postgres", "postgres://db:5432/shop#s3cret", "fragment"),
        ("postgres", "postgres://db:5432/shop/public/orders", "3 path parts"),
        ("postgres", "postgres://db:port/shop", "invalid port"),
        ("postgres", "postgres://db:5432/sh.op", "'sh.op', which has a dot"),
        ("postgres", "postgres://db:5432/shop/sal.es", "'sal.es', which has a dot"),
        ("mssql", "jdbc:sqlserver://db:1433;databaseName=shop;user=etl;password=s3cret",
         r"keys \['password'\]"),
        ("mssql", "jdbc:sqlserver://db:1433;databaseName=sh.op", "which has a dot"),
        ("mssql", "sqlserver://db:1433/shop;databaseName=shop", "names its database twice"),
    ],
)  # fmt: skip
def test_a_connection_that_is_not_a_server_and_database_is_refused(
    platform: str, connection: str, says: str
) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        NamingConfig.from_dict({"connections": {platform: connection}})
    assert "s3cret" not in str(raised.value)  # the error is logged: never the password
    assert "://db:" in str(raised.value)  # names the connection
    assert "/database'" in str(raised.value)  # and says what to write


def test_a_refusal_never_repeats_a_query_or_property_value() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_connection("postgres", "postgres://db:5432/shop?sslmode=s3cret&pwd=s3cret")
    assert "s3cret" not in str(raised.value)
    assert "'pwd'" in str(raised.value)  # the key says which one to remove
    with pytest.raises(ConfigError) as raised:
        parse_connection("postgres", "postgres://db:5432/shop?sslkey=s3cret#frag")
    assert "s3cret" not in str(raised.value)
    assert "frag" not in str(raised.value).replace("fragment", "")


def test_a_connection_of_another_platform_is_refused_without_its_credentials() -> None:
    with pytest.raises(ConfigError, match="would land on DataHub platform 'mysql'"):
        NamingConfig(connections={"postgres": "mysql+pymysql://db:3306/shop"})
    with pytest.raises(ConfigError, match="would land on DataHub platform 's3'") as raised:
        NamingConfig(connections={"hdfs": "s3://etl:s3cret@bucket"})
    assert "s3cret" not in str(raised.value)
    with pytest.raises(ConfigError, match=r"Invalid naming configuration \(keys") as raised:
        NamingConfig.from_dict(
            {"fallback_namespace": 3, "connections": {"hdfs": "hdfs://etl:s3cret@nn:8020"}}
        )
    assert "s3cret" not in str(raised.value)


def test_every_way_of_writing_a_connection_names_the_same_server() -> None:
    plain = NamingConfig(connections={"postgres": "postgres://db.internal:5432/shop"})
    for written in (
        "postgres://etl@db.internal:5432/shop?sslmode=require",
        "postgresql+psycopg2://db.internal:5432/shop",
        "jdbc:postgresql://db.internal:5432/shop",
    ):
        config = NamingConfig(connections={"postgres": written})
        assert config.namespace_for("postgres") == plain.namespace_for("postgres")
        metadata = {"dagster/table_name": "public.orders", "dagster/kind/postgres": ""}
        assert dataset_for_asset(["orders"], metadata, config) == DatasetId(
            "postgres://db.internal:5432", "shop.public.orders"
        )
    sqlserver = NamingConfig(connections={"mssql": "jdbc:sqlserver://db:1433;databaseName=Shop"})
    assert dataset_for_table("mssql", "Orders", sqlserver) == dataset_for_table(
        "mssql", "Orders", NamingConfig(connections={"mssql": "sqlserver://db:1433/Shop"})
    )
    assert dataset_for_table("mssql", "Orders", sqlserver) == DatasetId(
        "sqlserver://db:1433", "Shop.dbo.Orders"
    )


def test_two_part_platforms_take_only_a_database() -> None:
    with pytest.raises(ConfigError, match=r"default database: e\.g\. 'mysql://db:3306/database'"):
        NamingConfig(connections={"mysql": "mysql://db:3306/shop/x"})


POSTGRES = NamingConfig(connections={"postgres": "postgres://db.internal:5432/shop"})


def test_every_route_names_a_partial_postgres_table_in_full() -> None:
    full = DatasetId("postgres://db.internal:5432", "shop.public.orders")
    metadata = {"dagster/table_name": "public.orders", "dagster/kind/postgres": ""}
    assert dataset_for_asset(["orders"], metadata, POSTGRES) == full
    assert (
        dataset_for_asset(["orders"], {**metadata, "dagster/table_name": "orders"}, POSTGRES)
        == full
    )
    assert (
        dataset_for_asset(
            ["orders"], {**metadata, "dagster/table_name": "SHOP.PUBLIC.ORDERS"}, POSTGRES
        )
        == full
    )
    assert dataset_for_asset(["prod", "postgres", "public", "orders"], None, POSTGRES) == full
    assert dataset_for_asset(["postgres", "shop", "public", "orders"], None, POSTGRES) == full
    assert dataset_for_table("postgresql", "public.orders", POSTGRES) == full
    assert dataset_for_uri("postgres://db.internal:5432/public.orders", POSTGRES) == full
    # a name with its own database keeps it
    assert dataset_for_table("postgres", "crm.public.orders", POSTGRES).name == "crm.public.orders"
    # the namespace is the server's, as OpenLineage names it
    assert POSTGRES.namespace_for("postgres") == "postgres://db.internal:5432"
    assert POSTGRES.connections["postgres"] == "postgres://db.internal:5432/shop"  # as written


def test_a_table_on_another_server_is_not_given_this_ones_database() -> None:
    other = dataset_for_uri("postgres://replica:5432/public.orders", POSTGRES)
    assert other == DatasetId("postgres://replica:5432", "public.orders")
    assert POSTGRES.table_name("postgres", "public.orders", "postgres://replica:5432") == (
        "public.orders"
    )
    assert POSTGRES.table_name("postgres", "public.orders", "postgres://db.internal:5432") == (
        "shop.public.orders"
    )
    # nor a table of another platform
    assert POSTGRES.table_name("redshift", "public.orders") == "public.orders"


def test_default_schemas_and_case_follow_the_platform() -> None:
    config = NamingConfig(
        connections={
            "snowflake": "snowflake://org-acct/ANALYTICS",
            "mssql": "sqlserver://db:1433/Shop",
            "redshift": "redshift://c.eu-west-1:5439/dev",
            "trino": "trino://t:8080/hive",
        }
    )
    assert config.table_name("snowflake", "ORDERS") == "analytics.public.orders"
    assert config.table_name("mssql", "Orders") == "Shop.dbo.Orders"  # names as written
    assert config.table_name("redshift", "orders") == "dev.public.orders"
    assert config.table_name("trino", "sales.orders") == "hive.sales.orders"
    assert config.table_name("trino", "orders") == "orders"  # Trino has no default schema
    preserved = NamingConfig(
        connections={"snowflake": "snowflake://org-acct/ANALYTICS"},
        name_case={"snowflake": "preserve"},
    )
    assert preserved.table_name("snowflake", "ORDERS") == "ANALYTICS.PUBLIC.ORDERS"


def test_without_a_database_partial_names_stay_partial() -> None:
    config = NamingConfig(connections={"postgres": "postgres://db.internal:5432"})
    assert config.table_name("postgres", "public.orders") == "public.orders"
    assert NamingConfig().table_name("postgres", "public.orders") == "public.orders"


def test_a_table_uris_path_segments_are_the_names_leading_parts() -> None:
    server = "postgres://db.internal:5432"
    full = DatasetId(server, "sales.public.orders")
    # a database in the path is the name's, not the connection's default
    assert dataset_for_uri(f"{server}/sales/public.orders", POSTGRES) == full
    assert dataset_for_uri(f"{server}/sales/public/orders", POSTGRES) == full
    assert dataset_for_uri(f"{server}/Sales/Public/Orders/", POSTGRES) == full
    assert dataset_for_uri(f"{server}/sales/public.orders") == full  # no connection
    # a partial name is completed as usual
    shop = DatasetId(server, "shop.public.orders")
    assert dataset_for_uri(f"{server}/public.orders", POSTGRES) == shop
    assert dataset_for_uri(f"{server}/public/orders", POSTGRES) == shop
    assert dataset_for_uri(f"{server}/orders", POSTGRES) == shop
    # the server as its connection names it: no user name, `postgresql` is `postgres`
    assert dataset_for_uri("postgres://etl@db.internal:5432/public.orders", POSTGRES) == shop
    assert dataset_for_uri("postgresql://db.internal:5432/public/orders", POSTGRES) == shop
    assert dataset_for_uri("postgres://db.internal:5432/public.orders?sslmode=x", POSTGRES) == shop


@pytest.mark.parametrize("path", ["/a/b/c/d", "/a/b.c.d", "/sales//orders", "/a..b", "/x%2Fy"])
def test_a_path_that_is_no_table_name_is_not_completed(path: str) -> None:
    dataset = dataset_for_uri(f"postgres://db.internal:5432{path}", POSTGRES)
    assert not dataset.name.startswith("shop.")  # nothing invented
    assert dataset.name == path.lstrip("/") or dataset.name == "x/y"


def test_table_name_from_path() -> None:
    assert table_name_from_path("/sales/public.orders", 3) == "sales.public.orders"
    assert table_name_from_path("/sales/public/orders", 3) == "sales.public.orders"
    assert table_name_from_path("public.orders", 3) == "public.orders"
    assert table_name_from_path("/my%20db/public/orders", 3) == "my db.public.orders"
    assert table_name_from_path("/shop/orders", 2) == "shop.orders"
    assert table_name_from_path("/a/b/c/d", 3) is None
    assert table_name_from_path("/a/b/c", 2) is None
    assert table_name_from_path("/a//c", 3) is None
    assert table_name_from_path("/", 3) is None
    assert complete_with_defaults("x/y", 3, ("shop", "public")) == "x/y"  # a path, not a name


def test_server_namespace() -> None:
    assert server_namespace("postgres", "postgresql", "etl@db:5432") == "postgres://db:5432"
    assert server_namespace("postgres", "postgres", "db:5432") == "postgres://db:5432"
    assert server_namespace("mssql", "mssql", "db:1433") == "mssql://db:1433"
    assert server_namespace("mssql", "sqlserver", "db:1433") == "sqlserver://db:1433"
    assert server_namespace("mysql", "mariadb", "db:3306") == "mysql://db:3306"
    assert server_namespace("postgres", "mysql", "db:3306") == "mysql://db:3306"  # refused later
