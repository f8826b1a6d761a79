"""SQL lineage with real sqlglot: exact tables, columns and transformations."""

from __future__ import annotations

import attrs
import pytest

from ol_bridge.errors import SqlLineageError
from ol_bridge.sql import (
    AGGREGATION,
    IDENTITY,
    TRANSFORMATION,
    ColumnLineageEntry,
    ColumnRef,
    IndirectInput,
    SqlLineage,
    TableRef,
    cache_clear,
    cache_info,
    dialect_for_platform,
    extract_sql_lineage,
)


def t(name: str) -> TableRef:
    """``"db.schema.table"`` (or fewer parts) as a TableRef."""
    parts = name.split(".")
    padded: list[str | None] = [None] * (3 - len(parts)) + list(parts)
    return TableRef(database=padded[0], schema=padded[1], name=padded[2] or "")


def c(table: str, column: str) -> ColumnRef:
    return ColumnRef(table=t(table), column=column)


def columns(lineage: SqlLineage) -> dict[str, tuple[tuple[ColumnRef, ...], str]]:
    return {e.output_column: (e.inputs, e.transformation) for e in lineage.column_lineage}


def entries(lineage: SqlLineage) -> tuple[ColumnLineageEntry, ...]:
    """The entries without their per-input transformations (tests/sql/test_transformations.py
    checks those)."""
    return tuple(attrs.evolve(entry, edges=()) for entry in lineage.column_lineage)


def test_table_ref_qualified_name_omits_missing_parts() -> None:
    assert TableRef("db", "sch", "tbl").qualified_name == "db.sch.tbl"
    assert TableRef(None, "sch", "tbl").qualified_name == "sch.tbl"
    assert TableRef(None, None, "tbl").qualified_name == "tbl"
    assert TableRef("db", None, "tbl").qualified_name == "db.tbl"


def test_bare_select_joining_three_tables() -> None:
    sql = """
        SELECT o.id, c.name AS customer, SUM(i.price * i.qty) AS total, UPPER(c.country) AS cc
        FROM shop.orders o
        JOIN shop.customers c ON c.id = o.customer_id
        LEFT JOIN shop.items i ON i.order_id = o.id
        WHERE o.status = 'done'
        GROUP BY o.id, c.name, c.country
    """
    lineage = extract_sql_lineage(sql, dialect="duckdb", default_database="wh")
    assert lineage.outputs == ()
    assert lineage.dialect == "duckdb"
    assert lineage.inputs == (t("wh.shop.customers"), t("wh.shop.items"), t("wh.shop.orders"))
    assert entries(lineage) == (
        ColumnLineageEntry("id", (c("wh.shop.orders", "id"),), IDENTITY, description="o.id"),
        ColumnLineageEntry(
            "customer", (c("wh.shop.customers", "name"),), IDENTITY, description="c.name"
        ),
        ColumnLineageEntry(
            "total",
            (c("wh.shop.items", "price"), c("wh.shop.items", "qty")),
            AGGREGATION,
            description="SUM(i.price * i.qty)",
        ),
        ColumnLineageEntry(
            "cc",
            (c("wh.shop.customers", "country"),),
            TRANSFORMATION,
            description="UPPER(c.country)",
        ),
    )
    indirect = {(i.column, i.subtype) for i in lineage.indirect_inputs}
    assert indirect == {
        (c("wh.shop.customers", "id"), "JOIN"),
        (c("wh.shop.orders", "customer_id"), "JOIN"),
        (c("wh.shop.items", "order_id"), "JOIN"),
        (c("wh.shop.orders", "id"), "JOIN"),
        (c("wh.shop.orders", "status"), "FILTER"),
        (c("wh.shop.orders", "id"), "GROUP_BY"),
        (c("wh.shop.customers", "name"), "GROUP_BY"),
        (c("wh.shop.customers", "country"), "GROUP_BY"),
    }
    assert all(i.transformation_type == "INDIRECT" for i in lineage.indirect_inputs)


def test_ctas_with_cte_and_default_names_in_postgres() -> None:
    sql = """
        CREATE TABLE Marts.Summary AS
        WITH c AS (SELECT a, b FROM Src s)
        SELECT c.a, SUM(c.b) AS total, c.a || 'x' AS ax
        FROM c JOIN other o ON o.a = c.a
        GROUP BY c.a
    """
    lineage = extract_sql_lineage(
        sql, dialect="postgres", default_database="analytics", default_schema="public"
    )
    out = t("analytics.marts.summary")
    assert lineage.outputs == (out,)
    assert lineage.inputs == (t("analytics.public.other"), t("analytics.public.src"))
    assert entries(lineage) == (
        ColumnLineageEntry(
            "a", (c("analytics.public.src", "a"),), IDENTITY, description="c.a", output_table=out
        ),
        ColumnLineageEntry(
            "total",
            (c("analytics.public.src", "b"),),
            AGGREGATION,
            description="SUM(c.b)",
            output_table=out,
        ),
        ColumnLineageEntry(
            "ax",
            (c("analytics.public.src", "a"),),
            TRANSFORMATION,
            description="c.a || 'x'",
            output_table=out,
        ),
    )


def test_create_view_as_select_with_derived_table() -> None:
    sql = "CREATE VIEW v AS SELECT x.k, x.n + 1 AS n1 FROM (SELECT k, n FROM base) AS x"
    lineage = extract_sql_lineage(sql, dialect="duckdb")
    assert lineage.outputs == (t("v"),)
    assert lineage.inputs == (t("base"),)
    assert columns(lineage) == {
        "k": ((c("base", "k"),), IDENTITY),
        "n1": ((c("base", "n"),), TRANSFORMATION),
    }


def test_insert_select_with_column_list_and_snowflake_case() -> None:
    sql = 'INSERT INTO "MyDb".sch.out (x, y) SELECT a, "Bb" FROM t1'
    lineage = extract_sql_lineage(sql, dialect="snowflake", default_schema="raw")
    out = TableRef("MyDb", "SCH", "OUT")
    assert lineage.outputs == (out,)
    assert lineage.inputs == (t("RAW.T1"),)
    assert columns(lineage) == {
        "X": ((c("RAW.T1", "A"),), IDENTITY),
        "Y": ((c("RAW.T1", "Bb"),), IDENTITY),
    }
    assert {e.output_table for e in lineage.column_lineage} == {out}


def test_insert_with_leading_cte_does_not_take_the_cte_for_a_table() -> None:
    sql = (
        "WITH recent AS (SELECT id FROM events WHERE ts > now())"
        " INSERT INTO hot SELECT id FROM recent"
    )
    lineage = extract_sql_lineage(sql, dialect="postgres", default_schema="public")
    assert lineage.inputs == (t("public.events"),)
    assert lineage.outputs == (t("public.hot"),)
    assert columns(lineage) == {"id": ((c("public.events", "id"),), IDENTITY)}


def test_select_into_creates_its_table() -> None:
    lineage = extract_sql_lineage("SELECT TOP 10 a INTO new_t FROM dbo.old_t", dialect="tsql")
    assert lineage.inputs == (t("dbo.old_t"),)
    assert lineage.outputs == (t("new_t"),)
    assert entries(lineage) == (
        ColumnLineageEntry(
            "a", (c("dbo.old_t", "a"),), IDENTITY, description="a", output_table=t("new_t")
        ),
    )


def test_spark_insert_overwrite_and_parenthesised_ctas() -> None:
    spark = extract_sql_lineage("INSERT OVERWRITE TABLE db.t SELECT a FROM db.s", dialect="spark")
    assert (spark.inputs, spark.outputs) == ((t("db.s"),), (t("db.t"),))
    assert columns(spark) == {"a": ((c("db.s", "a"),), IDENTITY)}
    snow = extract_sql_lineage(
        "CREATE OR REPLACE TABLE x AS (SELECT a FROM y)", dialect="snowflake"
    )
    assert (snow.inputs, snow.outputs) == ((t("Y"),), (t("X"),))
    assert columns(snow) == {"A": ((c("Y", "A"),), IDENTITY)}


def test_table_functions_and_recursive_ctes_are_not_tables() -> None:
    parquet = extract_sql_lineage(
        "SELECT * FROM read_parquet('s3://b/x.parquet')", dialect="duckdb"
    )
    assert (parquet.inputs, parquet.column_lineage) == ((), ())
    recursive = extract_sql_lineage(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5)"
        " SELECT n FROM r",
        dialect="postgres",
    )
    assert (recursive.inputs, recursive.column_lineage) == ((), ())


def test_insert_values_has_an_output_and_no_inputs() -> None:
    lineage = extract_sql_lineage("INSERT INTO t (a) VALUES (1), (2)", dialect="mysql")
    assert lineage == SqlLineage(inputs=(), outputs=(t("t"),), column_lineage=(), dialect="mysql")


def test_merge_maps_update_and_insert_assignments() -> None:
    sql = """
        MERGE INTO tgt t USING src s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET v = s.v + t.v
        WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)
    """
    lineage = extract_sql_lineage(sql, dialect="snowflake")
    assert lineage.inputs == (t("SRC"),)
    assert lineage.outputs == (t("TGT"),)
    assert entries(lineage) == (
        ColumnLineageEntry(
            "V",
            (c("SRC", "V"), c("TGT", "V")),
            TRANSFORMATION,
            description="S.V + T.V; S.V",
            output_table=t("TGT"),
        ),
        ColumnLineageEntry(
            "ID", (c("SRC", "ID"),), IDENTITY, description="S.ID", output_table=t("TGT")
        ),
    )


def test_merge_using_a_subquery_reads_its_tables() -> None:
    sql = """
        MERGE INTO tgt USING (SELECT id, amount * 2 AS v FROM staging.src) s ON tgt.id = s.id
        WHEN MATCHED THEN UPDATE SET v = s.v
    """
    lineage = extract_sql_lineage(sql, dialect="databricks")
    assert lineage.inputs == (t("staging.src"),)
    assert lineage.outputs == (t("tgt"),)
    assert columns(lineage) == {"v": ((c("staging.src", "amount"),), TRANSFORMATION)}


def test_star_without_schema_gives_tables_but_no_columns() -> None:
    lineage = extract_sql_lineage(
        "CREATE TABLE o AS SELECT * FROM a JOIN b ON a.id = b.id", dialect="duckdb"
    )
    assert lineage.inputs == (t("a"), t("b"))
    assert lineage.outputs == (t("o"),)
    assert entries(lineage) == ()


def test_star_from_one_source_is_traced_through_a_cte() -> None:
    lineage = extract_sql_lineage("WITH x AS (SELECT * FROM raw.t) SELECT a, b + 1 AS b1 FROM x")
    assert columns(lineage) == {
        "a": ((c("raw.t", "a"),), IDENTITY),
        "b1": ((c("raw.t", "b"),), TRANSFORMATION),
    }


def test_star_with_schema_expands_in_schema_order() -> None:
    schema = {"wh.s.a": {"id": "int", "x": "text"}, "wh.s.b": {"id": "int", "y": "text"}}
    lineage = extract_sql_lineage(
        "SELECT * FROM s.a JOIN s.b USING (id)",
        dialect="duckdb",
        default_database="wh",
        schema=schema,
    )
    assert columns(lineage) == {
        "id": ((c("wh.s.a", "id"), c("wh.s.b", "id")), TRANSFORMATION),
        "x": ((c("wh.s.a", "x"),), IDENTITY),
        "y": ((c("wh.s.b", "y"),), IDENTITY),
    }


def test_schema_resolves_unqualified_columns_of_a_join() -> None:
    schema = {"orders": {"id": "int", "cust": "int"}, "customers": {"cid": "int", "name": "text"}}
    lineage = extract_sql_lineage(
        "SELECT id, name FROM orders JOIN customers ON cust = cid", schema=schema
    )
    assert columns(lineage) == {
        "id": ((c("orders", "id"),), IDENTITY),
        "name": ((c("customers", "name"),), IDENTITY),
    }


def test_unqualified_columns_of_a_join_without_schema_are_left_out() -> None:
    lineage = extract_sql_lineage("SELECT id, a.v FROM a JOIN b ON a.k = b.k")
    assert columns(lineage) == {"v": ((c("a", "v"),), IDENTITY)}


def test_union_and_scalar_and_correlated_subqueries() -> None:
    union = extract_sql_lineage("SELECT a FROM t1 UNION ALL SELECT b FROM t2")
    assert columns(union) == {"a": ((c("t1", "a"), c("t2", "b")), IDENTITY)}
    correlated = extract_sql_lineage(
        "SELECT id, (SELECT MAX(v) FROM t2 WHERE t2.id = t1.id) AS mv FROM t1"
        " WHERE id IN (SELECT id FROM t3)"
    )
    assert correlated.inputs == (t("t1"), t("t2"), t("t3"))
    assert columns(correlated) == {
        "id": ((c("t1", "id"),), IDENTITY),
        "mv": ((c("t2", "v"),), AGGREGATION),
    }
    assert IndirectInput(c("t3", "id"), "FILTER") in correlated.indirect_inputs


def test_bigquery_backticked_project_names() -> None:
    lineage = extract_sql_lineage(
        "SELECT word, COUNT(*) AS n FROM `my-project.samples.shakespeare` GROUP BY word",
        dialect="bigquery",
    )
    assert lineage.inputs == (TableRef("my-project", "samples", "shakespeare"),)
    assert columns(lineage) == {"word": ((c("my-project.samples.shakespeare", "word"),), IDENTITY)}


def test_quoted_identifiers_keep_case_unquoted_follow_the_dialect() -> None:
    sql = 'SELECT "MixedCol", OtherCol FROM "Sales"."Orders"'
    pg = extract_sql_lineage(sql, dialect="postgres")
    assert pg.inputs == (TableRef(None, "Sales", "Orders"),)
    assert [e.output_column for e in pg.column_lineage] == ["MixedCol", "othercol"]
    snow = extract_sql_lineage(sql, dialect="snowflake")
    assert [e.output_column for e in snow.column_lineage] == ["MixedCol", "OTHERCOL"]
    # SQL Server compares names case-insensitively, even bracketed ones.
    tsql = extract_sql_lineage("SELECT [Col A] FROM [dbo].[My Table]", dialect="tsql")
    assert tsql.inputs == (TableRef(None, "dbo", "my table"),)
    assert columns(tsql) == {"col a": ((c("dbo.my table", "col a"),), IDENTITY)}


def test_multiple_statements_unite_their_lineage() -> None:
    sql = """
        CREATE TEMP TABLE stage AS SELECT id, v FROM raw_a;
        ;
        INSERT INTO final SELECT s.id, b.w FROM stage s JOIN raw_b b ON b.id = s.id;
        DROP TABLE stage;
        UPDATE final SET w = 0 WHERE id IN (SELECT id FROM blocked);
        DELETE FROM old_final;
    """
    lineage = extract_sql_lineage(sql, dialect="duckdb")
    # UPDATE reads the rows it updates: its target is an input too.
    assert lineage.inputs == (t("blocked"), t("final"), t("raw_a"), t("raw_b"), t("stage"))
    assert lineage.outputs == (t("final"), t("old_final"), t("stage"))
    assert [(e.output_table, e.output_column) for e in lineage.column_lineage] == [
        (t("stage"), "id"),
        (t("stage"), "v"),
        (t("final"), "id"),
        (t("final"), "w"),
    ]
    assert lineage.column_lineage[3].inputs == (c("raw_b", "w"),)


def test_statements_without_lineage_give_empty_lineage() -> None:
    empty = SqlLineage(inputs=(), outputs=(), column_lineage=(), dialect="postgres")
    assert extract_sql_lineage("", dialect="postgres") == empty
    assert extract_sql_lineage("SET search_path = x; DROP SCHEMA y", dialect="postgres") == empty
    ddl = extract_sql_lineage("CREATE TABLE z (a INT)", dialect="postgres")
    assert ddl.outputs == (t("z"),)
    assert ddl.inputs == ()


def test_unparseable_sql_names_the_dialect_and_the_position() -> None:
    with pytest.raises(SqlLineageError) as caught:
        extract_sql_lineage("SELECT (a FROM t", dialect="postgres")
    message = str(caught.value)
    assert message.startswith(
        "Could not parse SQL as dialect 'postgres': Expecting ) at line 1, column 14 near 'FROM'."
    )
    assert "Check that the query is valid SQL" in message
    assert "\x1b" not in message  # no terminal colour codes from sqlglot


def test_unknown_dialect_is_a_sql_lineage_error() -> None:
    with pytest.raises(
        SqlLineageError, match=r"Unknown SQL dialect 'nosuchdb'.*dialect_for_platform"
    ):
        extract_sql_lineage("SELECT 1", dialect="nosuchdb")


def test_schema_keys_of_different_depth_need_defaults() -> None:
    schema = {"db.s.a": {"x": "int"}, "b": {"y": "int"}}
    with pytest.raises(
        SqlLineageError, match=r"Schema key 'b' has 1 name parts but other keys have 3"
    ):
        extract_sql_lineage("SELECT x FROM a", schema=schema)
    lineage = extract_sql_lineage(
        "SELECT y FROM b", schema=schema, default_database="db", default_schema="s"
    )
    assert columns(lineage) == {"y": ((c("db.s.b", "y"),), IDENTITY)}


def test_second_call_is_served_from_the_cache() -> None:
    cache_clear()
    sql = "SELECT a FROM cached_table"
    first = extract_sql_lineage(sql, dialect="duckdb", schema={"cached_table": {"a": "int"}})
    assert cache_info().misses == 1
    assert cache_info().hits == 0
    second = extract_sql_lineage(sql, dialect="duckdb", schema={"cached_table": {"a": "int"}})
    assert second is first
    assert cache_info().hits == 1
    extract_sql_lineage(sql, dialect="postgres")
    assert cache_info().misses == 2
    assert cache_info().currsize == 2


def test_parse_errors_are_not_cached_as_results() -> None:
    cache_clear()
    for _ in range(2):
        with pytest.raises(SqlLineageError):
            extract_sql_lineage("SELEC x FROM", dialect="duckdb")
    assert cache_info().currsize == 0


@pytest.mark.parametrize(
    ("platform", "dialect"),
    [
        ("snowflake", "snowflake"),
        ("postgres", "postgres"),
        ("PostgreSQL", "postgres"),
        ("duckdb", "duckdb"),
        ("bigquery", "bigquery"),
        ("redshift", "redshift"),
        ("mysql", "mysql"),
        ("databricks", "databricks"),
        ("trino", "trino"),
        ("athena", "athena"),
        ("mssql", "tsql"),
        ("sqlserver", "tsql"),
        ("oracle", "oracle"),
        ("sqlite", "sqlite"),
        ("hive", "hive"),
        ("spark", "spark"),
        ("clickhouse", "clickhouse"),
        ("s3", None),
        ("dagster", None),
    ],
)
def test_dialect_for_platform(platform: str, dialect: str | None) -> None:
    assert dialect_for_platform(platform) == dialect
    if dialect is not None:  # every mapped dialect is one sqlglot knows
        assert extract_sql_lineage("SELECT 1 AS one", dialect=dialect).dialect == dialect
