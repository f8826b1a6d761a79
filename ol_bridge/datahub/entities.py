"""Which DataFlow, DataJob and DataProcessInstance an OL event is about, per URN scheme.

* ``openlineage`` (default): DataHub's own OpenLineage converter's rules (``job_urns``);
  the run is ``urn:li:dataProcessInstance:<runId>``, its parent the ``parent`` facet's run.
* ``datahub-dagster-plugin``: for events that carry our ``dagster_run`` / ``dagster_job``
  facets, the URNs ``acryl-datahub-dagster-plugin`` gave the same Dagster run
  (``plugin_urns``), so history recorded by the plugin stays attached. As in the plugin,
  a Dagster job run is an instance of the DataFlow itself (no DataJob stands for the
  whole job), and a step run is an instance of the op's DataJob. Events without those
  facets (any other producer) keep the ``openlineage`` scheme.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import attrs
from datahub.api.entities.dataprocess.dataprocess_instance import DataProcessInstanceKey
from datahub.metadata.urns import DataFlowUrn, DataJobUrn, DataProcessInstanceUrn

from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.datahub.job_urns import job_urns, orchestrator
from ol_bridge.datahub.olevent import mapping, text
from ol_bridge.datahub.plugin_urns import (
    ORCHESTRATOR,
    PluginNaming,
    plugin_dataflow_urn,
    plugin_datajob_urn,
    plugin_dpi_urn,
    plugin_op_name,
    plugin_prefix,
)

PLUGIN_SCHEME = "datahub-dagster-plugin"


@attrs.frozen
class Entities:
    """The entities one OL event writes to."""

    flow: DataFlowUrn
    flow_name: str
    #: None when the event is a Dagster job run in the plugin scheme (an instance of the flow).
    job: DataJobUrn | None
    job_name: str
    #: None for a JobEvent, which has no run.
    instance: DataProcessInstanceUrn | None = None
    instance_name: str = ""
    parent_instance: DataProcessInstanceUrn | None = None
    #: ``str(flow)`` and ``str(job)``, rendered once: the converter needs them many times
    flow_str: str = attrs.field(
        kw_only=True, default=attrs.Factory(lambda s: str(s.flow), takes_self=True)
    )
    job_str: str | None = attrs.field(
        kw_only=True,
        default=attrs.Factory(lambda s: None if s.job is None else str(s.job), takes_self=True),
    )

    @property
    def template(self) -> DataFlowUrn | DataJobUrn:
        """What the run is an instance of."""
        return self.job if self.job is not None else self.flow


@attrs.frozen
class DagsterRef:
    """What the plugin's URNs depend on, read from our ``dagster_run`` / ``dagster_job`` facets."""

    job_name: str
    code_location: str | None
    #: Op (definition) name of a step; None for the job itself.
    op_name: str | None
    step_key: str | None
    dagster_run_id: str | None
    #: issue 11: a job inside a step (an asset of a multi-asset step, a step's checks): its
    #: name below the step's job; None for the job and step events themselves
    inner_job: str | None = None


def dagster_ref(job_facets: Mapping[str, Any], run_facets: Mapping[str, Any]) -> DagsterRef | None:
    """The Dagster job/step behind an event, or None when it carries no Dagster facets."""
    run = mapping(run_facets.get("dagster_run"))
    job = mapping(job_facets.get("dagster_job"))
    job_name = text(run.get("jobName")) or text(job.get("jobName"))
    if job_name is None:
        return None
    step_key = text(run.get("stepKey"))
    op_name = text(job.get("opName")) or (plugin_op_name(step_key) if step_key else None)
    return DagsterRef(
        job_name=job_name,
        code_location=text(run.get("codeLocation")) or text(job.get("codeLocation")),
        op_name=op_name,
        step_key=step_key,
        dagster_run_id=text(run.get("dagsterRunId")),
    )


def _inner_job(data: Mapping[str, Any], run_facets: Mapping[str, Any]) -> str | None:
    """issue 11: a child of a step's run (``parent`` = the step's attempt, not the Dagster
    run): the part of its job name below the step's job, e.g. ``stg_orders.checks``."""
    parent = mapping(run_facets.get("parent"))
    parent_run = text(mapping(parent.get("run")).get("runId"))
    dagster_run = text(mapping(run_facets.get("dagster_run")).get("dagsterRunId"))
    parent_job = text(mapping(parent.get("job")).get("name"))
    name = text(mapping(data.get("job")).get("name"))
    if parent_run is None or parent_run == dagster_run or not parent_job or not name:
        return None
    return name[len(parent_job) + 1 :] if name.startswith(f"{parent_job}.") else None


def _step_instance(
    ref: DagsterRef, run_id: str, op_name: str, naming: PluginNaming
) -> tuple[DataProcessInstanceUrn, str]:
    prefix = plugin_prefix(naming, ref.code_location)
    step_key = ref.step_key or op_name
    if step_key == op_name:
        urn = plugin_dpi_urn(run_id, naming, step_key=op_name, code_location=ref.code_location)
        return urn, f"{run_id}.{prefix}/{op_name}"
    # Nested-graph, aliased and dynamic steps never had run history in the plugin (it matched
    # step stats by op name); keying them by step key keeps each step run its own instance
    # instead of folding e.g. every mapped `square[k]` into one.
    instance_id = f"{run_id}.{prefix}/{step_key}"
    key = DataProcessInstanceKey(cluster=naming.env, orchestrator=ORCHESTRATOR, id=instance_id)
    return DataProcessInstanceUrn(key.guid()), instance_id


def plugin_entities(ref: DagsterRef, naming: PluginNaming, *, with_run: bool) -> Entities:
    """Entities of a Dagster event in the plugin's URN scheme."""
    location = ref.code_location
    flow = plugin_dataflow_urn(ref.job_name, naming, code_location=location)
    job = None
    if ref.op_name is not None:
        job = plugin_datajob_urn(ref.job_name, ref.op_name, naming, code_location=location)
    name = ref.op_name or ref.job_name
    if not with_run or ref.dagster_run_id is None:
        return Entities(flow=flow, flow_name=ref.job_name, job=job, job_name=name)
    run_id = ref.dagster_run_id
    if ref.op_name is None:
        instance = plugin_dpi_urn(run_id, naming, code_location=location)
        return Entities(flow, ref.job_name, job, name, instance, run_id, None)
    instance, instance_id = _step_instance(ref, run_id, ref.op_name, naming)
    parent = plugin_dpi_urn(run_id, naming, code_location=location)
    if ref.inner_job is not None:
        # The plugin has one DataJob per op, so the step's assets and checks add their
        # edges to it; each keeps a run instance of its own under the step's, which it
        # must not overwrite (the step's result, its inputs and outputs).
        inner_id = f"{instance_id}/{ref.inner_job}"
        key = DataProcessInstanceKey(cluster=naming.env, orchestrator=ORCHESTRATOR, id=inner_id)
        inner = DataProcessInstanceUrn(key.guid())
        return Entities(flow, ref.job_name, job, name, inner, inner_id, instance)
    return Entities(flow, ref.job_name, job, name, instance, instance_id, parent)


def event_entities(
    data: Mapping[str, Any],
    config: ConverterConfig,
    *,
    job_facets: Mapping[str, Any],
    run_facets: Mapping[str, Any],
    with_run: bool,
) -> Entities:
    """The entities of one event (``data`` already checked to have a job namespace/name)."""
    if config.urn_scheme == PLUGIN_SCHEME:
        ref = dagster_ref(job_facets, run_facets)
        if ref is not None:
            ref = attrs.evolve(ref, inner_job=_inner_job(data, run_facets))
        # A run event needs the Dagster run id (``dagster_run``) to name its instance.
        if ref is not None and (ref.dagster_run_id is not None or not with_run):
            return plugin_entities(ref, config.plugin_naming, with_run=with_run)
    job = mapping(data.get("job"))
    orchestrator_name = orchestrator(
        config,
        text(mapping(job_facets.get("jobType")).get("integration")),
        text(mapping(run_facets.get("processing_engine")).get("name")),
        text(data.get("producer")),
    )
    urns = job_urns(str(job.get("namespace")), str(job.get("name")), orchestrator_name, config)
    if not with_run:
        return Entities(
            urns.flow,
            urns.flow_name,
            urns.job,
            urns.job_display_name,
            flow_str=urns.flow_str,
            job_str=urns.job_str,
        )
    run_id = str(mapping(data.get("run")).get("runId"))
    parent_run_id = text(mapping(mapping(run_facets.get("parent")).get("run")).get("runId"))
    return Entities(
        flow=urns.flow,
        flow_name=urns.flow_name,
        job=urns.job,
        job_name=urns.job_display_name,
        instance=_instance_urn(run_id),
        instance_name=run_id,
        parent_instance=_instance_urn(parent_run_id) if parent_run_id else None,
        flow_str=urns.flow_str,
        job_str=urns.job_str,
    )


@functools.lru_cache(maxsize=1024)
def _instance_urn(run_id: str) -> DataProcessInstanceUrn:
    # A run's every step event names the same parent, and a run's START and COMPLETE the
    # same instance; the URN checks and encodes its id.
    return DataProcessInstanceUrn(run_id)
