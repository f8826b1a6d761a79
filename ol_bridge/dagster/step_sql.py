"""A step's SQL applied to its datasets: the tables it reads and writes, column lineage.

SQL comes from an asset's materialization metadata (``metadata.SQL_KEYS``) or, for a
dbt model whose column lineage dagster-dbt recorded, from its compiled SQL. It is parsed
(``ol_bridge.sql``) with the upstream assets' column schemas; :class:`SqlTables` names the
tables it mentions through the translator, on the asset's connection, so a table in SQL
and the asset that writes it are one dataset. :class:`StepSqlLineage` holds these methods
of the step-lineage builder (``lineage.py``); what they need of it is :class:`_Builder`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs
from dagster import AssetKey
from openlineage.client.facet_v2 import column_lineage_dataset, extraction_error_run

from ol_bridge.dagster import dbt
from ol_bridge.dagster import metadata as md
from ol_bridge.dagster.dataset_facets import datasource_facet
from ol_bridge.dagster.descriptions import AssetDescription
from ol_bridge.dagster.run_info import RunInfo, StepInfo
from ol_bridge.dagster.sql_column_lineage import sql_column_lineage, with_sql_transformations
from ol_bridge.dagster.sql_schemas import sql_schema
from ol_bridge.dagster.step_datasets import DatasetDraft, LineageDrafts
from ol_bridge.dagster.text import MAX_SQL_CHARS, clean_text
from ol_bridge.dagster.translator import OpenLineageTranslator
from ol_bridge.delivery.redact import redact
from ol_bridge.errors import NamingError, SqlLineageError
from ol_bridge.naming import DatasetId, match_declared_upstream
from ol_bridge.platforms import table_levels
from ol_bridge.sql import SqlLineage, TableRef, dialect_for_platform, extract_sql_lineage


class _Builder(Protocol):
    """What the SQL methods use of the step-lineage builder (and of each other)."""

    run: RunInfo
    step: StepInfo
    translator: OpenLineageTranslator
    found: LineageDrafts

    def describe(self, key: AssetKey) -> AssetDescription: ...
    def dataset_of(self, key: AssetKey) -> DatasetId: ...
    def completed(self, dataset: DatasetId) -> DatasetId: ...
    def parents_of(self, key: AssetKey) -> list[AssetKey]: ...
    def column_of(self, dataset: DatasetId, column: str) -> str: ...
    def upstream_metadata(self, key: AssetKey) -> dict[str, Any]: ...
    def upstream_sql_schema(
        self, key: AssetKey, dataset: DatasetId
    ) -> dict[str, dict[str, str]] | None: ...
    def apply_sql(
        self, parsed: SqlLineage, dataset: DatasetId, draft: DatasetDraft, tables: SqlTables
    ) -> None: ...


class StepSqlLineage:
    """The step-lineage builder's SQL methods (a base of ``lineage._StepLineageBuilder``)."""

    def upstream_sql_schema(
        self: _Builder, key: AssetKey, dataset: DatasetId
    ) -> dict[str, dict[str, str]] | None:
        """Column schemas of the asset's upstream tables, for the SQL parser (issue 13)."""
        upstream = dict.fromkeys([*self.parents_of(key), *self.step.input_assets])
        return sql_schema(
            dataset,
            (
                (self.dataset_of(parent), md.column_schema(self.upstream_metadata(parent)))
                for parent in upstream
                if parent != key
            ),
        )

    def upstream_datasets(self: _Builder, key: AssetKey) -> tuple[DatasetId, ...]:
        """The datasets of the asset's declared upstream assets (deps and step inputs)."""
        upstream = dict.fromkeys([*self.parents_of(key), *self.step.input_assets])
        return tuple(self.dataset_of(parent) for parent in upstream if parent != key)

    def add_sql(
        self: _Builder,
        sql: str,
        dataset: DatasetId,
        draft: DatasetDraft,
        recorded_table: str | None,
        schema: dict[str, dict[str, str]] | None = None,
        upstreams: tuple[DatasetId, ...] = (),
    ) -> None:
        platform = self.translator.get_platform(dataset)
        dialect = dialect_for_platform(platform) if platform else None
        database, default_schema = _default_qualifiers(dataset.name)
        if len(sql) > MAX_SQL_CHARS:
            self.found.sql.append((clean_text(sql, MAX_SQL_CHARS), dialect))
            self.found.errors.append(
                extraction_error_run.Error(
                    errorMessage=(
                        f"The SQL of {dataset.name} has {len(sql)} characters, more than the "
                        f"{MAX_SQL_CHARS} ol-bridge parses; its table and column lineage are "
                        "left out. Keep the query that produced the asset in the metadata, "
                        "not generated bulk statements."
                    ),
                    task=clean_text(sql, 200),
                )
            )
            return
        sql = clean_text(sql, MAX_SQL_CHARS)
        try:
            parsed = extract_sql_lineage(
                sql,
                dialect=dialect,
                default_database=database,
                default_schema=default_schema,
                schema=schema,
            )
        except SqlLineageError as error:
            self.found.sql.append((sql, dialect))
            self.found.errors.append(
                extraction_error_run.Error(
                    errorMessage=clean_text(str(error)), stackTrace=None, task=sql[:1000]
                )
            )
            return
        tables = SqlTables(
            self.translator,
            platform or dataset.namespace,
            dataset.namespace,
            upstreams,
            default_schema,
            self.completed,
        )
        try:
            if tables.reads_back(parsed, dataset, recorded_table):
                # The ``Query`` an IO manager records (Dagster's DbIOManager: ``SELECT * FROM
                # <its table>``) says how to read the output back, not how it was made.
                return
            self.found.sql.append((sql, dialect))
            if platform is None or table_levels(platform) is None:
                # No table platform (the asset has the fallback name): its tables would be
                # named in no real namespace; the SQL stays as the job's ``sql`` facet.
                return
            self.apply_sql(parsed, dataset, draft, tables)
        except NamingError as error:  # a file location in the SQL that names nothing
            self.found.errors.append(
                extraction_error_run.Error(errorMessage=redact(str(error)), task=sql[:1000])
            )

    def add_dbt_transformations(
        self: _Builder,
        key: AssetKey,
        dataset: DatasetId,
        draft: DatasetDraft,
        run_metadata: Mapping[str, Any],
    ) -> None:
        """A dbt model's column lineage (dagster-dbt's, which says which columns, not how)
        takes each edge's transformations from the model's compiled SQL. Its tables stay
        dbt's; the SQL itself becomes the job's ``sql`` facet elsewhere (events.py)."""
        node = dbt.dbt_node(self.describe(key).metadata)
        platform = self.translator.get_platform(dataset)
        if node is None or platform is None:
            return
        sql = dbt.compiled_sql(node, self.run.run_id, dbt.run_invocation_id(run_metadata))
        if sql is None or len(sql) > MAX_SQL_CHARS:
            return
        database, default_schema = _default_qualifiers(dataset.name)
        try:
            parsed = extract_sql_lineage(
                clean_text(sql, MAX_SQL_CHARS),
                dialect=dialect_for_platform(platform),
                default_database=database,
                default_schema=default_schema,
                schema=self.upstream_sql_schema(key, dataset),
            )
        except SqlLineageError as error:
            self.found.errors.append(
                extraction_error_run.Error(
                    errorMessage=clean_text(
                        f"{error} dbt's column lineage of {dataset.name} is kept without"
                        " transformation types."
                    ),
                    stackTrace=None,
                    task=sql[:1000],
                )
            )
            return
        tables = SqlTables(self.translator, platform, dataset.namespace)
        facet = sql_column_lineage(parsed, dataset, tables.dataset, self.column_of)
        declared = draft.facets["columnLineage"]
        if facet is not None and isinstance(
            declared, column_lineage_dataset.ColumnLineageDatasetFacet
        ):
            draft.facets["columnLineage"] = with_sql_transformations(declared, facet)

    def apply_sql(
        self: _Builder,
        parsed: SqlLineage,
        dataset: DatasetId,
        draft: DatasetDraft,
        tables: SqlTables,
    ) -> None:
        for read in parsed.unnamed_file_reads:
            self.found.errors.append(
                extraction_error_run.Error(
                    errorMessage=clean_text(
                        f"{read} in the SQL of {dataset.name} reads files whose location is"
                        " not written in the SQL (a parameter or an expression), so they are"
                        " not among its inputs. Record the SQL with the location spelled out."
                    ),
                    task=clean_text(read, 1000),
                )
            )
        written = {tables.dataset(table) for table in parsed.outputs} | {dataset}
        for table in parsed.inputs:
            upstream = tables.dataset(table)
            if upstream in written:
                continue
            self.found.input(upstream).facets.setdefault("dataSource", datasource_facet(upstream))
        facet = sql_column_lineage(parsed, dataset, tables.dataset, self.column_of)
        if facet is None:
            return
        declared = draft.facets.get("columnLineage")
        if declared is None:
            draft.facets["columnLineage"] = facet
        elif isinstance(declared, column_lineage_dataset.ColumnLineageDatasetFacet):
            # ``dagster/column_lineage`` names the edges; the SQL says how each is made.
            draft.facets["columnLineage"] = with_sql_transformations(declared, facet)


@attrs.frozen
class SqlTables:
    """Names the tables of one asset's SQL through the translator, on the asset's
    connection, so a table parsed from SQL and the asset that writes it are one dataset."""

    translator: OpenLineageTranslator
    platform: str
    namespace: str
    #: review 2: the declared upstream assets' datasets, and the schema the parser filled
    #: in: a table of the SQL that is one of them by its trailing parts is named as it
    upstreams: tuple[DatasetId, ...] = ()
    default_schema: str | None = None
    complete: Callable[[DatasetId], DatasetId] | None = None

    def dataset(self, table: TableRef) -> DatasetId:
        if table.location is not None:  # a file the SQL reads directly
            return self.translator.get_file_dataset(table.location)
        found = self.translator.get_table_dataset(
            self.platform, table.qualified_name, self.namespace
        )
        if self.complete is not None:
            found = self.complete(found)
        return match_declared_upstream(found, self.upstreams, self.default_schema)

    def reads_back(
        self, parsed: SqlLineage, dataset: DatasetId, recorded_table: str | None
    ) -> bool:
        """A query that writes nothing and reads only the asset's own table: ``dataset``,
        or the ``dagster/table_name`` its IO manager recorded (which for a Delta table or
        a DuckDB file is not the dataset's name)."""
        recorded = f".{recorded_table.lower()}" if recorded_table else None

        def own(table: TableRef) -> bool:
            if self.dataset(table) == dataset:
                return True
            return recorded is not None and recorded.endswith(f".{table.qualified_name.lower()}")

        return not parsed.outputs and bool(parsed.inputs) and all(map(own, parsed.inputs))


def _default_qualifiers(name: str) -> tuple[str | None, str | None]:
    """``db.schema.table`` -> (db, schema): where unqualified tables in its SQL live."""
    parts = name.split(".")
    if len(parts) >= 3:
        return parts[-3], parts[-2]
    if len(parts) == 2:
        return None, parts[0]
    return None, None
