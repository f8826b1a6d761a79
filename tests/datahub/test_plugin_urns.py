"""Our plugin-compatible URNs against acryl-datahub-dagster-plugin itself, on a real run.

The plugin (extra ``plugin-compat``) is fed the same in-process Dagster run; its
generator builds the DataFlow and DataJobs and emits the run and step instances into a
recording emitter, exactly as its sensor does, and we compare URNs.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from dagster import DagsterInstance, In, Out, job, op

from ol_bridge.datahub.plugin_urns import (
    PluginNaming,
    plugin_dataflow_urn,
    plugin_datajob_urn,
    plugin_dpi_urn,
    plugin_op_name,
)
from ol_bridge.errors import ConfigError

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
def finished_run() -> Any:
    instance = DagsterInstance.ephemeral()
    result = iris_job.execute_in_process(instance=instance)
    assert result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    return instance, run


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
    instance, run = finished_run
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
