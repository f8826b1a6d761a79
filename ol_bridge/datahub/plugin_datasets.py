"""The dataset lineage acryl-datahub-dagster-plugin wrote, for the ``datahub-dagster-plugin``
URN scheme. Pure.

The plugin's tasks read and write an asset's ``dagster``-platform dataset (the URNs come
from :class:`~ol_bridge.datahub.dataset_urns.DatasetResolver`); besides the task edges it
wrote two dataset-level edges per materialization (``DagsterGenerator.emit_asset``):

* the warehouse table an ``[env, platform, *name]`` key names has the asset dataset as its
  upstream;
* the asset dataset has the tables its ``Query`` SQL reads as upstreams.

Here the tables the SQL reads are the event's inputs that are neither assets nor declared
by URN (in an asset step's event, SQL is their only source).
"""

from __future__ import annotations

from datahub.metadata.schema_classes import DatasetLineageTypeClass, UpstreamClass
from datahub.specific.dataset import DatasetPatchBuilder

from ol_bridge.datahub.aspects import Proposal
from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.dataset_urns import declared_urn, plugin_asset_key
from ol_bridge.datahub.datasets import DatasetPlan
from ol_bridge.datahub.olevent import mapping
from ol_bridge.datahub.plugin_urns import URN_SCHEME, plugin_table_urn


def plugin_dataset_lineage(plan: DatasetPlan, config: ConverterConfig) -> list[Proposal]:
    """``upstreamLineage`` PATCHes the plugin wrote for the event's asset outputs."""
    if config.urn_scheme != URN_SCHEME:
        return []
    read_by_sql = [
        dataset.urn_str
        for dataset in plan.inputs
        if plugin_asset_key(mapping(dataset.raw.get("facets"))) is None
        and declared_urn(mapping(dataset.raw.get("facets"))) is None
    ]
    out: list[Proposal] = []
    for dataset in plan.outputs:
        key = plugin_asset_key(mapping(dataset.raw.get("facets")))
        if key is None:
            continue
        table = plugin_table_urn(key)
        if table is not None:
            out += _upstreams(str(table), [dataset.urn_str])
        if read_by_sql:
            out += _upstreams(dataset.urn_str, read_by_sql)
    return out


def _upstreams(downstream: str, upstreams: list[str]) -> list[Proposal]:
    builder = DatasetPatchBuilder(downstream)
    for upstream in upstreams:
        builder.add_upstream_lineage(
            UpstreamClass(dataset=upstream, type=DatasetLineageTypeClass.TRANSFORMED)
        )
    return list(builder.build())
