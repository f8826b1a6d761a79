"""Asset key / metadata -> OpenLineage dataset naming: exact inputs, exact outputs."""

from __future__ import annotations

import dagster as dg
import pytest

from ol_bridge.errors import ConfigError, NamingError
from ol_bridge.naming import (
    MAX_FALLBACK_NAME_LENGTH,
    DatasetId,
    KeyConvention,
    NamingConfig,
    dataset_for_asset,
    dataset_for_table,
    dataset_for_uri,
    dataset_from_datahub_urn,
    parse_asset_key,
    platform_of,
)

CONFIG = NamingConfig.from_dict(
    {
        "connections": {
            "snowflake": "snowflake://myorg-myaccount",
            "postgresql": "postgres://db.internal:5432",
            "duckdb": "duckdb:///data/warehouse.duckdb",
            "bigquery": "bigquery",
            "mssql": "sqlserver://sql.internal:1433",
            "hdfs": "hdfs://namenode:8020",
        }
    }
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # [env, platform, db, schema, table]: acryl-datahub-dagster-plugin's convention
        (
            ["prod", "snowflake", "Analytics", "Public", "Orders"],
            DatasetId("snowflake://myorg-myaccount", "analytics.public.orders"),
        ),
        (
            ["DEV", "postgres", "shop", "public", "orders"],
            DatasetId("postgres://db.internal:5432", "shop.public.orders"),
        ),
        (["qa", "bigquery", "proj", "ds", "t"], DatasetId("bigquery", "proj.ds.t")),
        (["stage", "mysql", "shop", "orders"], DatasetId("mysql", "shop.orders")),
        (
            ["test", "mssql", "db", "dbo", "T"],
            DatasetId("sqlserver://sql.internal:1433", "db.dbo.T"),
        ),
        # the env form also takes fewer table parts, as the plugin did
        (["prod", "postgres", "orders"], DatasetId("postgres://db.internal:5432", "orders")),
        # [platform, db, schema, table]
        (["snowflake", "db", "sch", "t"], DatasetId("snowflake://myorg-myaccount", "db.sch.t")),
        (
            ["postgresql", "db", "public", "t"],
            DatasetId("postgres://db.internal:5432", "db.public.t"),
        ),
        # [platform, db, table] for two-level platforms; DuckDB may leave out the database
        (["hive", "default", "events"], DatasetId("hive", "default.events")),
        # ... and the configured connection's file names it (review 2)
        (
            ["duckdb", "main", "iris"],
            DatasetId("duckdb:///data/warehouse.duckdb", "warehouse.main.iris"),
        ),
        (["sqlite", "t"], DatasetId("sqlite", "t")),
        (["trino", "cat", "sch", "t"], DatasetId("trino", "cat.sch.t")),
        # file platforms
        (["prod", "s3", "bucket", "raw", "x.csv"], DatasetId("s3://bucket", "raw/x.csv")),
        (["gcs", "bucket", "x.parquet"], DatasetId("gs://bucket", "x.parquet")),
        (["file", "data", "x.csv"], DatasetId("file", "/data/x.csv")),
        (["hdfs", "warehouse", "t"], DatasetId("hdfs://namenode:8020", "/warehouse/t")),
        # outside the convention: fallback namespace, Dagster's user string as name
        (["iris", "summary"], DatasetId("dagster", "iris/summary")),
        (["orders"], DatasetId("dagster", "orders")),
        (["postgres", "public", "t"], DatasetId("dagster", "postgres/public/t")),
        (["snowflake", "a", "b", "c", "d"], DatasetId("dagster", "snowflake/a/b/c/d")),
        (["prod", "snowflake", "a", "b", "c", "d"], DatasetId("dagster", "prod/snowflake/a/b/c/d")),
        (["prod", "notaplatform", "a", "b", "c"], DatasetId("dagster", "prod/notaplatform/a/b/c")),
        (["prod", "snowflake", "db", "", "t"], DatasetId("dagster", "prod/snowflake/db//t")),
        (["a", "", "b"], DatasetId("dagster", "a//b")),
        (["a/b", "c"], DatasetId("dagster", "a/b/c")),
        (["données", "表"], DatasetId("dagster", "données/表")),
        (["s3", "only_bucket"], DatasetId("dagster", "s3/only_bucket")),
    ],
)
def test_key_convention_and_fallback(key: list[str], expected: DatasetId) -> None:
    assert dataset_for_asset(key, None, CONFIG) == expected


def test_unconfigured_platforms_use_the_bare_datahub_platform_id() -> None:
    assert dataset_for_asset(["prod", "snowflake", "db", "s", "t"]) == DatasetId(
        "snowflake", "db.s.t"
    )
    assert dataset_for_asset(["prod", "sqlserver", "db", "dbo", "t"]) == DatasetId(
        "mssql", "db.dbo.t"
    )
    assert dataset_for_asset(["athena", "cat", "db", "t"]) == DatasetId("athena", "cat.db.t")
    assert dataset_for_asset(["hdfs", "x"]) == DatasetId("hdfs", "/x")


def test_fallback_namespace_is_configurable() -> None:
    config = NamingConfig(fallback_namespace="dagster://prod")
    assert dataset_for_asset(["a", "b"], config=config) == DatasetId("dagster://prod", "a/b")


def test_very_long_keys_are_shortened_stably() -> None:
    key = ["x" * 300, "y" * 300]
    first = dataset_for_asset(key)
    assert first == dataset_for_asset(key)
    assert len(first.name) == MAX_FALLBACK_NAME_LENGTH
    assert first.name.startswith("x" * 300 + "/" + "y" * 82 + "~")
    assert first.name != dataset_for_asset(["x" * 300, "y" * 299 + "z"]).name


@pytest.mark.parametrize("key", [[], [""], ["", ""]])
def test_empty_keys_raise_naming_error(key: list[str]) -> None:
    with pytest.raises(NamingError, match=r"is empty; an asset needs at least one non-empty"):
        dataset_for_asset(key)


def test_a_key_given_as_one_string_is_rejected() -> None:
    with pytest.raises(NamingError, match=r"was passed as one string; pass its parts"):
        dataset_for_asset("a/b")


def test_uri_metadata_wins_over_everything() -> None:
    metadata = {
        "dagster/uri": dg.MetadataValue.url("postgres://pg.other:5433/db.s.t"),
        "path": "/tmp/ignored.csv",
        "dagster/table_name": "ignored.table",
    }
    assert dataset_for_asset(["prod", "snowflake", "a", "b", "c"], metadata, CONFIG) == DatasetId(
        "postgres://pg.other:5433", "db.s.t"
    )


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/raw/x.csv", DatasetId("s3://bucket", "raw/x.csv")),
        ("s3a://bucket/raw/x.csv", DatasetId("s3://bucket", "raw/x.csv")),
        ("gs://bucket/o", DatasetId("gs://bucket", "o")),
        ("gcs://bucket/o", DatasetId("gs://bucket", "o")),
        ("hdfs://nn:8020/warehouse/t", DatasetId("hdfs://nn:8020", "/warehouse/t")),
        ("file:///tmp/x.csv", DatasetId("file", "/tmp/x.csv")),
        ("file://localhost/tmp/x.csv", DatasetId("file", "/tmp/x.csv")),
        ("file://fileserver/share/x.csv", DatasetId("file://fileserver", "/share/x.csv")),
        ("snowflake://org-acct/DB.S.T", DatasetId("snowflake://org-acct", "db.s.t")),
        (
            "abfss://c@acct.dfs.core.windows.net/p/x",
            DatasetId("abfss://c@acct.dfs.core.windows.net", "p/x"),
        ),
        ("/data/a/../x.csv", DatasetId("file", "/data/x.csv")),
        ("relative/x.csv", DatasetId("file", "relative/x.csv")),
    ],
)
def test_dataset_for_uri(uri: str, expected: DatasetId) -> None:
    assert dataset_for_uri(uri) == expected


@pytest.mark.parametrize("uri", ["://nothing", "s3:///key-without-bucket"])
def test_unusable_uri_metadata_raises(uri: str) -> None:
    with pytest.raises(NamingError, match=r"dagster/uri metadata"):
        dataset_for_asset(["x"], {"dagster/uri": uri})


def test_path_metadata_as_path_metadata_value_or_string() -> None:
    local = {"path": dg.MetadataValue.path("/srv/out/iris.csv")}
    assert dataset_for_asset(["iris"], local) == DatasetId("file", "/srv/out/iris.csv")
    remote = {"path": "s3://lake/iris/part-0.parquet", "dagster/table_name": "ignored.t"}
    assert dataset_for_asset(["prod", "duckdb", "main", "iris"], remote) == DatasetId(
        "s3://lake", "iris/part-0.parquet"
    )


def test_table_name_with_platform_from_key_storage_kind_or_kind_tag() -> None:
    from_key = dataset_for_asset(
        ["prod", "postgres", "a", "b", "c"], {"dagster/table_name": "shop.public.orders"}, CONFIG
    )
    assert from_key == DatasetId("postgres://db.internal:5432", "shop.public.orders")
    from_storage_kind = dataset_for_asset(
        ["iris_summary"],
        {
            "dagster/table_name": dg.MetadataValue.text("main.iris_summary"),
            "dagster/storage_kind": "duckdb",
        },
        CONFIG,
    )
    assert from_storage_kind == DatasetId(
        "duckdb:///data/warehouse.duckdb", "warehouse.main.iris_summary"
    )
    from_kind_tag = dataset_for_asset(
        ["x"], {"dagster/relation_identifier": "DB.S.T", "dagster/kind/snowflake": ""}, CONFIG
    )
    assert from_kind_tag == DatasetId("snowflake://myorg-myaccount", "db.s.t")
    from_storage_kind_tag = dataset_for_asset(
        ["x"], {"dagster/table_name": "p.d.t", "storage_kind": "bigquery"}, CONFIG
    )
    assert from_storage_kind_tag == DatasetId("bigquery", "p.d.t")


def test_table_name_without_any_platform_falls_through_to_the_key() -> None:
    metadata = {"dagster/table_name": "s.t"}
    assert dataset_for_asset(["a", "b"], metadata) == DatasetId("dagster", "a/b")
    config = NamingConfig(default_platform="PostgreSQL")
    assert dataset_for_asset(["a", "b"], metadata, config) == DatasetId("postgres", "s.t")


def test_name_case_per_platform() -> None:
    # The platform's rule by default: case-insensitive platforms in lower case ...
    assert dataset_for_asset(["snowflake", "Db", "S", "T"]) == DatasetId("snowflake", "db.s.t")
    assert dataset_for_table("postgres", "Shop.Public.Orders") == DatasetId(
        "postgres", "shop.public.orders"
    )
    assert dataset_for_table("duckdb", "Main.Iris") == DatasetId("duckdb", "main.iris")
    # ... and names as written where they are case-sensitive.
    assert dataset_for_table("bigquery", "Proj.DS.Orders") == DatasetId(
        "bigquery", "Proj.DS.Orders"
    )
    assert dataset_for_table("mysql", "Shop.Orders") == DatasetId("mysql", "Shop.Orders")
    preserve = NamingConfig(name_case={"snowflake": "preserve"})
    assert dataset_for_asset(["snowflake", "Db", "S", "T"], config=preserve) == DatasetId(
        "snowflake", "Db.S.T"
    )
    upper = NamingConfig(name_case={"snowflake": "upper", "postgres": "lower"})
    assert dataset_for_table("snowflake", "db.s.t", upper) == DatasetId("snowflake", "DB.S.T")
    assert dataset_for_table("postgresql", "Db.S.T", upper) == DatasetId("postgres", "db.s.t")


def test_parse_asset_key_keeps_the_env() -> None:
    assert parse_asset_key(["PROD", "Snowflake", "db", "s", "t"]) == KeyConvention(
        env="PROD", platform="snowflake", parts=("db", "s", "t")
    )
    assert parse_asset_key(["duckdb", "main", "t"]) == KeyConvention(
        env=None, platform="duckdb", parts=("main", "t")
    )
    assert parse_asset_key(["a", "b"]) is None
    custom = NamingConfig(environments=["blue"])
    assert parse_asset_key(["blue", "mysql", "d", "t"], custom) == KeyConvention(
        env="blue", platform="mysql", parts=("d", "t")
    )
    assert parse_asset_key(["prod", "mysql", "d", "t"], custom) is None


def test_datahub_urns_from_plugin_metadata() -> None:
    # A URN is the identity the user wrote: its name is kept exactly, whatever the platform.
    snowflake = "urn:li:dataset:(urn:li:dataPlatform:snowflake,DB.Schema.Table,PROD)"
    assert dataset_from_datahub_urn(snowflake, CONFIG) == DatasetId(
        "snowflake://myorg-myaccount", "DB.Schema.Table"
    )
    plugin_example = "urn:li:dataset:(urn:li:dataPlatform:snowflake,tableA,PROD)"
    assert dataset_from_datahub_urn(plugin_example) == DatasetId("snowflake", "tableA")
    postgres = "urn:li:dataset:(urn:li:dataPlatform:postgresql,Shop.Public.Orders,DEV)"
    assert dataset_from_datahub_urn(postgres, CONFIG) == DatasetId(
        "postgres://db.internal:5432", "Shop.Public.Orders"
    )
    s3 = "urn:li:dataset:(urn:li:dataPlatform:s3,bucket/raw/x.csv,DEV)"
    assert dataset_from_datahub_urn(s3, CONFIG) == DatasetId("s3://bucket", "raw/x.csv")
    local = "urn:li:dataset:(urn:li:dataPlatform:file,/tmp/x.csv,PROD)"
    assert dataset_from_datahub_urn(local) == DatasetId("file", "/tmp/x.csv")
    mssql = "urn:li:dataset:(urn:li:dataPlatform:mssql,db.dbo.t,PROD)"
    assert dataset_from_datahub_urn(mssql, CONFIG) == DatasetId(
        "sqlserver://sql.internal:1433", "db.dbo.t"
    )
    with pytest.raises(NamingError, match=r"is not a DataHub dataset URN .*urn:li:dataset:\("):
        dataset_from_datahub_urn("urn:li:corpuser:jdoe")


@pytest.mark.parametrize(
    ("namespace", "platform"),
    [
        ("snowflake://myorg-myaccount", "snowflake"),
        ("postgres://db:5432", "postgres"),
        ("sqlserver://h:1433", "mssql"),
        ("awsathena://athena.eu-west-1.amazonaws.com", "athena"),
        ("gs://bucket", "gcs"),
        ("s3a://bucket", "s3"),
        ("abfss://c@a.dfs.core.windows.net", "abs"),
        ("bigquery", "bigquery"),
        ("file", "file"),
        ("dagster", "dagster"),
        ("", None),
    ],
)
def test_platform_of_matches_datahubs_converter(namespace: str, platform: str | None) -> None:
    assert platform_of(DatasetId(namespace, "x")) == platform


def test_naming_config_from_dict_rejects_unknown_and_bad_values() -> None:
    with pytest.raises(
        ConfigError, match=r"Unknown key\(s\) \['conections'\] in the naming settings; allowed"
    ):
        NamingConfig.from_dict({"conections": {}})
    with pytest.raises(ConfigError, match=r"would land on DataHub platform 'mysql', not"):
        NamingConfig.from_dict({"connections": {"postgres": "mysql://h:3306"}})
    # a spelling of the platform is written as its scheme, which DataHub files under it
    postgresql = NamingConfig.from_dict({"connections": {"postgres": "postgresql://h:5432"}})
    assert postgresql.namespace_for("postgres") == "postgres://h:5432"
    with pytest.raises(ConfigError, match=r"connections\['snowflake'\] must be a non-empty"):
        NamingConfig.from_dict({"connections": {"snowflake": ""}})
    with pytest.raises(ConfigError, match=r"name_case\['snowflake'\] must be 'lower'"):
        NamingConfig.from_dict({"name_case": {"snowflake": "title"}})
    with pytest.raises(ConfigError, match=r"environments must be a list of names"):
        NamingConfig.from_dict({"environments": "prod"})
    with pytest.raises(ConfigError, match=r"Invalid naming configuration"):
        NamingConfig.from_dict({"fallback_namespace": 3})
    with pytest.raises(ConfigError, match=r"fallback_namespace must not be empty"):
        NamingConfig.from_dict({"fallback_namespace": " "})
    config = NamingConfig.from_dict({"connections": {"sqlserver": "sqlserver://h:1433"}})
    assert config.connections == {"mssql": "sqlserver://h:1433"}
    assert NamingConfig.from_dict({}) == NamingConfig()


@pytest.mark.parametrize(
    ("table_name", "expected"),
    [
        # Dagster's DuckDB IO managers put their ``database`` setting (a path) first;
        # DuckDB and dbt-duckdb call the database by the file name up to its first dot.
        ("/x/warehouse.duckdb.analytics.daily_summary", "warehouse.analytics.daily_summary"),
        ("warehouse.duckdb.analytics.daily_summary", "warehouse.analytics.daily_summary"),
        ("/data/my.shop.duckdb.main.t", "my.main.t"),
        (":memory:.main.t", "memory.main.t"),
        ("md:shop.main.t", "shop.main.t"),
        ("jaffle_shop.Ext.Promotions", "jaffle_shop.ext.promotions"),
        ("main.t", "main.t"),
    ],
)
def test_duckdb_tables_are_named_as_duckdb_names_them(table_name: str, expected: str) -> None:
    metadata = {"dagster/table_name": table_name, "dagster/storage_kind": "duckdb"}
    assert dataset_for_asset(["any", "key"], metadata) == DatasetId("duckdb", expected)


def test_kind_tags_give_the_table_name_its_platform() -> None:
    # @asset(key=["ext", "promotions"], kinds={"duckdb"}) reporting dagster/table_name
    metadata = {
        "dagster/kind/duckdb": "",
        "dagster/kind/python": "",
        "dagster/table_name": (dg.MetadataValue.text("jaffle_shop.ext.promotions")),
    }
    assert dataset_for_asset(["ext", "promotions"], metadata) == DatasetId(
        "duckdb", "jaffle_shop.ext.promotions"
    )


def test_delta_table_uri_names_the_table() -> None:
    metadata = {"table_uri": "s3://lake/delta/sales/orders", "dagster/table_name": "x.y.z"}
    assert dataset_for_asset(["sales", "orders"], metadata) == DatasetId(
        "s3://lake", "delta/sales/orders"
    )
    assert dataset_for_asset(["sales", "orders"], {"table_uri": "/data/delta/sales/orders"}) == (
        DatasetId("file", "/data/delta/sales/orders")
    )


@pytest.mark.parametrize(
    ("location", "storage"),
    [
        ("/home/me/.dagster/storage/iris/summary", True),
        ("s3://bucket/dagster/iris/summary", True),
        ("gs://bucket/prefix/iris/summary/2024-01-01", True),  # a partition of it
        ("/data/iris/summary.csv", False),
        ("s3://lake/iris/summary/part-0.parquet", False),
        ("/data/other/thing", False),
        ("/summary", False),
    ],
)
def test_object_storage_of_an_asset_is_not_its_name(location: str, storage: bool) -> None:
    from ol_bridge.naming import is_asset_storage

    assert is_asset_storage(location, ["iris", "summary"]) is storage
    expected = DatasetId("dagster", "iris/summary") if storage else dataset_for_uri(location)
    assert dataset_for_asset(["iris", "summary"], {"path": location}) == expected


@pytest.mark.parametrize(
    ("location", "per_run"),
    [
        ("/opt/dagster/storage/3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/extract/result", True),
        ("s3://b/p/storage/3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/a/result", True),
        ("/data/3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b.csv", False),
        ("/data/exports/orders.csv", False),
    ],
)
def test_run_scoped_storage(location: str, per_run: bool) -> None:
    from ol_bridge.naming import is_run_storage

    assert is_run_storage(location) is per_run
