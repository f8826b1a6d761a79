"""Files DuckDB SQL reads directly are datasets: table functions (``read_parquet``,
``read_csv`` ...) with a location or a list of them, and quoted paths as table names. The
SQL reports their locations as written; the translator names them as any path or URI."""

from __future__ import annotations

import pytest

from ol_bridge.dagster import OpenLineageTranslator
from ol_bridge.naming import DatasetId, NamingConfig
from ol_bridge.sql import ColumnRef, TableRef, extract_sql_lineage


def _file(location: str) -> TableRef:
    return TableRef(None, None, location, (location,))


@pytest.mark.parametrize(
    ("source", "locations"),
    [
        (
            "read_parquet('s3://landing/orders/2024-01-01.parquet')",
            ["s3://landing/orders/2024-01-01.parquet"],
        ),
        ("parquet_scan('/data/x.parquet')", ["/data/x.parquet"]),
        ("read_csv('/data/a.csv', header = true)", ["/data/a.csv"]),
        ("read_csv_auto('gs://b/a.csv')", ["gs://b/a.csv"]),
        ("read_json('/d/a.json')", ["/d/a.json"]),
        ("read_json_auto('/d/a.json')", ["/d/a.json"]),
        ("read_ndjson('/d/a.ndjson')", ["/d/a.ndjson"]),
        ("delta_scan('s3://lake/orders')", ["s3://lake/orders"]),
        ("iceberg_scan('s3://lake/events')", ["s3://lake/events"]),
        (
            "read_parquet(['s3://b/a.parquet', 's3://b/b.parquet'])",
            ["s3://b/a.parquet", "s3://b/b.parquet"],
        ),
        ("'/data/landing/events/*.csv'", ["/data/landing/events/*.csv"]),
        ('"s3://b/k.parquet"', ["s3://b/k.parquet"]),
        ("'events.csv.gz'", ["events.csv.gz"]),
    ],
)
def test_file_reads_are_path_inputs(source: str, locations: list[str]) -> None:
    sql = f"create or replace table raw as select * from {source}"
    lineage = extract_sql_lineage(
        sql, dialect="duckdb", default_database="wh", default_schema="main"
    )
    assert lineage.inputs == tuple(sorted(map(_file, locations), key=TableRef.sort_key))
    assert lineage.outputs == (TableRef("wh", "main", "raw"),)


def test_file_columns_and_list_reads_name_each_file() -> None:
    sql = (
        "insert into t select e.kind, count(*) as n"
        " from read_csv(['/d/a.csv', '/d/b.csv']) e join dims d on d.id = e.id group by e.kind"
    )
    lineage = extract_sql_lineage(sql, dialect="duckdb", default_schema="main")
    a, b = _file("/d/a.csv"), _file("/d/b.csv")
    assert lineage.inputs == (a, b, TableRef(None, "main", "dims"))
    [kind] = [entry for entry in lineage.column_lineage if entry.output_column == "kind"]
    assert kind.inputs == (ColumnRef(a, "kind"), ColumnRef(b, "kind"))
    assert kind.description == "e.kind"


def test_quoted_paths_are_files_only_in_duckdb_and_other_table_functions_are_not() -> None:
    postgres = extract_sql_lineage('select * from "dir/name"', dialect="postgres")
    assert postgres.inputs == (TableRef(None, None, "dir/name"),)
    series = extract_sql_lineage("select * from range(10)", dialect="duckdb")
    assert series.inputs == ()
    table = extract_sql_lineage('select * from "Orders"', dialect="duckdb")
    assert table.inputs == (TableRef(None, None, "orders"),)  # DuckDB folds even quoted names


@pytest.mark.parametrize(
    ("location", "dataset"),
    [
        ("s3://landing/orders/2024-01-01.parquet", ("s3://landing", "orders/2024-01-01.parquet")),
        ("s3a://landing/orders/x.parquet", ("s3://landing", "orders/x.parquet")),
        ("/data/landing/events/*.csv", ("file", "/data/landing/events")),
        ("/data/**/*.parquet", ("file", "/data")),
        ("s3://b/orders/2024-*/part.parquet", ("s3://b", "orders")),
        ("s3://b/*.parquet", ("s3://b", "/")),
        ("gcs://b/p/[ab].csv", ("gs://b", "p")),
        ("file:///tmp/a/*.csv", ("file", "/tmp/a")),
        ("https://host/x.csv?token=secret", ("https://host", "x.csv")),
        ("events/*.csv", ("file", "events")),
        ("*.csv", ("file", ".")),
    ],
)
def test_the_translator_names_files_as_paths_and_globs_by_their_directory(
    location: str, dataset: tuple[str, str]
) -> None:
    translator = OpenLineageTranslator(naming=NamingConfig())
    assert translator.get_file_dataset(location) == DatasetId(*dataset)


def test_a_file_read_whose_location_is_not_written_is_reported() -> None:
    sql = "insert into t select * from read_parquet(?) union all select * from read_csv('/d/a.csv')"
    lineage = extract_sql_lineage(sql, dialect="duckdb")
    assert lineage.inputs == (_file("/d/a.csv"),)
    assert lineage.unnamed_file_reads == ("READ_PARQUET(?)",)
    assert extract_sql_lineage("select * from range(3)", dialect="duckdb").unnamed_file_reads == ()
