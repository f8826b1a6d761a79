"""Definition-time knowledge of assets (description, owners, schema, deps) from the sensor's
own code location. Runs of other code locations still get lineage from the event log and
run snapshots; this only enriches it where the definitions are at hand."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs
from dagster import AssetCheckKey, AssetKey, DagsterEventType, DagsterInstance, RepositoryDefinition

from ol_bridge.errors import DagsterReadError

View = TypeVar("View")


@attrs.frozen
class AssetDescription:
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    description: str | None = None
    owners: Sequence[str] = ()
    tags: Mapping[str, str] = attrs.field(factory=dict)
    kinds: Sequence[str] = ()
    group_name: str | None = None
    parent_keys: Sequence[AssetKey] = ()

    @property
    def naming_metadata(self) -> dict[str, Any]:
        """Definition metadata with the asset's kinds as ``dagster/kind/<kind>`` tags, as
        the translator reads them: ``kinds={"duckdb"}`` gives ``dagster/table_name`` its
        platform."""
        return {**{f"dagster/kind/{kind}": "" for kind in self.kinds}, **self.metadata}


class AssetCatalog:
    """Looks assets up in a repository's asset graph and the instance, memoised per key."""

    def __init__(
        self,
        repository: RepositoryDefinition | None = None,
        instance: DagsterInstance | None = None,
    ) -> None:
        self._graph = repository.asset_graph if repository is not None else None
        self._instance = instance
        self._cache: dict[AssetKey, AssetDescription | None] = {}
        self._materialized: dict[AssetKey, Mapping[str, Any]] = {}
        self._upstream_views: dict[AssetKey, dict[str | None, Any]] = {}
        self._handled_outputs: dict[str, dict[tuple[str, str], Mapping[str, Any]]] = {}

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

    def remember_materialization(self, key: AssetKey, metadata: Mapping[str, Any]) -> None:
        """A materialization this tick just read: later lookups of ``key`` need no query.

        Runs are walked oldest first, so the last one remembered is the latest. In an asset
        job most upstream assets were materialized earlier in the same run, which saves one
        storage query per upstream asset (the largest cost of a tick in the benchmarks).
        """
        self._materialized[key] = metadata
        self._upstream_views.pop(key, None)  # its inputs are named from this one now

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
        if key not in self._cache:
            self._cache[key] = self._lookup(key)
        return self._cache[key]

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
