"""What a step read and wrote, from its event-log artifacts, its plan and its definitions.

Sources, merged per dataset: materializations (outputs, with their metadata), asset checks
(assertions on the checked asset), the plan's upstream assets and definition deps (inputs),
In/Out metadata (``datahub.inputs``/``datahub.outputs``), HANDLED_OUTPUT / LOADED_INPUT path
metadata of ops, and SQL in materialization metadata (tables, columns, a ``sql`` job facet;
applied by ``step_sql.py``). Pure apart from the translator's overridable decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from dagster import AssetKey, DagsterEvent, DagsterEventType
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import (
    data_quality_assertions_dataset,
    extraction_error_run,
    output_statistics_output_dataset,
    sql_job,
    symlinks_dataset,
)

from ol_bridge import PRODUCER
from ol_bridge.dagster import metadata as md
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.checks import assertion_of
from ol_bridge.dagster.dataset_facets import (
    column_lineage_facet,
    compact,
    datasource_facet,
    documentation_facet,
    ownership_facet,
    schema_facet,
    tags_facet,
)
from ol_bridge.dagster.descriptions import AssetDescription
from ol_bridge.dagster.run_info import RunInfo, StepInfo
from ol_bridge.dagster.step_datasets import LineageDrafts
from ol_bridge.dagster.step_sql import StepSqlLineage
from ol_bridge.dagster.translator import OpenLineageTranslator, StepLineage
from ol_bridge.delivery.redact import redact
from ol_bridge.errors import NamingError
from ol_bridge.facets import DagsterAssetFacet
from ol_bridge.naming import DATAHUB_URN_IDENTIFIER, DatasetId, recorded_table_name
from ol_bridge.naming_completion import complete_table_name
from ol_bridge.platforms import table_levels


def step_lineage(
    run: RunInfo,
    step: StepInfo,
    artifacts: Sequence[DagsterEvent],
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
    *,
    plan_inputs: bool = True,
) -> StepLineage:
    """The lineage of one attempt of one step.

    ``plan_inputs=False`` leaves out the assets the step's plan reads (issue 11: a
    multi-asset step's assets each carry their own upstreams in a job of their own).
    """
    builder = _StepLineageBuilder(run, step, translator, catalog, plan_inputs=plan_inputs)
    builder.collect(artifacts)
    return translator.get_step_lineage(run, step, builder.result())


# -- issue 11: one asset of a multi-asset step; checks evaluated outside check steps ----
def asset_lineage(
    run: RunInfo,
    step: StepInfo,
    asset_key: AssetKey,
    artifacts: Sequence[DagsterEvent],
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
) -> StepLineage:
    """The lineage of one asset a multi-asset step materialized: its materialization (from
    ``artifacts``, that asset's own) and its own upstream assets."""
    builder = _StepLineageBuilder(run, step, translator, catalog, plan_inputs=False)
    builder.collect(artifacts)
    return translator.get_asset_lineage(run, step, asset_key, builder.result())


def unmaterialized_asset_lineage(
    run: RunInfo,
    step: StepInfo,
    asset_key: AssetKey,
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
) -> StepLineage:
    """An asset a failed multi-asset step was to materialize and did not (a dbt model that
    failed, or was skipped after an upstream failed): its upstreams, and itself as output,
    described by its definition (or recorded description) only."""
    builder = _StepLineageBuilder(run, step, translator, catalog, plan_inputs=False)
    builder.learn_asset_qualifiers([asset_key])
    builder.add_planned_output(asset_key)
    builder.add_upstream_assets([asset_key])
    return translator.get_asset_lineage(run, step, asset_key, builder.result())


def checks_lineage(
    run: RunInfo,
    step: StepInfo,
    evaluations: Sequence[Any],
    translator: OpenLineageTranslator,
    catalog: AssetCatalog,
) -> StepLineage:
    """The checked assets of ``evaluations`` as inputs carrying their assertions."""
    builder = _StepLineageBuilder(run, step, translator, catalog, plan_inputs=False)
    builder.learn_asset_qualifiers(evaluation.asset_key for evaluation in evaluations)
    for evaluation in evaluations:
        builder.add_check(evaluation)
    return builder.result()


# ----------------------------------------------------------------------------------------


class _StepLineageBuilder(StepSqlLineage):
    def __init__(
        self,
        run: RunInfo,
        step: StepInfo,
        translator: OpenLineageTranslator,
        catalog: AssetCatalog,
        *,
        plan_inputs: bool = True,
    ) -> None:
        self.run = run
        self.step = step
        self.translator = translator
        self.catalog = catalog
        self.plan_inputs = plan_inputs
        self.found = LineageDrafts()
        #: each materialized asset's parents as this run recorded them (provenance tags)
        self.recorded_parents: dict[AssetKey, tuple[AssetKey, ...]] = {}
        #: the step's fully qualified table names per namespace (review 2): a partly
        #: qualified name of the step is completed with the parts they agree on
        self.qualified: dict[str, list[str]] = {}

    # -- naming -------------------------------------------------------------------------
    def describe(self, key: AssetKey) -> AssetDescription:
        return self.catalog.describe(key) or AssetDescription()

    def dataset_of(self, key: AssetKey) -> DatasetId:
        """An upstream asset's dataset, named as its latest materialization named it."""
        return self.asset_dataset(key, self.upstream_metadata(key))

    def asset_dataset(self, key: AssetKey, metadata: Mapping[str, Any]) -> DatasetId:
        """The translator's name for an asset, completed with the step's qualifiers."""
        return self.completed(self.named_asset(key, metadata))

    def named_asset(self, key: AssetKey, metadata: Mapping[str, Any]) -> DatasetId:
        """The translator's name for an asset; a fallback name the instance could have
        told better without definitions is explained once (``AssetCatalog``)."""
        dataset = self.translator.get_asset_dataset(key, metadata)
        if dataset.namespace == self.translator.naming.fallback_namespace and (
            not self.catalog.is_defined(key)
        ):
            self.catalog.explain_fallback(key, metadata, f"{dataset.namespace} / {dataset.name}")
        return dataset

    # -- review 2: a partly qualified table name gets the step's default qualifiers -------
    def learn_qualifiers(self, named: Iterable[tuple[AssetKey, Mapping[str, Any]]]) -> None:
        """Note the fully qualified table names among the step's assets (as the
        translator names them), before any dataset is built."""
        for key, metadata in named:
            try:
                dataset = self.named_asset(key, metadata)
            except NamingError:
                continue  # said where the dataset is built
            levels = self.levels(dataset)
            if levels is not None and len(dataset.name.split(".")) == levels:
                self.qualified.setdefault(dataset.namespace, []).append(dataset.name)

    def levels(self, dataset: DatasetId) -> int | None:
        platform = self.translator.get_platform(dataset)
        return table_levels(platform) if platform else None

    def completed(self, dataset: DatasetId) -> DatasetId:
        """A partly qualified table name completed with the leading parts the step's fully
        qualified names on the same connection agree on (``main.report`` next to
        ``shop.main.orders`` is ``shop.main.report``)."""
        levels = self.levels(dataset)
        known = self.qualified.get(dataset.namespace)
        if levels is None or not known:
            return dataset
        return attrs.evolve(dataset, name=complete_table_name(dataset.name, levels, known))

    def parents_of(self, key: AssetKey) -> list[AssetKey]:
        """The asset's upstream assets: its definition's deps and those its materialization
        in this run recorded (the same without the definitions at hand)."""
        parents = {*self.describe(key).parent_keys, *self.recorded_parents.get(key, ())}
        return sorted(parents, key=lambda parent: list(parent.path))

    def column_of(self, dataset: DatasetId, column: str) -> str:
        """A column of ``dataset`` from any source, by the translator's one rule."""
        return self.translator.get_dataset_column_name(dataset, column)

    def upstream_metadata(self, key: AssetKey) -> dict[str, Any]:
        return md.merged(self.describe(key).naming_metadata, self.catalog.latest_metadata(key))

    # -- collection ---------------------------------------------------------------------
    def collect(self, artifacts: Sequence[DagsterEvent]) -> None:
        self.learn_step_qualifiers(artifacts)
        materialized: list[AssetKey] = []
        for event in artifacts:
            data = event.event_specific_data
            if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                materialization = data.materialization  # type: ignore[union-attr]
                materialized.append(materialization.asset_key)
                metadata = dict(materialization.metadata)
                self.recorded_parents[materialization.asset_key] = md.recorded_parents(
                    materialization.tags
                )
                self.catalog.remember_materialization(
                    materialization.asset_key, metadata, self.run.run_id
                )
                self.add_asset_output(materialization.asset_key, metadata)
            elif event.event_type == DagsterEventType.ASSET_OBSERVATION:
                observation = data.asset_observation  # type: ignore[union-attr]
                self.catalog.remember_observation(observation.asset_key, observation.metadata)
                self.add_asset_input(observation.asset_key, dict(observation.metadata))
            elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
                self.add_check(data)
            elif (
                event.event_type == DagsterEventType.HANDLED_OUTPUT and not self.step.is_asset_step
            ):
                self.add_path_dataset(dict(data.metadata), output=True)  # type: ignore[union-attr]
            elif event.event_type == DagsterEventType.LOADED_INPUT and not self.step.is_asset_step:
                self.add_loaded_input(data)
        self.add_upstream_assets(materialized)
        self.add_declared_datasets(materialized)

    def learn_step_qualifiers(self, artifacts: Sequence[DagsterEvent]) -> None:
        """The step's tables before any is named: what it materialized and read."""
        named: list[tuple[AssetKey, Mapping[str, Any]]] = []
        upstream: list[AssetKey] = list(self.step.input_assets)
        if self.step.checked_asset is not None:  # a check step: the asset and its parents
            upstream.append(self.step.checked_asset)
            upstream.extend(self.describe(self.step.checked_asset).parent_keys)
        for event in artifacts:
            if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
                key = materialization.asset_key
                metadata = md.merged(self.describe(key).naming_metadata, materialization.metadata)
                named.append((key, metadata))
                upstream.extend(self.describe(key).parent_keys)
                upstream.extend(md.recorded_parents(materialization.tags))
        named.extend((key, self.upstream_metadata(key)) for key in dict.fromkeys(upstream))
        self.learn_qualifiers(named)

    def learn_asset_qualifiers(self, keys: Iterable[AssetKey]) -> None:
        """For a step named without its artifacts (checks, unmaterialized assets): the
        assets and their parents."""
        around = [k for key in keys for k in (key, *self.describe(key).parent_keys)]
        self.learn_qualifiers((key, self.upstream_metadata(key)) for key in dict.fromkeys(around))

    def add_asset_output(self, key: AssetKey, run_metadata: Mapping[str, Any]) -> None:
        description = self.describe(key)
        metadata = md.merged(description.naming_metadata, run_metadata)
        dataset = self.asset_dataset(key, metadata)
        draft = self.found.output(dataset)
        draft.facets.update(self.asset_facets(key, dataset, description, metadata))
        rows = md.row_count(metadata)
        if rows is not None:
            draft.output_facets["outputStatistics"] = (
                output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                    rowCount=rows, producer=PRODUCER
                )
            )
        sql = md.sql_text(metadata)
        if sql is not None:
            self.add_sql(
                sql,
                dataset,
                draft,
                recorded_table_name(metadata),
                self.upstream_sql_schema(key, dataset),
                self.upstream_datasets(key),
            )
        elif "columnLineage" in draft.facets:
            self.add_dbt_transformations(key, dataset, draft, run_metadata)

    def add_planned_output(self, key: AssetKey) -> None:
        """An output the step did not write: named as usual, described by its definition,
        without a schema (the table is as the last run that wrote it left it; a schema
        here would replace its columns' types with the definition's)."""
        description = self.describe(key)
        dataset = self.asset_dataset(key, self.upstream_metadata(key))
        facets = self.asset_facets(key, dataset, description, description.naming_metadata)
        facets.pop("schema", None)
        facets.pop("columnLineage", None)
        self.found.output(dataset).facets.update(facets)

    def add_asset_input(self, key: AssetKey, run_metadata: Mapping[str, Any] | None = None) -> None:
        if run_metadata:  # an observation: this run's own metadata names it
            dataset, facets = self.input_view(key, run_metadata)
        else:  # an upstream asset: the same for every step until it is materialized again
            dataset, facets = self.catalog.upstream_view(
                key, self.run.code_location, lambda: self.input_view(key, None)
            )
        draft = self.found.input(self.completed(dataset))
        for name, facet in facets.items():
            draft.facets.setdefault(name, facet)

    def input_view(
        self, key: AssetKey, run_metadata: Mapping[str, Any] | None
    ) -> tuple[DatasetId, dict[str, Any]]:
        description = self.describe(key)
        metadata = md.merged(self.upstream_metadata(key), run_metadata)
        dataset = self.named_asset(key, metadata)  # completed per step by add_asset_input
        facets = self.asset_facets(key, dataset, description, metadata)
        # How the upstream was made is its own job's lineage: DataHub (both converters)
        # would give this step's job the upstream's column edges (issue 11 review).
        facets.pop("columnLineage", None)
        return dataset, facets

    def asset_facets(
        self,
        key: AssetKey,
        dataset: DatasetId,
        description: AssetDescription,
        metadata: Mapping[str, Any],
    ) -> dict[str, Any]:
        # Types from the run (the table as it is), descriptions from the definition.
        schema = md.merged_column_schema(
            md.column_schema(description.metadata), md.column_schema(metadata)
        )
        columns = md.column_lineage(metadata)
        return compact(
            {
                "schema": schema_facet(schema, dataset, self.column_of) if schema else None,
                "columnLineage": (
                    column_lineage_facet(columns, dataset, self.dataset_of, self.column_of)
                    if columns
                    else None
                ),
                "dataSource": datasource_facet(dataset),
                "documentation": documentation_facet(description.description),
                "ownership": ownership_facet(description.owners),
                "tags": tags_facet(description.tags, description.kinds),
                "symlinks": self.asset_symlink(key, dataset),
                "dagster_asset": DagsterAssetFacet(
                    assetKey=list(key.path),
                    codeLocation=self.run.code_location,
                    groupName=description.group_name,
                    assetUrl=self.translator.get_asset_url(key),
                ),
            }
        )

    def asset_symlink(
        self, key: AssetKey, dataset: DatasetId
    ) -> symlinks_dataset.SymlinksDatasetFacet | None:
        """A warehouse table that is also a Dagster asset: its asset identity as an alias.

        Type ``DAGSTER_ASSET``, not ``TABLE``: DataHub resolves dataset URNs through TABLE
        symlinks, and the warehouse name must stay the dataset's identity.
        """
        alias = self.translator.get_asset_alias(key, dataset)
        if alias is None:
            return None
        return symlinks_dataset.SymlinksDatasetFacet(
            identifiers=[
                symlinks_dataset.Identifier(
                    namespace=alias.namespace, name=alias.name, type="DAGSTER_ASSET"
                )
            ],
            producer=PRODUCER,
        )

    def add_check(self, evaluation: Any) -> None:
        dataset = self.dataset_of(evaluation.asset_key)
        draft = self.found.input(dataset)
        assertion = assertion_of(evaluation, self.run.run_id, self.catalog, self.step.output_assets)
        if assertion.column:  # a dbt test's column: the dataset's column name rule
            assertion = attrs.evolve(assertion, column=self.column_of(dataset, assertion.column))
        existing = draft.input_facets.get("dataQualityAssertions")
        assertions = [*existing.assertions, assertion] if existing else [assertion]
        draft.input_facets["dataQualityAssertions"] = (
            data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
                assertions=assertions, producer=PRODUCER
            )
        )

    def add_path_dataset(self, metadata: Mapping[str, Any], *, output: bool) -> bool:
        """An op's output or input that its IO manager located (``path``, ``uri``,
        ``dagster/table_name``); nothing for one run's intermediate storage. True when
        the metadata named a dataset."""
        if not metadata:
            return False
        try:
            dataset = self.translator.get_output_dataset(metadata)
        except NamingError as error:
            self.found.errors.append(
                extraction_error_run.Error(errorMessage=redact(str(error)), task=self.step.step_key)
            )
            return True
        if dataset is None:
            return False
        draft = self.found.output(dataset) if output else self.found.input(dataset)
        draft.facets.setdefault("dataSource", datasource_facet(dataset))
        schema = md.column_schema(metadata)
        if schema is not None:
            draft.facets.setdefault("schema", schema_facet(schema, dataset, self.column_of))
        return True

    def add_loaded_input(self, data: Any) -> None:
        """An op input: where its IO manager says it loaded from, else where the upstream
        op's IO manager wrote it (Dagster's DbIOManagers record nothing on load)."""
        metadata = dict(data.metadata)
        if not self.add_path_dataset(metadata, output=False) and data.upstream_step_key:
            upstream = self.catalog.handled_output_metadata(
                self.run.run_id, data.upstream_step_key, data.upstream_output_name
            )
            self.add_path_dataset(upstream, output=False)

    def add_upstream_assets(self, materialized: Iterable[AssetKey]) -> None:
        upstream: list[AssetKey] = list(self.step.input_assets) if self.plan_inputs else []
        for key in materialized:
            upstream.extend(self.parents_of(key))
        if self.step.checked_asset is not None and self.plan_inputs:
            upstream.append(self.step.checked_asset)
        produced = set(materialized)
        if self.plan_inputs:  # the step as a whole: none of its outputs is its own input
            produced.update(self.step.output_assets)
        for key in upstream:
            if key not in produced:
                self.add_asset_input(key)

    def add_declared_datasets(self, materialized: Iterable[AssetKey] = ()) -> None:
        """``datahub.inputs`` / ``datahub.outputs`` (DataHub URNs) in In/Out metadata and
        in the definition metadata of the assets the step materialized (``AssetOut``)."""
        asset_metadata = [self.describe(key).metadata for key in materialized]
        for metadata in asset_metadata:
            for urn in md.string_list(metadata.get(md.DATAHUB_OUTPUTS_KEY)):
                self.add_declared(urn, output=True)
        for metadata in self.step.input_metadata.values():
            for urn in md.string_list(metadata.get(md.DATAHUB_INPUTS_KEY)):
                self.add_declared(urn, output=False)
        for metadata in self.step.output_metadata.values():
            for urn in md.string_list(metadata.get(md.DATAHUB_OUTPUTS_KEY)):
                self.add_declared(urn, output=True)
            for urn in md.string_list(metadata.get(md.DATAHUB_INPUTS_KEY)):
                self.add_declared(urn, output=False)

    def add_declared(self, urn: str, *, output: bool) -> None:
        """A dataset declared by its DataHub URN, which travels along as a ``DATAHUB_URN``
        symlink: the converter's plugin scheme gives back that very URN, env included."""
        try:
            dataset = self.translator.get_urn_dataset(urn)
        except NamingError as error:
            self.found.errors.append(
                extraction_error_run.Error(errorMessage=redact(str(error)), task=self.step.step_key)
            )
            dataset = DatasetId(namespace=self.translator.naming.fallback_namespace, name=urn)
            _ = self.found.output(dataset) if output else self.found.input(dataset)
            return
        draft = self.found.output(dataset) if output else self.found.input(dataset)
        identifier = symlinks_dataset.Identifier(
            namespace="datahub", name=urn.strip(), type=DATAHUB_URN_IDENTIFIER
        )
        existing = draft.facets.get("symlinks")
        identifiers = [*existing.identifiers] if existing is not None else []
        if identifier not in identifiers:
            draft.facets["symlinks"] = symlinks_dataset.SymlinksDatasetFacet(
                identifiers=[*identifiers, identifier], producer=PRODUCER
            )

    # -- result -------------------------------------------------------------------------
    def result(self) -> StepLineage:
        found = self.found
        job_facets: dict[str, Any] = {}
        if found.sql:
            query, dialect = found.sql[0]
            job_facets["sql"] = sql_job.SQLJobFacet(query=query, dialect=dialect, producer=PRODUCER)
        run_facets: dict[str, Any] = {}
        if found.errors:
            run_facets["extractionError"] = extraction_error_run.ExtractionErrorRunFacet(
                totalTasks=len(found.sql) or len(found.errors),
                failedTasks=len(found.errors),
                errors=found.errors,
                producer=PRODUCER,
            )
        return StepLineage(
            inputs=tuple(
                InputDataset(
                    namespace=d.dataset.namespace,
                    name=d.dataset.name,
                    facets=d.facets or None,
                    inputFacets=d.input_facets or None,
                )
                for d in found.inputs.values()
                if d.dataset not in found.outputs
            ),
            outputs=tuple(
                OutputDataset(
                    namespace=d.dataset.namespace,
                    name=d.dataset.name,
                    facets=d.facets or None,
                    outputFacets=d.output_facets or None,
                )
                for d in found.outputs.values()
            ),
            job_facets=job_facets,
            run_facets=run_facets,
        )
