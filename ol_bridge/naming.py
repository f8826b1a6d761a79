"""Asset keys and asset metadata -> OpenLineage dataset namespace and name. Pure.

:func:`dataset_for_asset` decides, in this order (the first that applies wins):

1. ``dagster/uri`` metadata, then ``table_uri`` (dagster-deltalake): a URI; namespace
   ``scheme://authority``, name the path. A table platform's URI names its server as its
   connection does (:func:`~ol_bridge.naming_completion.server_namespace`) and its path's
   segments are the table name's leading parts (``/sales/public/orders`` ->
   ``sales.public.orders``).
2. ``path`` metadata (``PathMetadataValue`` or str): ``s3://bucket/key`` as a URI,
   a local path as namespace ``file`` and the path as name; unless it is where an object
   storage IO manager keeps the asset (:func:`is_asset_storage`).
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

Table names follow their platform's one rule (:meth:`NamingConfig.table_name`: case,
DuckDB's file-named database, a partial name completed with the connection's default
database and schema), whichever route found them. Platforms come from the one
table in :mod:`ol_bridge.platforms`.

Namespaces follow OpenLineage's naming spec (``snowflake://org-account``,
``postgres://host:port``, ``bigquery``, ``s3://bucket``, ``file``). Per-platform
connection namespaces come from ``NamingConfig.connections``; a platform without one
gets its bare DataHub platform id (``"postgres"``), which DataHub's OpenLineage converter
maps to that platform without parsing a URI. ``docs/naming.md`` has examples.
"""

from __future__ import annotations

import hashlib
import posixpath
import uuid
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from urllib.parse import urlsplit

import attrs
from datahub.metadata.urns import DatasetUrn
from datahub.utilities.urns.error import InvalidUrnError
from rfc3986_validator import validate_rfc3986

from ol_bridge.errors import ConfigError, NamingError

# complete_table_name and match_declared_upstream are re-exported (``X as X``):
# ``ol_bridge.naming`` was their import path before they moved.
from ol_bridge.naming_completion import complete_table_name as complete_table_name  # noqa: PLC0414
from ol_bridge.naming_completion import (
    complete_with_defaults,
    duckdb_catalog_name,
    is_duckdb_file_table,
    parse_connection,
    server_namespace,
    table_name_from_path,
)
from ol_bridge.naming_completion import match_declared_upstream as match_declared_upstream  # noqa: PLC0414
from ol_bridge.platforms import (
    PLATFORMS,
    canonical_platform,
    lookup,
    scheme_platform,
    table_levels,
)
from ol_bridge.settings import field_names, reject_unknown_keys

#: Table platforms (DataHub platform ids) -> how many parts their table names have.
TABLE_PLATFORMS: Mapping[str, int] = MappingProxyType(
    {p.id: p.levels for p in PLATFORMS.values() if p.kind == "table"}
)

#: File platforms (DataHub platform ids) -> OpenLineage namespace scheme.
FILE_PLATFORMS: Mapping[str, str] = MappingProxyType(
    {p.id: p.namespace_scheme for p in PLATFORMS.values() if p.kind != "table"}
)

#: ``symlinks`` identifier type carrying the DataHub URN a dataset was declared with
#: (``datahub.inputs`` / ``datahub.outputs``); DataHub's converter resolves only ``TABLE``
#: identifiers, so it changes nothing there, and the plugin URN scheme reads it.
DATAHUB_URN_IDENTIFIER = "DATAHUB_URN"

#: dagster-deltalake's metadata key for the location of the Delta table it wrote.
TABLE_URI_KEY = "table_uri"

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


def is_known_platform(platform: str) -> bool:
    """Whether the key convention and the namespace rules know this platform."""
    return lookup(platform) is not None


def platform_of(dataset: DatasetId) -> str | None:
    """The DataHub platform DataHub's OpenLineage converter derives from the namespace.

    The URI scheme when there is one (with the converter's renames, e.g. ``sqlserver``
    -> ``mssql``, ``gs`` -> ``gcs``), otherwise the bare namespace itself.
    """
    namespace = dataset.namespace.strip()
    if "://" in namespace:
        return scheme_platform(namespace.split("://", 1)[0]) or None
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
        expected = canonical_platform(platform)
        # the namespace the connection gives (its path, credentials, driver read), which is
        # what DataHub sees: `postgresql+psycopg2://h` is `postgres://h`
        parsed = parse_connection(expected, namespace).namespace
        derived = platform_of(DatasetId(parsed, ""))
        if is_known_platform(platform) and derived != expected:
            raise ConfigError(
                f"connections[{platform!r}] = {_without_userinfo(parsed)!r} would land on"
                " DataHub platform"
                f" {derived!r}, not {expected!r}. Use a namespace whose scheme is the"
                f" platform's, e.g. '{_namespace_scheme(expected)}://host'."
            )


def _namespace_scheme(platform: str) -> str:
    found = lookup(platform)
    return found.namespace_scheme if found is not None else platform


def _canonical_keys(connections: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({canonical_platform(key): value for key, value in connections.items()})


def _optional_platform(value: str | None) -> str | None:
    return canonical_platform(value) if value else None


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
            A URL path names the default database (and schema) of partly qualified
            table names: ``"postgres://db.internal:5432/shop"`` completes
            ``public.orders`` and ``orders`` to ``shop.public.orders``; the namespace
            stays ``postgres://db.internal:5432``. SQLAlchemy and JDBC forms are read too
            (``postgresql+psycopg2://etl@db:5432/shop?sslmode=require``,
            ``jdbc:sqlserver://db:1433;databaseName=shop``); a password is refused.
        fallback_namespace: namespace of assets whose key follows no convention.
        default_platform: platform of ``dagster/table_name`` when nothing else says.
        name_case: per-platform case of table names (``lower``/``upper``/``preserve``),
            overriding the platform's rule in :mod:`ol_bridge.platforms`: lower case where
            unquoted identifiers are case-insensitive (Snowflake, Postgres, DuckDB, ...),
            names as written elsewhere (BigQuery, MySQL, SQL Server, ...).
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
        factory=dict, converter=_canonical_keys, validator=_check_name_case
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
            # the keys only: the values may hold a connection's credentials
            raise ConfigError(
                f"Invalid naming configuration (keys {sorted(data)}): {error}"
            ) from error

    def namespace_for(self, platform: str) -> str:
        """The configured connection namespace of a platform, or its default."""
        name = canonical_platform(platform)
        if name in self.connections:
            return parse_connection(name, self.connections[name]).namespace
        found = lookup(name)
        return found.default_namespace or name if found is not None else name

    def table_name(self, platform: str, name: str, namespace: str | None = None) -> str:
        """A table name as the platform's one rule writes it: its case (see ``name_case``),
        and DuckDB's database named after its file (``/x/warehouse.duckdb`` ->
        ``warehouse``), as DuckDB and dbt-duckdb name it.

        A partly qualified name (``public.orders``, ``orders``) on the configured
        connection (``namespace``, when given, is that connection's) is completed with the
        connection's default database and the platform's default schema:
        ``postgres://db:5432/shop`` makes both ``shop.public.orders``; a DuckDB connection's
        database is its file's stem, its schema ``main``.
        """
        platform = canonical_platform(platform)
        if platform == "duckdb":
            name = duckdb_catalog_name(name)
        levels = table_levels(platform)
        configured = self.connections.get(platform)
        if levels is not None and configured is not None:
            connection = parse_connection(platform, configured)
            if namespace is None or namespace == connection.namespace:
                name = complete_with_defaults(name, levels, connection.defaults)
        return self._cased(platform, name)

    def column_name(self, platform: str, name: str) -> str:
        """A column name in the case of its platform's table names (SQL lineage reports
        Snowflake's unquoted columns in upper case, its IO managers in the DataFrame's)."""
        return self._cased(canonical_platform(platform), name)

    def _cased(self, platform: str, name: str) -> str:
        found = lookup(platform)
        case = self.name_case.get(platform, found.name_case if found is not None else "preserve")
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
    convention = parse_asset_key(asset_key, config)
    located = _dataset_from_metadata(metadata, config, convention, asset_key)
    if located is not None:
        return located
    if convention is not None:
        return _dataset_for_convention(convention, config)
    return DatasetId(config.fallback_namespace, fallback_name(asset_key))


def dataset_for_output(
    metadata: Mapping[str, object], config: NamingConfig | None = None
) -> DatasetId | None:
    """The dataset an op output was written to, from what its IO manager recorded.

    The asset rules 1-3 without a key: ``dagster/uri``, ``table_uri``, ``path`` / ``uri``
    (unless it is one run's intermediate storage, see :func:`is_run_storage`), then
    ``dagster/table_name`` with a platform. None when the output went nowhere with a name.
    """
    config = config or NamingConfig()
    location = _text(metadata.get("uri"))
    if location and "dagster/uri" not in metadata and "path" not in metadata:
        metadata = {**metadata, "path": location}  # the S3/GCS/ADLS2 IO managers' key
    for key in ("dagster/uri", TABLE_URI_KEY, "path"):
        value = _text(metadata.get(key))
        if value and is_run_storage(value):
            return None
    return _dataset_from_metadata(metadata, config, None, None)


def _dataset_from_metadata(
    metadata: Mapping[str, object],
    config: NamingConfig,
    convention: KeyConvention | None,
    asset_key: Sequence[str] | None,
) -> DatasetId | None:
    """Rules 1-3: a URI, a path that is not the asset's object storage, a table name."""
    for key in ("dagster/uri", TABLE_URI_KEY):
        uri = _text(metadata.get(key))
        if uri:
            return dataset_for_uri(uri, config, source=key)
    path = _text(metadata.get("path"))
    if path and not (asset_key is not None and is_asset_storage(path, asset_key)):
        return dataset_for_uri(path, config, source="path")
    table = recorded_table_name(metadata)
    platform = _platform_from_metadata(metadata, convention, config)
    if table and not platform and is_duckdb_file_table(table):
        platform = "duckdb"  # dagster-duckdb-polars records the file, but no storage kind
    if table and platform:
        return dataset_for_table(platform, table, config)
    return None


def recorded_table_name(metadata: Mapping[str, object]) -> str | None:
    """``dagster/table_name`` (or the older ``dagster/relation_identifier``), if recorded."""
    return _text(metadata.get("dagster/table_name")) or _text(
        metadata.get("dagster/relation_identifier")
    )


def is_asset_storage(location: str, asset_key: Sequence[str]) -> bool:
    """Whether ``location`` is where an object-storage IO manager keeps the asset.

    Dagster's pickling IO managers (the default filesystem one, S3, GCS, ADLS2) store an
    asset at ``<base>/<key parts>`` (``/<partition key>`` for a partition), with no file
    extension. That location is internal storage, not the asset's name: it would change
    with ``DAGSTER_HOME`` and every deployment. A data file an IO manager writes has an
    extension (``.parquet``, ``.csv``) and names the dataset.
    """
    segments = _segments(location)
    key = [part for part in asset_key if part]
    for tail in (segments, segments[:-1]):
        if len(tail) > len(key) and tail[-len(key) :] == key:
            return "." not in segments[-1]
    return False


def is_run_storage(location: str) -> bool:
    """Whether ``location`` holds one run's intermediate output: ``.../<run id>/<step
    key>/<output name>``, as Dagster's filesystem, S3, GCS and ADLS2 IO managers store op
    outputs. Such an object exists for one run only, so it is never a dataset."""
    segments = _segments(location)
    return any(_is_uuid(segment) for segment in segments[:-2])


def _segments(location: str) -> list[str]:
    path = urlsplit(location).path if "://" in location else location
    return [segment for segment in path.replace("\\", "/").split("/") if segment]


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


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
    namespace = f"{scheme_name}://{netloc}"
    if platform in TABLE_PLATFORMS and platform != "duckdb":
        # The server, named as its configured connection would name it (no user name,
        # `postgresql` -> `postgres`); the path's segments are the name's leading parts.
        # (DuckDB's namespace is its file, so its path is not a table name.)
        namespace = server_namespace(platform, scheme, netloc)
        name = table_name_from_path(parts.path, TABLE_PLATFORMS[platform]) or name
    if platform in TABLE_PLATFORMS:
        name = config.table_name(platform, name, namespace)
    return DatasetId(namespace, name)


#: Characters that make a location a pattern of files (DuckDB, Spark and shell globs).
GLOB_CHARACTERS = ("*", "?", "[")


def dataset_for_file_read(location: str, config: NamingConfig | None = None) -> DatasetId:
    """The dataset of a file, directory or glob a query reads directly (DuckDB's
    ``read_parquet('s3://b/k.parquet')``, ``FROM '/data/events/*.csv'``).

    Named as any path or URI (:func:`dataset_for_uri`). A glob names the directory before
    its first wildcard, as OpenLineage's integrations name a wildcard read: the files
    ``/data/events/*.csv`` match are the dataset ``file`` / ``/data/events``.
    """
    uri = "://" in location
    path = urlsplit(location).path if uri else location
    wildcard = min((i for i in map(path.find, GLOB_CHARACTERS) if i >= 0), default=-1)
    if wildcard < 0:
        return dataset_for_uri(location, config, source="SQL")
    directory = path[:wildcard].rpartition("/")[0] or "/"
    if uri:
        parts = urlsplit(location)
        root = f"{parts.scheme}://{parts.netloc}"
        dataset = dataset_for_uri(f"{root}{directory}", config, source="SQL")
        # A glob at the top of a bucket reads the whole bucket: its root, ``/``.
        return dataset if dataset.name else attrs.evolve(dataset, name="/")
    if not path.startswith("/") and "/" not in path[:wildcard]:
        directory = "."  # a relative glob in the working directory
    return dataset_for_uri(directory, config, source="SQL")


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


def namespace_uri(namespace: str) -> str | None:
    """The URI of a dataset namespace's data source, for ``dataSource.uri``; None when the
    namespace names a platform without saying where it is (``snowflake``, ``bigquery``).

    ``file`` (the local file system) is ``file:///``; a namespace with a scheme is a URI
    already when it is a valid one.
    """
    if namespace == "file":
        return "file:///"
    if "://" not in namespace:
        return None
    return namespace if validate_rfc3986(namespace, rule="URI") else None


def dataset_from_datahub_urn(urn: str, config: NamingConfig | None = None) -> DatasetId:
    """The dataset for an acryl-datahub-dagster-plugin URN from ``datahub.inputs``/``outputs``.

    ``urn:li:dataset:(urn:li:dataPlatform:snowflake,db.schema.table,PROD)`` becomes the
    Snowflake dataset ``db.schema.table`` in the configured Snowflake namespace. The name is
    kept exactly as written: a URN already is the DataHub identity the user chose, and
    DataHub's converter maps the dataset back to that very URN. Its env and platform
    instance have no place in OpenLineage names and are dropped.
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
    return DatasetId(config.namespace_for(platform), name)
