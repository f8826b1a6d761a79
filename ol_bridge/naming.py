"""Asset keys and asset metadata -> OpenLineage dataset namespace and name. Pure.

:func:`dataset_for_asset` decides, in this order (the first that applies wins):

1. ``dagster/uri`` metadata: a URI; namespace ``scheme://authority``, name the path.
2. ``path`` metadata (``PathMetadataValue`` or str): ``s3://bucket/key`` as a URI,
   a local path as namespace ``file`` and the path as name.
3. ``dagster/table_name`` (or the older ``dagster/relation_identifier``) metadata, with
   the platform taken from the asset key convention, else ``dagster/storage_kind``,
   ``storage_kind`` or a ``dagster/kind/<platform>`` entry, else
   ``NamingConfig.default_platform``. Without a platform this rule is skipped.
4. The asset key convention of acryl-datahub-dagster-plugin users:
   ``[env, platform, *table parts]`` (e.g. ``["prod", "snowflake", "db", "schema",
   "orders"]``), or ``[platform, *table parts]`` with exactly as many table parts as
   the platform's names have (``["postgres", "db", "public", "orders"]``).
5. Anything else: namespace ``NamingConfig.fallback_namespace`` ("dagster"), name the
   key's user string ``"a/b/c"`` as Dagster shows it.

Namespaces follow OpenLineage's naming spec (``snowflake://org-account``,
``postgres://host:port``, ``bigquery``, ``s3://bucket``, ``file``). Per-platform
connection namespaces come from ``NamingConfig.connections``; a platform without one
gets its bare DataHub platform id (``"postgres"``), which DataHub's OpenLineage converter
maps to that platform without parsing a URI. ``docs/naming.md`` has examples.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from urllib.parse import urlsplit

import attrs
from datahub.metadata.urns import DatasetUrn
from datahub.utilities.urns.error import InvalidUrnError

from ol_bridge.errors import ConfigError, NamingError
from ol_bridge.settings import field_names, reject_unknown_keys

#: Table platforms (DataHub platform ids) -> how many parts their table names have.
TABLE_PLATFORMS: Mapping[str, int] = MappingProxyType(
    {
        "athena": 3,  # catalog.database.table
        "bigquery": 3,  # project.dataset.table
        "clickhouse": 2,  # database.table
        "databricks": 3,  # catalog.schema.table
        "duckdb": 3,  # database (file stem).schema.table
        "hive": 2,  # database.table
        "mssql": 3,  # database.schema.table
        "mysql": 2,  # database.table
        "oracle": 3,  # service.schema.table
        "postgres": 3,  # database.schema.table
        "presto": 3,  # catalog.schema.table
        "redshift": 3,  # database.schema.table
        "snowflake": 3,  # database.schema.table
        "spark": 2,  # database.table
        "sqlite": 1,  # table
        "teradata": 2,  # database.table
        "trino": 3,  # catalog.schema.table
    }
)

#: File platforms (DataHub platform ids) -> OpenLineage namespace scheme.
FILE_PLATFORMS: Mapping[str, str] = MappingProxyType(
    {"s3": "s3", "gcs": "gs", "file": "file", "hdfs": "hdfs", "abs": "abfss", "dbfs": "dbfs"}
)

# Namespace schemes -> DataHub platform id, as DataHub's OpenLineage converter maps
# them (OpenLineagePlatformResolver.PLATFORM_MAP and HdfsPlatform); other schemes are
# taken as the platform id unchanged.
_DATAHUB_PLATFORM_BY_SCHEME: Mapping[str, str] = MappingProxyType(
    {
        "awsathena": "athena",
        "sqlserver": "mssql",
        "s3a": "s3",
        "s3n": "s3",
        "gs": "gcs",
        "abfs": "abs",
        "abfss": "abs",
        "wasb": "abs",
        "wasbs": "abs",
    }
)

# Other spellings users write for a platform -> DataHub platform id.
_ALIASES: Mapping[str, str] = MappingProxyType(
    {**_DATAHUB_PLATFORM_BY_SCHEME, "postgresql": "postgres", "mariadb": "mysql"}
)

# DataHub platform id -> the scheme OpenLineage's naming spec uses for it.
_OPENLINEAGE_SCHEME: Mapping[str, str] = MappingProxyType(
    {"mssql": "sqlserver", "athena": "awsathena", "gcs": "gs", "abs": "abfss"}
)

#: Environment names accepted as the first asset key part (DataHub's fabric types and
#: common spellings), compared case-insensitively.
DEFAULT_ENVIRONMENTS: frozenset[str] = frozenset(
    {
        "prod", "prd", "production", "dev", "development", "test", "tst", "qa", "uat",
        "stage", "stg", "staging", "pre", "preprod", "non_prod", "nonprod", "corp", "ei",
        "rvw", "sit", "sbx", "sandbox", "cert",
    }
)  # fmt: skip

#: Fallback names longer than this are shortened with a hash (DataHub limits URN length).
MAX_FALLBACK_NAME_LENGTH = 400

_ROOTED_PATH_SCHEMES = frozenset({"file", "hdfs", "dbfs"})


@attrs.frozen
class DatasetId:
    """An OpenLineage dataset identifier."""

    namespace: str
    name: str


def canonical_platform(platform: str) -> str:
    """The DataHub platform id for a platform name or OpenLineage scheme."""
    lowered = platform.strip().lower()
    return _ALIASES.get(lowered, lowered)


def is_known_platform(platform: str) -> bool:
    """Whether the key convention and the namespace rules know this platform."""
    name = canonical_platform(platform)
    return name in TABLE_PLATFORMS or name in FILE_PLATFORMS


def platform_of(dataset: DatasetId) -> str | None:
    """The DataHub platform DataHub's OpenLineage converter derives from the namespace.

    The URI scheme when there is one (with the converter's renames, e.g. ``sqlserver``
    -> ``mssql``, ``gs`` -> ``gcs``), otherwise the bare namespace itself.
    """
    namespace = dataset.namespace.strip()
    if "://" in namespace:
        scheme = namespace.split("://", 1)[0].lower()
        return _DATAHUB_PLATFORM_BY_SCHEME.get(scheme, scheme) or None
    return namespace or None


def _check_connections(
    _instance: object, _attribute: object, connections: Mapping[str, str]
) -> None:
    for platform, namespace in connections.items():
        if not isinstance(namespace, str) or not namespace.strip():
            raise ConfigError(
                f"connections[{platform!r}] must be a non-empty namespace string such as"
                f" 'postgres://db.internal:5432', got {namespace!r}."
            )
        derived = platform_of(DatasetId(namespace, ""))
        expected = canonical_platform(platform)
        if is_known_platform(platform) and derived != expected:
            raise ConfigError(
                f"connections[{platform!r}] = {namespace!r} would land on DataHub platform"
                f" {derived!r}, not {expected!r}. Use a namespace whose scheme is the"
                f" platform's, e.g. '{_OPENLINEAGE_SCHEME.get(expected, expected)}://host'."
            )


def _canonical_keys(connections: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({canonical_platform(key): value for key, value in connections.items()})


def _optional_platform(value: str | None) -> str | None:
    return canonical_platform(value) if value else None


def _default_name_case() -> Mapping[str, str]:
    return {"snowflake": "lower"}


def _environment_set(values: Sequence[str] | frozenset[str]) -> frozenset[str]:
    if isinstance(values, str):
        raise ConfigError(f"environments must be a list of names, got the string {values!r}.")
    return frozenset(value.lower() for value in values)


def _check_not_blank(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise ConfigError(f"{attribute.name} must not be empty.")


def _check_name_case(_instance: object, _attribute: object, value: Mapping[str, str]) -> None:
    for platform, case in value.items():
        if case not in ("lower", "upper", "preserve"):
            raise ConfigError(
                f"name_case[{platform!r}] must be 'lower', 'upper' or 'preserve', got {case!r}."
            )


@attrs.frozen
class NamingConfig:
    """How datasets are named. Every field has a default, so ``NamingConfig()`` works.

    Attributes:
        connections: per-platform connection namespace, e.g. ``{"snowflake":
            "snowflake://myorg-myaccount", "postgres": "postgres://db.internal:5432"}``.
        fallback_namespace: namespace of assets whose key follows no convention.
        default_platform: platform of ``dagster/table_name`` when nothing else says.
        name_case: per-platform case of table names (``lower``/``upper``/``preserve``);
            by default Snowflake names are lower-cased, as DataHub's Snowflake source
            and acryl-datahub-dagster-plugin keys write them.
        environments: accepted first key parts of the ``[env, platform, ...]`` form.
    """

    connections: Mapping[str, str] = attrs.field(
        factory=dict, converter=_canonical_keys, validator=_check_connections
    )
    fallback_namespace: str = attrs.field(
        default="dagster", validator=[attrs.validators.instance_of(str), _check_not_blank]
    )
    default_platform: str | None = attrs.field(default=None, converter=_optional_platform)
    name_case: Mapping[str, str] = attrs.field(
        factory=_default_name_case, converter=_canonical_keys, validator=_check_name_case
    )
    environments: frozenset[str] = attrs.field(
        default=DEFAULT_ENVIRONMENTS, converter=_environment_set
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> NamingConfig:
        """Build from plain config (YAML/JSON); unknown keys are an error."""
        reject_unknown_keys(data, field_names(cls), "the naming settings")
        try:
            return cls(**data)  # type: ignore[arg-type]
        except (TypeError, AttributeError) as error:
            raise ConfigError(f"Invalid naming configuration {dict(data)!r}: {error}") from error

    def namespace_for(self, platform: str) -> str:
        """The configured connection namespace of a platform, or its default."""
        name = canonical_platform(platform)
        if name in self.connections:
            return self.connections[name]
        if name == "bigquery":
            return "bigquery"  # OpenLineage's BigQuery namespace has no authority
        return name

    def table_name(self, platform: str, name: str) -> str:
        """A table name in the case configured for its platform."""
        case = self.name_case.get(canonical_platform(platform), "preserve")
        if case == "lower":
            return name.lower()
        if case == "upper":
            return name.upper()
        return name


@attrs.frozen
class KeyConvention:
    """An asset key that follows ``[env, platform, ...]`` or ``[platform, ...]``."""

    env: str | None
    platform: str
    parts: tuple[str, ...]


def parse_asset_key(
    asset_key: Sequence[str], config: NamingConfig | None = None
) -> KeyConvention | None:
    """Split a key that follows the convention; None for any other key."""
    config = config or NamingConfig()
    key = tuple(asset_key)
    if len(key) >= 3 and key[0].lower() in config.environments and is_known_platform(key[1]):
        platform, parts = canonical_platform(key[1]), key[2:]
        if _fits(platform, parts, exact=False):
            return KeyConvention(env=key[0], platform=platform, parts=parts)
    if len(key) >= 2 and is_known_platform(key[0]):
        platform, parts = canonical_platform(key[0]), key[1:]
        if _fits(platform, parts, exact=True):
            return KeyConvention(env=None, platform=platform, parts=parts)
    return None


def _fits(platform: str, parts: tuple[str, ...], *, exact: bool) -> bool:
    if not parts or not all(part.strip() for part in parts):
        return False
    if platform in FILE_PLATFORMS:
        return len(parts) >= (2 if platform in ("s3", "gcs") else 1)  # bucket + key
    levels = TABLE_PLATFORMS[platform]
    if not exact:
        return len(parts) <= levels
    # A DuckDB file is one database, so keys often leave the database part out.
    return len(parts) == levels or (platform == "duckdb" and len(parts) == levels - 1)


def dataset_for_table(
    platform: str, table_name: str, config: NamingConfig | None = None
) -> DatasetId:
    """The dataset of a table on a platform, e.g. a table that parsed SQL reads."""
    config = config or NamingConfig()
    return DatasetId(config.namespace_for(platform), config.table_name(platform, table_name))


def dataset_for_asset(
    asset_key: Sequence[str],
    metadata: Mapping[str, object] | None = None,
    config: NamingConfig | None = None,
) -> DatasetId:
    """The OpenLineage dataset of an asset; see the module docstring for the rules.

    Raises:
        NamingError: the key is empty, or a ``dagster/uri`` / ``path`` override is not a
            usable URI or path.
    """
    config = config or NamingConfig()
    if isinstance(asset_key, str):
        raise NamingError(
            f"Asset key {asset_key!r} was passed as one string; pass its parts, e.g."
            " AssetKey.path (['prod', 'snowflake', 'db', 'schema', 'table'])."
        )
    if not any(asset_key):
        raise NamingError(
            f"Asset key {list(asset_key)!r} is empty; an asset needs at least one non-empty"
            " key part to be named as a dataset."
        )
    metadata = metadata or {}
    uri = _text(metadata.get("dagster/uri"))
    if uri:
        return dataset_for_uri(uri, config, source="dagster/uri")
    path = _text(metadata.get("path"))
    if path:
        return dataset_for_uri(path, config, source="path")
    convention = parse_asset_key(asset_key, config)
    table = _text(metadata.get("dagster/table_name")) or _text(
        metadata.get("dagster/relation_identifier")
    )
    platform = _platform_from_metadata(metadata, convention, config)
    if table and platform:
        return dataset_for_table(platform, table, config)
    if convention is not None:
        return _dataset_for_convention(convention, config)
    return DatasetId(config.fallback_namespace, fallback_name(asset_key))


def _text(value: object) -> str | None:
    # Dagster metadata values (TextMetadataValue, PathMetadataValue, UrlMetadataValue)
    # carry their string in ``.value``; plain strings are accepted as they are.
    inner = value if isinstance(value, str) else getattr(value, "value", None)
    return inner.strip() if isinstance(inner, str) and inner.strip() else None


def _platform_from_metadata(
    metadata: Mapping[str, object], convention: KeyConvention | None, config: NamingConfig
) -> str | None:
    if convention is not None and convention.platform in TABLE_PLATFORMS:
        return convention.platform
    for key in ("dagster/storage_kind", "storage_kind"):
        kind = _text(metadata.get(key))
        if kind:
            return canonical_platform(kind)
    kinds = [
        key.removeprefix("dagster/kind/") for key in metadata if key.startswith("dagster/kind/")
    ]
    known = sorted(canonical_platform(kind) for kind in kinds if is_known_platform(kind))
    if known:
        return known[0]
    return config.default_platform


def _dataset_for_convention(convention: KeyConvention, config: NamingConfig) -> DatasetId:
    platform, parts = convention.platform, convention.parts
    if platform in TABLE_PLATFORMS:
        return dataset_for_table(platform, ".".join(parts), config)
    if platform in ("s3", "gcs"):
        scheme = FILE_PLATFORMS[platform]
        return DatasetId(f"{scheme}://{parts[0]}", "/".join(parts[1:]))
    if platform == "file":
        return DatasetId("file", "/" + "/".join(parts))
    # hdfs, abs, dbfs: the authority (namenode, storage account, workspace) is not in
    # the key, so it comes from the configured connection.
    return DatasetId(config.namespace_for(platform), "/" + "/".join(parts))


def fallback_name(asset_key: Sequence[str]) -> str:
    """Dagster's user string ``"a/b/c"`` of a key, hashed down when very long."""
    name = "/".join(asset_key)
    if len(name) <= MAX_FALLBACK_NAME_LENGTH:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    return f"{name[: MAX_FALLBACK_NAME_LENGTH - 17]}~{digest}"


def dataset_for_uri(
    uri: str, config: NamingConfig | None = None, *, source: str = "uri"
) -> DatasetId:
    """The dataset at a URI or local path (``s3://b/k``, ``/data/x.csv``, ``file:///x``)."""
    config = config or NamingConfig()
    if "://" not in uri:
        # A local path; relative paths stay relative, since the run's working directory
        # is not known where the events are built.
        return DatasetId("file", posixpath.normpath(uri.replace("\\", "/")))
    parts = urlsplit(uri)
    netloc = _without_password(parts.netloc)
    scheme = parts.scheme.lower()
    if not scheme:
        raise NamingError(
            f"{source} metadata {_without_userinfo(uri)!r} is not a URI (no scheme before"
            " '://'); use e.g."
            " 's3://bucket/key' or an absolute local path."
        )
    if scheme == "file":
        # OpenLineage: namespace ``file`` for the local file system, ``file://host``
        # for a remote one.
        host = netloc if netloc not in ("", "localhost") else ""
        return DatasetId(f"file://{host}" if host else "file", parts.path or "/")
    if not netloc:
        raise NamingError(
            f"{source} metadata {_without_userinfo(uri)!r} has no host or bucket after"
            f" '{scheme}://'; give the"
            " full address, e.g. 's3://bucket/key' or 'postgres://host:5432/db.schema.table'."
        )
    # OpenLineage names S3 and GCS namespaces s3:// and gs://, whatever the client wrote.
    scheme_name = {"s3a": "s3", "s3n": "s3", "gcs": "gs"}.get(scheme, scheme)
    name = parts.path if scheme in _ROOTED_PATH_SCHEMES else parts.path.lstrip("/")
    platform = canonical_platform(scheme)
    if platform in TABLE_PLATFORMS:
        name = config.table_name(platform, name)
    return DatasetId(f"{scheme_name}://{netloc}", name)


def _without_password(authority: str) -> str:
    """``authority`` without a ``user:password@`` part: connection strings carry
    credentials, and events must never. A userinfo without a password stays, since some
    schemes name things with it (``abfss://container@account...``)."""
    userinfo, at, host = authority.rpartition("@")
    return host if at and ":" in userinfo else authority


def _without_userinfo(uri: str) -> str:
    """``uri`` with no password in it, for error messages."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{_without_password(authority)}{slash}{path}"


def dataset_from_datahub_urn(urn: str, config: NamingConfig | None = None) -> DatasetId:
    """The dataset for an acryl-datahub-dagster-plugin URN from ``datahub.inputs``/``outputs``.

    ``urn:li:dataset:(urn:li:dataPlatform:snowflake,db.schema.table,PROD)`` becomes the
    Snowflake dataset ``db.schema.table`` in the configured Snowflake namespace. The
    URN's env and platform instance have no place in OpenLineage names and are dropped.
    """
    config = config or NamingConfig()
    try:
        parsed = DatasetUrn.from_string(urn.strip())
    except InvalidUrnError as error:
        raise NamingError(
            f"{urn!r} is not a DataHub dataset URN ({error}); datahub.inputs/outputs entries"
            " look like 'urn:li:dataset:(urn:li:dataPlatform:snowflake,db.schema.table,PROD)'."
        ) from error
    platform = canonical_platform(parsed.get_data_platform_urn().platform_name)
    name = parsed.name
    if platform in ("s3", "gcs"):
        bucket, _, key = name.lstrip("/").partition("/")
        return DatasetId(f"{FILE_PLATFORMS[platform]}://{bucket}", key)
    if platform in FILE_PLATFORMS:
        rooted = name if name.startswith("/") else "/" + name
        return DatasetId(config.namespace_for(platform), rooted)
    return dataset_for_table(platform, name, config)
