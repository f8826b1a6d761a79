"""The one table of data platforms: ids, spellings, URI schemes, name shapes, SQL dialects.

Every part of ol-bridge that needs to know a platform reads it here: dataset naming
(:mod:`ol_bridge.naming`), the DataHub converter's URN rules
(:mod:`ol_bridge.datahub.dataset_urns`, :mod:`ol_bridge.datahub.job_urns`) and the SQL
dialect of a platform (:func:`ol_bridge.sql.dialect_for_platform`). Pure data and lookups.

Two kinds of alias are kept apart on purpose:

* ``converter_schemes``: the URI schemes DataHub's OpenLineage converter itself maps to the
  platform (``OpenLineagePlatformResolver.PLATFORM_MAP``, ``HdfsPathDataset``). URN rules
  use only these, so our converter keeps agreeing with DataHub's.
* ``spellings``: other names people write for the platform (``postgresql``, ``mariadb``).
  Naming folds them to the platform id, so ``datahub.inputs`` and asset keys written either
  way land on one DataHub platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import attrs

Kind = Literal["table", "object_store", "filesystem"]
NameCase = Literal["lower", "upper", "preserve"]


@attrs.frozen
class Platform:
    """One data platform, under its DataHub platform id."""

    id: str
    kind: Kind
    #: how many dot-separated parts a table name has (``db.schema.table`` = 3); tables only
    levels: int = 0
    #: the scheme OpenLineage's naming spec gives its namespaces, when it is not ``id``
    scheme: str | None = None
    #: schemes DataHub's OpenLineage converter maps to this platform: its renames of table
    #: schemes, and every scheme it reads as an object-store or file path
    converter_schemes: tuple[str, ...] = ()
    #: other names people write for the platform
    spellings: tuple[str, ...] = ()
    #: sqlglot dialect of its SQL
    dialect: str | None = None
    #: the case of table names: ``lower`` where unquoted identifiers are case-insensitive,
    #: so a key, a ``dagster/table_name``, an IO manager and parsed SQL give one name
    name_case: NameCase = "preserve"
    #: the namespace when no connection is configured (default: the platform id)
    default_namespace: str | None = None
    #: the schema a table name without one is in, for platforms whose names have three
    #: parts and where every database has it (DataHub's SQL parsing uses the same ones):
    #: a connection's default database completes ``orders`` with it
    default_schema: str | None = None

    @property
    def namespace_scheme(self) -> str:
        return self.scheme or self.id


_TABLES = (
    Platform("athena", "table", 3, scheme="awsathena", converter_schemes=("awsathena",),
             dialect="athena", name_case="lower"),
    Platform("bigquery", "table", 3, dialect="bigquery", default_namespace="bigquery"),
    Platform("clickhouse", "table", 2, dialect="clickhouse"),
    Platform("databricks", "table", 3, dialect="databricks", name_case="lower"),
    Platform("duckdb", "table", 3, dialect="duckdb", name_case="lower", default_schema="main"),
    Platform("hive", "table", 2, dialect="hive", name_case="lower"),
    Platform("mssql", "table", 3, scheme="sqlserver", converter_schemes=("sqlserver",),
             spellings=("sqlserver",), dialect="tsql", default_schema="dbo"),
    Platform("mysql", "table", 2, spellings=("mariadb",), dialect="mysql"),
    Platform("oracle", "table", 3, dialect="oracle", name_case="lower"),
    Platform("postgres", "table", 3, spellings=("postgresql",), dialect="postgres",
             name_case="lower", default_schema="public"),
    Platform("presto", "table", 3, dialect="presto", name_case="lower"),
    Platform("redshift", "table", 3, dialect="redshift", name_case="lower",
             default_schema="public"),
    Platform("snowflake", "table", 3, dialect="snowflake", name_case="lower",
             default_schema="PUBLIC"),
    Platform("spark", "table", 2, dialect="spark", name_case="lower"),
    Platform("sqlite", "table", 1, dialect="sqlite"),
    Platform("teradata", "table", 2, dialect="teradata"),
    Platform("trino", "table", 3, dialect="trino", name_case="lower"),
)  # fmt: skip
_FILES = (
    Platform("s3", "object_store", converter_schemes=("s3", "s3a", "s3n"),
             spellings=("s3a", "s3n")),
    Platform("gcs", "object_store", scheme="gs", converter_schemes=("gs", "gcs"),
             spellings=("gs",)),
    Platform("abs", "filesystem", scheme="abfss",
             converter_schemes=("abfs", "abfss", "wasb", "wasbs"),
             spellings=("abfs", "abfss", "wasb", "wasbs")),
    Platform("dbfs", "filesystem", converter_schemes=("dbfs",)),
    Platform("file", "filesystem", converter_schemes=("file",)),
    Platform("hdfs", "filesystem"),
)  # fmt: skip

#: Every known platform by DataHub platform id.
PLATFORMS: Mapping[str, Platform] = MappingProxyType({p.id: p for p in (*_TABLES, *_FILES)})

_BY_NAME: Mapping[str, Platform] = MappingProxyType(
    {
        **{alias: p for p in PLATFORMS.values() for alias in p.spellings},
        **{alias: p for p in PLATFORMS.values() for alias in p.converter_schemes},
        **PLATFORMS,
    }
)

#: DataHub's OpenLineage converter's renames of table-platform schemes (its PLATFORM_MAP).
CONVERTER_SCHEME_RENAMES: Mapping[str, str] = MappingProxyType(
    {s: p.id for p in _TABLES for s in p.converter_schemes}
)
#: URI schemes DataHub's converter treats as object-store / file paths -> platform id
#: (``HdfsPathDataset``); any other ``scheme://`` path is ``hdfs`` there.
CONVERTER_PATH_SCHEMES: Mapping[str, str] = MappingProxyType(
    {s: p.id for p in _FILES for s in p.converter_schemes}
)


def lookup(name: str) -> Platform | None:
    """The platform a name, spelling or scheme stands for (case-insensitive), if known."""
    return _BY_NAME.get(name.strip().lower())


def canonical_platform(name: str) -> str:
    """The DataHub platform id for a name, spelling or scheme; unknown names lower-cased."""
    found = lookup(name)
    return found.id if found is not None else name.strip().lower()


def converter_platform(name: str) -> str:
    """The platform DataHub's OpenLineage converter derives from a scheme or engine name:
    lower-cased, with only its own renames (``sqlserver`` -> ``mssql``, ``awsathena`` ->
    ``athena``)."""
    lowered = name.strip().lower()
    return CONVERTER_SCHEME_RENAMES.get(lowered, lowered)


def scheme_platform(scheme: str) -> str:
    """The platform DataHub's converter files a namespace of this scheme under."""
    lowered = scheme.strip().lower()
    return CONVERTER_PATH_SCHEMES.get(lowered) or converter_platform(lowered)


def dialect_for(name: str) -> str | None:
    """The sqlglot dialect of a platform name, spelling or scheme; None when unknown."""
    found = lookup(name)
    return found.dialect if found is not None else None


def table_levels(platform: str) -> int | None:
    """How many parts a table name of the platform has; None for non-table platforms."""
    found = lookup(platform)
    return found.levels if found is not None and found.kind == "table" else None
