"""``OpenLineageTranslator``: every naming decision the sensor makes, overridable.

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
from ol_bridge.naming import DatasetId, NamingConfig, dataset_for_asset

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
        """The parent job: the Dagster job name.

        Implicit jobs (``__ASSET_JOB`` and friends) exist once per code location, so they
        are qualified with it to keep unrelated locations' runs apart.
        """
        if run.job_name.startswith("__") and run.code_location:
            return f"{run.code_location}.{run.job_name}"
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
        """Dataset for an asset; ``metadata`` is definition metadata overlaid by the run's."""
        return dataset_for_asset(asset_key.path, metadata, self.naming)

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
