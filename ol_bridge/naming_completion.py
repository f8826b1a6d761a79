"""Partly qualified table names -> the one full name of their table. Pure.

Routes name one table differently: ``dagster/table_name`` ``main.report`` on one asset,
``shop.main.orders`` on another, SQL that reads ``main.orders`` or just ``report``. These
rules give such a name the leading parts it lacks:

* :func:`complete_table_name`: the leading parts that fully qualified names (the
  connection's database, the step's other tables) all agree on.
* :func:`match_declared_upstream`: a table parsed from SQL named as the one declared
  upstream asset whose name it ends like.
* :func:`complete_with_defaults`: the connection's default database and the platform's
  default schema (:func:`parse_connection`: ``postgres://host:5432/shop`` is the
  namespace ``postgres://host:5432`` whose partial names are in ``shop.public``).
* :func:`duckdb_catalog_name`: DuckDB calls a database after its file
  (``/x/warehouse.duckdb`` -> ``warehouse``), which is how a DuckDB connection names the
  database its partial names belong to (:func:`duckdb_connection_database`).

:class:`ol_bridge.naming.NamingConfig` applies them with the configured connections;
``ol_bridge.dagster.lineage`` with the step's own names. ``docs/naming.md``, *Partly
qualified table names*, has the rules for users.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

import attrs

from ol_bridge.errors import ConfigError
from ol_bridge.platforms import lookup, scheme_platform

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


def complete_with_defaults(name: str, levels: int, defaults: Sequence[str]) -> str:
    """``name`` with the leading parts it lacks taken from ``defaults`` (a connection's
    database, then its schema): ``public.orders`` with ``("shop", "public")`` is
    ``shop.public.orders``; unchanged when ``defaults`` are too few to make it whole."""
    parts = name.split(".")
    missing = levels - len(parts)
    # a name with a slash is a path no table name of the platform could be read from
    # (table_name_from_path): completing it would invent a table
    if missing <= 0 or missing > len(defaults) or not all(parts) or "/" in name:
        return name
    return ".".join([*defaults[:missing], *parts])


def table_name_from_path(path: str, levels: int) -> str | None:
    """The table name a table URI's path names (``postgres://host:5432/sales/public.orders``,
    a ``dagster/uri``): its segments are the leading parts of the name, and a segment may
    hold several (``/sales/public.orders`` and ``/sales/public/orders`` are both
    ``sales.public.orders``). None when that is no name of a platform whose names have
    ``levels`` parts (more parts, or an empty one): such a path is not read as a name."""
    segments = [unquote(segment) for segment in path.strip("/").split("/")]
    name = ".".join(segments)
    parts = name.split(".")
    if len(parts) > levels or not all(parts):
        return None
    return name


@attrs.frozen
class Connection:
    """A platform's configured connection (``NamingConfig.connections``), read."""

    #: the OpenLineage namespace of its tables (``postgres://host:5432``)
    namespace: str
    #: what a partial table name on it lacks, outermost first: its default database
    #: (``shop``), then the default schema (``public``); empty when the user gave none
    defaults: tuple[str, ...] = ()


@functools.lru_cache(maxsize=256)
def parse_connection(platform: str, connection: str) -> Connection:
    """A connection as configured -> its namespace and default database/schema.

    A table platform whose names have two or three parts takes the database its partial
    names are in as the URL's path, and may add the schema, as SQLAlchemy and JDBC URLs
    do: ``postgres://host:5432/shop`` (schema: the platform's default, ``public``),
    ``postgres://host:5432/shop/analytics``, ``mysql://host:3306/shop``; SQL Server's
    JDBC form names it as a property (``jdbc:sqlserver://host:1433;databaseName=shop``).
    The namespace keeps ``scheme://host:port``, as OpenLineage names the server: a user
    name, the query (``?sslmode=require``) and other properties are connection options,
    not part of which server it is, and are dropped; ``jdbc:`` and a SQLAlchemy driver
    (``postgresql+psycopg2``) are dropped from the scheme, and a spelling DataHub would
    file under another platform (``postgresql``) becomes the platform's scheme. A DuckDB
    connection is its database file (``duckdb:///data/shop.duckdb`` -> database ``shop``,
    schema ``main``) and stays the whole namespace. Other connections are namespaces as
    written.

    Raises:
        ConfigError: a password, a fragment, an invalid port, more path parts than the
            names have, or a default database or schema with a dot. The message never
            repeats a password or a query's values.
    """
    found = lookup(platform)
    if found is None or found.kind != "table" or found.levels < 2 or "://" not in connection:
        return Connection(connection)
    if found.id == "duckdb":
        database = duckdb_connection_database(connection)
        return Connection(connection, (database, "main") if database else ())
    url, properties = _split_properties(connection.removeprefix("jdbc:"))
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]  # SQLAlchemy's dialect+driver
    shown = f"connections[{platform!r}] = '{parts.scheme}://{parts.hostname or ''}...'"
    example = f"'{scheme}://{parts.hostname or 'host'}{_port_example(found.id)}/database'"
    _refuse_secrets(parts, properties, shown, example)
    try:
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError as error:
        raise ConfigError(f"{shown} has an invalid port: {error}; e.g. {example}.") from error
    segments = tuple(unquote(segment) for segment in parts.path.split("/") if segment)
    database = _property(properties, "databasename", "database")
    if database is not None:
        if segments:
            raise ConfigError(
                f"{shown} names its database twice, in its path and as a ;databaseName="
                f" property: keep one, e.g. {example}."
            )
        segments = (database,)
    if len(segments) > found.levels - 1:
        wanted = "/database/schema" if found.levels == 3 else "/database"
        raise ConfigError(
            f"{shown} has {len(segments)} path parts ({parts.path!r}); a {found.id}"
            f" connection's path is its default {wanted[1:]}: e.g. {example}."
        )
    for segment in segments:
        if "." in segment:
            # Table names are split at dots: `sh.op` would make `sh.op.public.orders` a
            # four-part name, read as database `sh`.
            raise ConfigError(
                f"{shown} names the default database or schema {segment!r}, which has a dot:"
                " a table name's parts are split at dots, so it cannot complete names."
                f" Leave the path out and name such tables in full, e.g. {example}."
            )
    defaults = segments
    if found.levels == 3 and len(segments) == 1 and found.default_schema:
        defaults = (*segments, found.default_schema)
    return Connection(server_namespace(found.id, scheme, parts.netloc), defaults)


#: Keys of a query or JDBC property that hold a secret (compared in lower case).
_SECRET_KEYS = ("password", "passwd", "pwd", "secret", "token")


def _split_properties(connection: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``sqlserver://host:1433;databaseName=shop;encrypt=true`` -> the URL before the
    first ``;`` and the properties as (lower-cased key, value) pairs, as SQL Server's JDBC
    URLs write them; a URL without them is returned as it is."""
    scheme, sep, rest = connection.partition("://")
    end = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    cut = rest.find(";", 0, end)
    if not sep or cut < 0:
        return connection, ()
    pairs = (item.partition("=") for item in rest[cut + 1 : end].split(";") if item)
    properties = tuple((key.strip().lower(), value.strip()) for key, _, value in pairs)
    return f"{scheme}://{rest[:cut]}{rest[end:]}", properties


def _property(properties: Sequence[tuple[str, str]], *keys: str) -> str | None:
    return next((value for key, value in properties if key in keys and value), None)


def _refuse_secrets(
    parts: SplitResult, properties: Sequence[tuple[str, str]], shown: str, example: str
) -> None:
    """A connection only names the server in lineage; one that carries a password is
    refused, naming where it is but never repeating it (the error is logged)."""
    if parts.password is not None:
        raise ConfigError(
            f"{shown} has a password (user:password@). A connection here only names the"
            f" server in lineage: write it without credentials, e.g. {example}."
        )
    keys = [key for key, _ in [*parse_qsl(parts.query, keep_blank_values=True), *properties]]
    secret = sorted({key for key in keys if any(word in key.lower() for word in _SECRET_KEYS)})
    if secret:
        raise ConfigError(
            f"{shown} has a secret in its query or properties (keys {secret}). A connection"
            f" here only names the server in lineage: leave them out, e.g. {example}."
        )
    if parts.fragment:
        raise ConfigError(
            f"{shown} has a fragment ('#...'), which names no server or database; leave it"
            f" out, e.g. {example}."
        )


def server_namespace(platform: str, scheme: str, netloc: str) -> str:
    """The OpenLineage namespace of a table platform's server: ``scheme://host:port``,
    without a user name (the namespace names the server; events never carry userinfo).

    The scheme stays as written when DataHub's converter files it under the platform
    (``sqlserver`` and ``mssql`` both land on ``mssql``); one of the platform's other
    spellings becomes its own scheme (``postgresql`` -> ``postgres``: DataHub would file
    ``postgresql://`` under a platform ``postgresql``). Another platform's scheme is kept,
    for :class:`ol_bridge.naming.NamingConfig` to refuse.
    """
    found = lookup(platform)
    server = netloc.rpartition("@")[2]
    if found is None or scheme_platform(scheme) == found.id or lookup(scheme) != found:
        return f"{scheme}://{server}"
    return f"{found.namespace_scheme}://{server}"


def _port_example(platform: str) -> str:
    ports = {"postgres": 5432, "redshift": 5439, "mysql": 3306, "mssql": 1433, "trino": 8080}
    return f":{ports[platform]}" if platform in ports else ""


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
