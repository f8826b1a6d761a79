"""What is known of assets beyond the events of a run: their definitions (description,
owners, schema, deps) where the sensor's own code location has them, their latest
materializations in the instance, and, for dbt nodes of any code location, what the run's
own dbt artifacts say (``dbt_runs.py``, ``dbt_manifest.py``), so that a dbt model is named
and described the same with or without its definitions at hand."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from dagster import (
    AssetCheckKey,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    PartitionsDefinition,
    RepositoryDefinition,
)

from ol_bridge.dagster import dbt, dbt_manifest
from ol_bridge.dagster.dbt_runs import DbtInvocation, DbtRunArtifacts
from ol_bridge.dagster.descriptions import AssetDescription
from ol_bridge.dagster.run_info import RunInfo
from ol_bridge.errors import DagsterReadError

log = logging.getLogger(__name__)

View = TypeVar("View")


class AssetCatalog:
    """Looks assets up in a repository's asset graph and the instance, memoised per key."""

    def __init__(
        self,
        repository: RepositoryDefinition | None = None,
        instance: DagsterInstance | None = None,
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    ) -> None:
        #: the sensor passes its context's logger, so the lines reach the tick's log
        self._log = logger if logger is not None else log
        self._repository = repository
        self._graph = repository.asset_graph if repository is not None else None
        self._instance = instance
        self._cache: dict[AssetKey, AssetDescription | None] = {}
        self._materialized: dict[AssetKey, Mapping[str, Any]] = {}
        #: the run of each latest materialization known (where its dbt artifacts are)
        self._materialized_in: dict[AssetKey, str] = {}
        self._recorded: dict[AssetKey, AssetDescription] = {}
        #: dbt nodes of the manifests read so far, by dagster-dbt's default asset key
        self._dbt_keys: dict[AssetKey, tuple[DbtInvocation, str]] = {}
        #: dbt unique id -> the asset key the instance recorded it under
        self._dbt_ids: dict[str, AssetKey] = {}
        self._target_dirs: list[Path] | None = None
        self._dbt = DbtRunArtifacts(instance, self._dbt_target_dirs)
        self._upstream_views: dict[AssetKey, dict[str | None, Any]] = {}
        self._handled_outputs: dict[str, dict[tuple[str, str], Mapping[str, Any]]] = {}
        #: run id -> its partitions definition (every step event of the run asks)
        self._partitions: dict[str, PartitionsDefinition | None] = {}
        #: metadata of an asset's latest observation, when newer than its materialization
        self._observed: dict[AssetKey, Mapping[str, Any]] = {}

    def upstream_view(
        self, key: AssetKey, code_location: str | None, build: Callable[[], View]
    ) -> View:
        """What ``build`` makes of ``key`` as an upstream input (its dataset and facets),
        made once per code location until the asset is materialized again.

        In an asset graph most assets feed several others, so each used to be described
        again for every downstream step (a fifth of the sensor's time at 100 assets).
        """
        views = self._upstream_views.setdefault(key, {})
        if code_location not in views:
            views[code_location] = build()
        return views[code_location]  # type: ignore[no-any-return]

    def remember_materialization(
        self, key: AssetKey, metadata: Mapping[str, Any], run_id: str | None = None
    ) -> None:
        """A materialization this tick just read: later lookups of ``key`` need no query.

        Runs are walked oldest first, so the last one remembered is the latest. In an asset
        job most upstream assets were materialized earlier in the same run, which saves one
        storage query per upstream asset (the largest cost of a tick in the benchmarks).
        """
        self._materialized[key] = metadata
        self._observed.pop(key, None)
        self._note_dbt_id(key, metadata)
        if run_id is not None:
            self._materialized_in[key] = run_id
        self._recorded.pop(key, None)
        self._upstream_views.pop(key, None)  # its inputs are named from this one now

    def remember_observation(self, key: AssetKey, metadata: Mapping[str, Any]) -> None:
        """An observation this tick just read (runs are walked oldest first, so it is the
        asset's latest recorded event): its metadata names the asset from now on."""
        if key not in self._materialized:
            self.prefetch([key])
        if metadata:
            self._observed[key] = dict(metadata)
            self._upstream_views.pop(key, None)

    def prefetch(self, keys: Iterable[AssetKey]) -> None:
        """Read the latest materialization of each of ``keys`` not known yet, in one query,
        before any event is built (so building reads no storage).

        Raises ``DagsterReadError`` when the storage cannot be read: the tick then stops
        before the run and reads again next tick, instead of sending events without lineage.
        """
        missing = sorted({key for key in keys if key not in self._materialized}, key=str)
        if not missing or self._instance is None:
            return
        try:
            records = self._instance.get_asset_records(missing)
        except Exception as error:  # any storage failure: the tick retries, nothing degrades
            raise DagsterReadError(
                f"could not read the latest materializations of {len(missing)} assets from "
                f"Dagster's storage ({type(error).__name__}: {error})"
            ) from error
        latest = {record.asset_entry.asset_key: record.asset_entry for record in records}
        for key in missing:
            entry = latest.get(key)
            event = entry.last_materialization if entry is not None else None
            materialization = event.asset_materialization if event is not None else None
            self._materialized[key] = dict(materialization.metadata) if materialization else {}
            self._note_dbt_id(key, self._materialized[key])
            if event is not None:
                self._materialized_in[key] = event.run_id
        self._prefetch_observations([latest[key] for key in missing if key in latest])

    def _prefetch_observations(self, entries: Sequence[Any]) -> None:
        """The latest observation of each asset that may be observed, where it is newer
        than the asset's latest materialization (review 2: an observable source asset
        named by its observation's ``dagster/uri`` when observed, by its key downstream).

        Storages that keep the latest observation on the asset record (Dagster+) need no
        query; the open-source ones need one per asset, so only assets that can have
        observations ask: observable by their definition here, or not defined here and
        never materialized (source assets of other code locations).
        """
        if self._instance is None:
            return
        on_record = self._instance.event_log_storage.asset_records_have_last_observation
        for entry in entries:
            key = entry.asset_key
            if on_record:
                observed = entry.last_observation
            elif self._may_be_observed(key, entry):
                try:
                    found = self._instance.fetch_observations(key, limit=1).records
                except Exception as error:  # as prefetch: the tick retries, nothing degrades
                    raise DagsterReadError(
                        f"could not read the latest observation of {key.to_user_string()} "
                        f"from Dagster's storage ({type(error).__name__}: {error})"
                    ) from error
                observed = found[0].event_log_entry if found else None
            else:
                continue
            observation = observed.asset_observation if observed is not None else None
            materialized = entry.last_materialization
            if observation is None or not observation.metadata:
                continue
            if materialized is None or observed.timestamp > materialized.timestamp:
                self._observed[key] = dict(observation.metadata)

    def _may_be_observed(self, key: AssetKey, entry: Any) -> bool:
        if self._graph is not None and self._graph.has(key):
            return bool(self._graph.get(key).is_observable)
        return entry.last_materialization is None

    def latest_metadata(self, key: AssetKey) -> Mapping[str, Any]:
        """Metadata of the asset's latest recorded event that has any: its materialization
        or, when newer, its observation. An upstream asset is named from it."""
        materialized = self.last_materialization_metadata(key)
        return self._observed.get(key, materialized)

    def last_materialization_metadata(self, key: AssetKey) -> Mapping[str, Any]:
        """Metadata of the asset's latest materialization, in any run or code location.

        An upstream asset is named from it, so that an input gets the same dataset name as
        the output that wrote it (its IO manager may have recorded ``dagster/table_name``).
        Normally read by ``prefetch`` already.
        """
        if key not in self._materialized:
            self.prefetch([key])
        return self._materialized.get(key, {})

    def handled_output_metadata(
        self, run_id: str, step_key: str, output_name: str | None
    ) -> Mapping[str, Any]:
        """What the IO manager recorded when ``step_key`` of ``run_id`` stored an output
        (its HANDLED_OUTPUT event): where an op's input was loaded from. One query per run,
        made only when an op loads an input whose own event names no location."""
        if run_id not in self._handled_outputs:
            found: dict[tuple[str, str], Mapping[str, Any]] = {}
            if self._instance is not None:
                records = self._instance.get_records_for_run(
                    run_id, of_type=DagsterEventType.HANDLED_OUTPUT
                ).records
                for record in records:
                    event = record.event_log_entry.dagster_event
                    data = event.event_specific_data if event is not None else None
                    if event is not None and event.step_key and data is not None:
                        key = (event.step_key, getattr(data, "output_name", ""))
                        found[key] = dict(getattr(data, "metadata", {}) or {})
            self._handled_outputs[run_id] = found
        return self._handled_outputs[run_id].get((step_key, output_name or "result"), {})

    def partitions_definition(self, run: RunInfo) -> PartitionsDefinition | None:
        """The partitions definition of a run's partition key (for its time window): that
        of the first asset of the run defined here with one, else its job's. None without
        the definitions (a key alone does not say its window)."""
        if self._repository is None or self._graph is None:
            return None
        if run.run_id not in self._partitions:
            self._partitions[run.run_id] = self._lookup_partitions_definition(run)
        return self._partitions[run.run_id]

    def _lookup_partitions_definition(self, run: RunInfo) -> PartitionsDefinition | None:
        assert self._repository is not None and self._graph is not None
        for key in sorted({k for s in run.steps.values() for k in s.output_assets}, key=str):
            if self._graph.has(key):
                partitions = self._graph.get(key).partitions_def
                if partitions is not None:
                    return partitions
        if self._repository.has_job(run.job_name):
            job_partitions: PartitionsDefinition | None = self._repository.get_job(
                run.job_name
            ).partitions_def
            return job_partitions
        return None

    # -- issue 11: a check's definition, for its assertion's description --------------
    def check_description(self, asset_key: AssetKey, check_name: str) -> str | None:
        """The description of the check as defined (``AssetCheckSpec``, ``@asset_check``)."""
        if self._graph is None:
            return None
        key = AssetCheckKey(asset_key, check_name)
        if key not in self._graph.asset_check_keys:
            return None
        description: str | None = self._graph.get_check_spec(key).description
        return description

    def describe(self, key: AssetKey) -> AssetDescription | None:
        """The asset's definition; without it, what the instance recorded of a dbt node."""
        if key not in self._cache:
            self._cache[key] = self._lookup(key)
        return self._cache[key] or self.recorded(key)

    def is_defined(self, key: AssetKey) -> bool:
        if key not in self._cache:
            self._cache[key] = self._lookup(key)
        return self._cache[key] is not None

    # -- review of e6ba315: dbt nodes without their definitions ---------------------------
    def recorded(self, key: AssetKey) -> AssetDescription | None:
        """A dbt node as its definition would describe it, from the manifest its run's dbt
        invocation wrote: the node its latest materialization records (``unique_id``,
        ``invocation_id``), else, for an asset never materialized (a dbt source), the node
        whose default asset key it is in a manifest read already."""
        if key in self._recorded:
            return self._recorded[key]
        metadata = self.last_materialization_metadata(key)
        unique_id, invocation_id = dbt.run_unique_id(metadata), dbt.run_invocation_id(metadata)
        run_id = self._materialized_in.get(key)
        found: tuple[DbtInvocation, str] | None = None
        if unique_id and invocation_id and run_id:
            invocation = self._dbt.invocation(run_id, invocation_id)
            if invocation is not None:
                self.learn_dbt_invocation(invocation, {unique_id: key})
                found = (invocation, unique_id)
        elif not metadata:  # never materialized: a dbt source, maybe
            found = self._dbt_keys.get(key)
        if found is None:
            return None
        invocation, unique_id = found
        description = dbt_manifest.describe_node(
            invocation.manifest,
            unique_id,
            dbt_manifest.RecordedProject(
                invocation.folder.parent.parent, Path(invocation.folder.parent.name)
            ),
            self._recorded_keys(),
        )
        if description is not None:
            self._recorded[key] = description
        return description

    def learn_dbt_invocation(
        self, invocation: DbtInvocation, recorded_keys: Mapping[str, AssetKey] | None = None
    ) -> None:
        """Index the nodes of an invocation's manifest by their default asset keys; the keys
        the instance recorded for some of them (``recorded_keys``) win."""
        for key, unique_id in dbt_manifest.asset_keys(invocation.manifest).items():
            self._dbt_keys.setdefault(key, (invocation, unique_id))
        for unique_id, key in (recorded_keys or {}).items():
            self._dbt_keys[key] = (invocation, unique_id)

    def dbt_invocations(
        self, run_id: str, op_name: str, messages: Iterable[str]
    ) -> list[DbtInvocation]:
        """The readable dbt invocations of one op of a run, oldest first."""
        return self._dbt.step_invocations(run_id, op_name, messages)

    def _note_dbt_id(self, key: AssetKey, metadata: Mapping[str, Any]) -> None:
        unique_id = dbt.run_unique_id(metadata)
        if unique_id is not None:
            self._dbt_ids[unique_id] = key

    def _recorded_keys(self) -> Mapping[str, AssetKey]:
        return self._dbt_ids

    def _dbt_target_dirs(self) -> list[Path]:
        """The target folders of the dbt projects in the sensor's own definitions."""
        if self._target_dirs is not None:
            return self._target_dirs
        found: list[Path] = []
        for key in self._graph.get_all_asset_keys() if self._graph is not None else ():
            description = self._cache.get(key) or self._lookup(key)
            node = dbt.dbt_node(description.metadata) if description is not None else None
            if node is not None and node.target_dir is not None and node.target_dir not in found:
                found.append(node.target_dir)
        self._target_dirs = found
        return found

    def explain_fallback(self, key: AssetKey, metadata: Mapping[str, Any], name: str) -> None:
        """Say once per asset why an asset the instance knows more of than its key got its
        key's fallback dataset name (no definitions here to say more)."""
        if key in _EXPLAINED:
            return
        _EXPLAINED[key] = True
        while len(_EXPLAINED) > 4096:
            _EXPLAINED.popitem(last=False)
        reason = _fallback_reason(key, metadata, self._materialized_in.get(key))
        level = logging.WARNING
        if reason is None:  # nothing lost that the instance knows of
            level = logging.INFO
            reason = (
                "its definition is not in this code location and its materialization "
                "records no table name, path or URI."
            )
        message = (
            f"Asset {key.to_user_string()} gets the fallback dataset name {name}: {reason} "
            "Define the OpenLineage sensor in the asset's code location (or pass "
            "`--definitions` to `ol-bridge backfill`), or record `dagster/table_name` with "
            "`dagster/storage_kind` (or `dagster/uri`) in its materialization metadata, for "
            "the name its table has."
        )
        if level == logging.WARNING:
            self._log.warning(message)
        else:
            self._log.info(message)

    def _lookup(self, key: AssetKey) -> AssetDescription | None:
        if self._graph is None or not self._graph.has(key):
            return None
        node = self._graph.get(key)
        return AssetDescription(
            metadata=dict(node.metadata or {}),
            description=node.description,
            owners=tuple(node.owners or ()),
            tags=dict(node.tags or {}),
            kinds=tuple(sorted(node.kinds or ())),
            group_name=node.group_name,
            parent_keys=tuple(sorted(node.parent_keys, key=lambda k: list(k.path))),
        )


#: assets whose fallback name was explained already (once per process)
_EXPLAINED: OrderedDict[AssetKey, bool] = OrderedDict()


def _fallback_reason(key: AssetKey, metadata: Mapping[str, Any], run_id: str | None) -> str | None:
    unique_id = dbt.run_unique_id(metadata)
    if unique_id is not None:
        return (
            f"it is dbt node {unique_id}, and the dbt artifacts of its run {run_id} "
            "(manifest.json and run_results.json in its dbt target folder) are not readable "
            "here: the run ran where this process cannot see its disk, or its log does not "
            "say where its target folder is (dagster-dbt names it when the project was "
            "parsed beforehand, e.g. with `DbtProject.prepare_if_dev()`)."
        )
    table = metadata.get("dagster/table_name") or metadata.get("dagster/relation_identifier")
    if table is not None:
        return (
            f"it records its table (dagster/table_name {getattr(table, 'value', table)!r}) "
            "but not its platform, which its definition (kinds) would say; record "
            "`dagster/storage_kind` with it, or set `NamingConfig.default_platform`."
        )
    return None
