"""``OpenLineageTranslator``: every naming decision the sensor makes, overridable.

The translator is the one authority on identities: job names, the dataset of an asset
(whatever its key, kinds, ``dagster/table_name`` or IO manager say), of a table read by
parsed SQL, of a path an IO manager recorded, of a DataHub URN in ``datahub.inputs``, and
the asset's alias. Every route that finds a table asks it, so one table gets one name.
The rules themselves are pure functions in :mod:`ol_bridge.naming`
(``docs/naming.md``).

Subclass it and override a ``get_*`` method to change one decision; pass the instance to
``build_openlineage_sensor(translator=...)``. This replaces acryl-datahub-dagster-plugin's
``asset_keys_to_dataset_urn_converter`` (override ``get_asset_dataset``) and
``asset_lineage_extractor`` (override ``get_step_lineage``) callbacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import attrs
from dagster import AssetKey
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import JobFacet, RunFacet

from ol_bridge.dagster.run_info import RunInfo, StepInfo
from ol_bridge.naming import (
    DatasetId,
    NamingConfig,
    dataset_for_asset,
    dataset_for_file_read,
    dataset_for_output,
    dataset_from_datahub_urn,
    platform_of,
)

DEFAULT_NAMESPACE = "dagster"


@attrs.frozen
class StepLineage:
    """What one step read and wrote, plus facets lineage extraction adds to the step's job/run."""

    inputs: tuple[InputDataset, ...] = ()
    outputs: tuple[OutputDataset, ...] = ()
    job_facets: Mapping[str, JobFacet] = attrs.field(factory=dict)
    run_facets: Mapping[str, RunFacet] = attrs.field(factory=dict)


class OpenLineageTranslator:
    """Maps Dagster runs, steps and assets to OpenLineage jobs and datasets.

    Args:
        namespace: OpenLineage job namespace (DataHub uses it as the DataFlow cluster).
        naming: how asset keys become dataset namespaces/names (per-platform connections).
        dagster_url: base URL of the Dagster UI, e.g. ``https://dagster.example.com``; when set,
            events carry links back to runs, jobs and assets.
    """

    def __init__(
        self,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        naming: NamingConfig | None = None,
        dagster_url: str | None = None,
    ) -> None:
        self.namespace = namespace
        self.naming = naming or NamingConfig()
        self.dagster_url = dagster_url.rstrip("/") if dagster_url else None

    # -- jobs -------------------------------------------------------------------------
    def get_job_namespace(self, run: RunInfo) -> str:
        return self.namespace

    def get_job_name(self, run: RunInfo) -> str:
        """The parent job: the Dagster job name, however the run was launched.

        Not qualified by the code location: a run launched by ``dagster asset materialize``
        has none, ``dagster dev -f defs.py`` calls it ``defs.py`` and a workspace gives it
        its own name, so a qualified name would split one job into several DataHub
        pipelines. Dagster job names have no dots, so DataHub's flow id (the name up to its
        first dot) is always the whole job name. The implicit ``__ASSET_JOB`` of several
        code locations is one job here; its tasks stay apart, as asset keys are unique in a
        deployment.
        """
        return run.job_name

    def get_step_job_name(self, run: RunInfo, step: StepInfo) -> str:
        """A child job per step, named ``<parent>.<step>`` (dynamic mapping keys removed,
        so every mapped copy of an op is one task with one run per copy)."""
        return f"{self.get_job_name(run)}.{step.node_handle}"

    # -- issue 11: jobs inside a step ----------------------------------------------------
    def get_asset_job_name(self, run: RunInfo, step: StepInfo, asset_key: AssetKey) -> str:
        """A job per asset of a multi-asset step (``@multi_asset``, ``@dbt_assets``), under
        the step's job: ``<step job>.<asset key as a Python identifier>``, like Dagster names
        the step of a one-asset op."""
        return f"{self.get_step_job_name(run, step)}.{asset_key.to_python_identifier()}"

    def get_checks_job_name(self, run: RunInfo, step: StepInfo, asset_key: AssetKey) -> str:
        """The job of an asset's checks evaluated in a step that is not a check step (checks
        with ``check_specs``, dbt tests under ``dbt build``): ``<asset's job>.checks``, i.e.
        ``<step job>.checks`` when the step materializes that one asset."""
        if not step.multi_asset and tuple(step.output_assets) == (asset_key,):
            return f"{self.get_step_job_name(run, step)}.checks"
        return f"{self.get_asset_job_name(run, step, asset_key)}.checks"

    def get_asset_lineage(
        self, run: RunInfo, step: StepInfo, asset_key: AssetKey, lineage: StepLineage
    ) -> StepLineage:
        """Last word on the lineage of one asset of a multi-asset step (see
        ``get_step_lineage`` for the step's own)."""
        return lineage

    # -- datasets ---------------------------------------------------------------------
    def get_asset_dataset(self, asset_key: AssetKey, metadata: Mapping[str, Any]) -> DatasetId:
        """Dataset for an asset.

        ``metadata`` is the asset's definition metadata, its kinds as ``dagster/kind/<kind>``
        tags, and what the run recorded (IO manager output metadata included), later
        layers winning.
        """
        return dataset_for_asset(asset_key.path, metadata, self.naming)

    def get_table_dataset(
        self, platform: str, table_name: str, namespace: str | None = None
    ) -> DatasetId:
        """Dataset of a table found by name, e.g. read or written by parsed SQL.

        The platform's name rule applies (its case, DuckDB's file-named database, a
        partial name completed with the connection's default database and schema), so a
        table parsed from SQL meets the asset that writes it. ``namespace`` is the
        connection the SQL ran on, when known (the namespace of the asset it belongs to).
        """
        name = self.naming.table_name(platform, table_name, namespace)
        return DatasetId(namespace or self.naming.namespace_for(platform), name)

    def get_file_dataset(self, location: str) -> DatasetId:
        """Dataset of a file, directory or glob that parsed SQL reads directly (DuckDB's
        ``read_parquet('s3://b/k')``, ``FROM '/data/*.csv'``): named as any path or URI,
        a glob by its directory (``docs/naming.md``, *Files read by SQL*)."""
        return dataset_for_file_read(location, self.naming)

    def get_column_name(self, platform: str, column: str) -> str:
        """A column of a table on ``platform``, in the platform's case (``docs/naming.md``,
        *Name case*)."""
        return self.naming.column_name(platform, column)

    def get_dataset_column_name(self, dataset: DatasetId, column: str) -> str:
        """A column of ``dataset``, whatever says it (``dagster/column_schema``,
        ``dagster/column_lineage`` inputs and outputs, parsed SQL, a dbt test's column):
        the case rule of the dataset's platform, so one column has one name. A dataset on
        no known platform (the ``dagster`` fallback) keeps its columns as written."""
        platform = self.get_platform(dataset)
        return self.get_column_name(platform, column) if platform else column

    def get_output_dataset(self, metadata: Mapping[str, Any]) -> DatasetId | None:
        """Dataset of an op output from the metadata its IO manager recorded (``path``,
        ``uri``, ``dagster/table_name``...); None for Dagster's per-run intermediate storage,
        which would make a new dataset on every run."""
        return dataset_for_output(metadata, self.naming)

    def get_urn_dataset(self, urn: str) -> DatasetId:
        """Dataset of a DataHub URN from ``datahub.inputs`` / ``datahub.outputs``, named
        exactly as written so that DataHub maps it back to the same URN."""
        return dataset_from_datahub_urn(urn, self.naming)

    def get_asset_alias(self, asset_key: AssetKey, dataset: DatasetId) -> DatasetId | None:
        """The asset's own identity when its dataset is a warehouse table or file: sent as
        a ``DAGSTER_ASSET`` symlink, so the table stays findable by its asset key. None
        when the dataset already is the asset's fallback name."""
        fallback = self.naming.fallback_namespace
        if dataset.namespace == fallback:
            return None
        return DatasetId(fallback, asset_key.to_user_string())

    def get_platform(self, dataset: DatasetId) -> str | None:
        """The DataHub platform of a dataset (which SQL dialect parses its SQL)."""
        return platform_of(dataset)

    def get_step_lineage(self, run: RunInfo, step: StepInfo, lineage: StepLineage) -> StepLineage:
        """Last word on a step's lineage: return ``lineage`` changed, extended or replaced."""
        return lineage

    # -- links to the Dagster UI ------------------------------------------------------
    def get_run_url(self, run: RunInfo) -> str | None:
        return f"{self.dagster_url}/runs/{run.run_id}" if self.dagster_url else None

    def get_job_url(self, run: RunInfo) -> str | None:
        if not self.dagster_url:
            return None
        if run.code_location and run.repository_name:
            location = quote(f"{run.repository_name}@{run.code_location}", safe="@")
            return f"{self.dagster_url}/locations/{location}/jobs/{quote(run.job_name)}"
        return None

    def get_asset_url(self, asset_key: AssetKey) -> str | None:
        if not self.dagster_url:
            return None
        return f"{self.dagster_url}/assets/" + "/".join(
            quote(part, safe="") for part in asset_key.path
        )
