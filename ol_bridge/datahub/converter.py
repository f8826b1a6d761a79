"""OpenLineage event -> DataHub metadata change proposals. Pure: no I/O, no clock.

The output follows DataHub's own OpenLineage converter (the one behind GMS's
``/openapi/openlineage/api/v1/lineage``) aspect for aspect and in the same order, so the same
event gives the same entities through either path. ``docs/datahub-mapping.md`` has the mapping
table and the deliberate differences.

Lineage is written as PATCH (edges and fine-grained lineage are added, never replaced), so a
COMPLETE event does not wipe what its START set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from datahub.metadata.schema_classes import (
    AuditStampClass,
    DataFlowInfoClass,
    DataJobInfoClass,
    DataPlatformInstanceClass,
    DataProcessInstanceInputClass,
    DataProcessInstanceOutputClass,
    DataProcessInstancePropertiesClass,
    DataProcessInstanceRelationshipsClass,
    StatusClass,
    TimeStampClass,
)
from datahub.metadata.urns import (
    DataPlatformInstanceUrn,
    DataPlatformUrn,
)
from datahub.specific.datajob import DataJobPatchBuilder

from ol_bridge.datahub import aspects, job_aspects, patches
from ol_bridge.datahub.aspects import DATAHUB_ACTOR, Proposal
from ol_bridge.datahub.coalesce import coalesce
from ol_bridge.datahub.config import DEFAULT_CONFIG, ConverterConfig
from ol_bridge.datahub.containers import hierarchy_proposals
from ol_bridge.datahub.dataset_extras import dataset_extras
from ol_bridge.datahub.datasets import (
    DatasetPlan,
    dataset_proposals,
    job_lineage_patch,
    plan_datasets,
)
from ol_bridge.datahub.entities import Entities, event_entities
from ol_bridge.datahub.job_dependencies import job_dependencies
from ol_bridge.datahub.olevent import (
    as_event_dict,
    check_run_id,
    mapping,
    parse_time,
    text,
)
from ol_bridge.datahub.plugin_datasets import plugin_dataset_lineage
from ol_bridge.datahub.properties import instance_custom_properties, run_custom_properties
from ol_bridge.errors import ConversionError


def convert_event(event: object, config: ConverterConfig | None = None) -> list[Proposal]:
    """Convert one OpenLineage event into DataHub proposals.

    ``event`` is a dict (the event's JSON) or an openlineage-python ``RunEvent``, ``JobEvent``
    or ``DatasetEvent``. UPSERTs come back as ``MetadataChangeProposalWrapper``; lineage,
    ownership and tag additions as PATCH ``MetadataChangeProposalClass`` built by DataHub's
    patch builders. Raises ``ConversionError`` for an event that cannot be converted.
    """
    config = config or DEFAULT_CONFIG
    data = as_event_dict(event)
    if "run" in data:
        return _convert_run_event(data, config)
    if "job" in data:
        return _convert_job(data, config, run_facets={}, with_run=False)
    if "dataset" in data:
        return _convert_dataset_event(data, config)
    raise ConversionError(
        "event has neither 'run', 'job' nor 'dataset'; send an OpenLineage RunEvent, JobEvent "
        "or DatasetEvent"
    )


def convert_events(
    events: Iterable[object], config: ConverterConfig | None = None
) -> list[Proposal]:
    """Convert several events into the fewest proposals that store the same in DataHub.

    The proposals of all events, coalesced (:mod:`ol_bridge.datahub.coalesce`): an aspect
    written by several events is written once, with its last value. Raises
    ``ConversionError`` for the first event that cannot be converted.
    """
    proposals: list[Proposal] = []
    for event in events:
        proposals.extend(convert_event(event, config))
    return coalesce(proposals)


def _job_of(data: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    job = mapping(data.get("job"))
    namespace, name = text(job.get("namespace")), text(job.get("name"))
    if namespace is None or name is None:
        raise ConversionError("job.namespace and job.name must be non-empty strings")
    return namespace, name, mapping(job.get("facets"))


def _convert_run_event(data: Mapping[str, Any], config: ConverterConfig) -> list[Proposal]:
    run = mapping(data.get("run"))
    check_run_id(run.get("runId"))
    return _convert_job(data, config, run_facets=mapping(run.get("facets")), with_run=True)


def _convert_job(
    data: Mapping[str, Any],
    config: ConverterConfig,
    *,
    run_facets: Mapping[str, Any],
    with_run: bool,
) -> list[Proposal]:
    millis = parse_time(data.get("eventTime"), "eventTime").epoch_millis
    _, _, job_facets = _job_of(data)
    urns = event_entities(
        data, config, job_facets=job_facets, run_facets=run_facets, with_run=with_run
    )
    dependencies = job_dependencies(run_facets, urns.flow.orchestrator, config)
    description = text(mapping(job_facets.get("documentation")).get("description"))
    dagster_job = mapping(job_facets.get("dagster_job"))
    flow_info = DataFlowInfoClass(
        name=urns.flow_name,
        customProperties=run_custom_properties(run_facets, for_flow=True),
        description=description,
        externalUrl=text(dagster_job.get("jobUrl")),
    )
    job_info = DataJobInfoClass(
        name=urns.job_name,
        type=job_aspects.job_type(job_facets, urns.flow.orchestrator),
        flowUrn=urns.flow_str,
        customProperties={
            **run_custom_properties(run_facets, for_flow=False),
            **job_aspects.source_code_properties(job_facets),
            **dependencies.custom_properties,
        },
        created=TimeStampClass(time=millis),
        description=description,
        externalUrl=job_aspects.source_code_url(job_facets) or text(dagster_job.get("jobUrl")),
    )
    status = StatusClass(removed=False)
    instance = None
    if config.platform_instance:
        platform = DataPlatformUrn(urns.flow.orchestrator)
        instance = DataPlatformInstanceClass(
            platform=str(platform),
            instance=str(DataPlatformInstanceUrn(platform, config.platform_instance)),
        )
    flow, job = urns.flow_str, urns.job_str
    out = aspects.upserts(flow, [flow_info, status, instance])
    if job is not None:
        out += aspects.upserts(job, [instance])
    out += aspects.upserts(flow, [job_aspects.version_info(run_facets)])
    if job is not None:
        out += aspects.upserts(job, [job_info, status])
        out += _job_patches(job, job_facets, run_facets)
        subtypes = job_aspects.subtypes(job_facets) if config.emit_job_subtypes else None
        out += aspects.upserts(job, [subtypes, job_aspects.transform_logic(job_facets)])
    out += _flow_tags(flow, run_facets)
    plan = plan_datasets(data, config)
    out += dataset_proposals(plan, config)
    out += plugin_dataset_lineage(plan, config)  # only in the datahub-dagster-plugin scheme
    sql = mapping(job_facets.get("sql")).get("query")
    sql = sql if isinstance(sql, str) else None
    if job is not None:
        # A flow has no inputs/outputs aspect; a plugin-scheme job run keeps its datasets
        # on the run instance below.
        lineage = job_lineage_patch(job, plan, millis, sql, config, dependencies.upstream)
        if not lineage and not with_run:
            # DataHub's newest converter: a JobEvent states the job's whole lineage, so one
            # without datasets writes an empty inputs/outputs aspect.
            lineage = aspects.upserts(job, [job_aspects.empty_input_output()])
        out += lineage
    run_id = str(mapping(data.get("run")).get("runId")) if with_run else None
    out += dataset_extras(
        plan,
        orchestrator=urns.flow.orchestrator,
        run_id=run_id,
        millis=millis,
        sql=sql,
        run_facets=run_facets,
    )
    if with_run:
        out += _instance(data, urns, plan, run_facets, millis)
    return out


def _flow_tags(flow: str, run_facets: Mapping[str, Any]) -> list[Proposal]:
    tags = aspects.airflow_dag_tags(run_facets)
    if tags is None:
        return []
    if not tags.tags:
        return aspects.upserts(flow, [tags])  # what DataHub's converter writes
    return [patches.tags_patch("dataFlow", flow, [t.tag for t in tags.tags])]


def _job_patches(
    job: str, job_facets: Mapping[str, Any], run_facets: Mapping[str, Any]
) -> list[Proposal]:
    """Ownership, then tags (the job's ``tags`` facet, then the run's): one PATCH proposal per
    aspect that has something to add."""
    out: list[Proposal] = []
    owners = aspects.owners(mapping(job_facets.get("ownership")))
    if owners:
        builder = DataJobPatchBuilder(job)
        for owner in owners:
            builder.add_owner(owner)
        out += builder.build()
    tags = aspects.facet_tag_urns(mapping(job_facets.get("tags")), mapping(run_facets.get("tags")))
    if tags:
        out.append(patches.tags_patch("dataJob", job, tags))
    return out


def _instance(
    data: Mapping[str, Any],
    urns: Entities,
    plan: DatasetPlan,
    run_facets: Mapping[str, Any],
    millis: int,
) -> list[Proposal]:
    assert urns.instance is not None  # event_entities gives every run event an instance
    properties = DataProcessInstancePropertiesClass(
        name=urns.instance_name,
        created=AuditStampClass(
            time=job_aspects.instance_created(run_facets, millis), actor=DATAHUB_ACTOR
        ),
        customProperties=instance_custom_properties(run_facets),
        externalUrl=text(mapping(run_facets.get("dagster_run")).get("runUrl")),
    )
    relationships = DataProcessInstanceRelationshipsClass(
        parentTemplate=urns.job_str if urns.job_str is not None else urns.flow_str,
        upstreamInstances=[],
        parentInstance=str(urns.parent_instance) if urns.parent_instance else None,
    )
    event_type = text(data.get("eventType")) or "OTHER"
    return aspects.upserts(
        urns.instance,
        [
            DataProcessInstanceInputClass(inputs=[d.urn_str for d in plan.inputs]),
            DataProcessInstanceOutputClass(outputs=[d.urn_str for d in plan.outputs]),
            properties,
            aspects.run_event(event_type, millis, aspects.facet_failure(run_facets, event_type)),
            relationships,
        ],
    )


def _convert_dataset_event(data: Mapping[str, Any], config: ConverterConfig) -> list[Proposal]:
    parse_time(data.get("eventTime"), "eventTime")
    dataset = mapping(data.get("dataset"))
    plan = plan_datasets({"outputs": [dataset]}, config)
    if not plan.outputs:
        raise ConversionError("dataset.namespace and dataset.name must be non-empty strings")
    out = dataset_proposals(plan, config, dataset_event=True)
    return out + hierarchy_proposals(dataset, plan.outputs[0].urn)
