"""Plugin-scheme dataset URNs and edges against acryl-datahub-dagster-plugin itself.

The plugin's documented example jobs (``plugin_examples.py``) run once. The plugin's own
sensor code (``DatahubSensors._emit_metadata``, what its run-status sensors call) handles
each run, writing into a recording graph; ol-bridge's sensor emits the same runs and the
converter, with ``urn_scheme: datahub-dagster-plugin``, converts them. Compared: every
task's input and output datasets, and the dataset-level lineage edges.

Where ol-bridge records more than the plugin did, the extra is computed by the rules
documented in docs/migrating-from-datahub-dagster-plugin.md and asserted exactly.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
from datahub.ingestion.graph.client import DatahubClientConfig
from datahub.sql_parsing.schema_resolver import SchemaResolver
from datahub_dagster_plugin.sensors.datahub_sensors import (
    DatahubDagsterSourceConfig,
    DatahubSensors,
)
from openlineage.client import OpenLineageClient

from ol_bridge.datahub import ConverterConfig, convert_event
from tests.dagster.helpers import tick_until_idle
from tests.datahub import plugin_examples
from tests.datahub.sensor_runs import RecordingTransport, make_sensor

Edges = dict[str, set[str]]


class RecordingGraph:
    """Stands in for DataHubGraph: keeps what the plugin writes; no schemas to resolve."""

    def __init__(self) -> None:
        self.proposals: list[Any] = []

    def emit(self, item: Any, callback: Any = None, **_: Any) -> None:
        self.proposals.append(item)

    def emit_mcp(self, mcp: Any, **_: Any) -> None:
        self.proposals.append(mcp)

    def get_aspect(self, *_: Any, **__: Any) -> None:
        return None

    def _make_schema_resolver(
        self, platform: str, platform_instance: str | None, env: str
    ) -> SchemaResolver:
        return SchemaResolver(platform=platform, platform_instance=platform_instance, env=env)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Each example job run once; the plugin's and ol-bridge's view of the same runs."""
    recorder = RecordingTransport()
    sensor = make_sensor(OpenLineageClient(transport=recorder))
    defs = plugin_examples.definitions(sensor)
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("examples"))) as instance:
        plugin: dict[str, list[Any]] = {}
        for job in plugin_examples.JOBS:
            result = defs.resolve_job_def(job).execute_in_process(instance=instance)
            assert result.success
            plugin[job] = _plugin_proposals(instance, result.run_id)
        tick_until_idle(sensor, instance, defs)
        yield {"plugin": plugin, "events": recorder.events}


def _plugin_proposals(instance: dg.DagsterInstance, run_id: str) -> list[Any]:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    [record] = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records
    event = record.event_log_entry.dagster_event
    assert event is not None
    context = dg.build_run_status_sensor_context(
        sensor_name="datahub_success_sensor",
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=run,
    )
    # The plugin's sensors without their constructor, which connects to GMS.
    sensors = DatahubSensors.__new__(DatahubSensors)
    sensors.config = DatahubDagsterSourceConfig(
        datahub_client_config=DatahubClientConfig(server="http://127.0.0.1:1")
    )
    graph = RecordingGraph()
    sensors.graph = graph  # type: ignore[assignment]
    logging.getLogger("dagster").setLevel(logging.WARNING)
    result = sensors._emit_metadata(context)
    assert result.skip_message == "Pipeline metadata is emitted to DataHub"  # type: ignore[union-attr]
    return graph.proposals


def _plugin_views(proposals: list[Any]) -> tuple[Edges, Edges, Edges]:
    """(task inputs, task outputs, dataset upstreams) the plugin wrote."""
    inputs: Edges = defaultdict(set)
    outputs: Edges = defaultdict(set)
    upstreams: Edges = defaultdict(set)
    for proposal in proposals:
        name = getattr(proposal, "aspectName", None)
        if name == "dataJobInputOutput":
            inputs[proposal.entityUrn] |= set(proposal.aspect.inputDatasets)
            outputs[proposal.entityUrn] |= set(proposal.aspect.outputDatasets)
        elif name == "upstreamLineage":
            upstreams[proposal.entityUrn] |= _patched(proposal, "/upstreams/")
    return inputs, outputs, upstreams


def _our_views(events: list[dict[str, Any]], config: ConverterConfig) -> tuple[Edges, ...]:
    inputs: Edges = defaultdict(set)
    outputs: Edges = defaultdict(set)
    upstreams: Edges = defaultdict(set)
    for event in events:
        for proposal in convert_event(event, config):
            name = getattr(proposal, "aspectName", None)
            if name == "dataJobInputOutput":
                inputs[proposal.entityUrn] |= _patched(proposal, "/inputDatasetEdges/")
                outputs[proposal.entityUrn] |= _patched(proposal, "/outputDatasetEdges/")
            elif name == "upstreamLineage":
                upstreams[proposal.entityUrn] |= _patched(proposal, "/upstreams/")
    return inputs, outputs, upstreams


def _patched(proposal: Any, prefix: str) -> set[str]:
    operations = json.loads(proposal.aspect.value)
    return {
        op["path"][len(prefix) :].replace("~1", "/").replace("~0", "~")
        for op in operations
        if op["path"].startswith(prefix)
    }


def _nonempty(edges: Edges) -> Edges:
    return {key: value for key, value in edges.items() if value}


DAGSTER = "urn:li:dataPlatform:dagster"
SNOWFLAKE = "urn:li:dataPlatform:snowflake"


def _urn(platform: str, name: str) -> str:
    return f"urn:li:dataset:({platform},{name},PROD)"


def _job(flow: str, op: str) -> str:
    return f"urn:li:dataJob:(urn:li:dataFlow:(dagster,prod/{flow},PROD),prod/{op})"


#: What ol-bridge records beyond the plugin, by the documented rules:
#: (1) ``datahub.outputs`` are task outputs (the plugin read them only with
#:     ``connect_ops_to_ops``);
#: (2) assets whose key has fewer than three parts are datasets too (the plugin recorded
#:     none: no history to keep);
#: (3) tables read by an asset's SQL are also its task's inputs (the plugin linked them to
#:     the asset's dataset only, which ol-bridge does as well).
EXTRA_INPUTS = {
    _job("assets_job", "transform"): {_urn(DAGSTER, "extract")},  # (2)
    _job("iris_job", "prod__snowflake__test_db__public__iris_setosa"): {
        _urn(SNOWFLAKE, "test_db.public.iris_cleaned")  # (3)
    },
    _job("iris_job", "prod__snowflake__db_name__schema_name__my_asset_table_a"): {
        _urn(SNOWFLAKE, "db_name.schema_name.my_asset_table_b")  # (3)
    },
}
EXTRA_OUTPUTS = {
    _job("do_stuff", "transform_numbers"): {_urn(SNOWFLAKE, "tableB")},  # (1)
    _job("assets_job", "extract"): {_urn(DAGSTER, "extract"), _urn(SNOWFLAKE, "tableD")},  # 1, 2
    _job("assets_job", "transform"): {_urn(DAGSTER, "transform")},  # (2)
}


def test_plugin_scheme_datasets_and_edges_equal_the_plugins_on_its_examples(
    runs: dict[str, Any],
) -> None:
    theirs: list[Edges] = [defaultdict(set), defaultdict(set), defaultdict(set)]
    for proposals in runs["plugin"].values():
        for mine, found in zip(theirs, _plugin_views(proposals), strict=True):
            for key, urns in found.items():
                mine[key] |= urns
    plugin_inputs, plugin_outputs, plugin_upstreams = (_nonempty(view) for view in theirs)
    config = ConverterConfig(urn_scheme="datahub-dagster-plugin")
    our_inputs, our_outputs, our_upstreams = (
        _nonempty(view) for view in _our_views(runs["events"], config)
    )

    def plus(plugin: Edges, extra: dict[str, set[str]]) -> Edges:
        keys = set(plugin) | set(extra)
        return {key: plugin.get(key, set()) | extra.get(key, set()) for key in keys}

    assert our_inputs == plus(plugin_inputs, EXTRA_INPUTS)
    assert our_outputs == plus(plugin_outputs, EXTRA_OUTPUTS)
    assert our_upstreams == plugin_upstreams
    # the plugin's example URNs, kept exactly as written (not lower-cased)
    assert _urn(SNOWFLAKE, "tableA") in our_inputs[_job("do_stuff", "transform_numbers")]
    assert plugin_upstreams[_urn(SNOWFLAKE, "test_db.public.iris_setosa")] == {
        _urn(DAGSTER, "prod.snowflake.test_db.public.iris_setosa")
    }


def test_declared_urns_keep_their_env_in_the_plugin_scheme(runs: dict[str, Any]) -> None:
    """A ``datahub.inputs`` URN travels along whole (a DATAHUB_URN symlink), so its env
    survives a converter configured for another env; asset datasets take that env."""
    config = ConverterConfig(env="DEV", urn_scheme="datahub-dagster-plugin")
    inputs, outputs, _ = _our_views(runs["events"], config)
    dev_job = "urn:li:dataJob:(urn:li:dataFlow:(dagster,prod/do_stuff,DEV),prod/transform_numbers)"
    assert inputs[dev_job] == {_urn(SNOWFLAKE, "tableA")}
    assets = "urn:li:dataJob:(urn:li:dataFlow:(dagster,prod/assets_job,DEV),prod/transform)"
    assert outputs[assets] == {"urn:li:dataset:(urn:li:dataPlatform:dagster,transform,DEV)"}
    # DataHub's own scheme is untouched by the symlink: the OpenLineage name, config env.
    default_inputs, _, _ = _our_views(runs["events"], ConverterConfig(env="DEV"))
    assert "urn:li:dataset:(urn:li:dataPlatform:snowflake,tableA,DEV)" in set().union(
        *default_inputs.values()
    )
