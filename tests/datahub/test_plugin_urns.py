"""Our plugin-compatible URNs against acryl-datahub-dagster-plugin itself, on a real run.

The plugin (extra ``plugin-compat``) is fed the same in-process Dagster run; its
generator builds the DataFlow and DataJobs and emits the run and step instances into a
recording emitter, exactly as its sensor does, and we compare URNs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
from dagster import In, Out, job, op
from openlineage.client import OpenLineageClient

from ol_bridge.datahub import ConverterConfig, convert_event
from ol_bridge.datahub.plugin_urns import (
    PluginNaming,
    plugin_dataflow_urn,
    plugin_datajob_urn,
    plugin_dpi_urn,
    plugin_op_name,
)
from ol_bridge.errors import ConfigError
from tests.datahub.sensor_runs import RecordingTransport, emit_runs

generator = pytest.importorskip("datahub_dagster_plugin.client.dagster_generator")


@op(out=Out(int))
def load_iris() -> int:
    return 150


@op(ins={"rows": In(int)})
def iris_summary(rows: int) -> None:
    assert rows == 150


@job
def iris_job() -> None:
    iris_summary(load_iris())


class RecordingEmitter:
    """Stands in for DataHubGraph: keeps what the plugin emits."""

    def __init__(self) -> None:
        self.urns: list[str] = []

    def emit(self, item: Any, callback: Any = None, **_: Any) -> None:
        self.urns.append(str(item.entityUrn))

    def emit_mcp(self, mcp: Any, **_: Any) -> None:
        self.urns.append(str(mcp.entityUrn))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One iris_job run, and the events ol-bridge's real sensor emitted for it."""
    recorder = RecordingTransport()
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("plugin"))) as instance:
        [run_id] = emit_runs(
            instance,
            OpenLineageClient(transport=recorder),
            lambda sensor: dg.Definitions(jobs=[iris_job], sensors=[sensor]),
            ["iris_job"],
        )
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.is_success
        yield instance, run, recorder.events


def plugin_urns(
    instance: Any, run: Any, naming: PluginNaming, module: str | None
) -> dict[str, Any]:
    from datahub.ingestion.graph.client import DatahubClientConfig

    config = generator.DatahubDagsterSourceConfig(
        datahub_client_config=DatahubClientConfig(server="http://127.0.0.1:1"),
        env=naming.env,
        platform_instance=naming.platform_instance,
    )
    environment = generator.DagsterEnvironment(
        repository="__repository__",
        is_cloud=naming.dagster_cloud,
        branch=naming.deployment,
        module=module,
    )
    gen = generator.DagsterGenerator(logging.getLogger("plugin"), config, environment)
    snapshot = instance.get_job_snapshot(run.job_snapshot_id)
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    flow = gen.generate_dataflow(
        snapshot, env=naming.env, platform_instance=naming.platform_instance
    )
    emitter = RecordingEmitter()
    gen.emit_job_run(emitter, flow, run, instance.get_run_stats(run.run_id))
    step_stats = {s.step_key: s for s in instance.get_run_step_stats(run.run_id)}
    jobs, step_runs = {}, {}
    for op_snap in snapshot.node_defs_snapshot.op_def_snaps:
        datajob = gen.generate_datajob(
            snapshot,
            plan.step_deps,
            op_snap,
            env=naming.env,
            input_datasets={},
            output_datasets={},
            platform_instance=naming.platform_instance,
        )
        jobs[op_snap.name] = str(datajob.urn)
        step_emitter = RecordingEmitter()
        gen.emit_op_run(step_emitter, datajob, step_stats[op_snap.name])
        step_runs[op_snap.name] = {u for u in step_emitter.urns if "dataProcessInstance" in u}
    job_runs = {u for u in emitter.urns if "dataProcessInstance" in u}
    return {"flow": str(flow.urn), "jobs": jobs, "run": job_runs, "steps": step_runs}


NAMINGS = [
    pytest.param(PluginNaming(), None, id="oss-file-location"),
    pytest.param(PluginNaming(module="iris_pkg"), "iris_pkg", id="oss-module"),
    pytest.param(
        PluginNaming(env="DEV", platform_instance="eu", modules={"iris": "iris_pkg"}),
        "iris_pkg",
        id="env-platform-instance-per-location-module",
    ),
    pytest.param(
        PluginNaming(module="iris_pkg", dagster_cloud=True, deployment="staging"),
        "iris_pkg",
        id="dagster-plus",
    ),
]


@pytest.mark.parametrize(("naming", "module"), NAMINGS)
def test_urns_match_the_plugin_on_a_real_run(
    finished_run: Any, naming: PluginNaming, module: str | None
) -> None:
    instance, run, _ = finished_run
    theirs = plugin_urns(instance, run, naming, module)
    location = "iris"
    ours = {
        "flow": str(plugin_dataflow_urn(run.job_name, naming, code_location=location)),
        "jobs": {
            step: str(plugin_datajob_urn(run.job_name, step, naming, code_location=location))
            for step in ("load_iris", "iris_summary")
        },
        "run": {str(plugin_dpi_urn(run.run_id, naming, code_location=location))},
        "steps": {
            step: {str(plugin_dpi_urn(run.run_id, naming, step_key=step, code_location=location))}
            for step in ("load_iris", "iris_summary")
        },
    }
    assert ours == theirs


#: Namings for the converter on the sensor's events. In-process runs have no code location, so
#: a per-location module cannot apply; the module is given for every location instead.
CONVERTER_NAMINGS = [
    pytest.param(PluginNaming(), None, id="oss-file-location"),
    pytest.param(PluginNaming(module="iris_pkg"), "iris_pkg", id="oss-module"),
    pytest.param(
        PluginNaming(env="DEV", platform_instance="eu", module="iris_pkg"),
        "iris_pkg",
        id="env-platform-instance",
    ),
    pytest.param(
        PluginNaming(module="iris_pkg", dagster_cloud=True, deployment="staging"),
        "iris_pkg",
        id="dagster-plus",
    ),
]


def converted(events: list[dict[str, Any]], config: ConverterConfig) -> dict[str, Any]:
    """What the converter writes for the sensor's events, in the shape of ``plugin_urns``."""
    flows, jobs, instances = set(), set(), {}
    for event in events:
        for mcp in convert_event(event, config):
            urn = str(mcp.entityUrn)
            if mcp.entityType == "dataFlow":
                flows.add(urn)
            elif mcp.entityType == "dataJob":
                jobs.add(urn)
            elif mcp.aspectName == "dataProcessInstanceRelationships":
                aspect = mcp.aspect
                assert aspect is not None
                instances[urn] = (aspect.parentTemplate, aspect.parentInstance)  # type: ignore[union-attr]
    return {"flows": flows, "jobs": jobs, "instances": instances}


@pytest.mark.parametrize(("naming", "module"), CONVERTER_NAMINGS)
def test_converter_on_sensor_events_writes_the_plugins_urns(
    finished_run: Any, naming: PluginNaming, module: str | None
) -> None:
    instance, run, events = finished_run
    theirs = plugin_urns(instance, run, naming, module)
    config = ConverterConfig(urn_scheme="datahub-dagster-plugin", plugin_naming=naming)

    ours = converted(events, config)

    [run_instance] = theirs["run"]
    expected_instances = {run_instance: (theirs["flow"], None)}
    for step, job_urn in theirs["jobs"].items():
        [step_instance] = theirs["steps"][step]
        expected_instances[step_instance] = (job_urn, run_instance)
    assert ours == {
        "flows": {theirs["flow"]},
        "jobs": set(theirs["jobs"].values()),
        "instances": expected_instances,
    }


def test_exact_urns_for_a_module_location() -> None:
    naming = PluginNaming(module="iris_pkg", env="PROD")
    assert str(plugin_dataflow_urn("iris_job", naming)) == (
        "urn:li:dataFlow:(dagster,iris_pkg/iris_job,PROD)"
    )
    assert str(plugin_datajob_urn("iris_job", "iris_summary", naming)) == (
        "urn:li:dataJob:(urn:li:dataFlow:(dagster,iris_pkg/iris_job,PROD),iris_pkg/iris_summary)"
    )
    pinned = PluginNaming(platform_instance="eu")
    assert str(plugin_dataflow_urn("iris_job", pinned)) == (
        "urn:li:dataFlow:(dagster,eu.prod/iris_job,PROD)"
    )


def test_op_name_of_step_keys() -> None:
    assert plugin_op_name("iris_summary") == "iris_summary"
    assert plugin_op_name("outer_graph.inner_op") == "inner_op"
    assert plugin_op_name("fan_out[chunk_3]") == "fan_out"


def test_naming_from_dict_rejects_unknown_keys() -> None:
    assert PluginNaming.from_dict({"modules": {"loc": "pkg"}}).module_for("loc") == "pkg"
    with pytest.raises(ConfigError, match=r"Unknown key\(s\) \['cluster'\]"):
        PluginNaming.from_dict({"cluster": "PROD"})
