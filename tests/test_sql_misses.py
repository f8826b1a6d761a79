"""Issue 13's list of SQL-lineage misses, one test each, with real sqlglot."""

from __future__ import annotations

from ol_bridge.sql import SqlLineage, TableRef, extract_sql_lineage
from tests.test_sql import c, t


def edges(lineage: SqlLineage) -> dict[str, set[tuple[str, str]]]:
    """Output column -> {(input table, input column)}."""
    return {
        entry.output_column: {(ref.table.qualified_name, ref.column) for ref in entry.inputs}
        for entry in lineage.column_lineage
    }


def test_use_sets_the_default_database_and_schema_of_later_statements() -> None:
    sql = "USE analytics.marts; CREATE TABLE summary AS SELECT id FROM orders"
    lineage = extract_sql_lineage(sql, dialect="snowflake", default_database="OTHER")
    assert lineage.inputs == (t("ANALYTICS.MARTS.ORDERS"),)
    assert lineage.outputs == (t("ANALYTICS.MARTS.SUMMARY"),)
    # One name after USE: a schema on two-level platforms, a database on Snowflake.
    mysql = extract_sql_lineage("USE shop; INSERT INTO t SELECT a FROM s", dialect="mysql")
    assert (mysql.inputs, mysql.outputs) == ((t("shop.s"),), (t("shop.t"),))
    schema_only = extract_sql_lineage(
        "USE SCHEMA raw; SELECT a FROM s", dialect="snowflake", default_database="WH"
    )
    assert schema_only.inputs == (t("WH.RAW.S"),)
    # Statements before USE keep the defaults given by the caller.
    before = extract_sql_lineage("SELECT a FROM s; USE other; SELECT b FROM u", dialect="mysql")
    assert before.inputs == (t("s"), t("other.u"))


def test_ddl_without_a_query_names_the_tables_it_reads_and_writes() -> None:
    drop = extract_sql_lineage("DROP TABLE s.t", dialect="postgres", default_database="db")
    assert (drop.inputs, drop.outputs) == ((), (t("db.s.t"),))
    rename = extract_sql_lineage("ALTER TABLE s.a RENAME TO b", dialect="postgres")
    assert (rename.inputs, rename.outputs) == ((t("s.a"),), (t("s.b"),))
    like = extract_sql_lineage("CREATE TABLE new LIKE original", dialect="mysql")
    assert (like.inputs, like.outputs) == ((t("original"),), (t("new"),))
    clone = extract_sql_lineage("CREATE TABLE a CLONE b", dialect="snowflake")
    assert (clone.inputs, clone.outputs) == ((t("B"),), (t("A"),))
    truncate = extract_sql_lineage("TRUNCATE TABLE s.t", dialect="postgres")
    assert (truncate.inputs, truncate.outputs) == ((), (t("s.t"),))
    altered = extract_sql_lineage("ALTER TABLE s.t ADD COLUMN x INT", dialect="postgres")
    assert (altered.inputs, altered.outputs) == ((), (t("s.t"),))
    # Objects that are not tables are no lineage.
    assert extract_sql_lineage("DROP SCHEMA s", dialect="postgres").outputs == ()


def test_update_gives_column_lineage_and_reads_its_target() -> None:
    sql = """
        UPDATE t SET c1 = s.a || s.b, c2 = u.x
        FROM s JOIN u ON s.id = u.id
        WHERE t.id = s.id
    """
    lineage = extract_sql_lineage(sql, dialect="postgres", default_schema="public")
    assert lineage.inputs == (t("public.s"), t("public.t"), t("public.u"))
    assert lineage.outputs == (t("public.t"),)
    assert edges(lineage) == {
        "c1": {("public.s", "a"), ("public.s", "b")},
        "c2": {("public.u", "x")},
    }
    assert {e.output_table for e in lineage.column_lineage} == {t("public.t")}
    subselect = extract_sql_lineage(
        "UPDATE t SET c = (SELECT name FROM e WHERE e.id = t.emp_id)", dialect="postgres"
    )
    assert subselect.inputs == (t("e"), t("t"))
    assert edges(subselect) == {"c": {("e", "name")}}
    own = extract_sql_lineage("UPDATE t SET n = n + 1", dialect="postgres")
    assert edges(own) == {"n": {("t", "n")}}


def test_update_from_a_cte_reads_the_cte_s_tables() -> None:
    sql = """
        WITH latest AS (SELECT id, v FROM raw.events)
        UPDATE t SET v = latest.v FROM latest WHERE t.id = latest.id
    """
    lineage = extract_sql_lineage(sql, dialect="postgres")
    assert lineage.inputs == (t("t"), t("raw.events"))
    assert edges(lineage) == {"v": {("raw.events", "v")}}


def test_update_of_an_alias_names_the_aliased_table() -> None:
    # SQL Server: UPDATE x ... FROM real_table AS x.
    sql = "UPDATE x SET x.v = y.v FROM dbo.target AS x JOIN dbo.src AS y ON x.id = y.id"
    lineage = extract_sql_lineage(sql, dialect="tsql")
    assert lineage.outputs == (t("dbo.target"),)
    assert edges(lineage) == {"v": {("dbo.src", "v")}}


def test_merge_reads_on_clause_subqueries_and_not_ctes_as_tables() -> None:
    sql = """
        MERGE INTO tgt USING (
            WITH recent AS (SELECT id, v FROM raw.events WHERE day > 1)
            SELECT id, v FROM recent
        ) AS src
        ON tgt.id = src.id AND src.id NOT IN (SELECT id FROM raw.blocked)
        WHEN MATCHED THEN UPDATE SET v = src.v
        WHEN NOT MATCHED THEN INSERT (id, v) VALUES (id, v)
    """
    lineage = extract_sql_lineage(sql, dialect="postgres")
    assert lineage.inputs == (t("raw.blocked"), t("raw.events"))
    assert lineage.outputs == (t("tgt"),)
    assert edges(lineage) == {"v": {("raw.events", "v")}, "id": {("raw.events", "id")}}


def test_insert_values_reads_tables_of_their_subqueries() -> None:
    lineage = extract_sql_lineage(
        "INSERT INTO stats (n) VALUES ((SELECT count(*) FROM orders))", dialect="postgres"
    )
    assert (lineage.inputs, lineage.outputs) == ((t("orders"),), (t("stats"),))


def test_select_into_is_qualified_with_the_default_database() -> None:
    sql = "SELECT age AS AGE, COUNT(*) AS Count INTO Foo.age_dist FROM Foo.Persons GROUP BY age"
    lineage = extract_sql_lineage(sql, dialect="tsql", default_database="NewData")
    assert lineage.outputs == (t("newdata.foo.age_dist"),)
    assert lineage.inputs == (t("newdata.foo.persons"),)


def test_unqualified_columns_of_a_later_cte_resolve_without_a_schema() -> None:
    sql = """
        WITH a AS (SELECT x, y FROM t1), b AS (SELECT z, w FROM t2)
        SELECT a.x, b.z FROM a JOIN b ON a.y = b.w
    """
    lineage = extract_sql_lineage(sql, dialect="oracle")
    assert edges(lineage) == {"X": {("T1", "X")}, "Z": {("T2", "Z")}}
    # An unqualified column of a join: the one source whose columns are known to have it.
    known = extract_sql_lineage(
        "WITH b AS (SELECT z FROM t2) SELECT z, q FROM t1 JOIN b ON t1.k = b.z", dialect="duckdb"
    )
    # b's columns are known (z only), so q can only be t1's.
    assert edges(known) == {"z": {("t2", "z")}, "q": {("t1", "q")}}


def test_lateral_subquery_columns_resolve() -> None:
    sql = """
        SELECT t1.id, t2.value
        FROM t1, LATERAL (SELECT value FROM t2 WHERE t2.id = t1.id LIMIT 1) AS t2
    """
    lineage = extract_sql_lineage(sql, dialect="postgres")
    assert edges(lineage) == {"id": {("t1", "id")}, "value": {("t2", "value")}}


def test_struct_subfields_keep_their_path() -> None:
    sql = "SELECT post_id, widget.asset.id, widget.metric.a + 1 AS m FROM d.t"
    schema = {"p.d.t": {"post_id": "INT64", "widget": "STRUCT<asset STRUCT<id INT64>>"}}
    for given in (schema, None):
        lineage = extract_sql_lineage(sql, dialect="bigquery", default_database="p", schema=given)
        assert edges(lineage) == {
            "post_id": {("p.d.t", "post_id")},
            "id": {("p.d.t", "widget.asset.id")},
            "m": {("p.d.t", "widget.metric.a")},
        }, given


def test_clickhouse_materialized_view_to_writes_the_target() -> None:
    sql = """
        CREATE MATERIALIZED VIEW analytics.mv TO analytics.daily (d Date, n UInt64)
        AS SELECT toDate(ts) AS d, count() AS n FROM analytics.events GROUP BY d
    """
    lineage = extract_sql_lineage(sql, dialect="clickhouse")
    assert lineage.outputs == (t("analytics.daily"),)
    assert lineage.inputs == (t("analytics.events"),)
    assert {e.output_table for e in lineage.column_lineage} == {t("analytics.daily")}
    assert edges(lineage)["d"] == {("analytics.events", "ts")}


def test_clickhouse_dictget_reads_the_dictionary() -> None:
    sql = """
        SELECT id, dictGet(db.plans, 'name', plan_id) AS plan,
               dictGetOrDefault('db.regions', 'label', region_id, '') AS region
        FROM analytics.users
    """
    lineage = extract_sql_lineage(sql, dialect="clickhouse")
    assert lineage.inputs == (t("analytics.users"), t("db.plans"), t("db.regions"))
    assert edges(lineage) == {
        "id": {("analytics.users", "id")},
        "plan": {("analytics.users", "plan_id"), ("db.plans", "name")},
        "region": {("analytics.users", "region_id"), ("db.regions", "label")},
    }


def test_snowflake_semantic_view_reads_its_table() -> None:
    sql = "SELECT region, revenue FROM SEMANTIC_VIEW(db.s.sales DIMENSIONS region METRICS revenue)"
    lineage = extract_sql_lineage(sql, dialect="snowflake")
    assert lineage.inputs == (t("DB.S.SALES"),)
    assert edges(lineage) == {
        "REGION": {("DB.S.SALES", "REGION")},
        "REVENUE": {("DB.S.SALES", "REVENUE")},
    }


def test_bigquery_ml_predict_reads_the_model_and_the_table() -> None:
    sql = "SELECT * FROM ML.PREDICT(MODEL `p.d.churn`, TABLE `p.d.customers`)"
    lineage = extract_sql_lineage(sql, dialect="bigquery")
    assert lineage.inputs == (t("p.d.churn"), t("p.d.customers"))
    subquery = extract_sql_lineage(
        "SELECT * FROM ML.PREDICT(MODEL `p.d.churn`, (SELECT a FROM p.d.recent))",
        dialect="bigquery",
    )
    assert subquery.inputs == (t("p.d.churn"), t("p.d.recent"))


def test_bigquery_partition_decorator_names_the_table() -> None:
    lineage = extract_sql_lineage(
        "SELECT a FROM `p.d.events$20240101`",
        dialect="bigquery",
        schema={"p.d.events": {"a": "INT64"}},
    )
    assert lineage.inputs == (t("p.d.events"),)
    assert edges(lineage) == {"a": {("p.d.events", "a")}}


def test_unaliased_expressions_are_named_as_the_database_shows_them() -> None:
    sql = "SELECT COUNT(x), x + 1, UPPER(y) FROM t"
    names = {
        dialect: [e.output_column for e in extract_sql_lineage(sql, dialect=dialect).column_lineage]
        for dialect in ("mysql", "postgres", "snowflake", "bigquery", "hive", "duckdb")
    }
    assert names == {
        "mysql": ["COUNT(x)", "x + 1", "UPPER(y)"],
        "postgres": ["count", "?column?", "upper"],
        "snowflake": ["COUNT(X)", "X + 1", "UPPER(Y)"],
        "bigquery": ["f0_", "f1_", "f2_"],
        "hive": ["_c0", "_c1", "_c2"],
        # As a real DuckDB names them (checked in the test below).
        "duckdb": ["count(x)", "(x + 1)", "upper(y)"],
    }
    assert not any("_col_" in name for columns in names.values() for name in columns)


def test_duckdb_names_unaliased_columns_as_we_do() -> None:
    import duckdb

    sql = "SELECT COUNT(x), x + 1, UPPER(y) FROM t GROUP BY x, y"
    connection = duckdb.connect()
    connection.execute("CREATE TABLE t (x INT, y VARCHAR)")
    shown = [column[0] for column in connection.execute(sql).description]
    ours = [e.output_column for e in extract_sql_lineage(sql, dialect="duckdb").column_lineage]
    assert ours == shown


def test_columns_the_schema_does_not_have_are_not_reported() -> None:
    sql = "SELECT GREATEST(col1, col2, not_a_column) AS m, ghost FROM mytable"
    lineage = extract_sql_lineage(
        sql, dialect="mysql", schema={"mytable": {"col1": "INT", "col2": "INT"}}
    )
    assert edges(lineage) == {"m": {("mytable", "col1"), ("mytable", "col2")}}
    # Case does not matter for the check: Snowflake folds, the schema may not.
    snow = extract_sql_lineage(
        'SELECT "TotalPrice", totalprice AS t2 FROM orders',
        dialect="snowflake",
        schema={"orders": {"TotalPrice": "FLOAT"}},
    )
    assert set(edges(snow)) == {"TotalPrice", "T2"}


def test_dagster_style_table_refs_are_plain_values() -> None:
    assert TableRef("db", "s", "t") == t("db.s.t")
    assert c("db.s.t", "x").column == "x"


def test_select_star_from_a_cte_expands_without_a_schema() -> None:
    sql = "CREATE TABLE o AS WITH c AS (SELECT a, b + 1 AS b FROM t) SELECT * FROM c"
    lineage = extract_sql_lineage(sql, dialect="duckdb")
    assert edges(lineage) == {"a": {("t", "a")}, "b": {("t", "b")}}
