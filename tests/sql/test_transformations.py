"""Column lineage transformation types parsed from SQL (OpenLineage ColumnLineageDatasetFacet
1-2-0): each edge's DIRECT subtype and masking, per-column INDIRECT inputs, and the columns
that join, filter, group or sort the whole output; in DuckDB, Snowflake, Postgres and
BigQuery SQL, through CTEs, subqueries, unions and MERGE."""

from __future__ import annotations

import pytest

from ol_bridge.sql import (
    AGGREGATION,
    CONDITIONAL,
    DIRECT,
    FILTER,
    GROUP_BY,
    IDENTITY,
    INDIRECT,
    JOIN,
    SORT,
    TRANSFORMATION,
    WINDOW,
    SqlLineage,
    Transformation,
    extract_sql_lineage,
)

Edges = dict[str, dict[tuple[str, str], tuple[Transformation, ...]]]


def edges(lineage: SqlLineage) -> Edges:
    """output column -> (input table name, input column) -> transformations."""
    return {
        entry.output_column: {
            (edge.column.table.name, edge.column.column): edge.transformations
            for edge in entry.edges
        }
        for entry in lineage.column_lineage
    }


def d(subtype: str, masking: bool = False) -> Transformation:
    return Transformation(DIRECT, subtype, masking)


def i(subtype: str) -> Transformation:
    return Transformation(INDIRECT, subtype)


def dataset_level(lineage: SqlLineage) -> set[tuple[str, str, str]]:
    return {(x.column.table.name, x.column.column, x.subtype) for x in lineage.indirect_inputs}


# The reviewer's three columns, in each dialect's spelling.
CUSTOMER_VALUE = {
    "duckdb": """
        SELECT c.id, SUM(p.amount) AS lifetime_value, COUNT(DISTINCT p.order_id) AS orders,
               p.amount / 100.0 AS dollars
        FROM customers c JOIN payments p ON p.customer_id = c.id GROUP BY c.id, p.amount""",
    "snowflake": """
        SELECT c.id, SUM(p.amount) AS lifetime_value, COUNT(DISTINCT p.order_id) AS orders,
               p.amount / 100.0 AS dollars
        FROM customers c JOIN payments p ON p.customer_id = c.id GROUP BY c.id, p.amount""",
    "postgres": """
        SELECT c.id, SUM(p.amount) AS lifetime_value, COUNT(DISTINCT p.order_id) AS orders,
               p.amount::numeric / 100.0 AS dollars
        FROM customers c JOIN payments p USING (customer_id) GROUP BY c.id, p.amount""",
    "bigquery": """
        SELECT c.id, SUM(p.amount) AS lifetime_value, COUNT(DISTINCT p.order_id) AS orders,
               SAFE_DIVIDE(p.amount, 100.0) AS dollars
        FROM `proj.shop.customers` c JOIN `proj.shop.payments` p ON p.customer_id = c.id
        GROUP BY 1, p.amount""",
}


@pytest.mark.parametrize("dialect", sorted(CUSTOMER_VALUE))
def test_identity_aggregation_and_transformation_in_every_dialect(dialect: str) -> None:
    found = edges(extract_sql_lineage(CUSTOMER_VALUE[dialect], dialect=dialect))
    found = {column.lower(): {k: v for k, v in e.items()} for column, e in found.items()}
    low = {
        column: {(t.lower(), c.lower()): v for (t, c), v in inputs.items()}
        for column, inputs in found.items()
    }
    assert low == {
        "id": {("customers", "id"): (d(IDENTITY),)},
        "lifetime_value": {("payments", "amount"): (d(AGGREGATION),)},
        # a count shows nothing of the values counted: masking, as OpenLineage's Spark says
        "orders": {("payments", "order_id"): (d(AGGREGATION, masking=True),)},
        "dollars": {("payments", "amount"): (d(TRANSFORMATION),)},
    }


def test_entry_summary_is_the_strongest_direct_subtype() -> None:
    lineage = extract_sql_lineage(CUSTOMER_VALUE["duckdb"], dialect="duckdb")
    summary = {e.output_column: e.transformation for e in lineage.column_lineage}
    assert summary == {
        "id": IDENTITY,
        "lifetime_value": AGGREGATION,
        "orders": AGGREGATION,
        "dollars": TRANSFORMATION,
    }


def test_each_edge_has_its_own_subtype_within_one_expression() -> None:
    sql = "SELECT a.x + SUM(b.y) AS mix, a.x AS x FROM a JOIN b ON a.k = b.k GROUP BY a.x"
    assert edges(extract_sql_lineage(sql, dialect="duckdb")) == {
        "mix": {("a", "x"): (d(TRANSFORMATION),), ("b", "y"): (d(AGGREGATION),)},
        "x": {("a", "x"): (d(IDENTITY),)},
    }


def test_identity_through_ctes_and_subqueries_that_pass_the_column_through() -> None:
    sql = """
        CREATE TABLE marts.out AS
        WITH base AS (SELECT id, name FROM raw.customers),
             renamed AS (SELECT b.id AS customer_id, b.name FROM base b)
        SELECT s.customer_id, s.name FROM (SELECT * FROM renamed) AS s
    """
    assert edges(extract_sql_lineage(sql, dialect="postgres")) == {
        "customer_id": {("customers", "id"): (d(IDENTITY),)},
        "name": {("customers", "name"): (d(IDENTITY),)},
    }


def test_strongest_step_of_a_chain_wins() -> None:
    sql = """
        WITH cents AS (SELECT customer_id, amount / 100.0 AS amount FROM payments),
             totals AS (SELECT customer_id, SUM(amount) AS total FROM cents GROUP BY 1)
        SELECT customer_id, total, ROUND(total, 2) AS rounded FROM totals
    """
    assert edges(extract_sql_lineage(sql, dialect="duckdb")) == {
        "customer_id": {("payments", "customer_id"): (d(IDENTITY),)},
        "total": {("payments", "amount"): (d(AGGREGATION),)},
        "rounded": {("payments", "amount"): (d(AGGREGATION),)},
    }


@pytest.mark.parametrize(
    ("dialect", "expression"),
    [
        ("duckdb", "md5(email)"),
        ("duckdb", "sha256(email)"),
        ("duckdb", "hash(email)"),
        ("postgres", "md5(email)"),
        ("postgres", "encode(sha256(email::bytea), 'hex')"),
        ("snowflake", "sha2(email, 256)"),
        ("snowflake", "md5_hex(email)"),
        ("snowflake", "hash(email)"),
        ("bigquery", "to_hex(md5(email))"),
        ("bigquery", "farm_fingerprint(email)"),
        ("bigquery", "to_hex(sha256(email))"),
    ],
)
def test_hashes_mask_the_value(dialect: str, expression: str) -> None:
    sql = f"SELECT {expression} AS email_key FROM customers"
    [entry] = extract_sql_lineage(sql, dialect=dialect).column_lineage
    [edge] = entry.edges
    assert edge.transformations == (d(TRANSFORMATION, masking=True),)


def test_masking_survives_a_cte_and_needs_every_path_to_mask() -> None:
    sql = """
        WITH hashed AS (SELECT md5(email) AS email_key, email FROM customers)
        SELECT email_key, email_key || email AS both_ways, upper(email_key) AS shouted
        FROM hashed
    """
    assert edges(extract_sql_lineage(sql, dialect="duckdb")) == {
        "email_key": {("customers", "email"): (d(TRANSFORMATION, masking=True),)},
        # the plain email is in the value too: not masked
        "both_ways": {("customers", "email"): (d(TRANSFORMATION),)},
        "shouted": {("customers", "email"): (d(TRANSFORMATION, masking=True),)},
    }


def test_conditional_inputs_of_case_if_and_coalesce() -> None:
    sql = """
        SELECT CASE WHEN o.status = 'paid' THEN o.amount ELSE 0 END AS paid,
               CASE o.kind WHEN 'a' THEN 'A' ELSE 'other' END AS kind_label,
               COALESCE(o.nickname, o.name) AS display,
               NULLIF(o.amount, o.refunded) AS net
        FROM orders o
    """
    assert edges(extract_sql_lineage(sql, dialect="postgres")) == {
        "paid": {
            ("orders", "status"): (i(CONDITIONAL),),
            ("orders", "amount"): (d(TRANSFORMATION),),
        },
        "kind_label": {("orders", "kind"): (i(CONDITIONAL),)},
        "display": {
            ("orders", "name"): (d(TRANSFORMATION), i(CONDITIONAL)),
            ("orders", "nickname"): (d(TRANSFORMATION), i(CONDITIONAL)),
        },
        "net": {
            ("orders", "amount"): (d(TRANSFORMATION),),
            ("orders", "refunded"): (i(CONDITIONAL),),
        },
    }


@pytest.mark.parametrize(
    ("dialect", "expression"),
    [("snowflake", "IFF(flag, amount, 0)"), ("bigquery", "IF(flag, amount, 0)")],
)
def test_if_functions_are_conditional(dialect: str, expression: str) -> None:
    sql = f"SELECT {expression} AS v FROM t"
    [entry] = extract_sql_lineage(sql, dialect=dialect).column_lineage
    found = {edge.column.column.lower(): edge.transformations for edge in entry.edges}
    assert found == {"flag": (i(CONDITIONAL),), "amount": (d(TRANSFORMATION),)}


def test_a_condition_inside_an_aggregate_stays_indirect() -> None:
    sql = "SELECT SUM(CASE WHEN kind = 'refund' THEN -amount ELSE amount END) AS net FROM p"
    assert edges(extract_sql_lineage(sql, dialect="duckdb")) == {
        "net": {("p", "amount"): (d(AGGREGATION),), ("p", "kind"): (i(CONDITIONAL),)}
    }


def test_window_functions() -> None:
    sql = """
        SELECT ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY ts) AS rn,
               SUM(amount) OVER (PARTITION BY customer_id) AS running,
               LAG(amount) OVER (ORDER BY ts) AS previous
        FROM payments
    """
    assert edges(extract_sql_lineage(sql, dialect="snowflake")) == {
        "RN": {("PAYMENTS", "CUSTOMER_ID"): (i(WINDOW),), ("PAYMENTS", "TS"): (i(WINDOW),)},
        "RUNNING": {
            ("PAYMENTS", "AMOUNT"): (d(AGGREGATION),),
            ("PAYMENTS", "CUSTOMER_ID"): (i(WINDOW),),
        },
        # another row's value, unchanged: not an aggregate
        "PREVIOUS": {
            ("PAYMENTS", "AMOUNT"): (d(TRANSFORMATION),),
            ("PAYMENTS", "TS"): (i(WINDOW),),
        },
    }


def test_filter_and_order_inside_an_aggregate() -> None:
    sql = """
        SELECT COUNT(*) FILTER (WHERE status = 'open') AS open_orders,
               STRING_AGG(name, ',' ORDER BY ts) AS names,
               PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY amount) AS median
        FROM orders
    """
    assert edges(extract_sql_lineage(sql, dialect="postgres")) == {
        "open_orders": {("orders", "status"): (i(FILTER),)},
        "names": {("orders", "name"): (d(AGGREGATION),), ("orders", "ts"): (i(SORT),)},
        "median": {("orders", "amount"): (d(AGGREGATION),)},
    }


def test_a_scalar_subquery_is_never_identity() -> None:
    sql = """
        SELECT o.id, (SELECT c.name FROM customers c WHERE c.id = o.customer_id) AS name,
               (SELECT MAX(p.amount) FROM payments p WHERE p.order_id = o.id) AS top
        FROM orders o
    """
    found = edges(extract_sql_lineage(sql, dialect="duckdb"))
    assert found["name"] == {("customers", "name"): (d(TRANSFORMATION),)}
    assert found["top"] == {("payments", "amount"): (d(AGGREGATION),)}


def test_union_branches_combine() -> None:
    sql = "SELECT a AS v FROM t1 UNION ALL SELECT b * 2 FROM t2 UNION ALL SELECT md5(c) FROM t3"
    assert edges(extract_sql_lineage(sql, dialect="duckdb")) == {
        "v": {
            ("t1", "a"): (d(IDENTITY),),
            ("t2", "b"): (d(TRANSFORMATION),),
            ("t3", "c"): (d(TRANSFORMATION, masking=True),),
        }
    }


def test_dataset_level_indirect_inputs() -> None:
    sql = """
        SELECT c.region, SUM(o.amount) AS revenue
        FROM orders o JOIN customers c ON c.id = o.customer_id
        WHERE o.status = 'done'
        GROUP BY c.region
        HAVING COUNT(*) > 2
        QUALIFY ROW_NUMBER() OVER (ORDER BY SUM(o.amount) DESC) <= 10
        ORDER BY c.region
    """
    lineage = extract_sql_lineage(sql, dialect="snowflake")
    assert dataset_level(lineage) == {
        ("CUSTOMERS", "ID", JOIN),
        ("ORDERS", "CUSTOMER_ID", JOIN),
        ("ORDERS", "STATUS", FILTER),
        ("ORDERS", "AMOUNT", FILTER),  # through QUALIFY
        ("CUSTOMERS", "REGION", GROUP_BY),
        ("CUSTOMERS", "REGION", SORT),
    }
    assert all(x.transformation_type == INDIRECT for x in lineage.indirect_inputs)


def test_merge_combines_the_edges_of_both_branches() -> None:
    sql = """
        MERGE INTO tgt t USING src s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET t.total = t.total + s.amount
        WHEN NOT MATCHED THEN INSERT (id, total) VALUES (s.id, s.amount)
    """
    found = edges(extract_sql_lineage(sql, dialect="snowflake"))
    assert found["TOTAL"] == {
        ("SRC", "AMOUNT"): (d(TRANSFORMATION),),  # transformed in one branch, copied in other
        ("TGT", "TOTAL"): (d(TRANSFORMATION),),
    }
    assert found["ID"] == {("SRC", "ID"): (d(IDENTITY),)}
