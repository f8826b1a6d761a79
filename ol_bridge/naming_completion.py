"""Partly qualified table names -> the one full name of their table. Pure.

Routes name one table differently: ``dagster/table_name`` ``main.report`` on one asset,
``shop.main.orders`` on another, SQL that reads ``main.orders`` or just ``report``. These
rules give such a name the leading parts it lacks:

* :func:`complete_table_name`: the leading parts that fully qualified names (the
  connection's database, the step's other tables) all agree on.
* :func:`match_declared_upstream`: a table parsed from SQL named as the one declared
  upstream asset whose name it ends like.
* :func:`duckdb_catalog_name`: DuckDB calls a database after its file
  (``/x/warehouse.duckdb`` -> ``warehouse``), which is how a DuckDB connection names the
  database its partial names belong to (:func:`duckdb_connection_database`).

:class:`ol_bridge.naming.NamingConfig` applies them with the configured connections;
``ol_bridge.dagster.lineage`` with the step's own names. ``docs/naming.md``, *Partly
qualified table names*, has the rules for users.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ol_bridge.naming import DatasetId


def complete_table_name(name: str, levels: int, qualified: Iterable[str]) -> str:
    """``name`` with the leading parts it lacks (of a platform whose names have ``levels``
    parts), when the fully qualified names in ``qualified`` (the step's other tables, a
    connection's database) all agree on them; unchanged otherwise."""
    parts = name.split(".")
    missing = levels - len(parts)
    if missing <= 0 or not all(parts):
        return name
    prefixes = {
        tuple(other.split(".")[:missing]) for other in qualified if len(other.split(".")) == levels
    }
    if len(prefixes) != 1:
        return name
    return ".".join([*prefixes.pop(), *parts])


def match_declared_upstream(
    dataset: DatasetId, upstreams: Iterable[DatasetId], default_schema: str | None
) -> DatasetId:
    """A table parsed from SQL, named as the one declared upstream asset it is: the one
    whose name ends like its own (``schema.table``; ``table`` when the schema may be the
    default the parser filled in). No match, or several, leaves it as parsed."""
    known = [other for other in upstreams if other.namespace == dataset.namespace]
    if dataset in known:
        return dataset
    parts = dataset.name.split(".")
    for width in (2, 1):
        if len(parts) < width or (width == 1 and len(parts) > 1 and parts[-2] != default_schema):
            continue
        found = {other for other in known if other.name.split(".")[-width:] == parts[-width:]}
        if len(found) == 1:
            return found.pop()
        if found:
            return dataset
    return dataset


def duckdb_catalog_name(name: str) -> str:
    """``<database file>.<schema>.<table>`` -> ``<catalog>.<schema>.<table>``.

    Dagster's DuckDB IO managers record their ``database`` setting, a file path, as the
    first part of ``dagster/table_name``. DuckDB itself (and so dbt-duckdb) calls that
    database by the file name up to its first dot; ``:memory:`` is ``memory`` and a
    MotherDuck ``md:shop`` is ``shop``.
    """
    parts = name.rsplit(".", 2)
    if len(parts) < 3 or not any(mark in parts[0] for mark in ("/", "\\", ".", ":")):
        return name
    database = parts[0].replace("\\", "/").rsplit("/", 1)[-1]
    if database == ":memory:":
        database = "memory"
    database = database.split(":", 1)[-1].split(".", 1)[0] or "memory"
    return f"{database}.{parts[1]}.{parts[2]}"


def duckdb_connection_database(connection: str | None) -> str | None:
    """The catalog DuckDB names a connection's database file by
    (``duckdb:///data/shop.duckdb`` -> ``shop``); None without a file."""
    if connection is None or "://" not in connection:
        return None
    path = urlsplit(connection).path.rstrip("/")
    if not path:
        return None
    return duckdb_catalog_name(f"{path}.main.x").split(".", 1)[0] or None


def is_duckdb_file_table(table: str) -> bool:
    """Whether a ``dagster/table_name`` starts with a DuckDB database file
    (``/x/warehouse.duckdb.main.t``), as dagster-duckdb-polars records it."""
    database = table.rsplit(".", 2)[0] if table.count(".") >= 3 else ""
    return database.lower().endswith(".duckdb")
