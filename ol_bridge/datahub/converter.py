"""OpenLineage event -> DataHub metadata change proposals. Pure: no I/O, no clock.

The output follows DataHub's own OpenLineage converter (the one behind GMS's
``/openapi/openlineage/api/v1/lineage``) aspect for aspect and in the same order, so the same
event gives the same entities through either path. ``docs/datahub-mapping.md`` has the mapping
table and the deliberate differences.

Lineage is written as PATCH (edges and fine-grained lineage are added, never replaced), so a
COMPLETE event does not wipe what its START set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datahub.emitter.mcp_patch_builder import MetadataPatchProposal
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
    SubTypesClass,
    TimeStampClass,
)
from datahub.metadata.urns import (
    DataPlatformInstanceUrn,
    DataPlatformUrn,
    DataProcessInstanceUrn,
)
from datahub.specific.aspect_helpers.tags import HasTagsPatch
from datahub.specific.datajob import DataJobPatchBuilder

from ol_bridge.datahub import aspects
from ol_bridge.datahub.aspects import DATAHUB_ACTOR, Proposal
from ol_bridge.datahub.config import DEFAULT_CONFIG, ConverterConfig
from ol_bridge.datahub.datasets import (
    DatasetPlan,
    dataset_proposals,
    job_lineage_patch,
    plan_datasets,
)
from ol_bridge.datahub.job_urns import JobUrns, job_urns, orchestrator
from ol_bridge.datahub.olevent import (
    as_event_dict,
    check_run_id,
    mapping,
    parse_time,
    text,
)
from ol_bridge.datahub.properties import (
    instance_custom_properties,
    job_type_properties,
    run_custom_properties,
)
from ol_bridge.errors import ConversionError


class _DataFlowTagsPatch(HasTagsPatch, MetadataPatchProposal):
    """Tag patches on a DataFlow (acryl-datahub has no DataFlow patch builder)."""


_SUBTYPE_NAMES = {"JOB": "Job", "TASK": "Task", "ASSET": "Asset", "DAG": "DAG", "QUERY": "Query"}


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


def _urns(
    data: Mapping[str, Any], config: ConverterConfig, run_facets: Mapping[str, Any]
) -> JobUrns:
    namespace, name, job_facets = _job_of(data)
    orchestrator_name = orchestrator(
        config,
        text(mapping(job_facets.get("jobType")).get("integration")),
        text(mapping(run_facets.get("processing_engine")).get("name")),
        text(data.get("producer")),
    )
    return job_urns(namespace, name, orchestrator_name, config)


def _convert_job(
    data: Mapping[str, Any],
    config: ConverterConfig,
    *,
    run_facets: Mapping[str, Any],
    with_run: bool,
) -> list[Proposal]:
    millis = parse_time(data.get("eventTime"), "eventTime").epoch_millis
    _, _, job_facets = _job_of(data)
    urns = _urns(data, config, run_facets)
    description = text(mapping(job_facets.get("documentation")).get("description"))
    dagster_job = mapping(job_facets.get("dagster_job"))
    job_url = text(mapping(job_facets.get("sourceCodeLocation")).get("url")) or text(
        dagster_job.get("jobUrl")
    )
    flow_info = DataFlowInfoClass(
        name=urns.flow_name,
        customProperties=run_custom_properties(run_facets, for_flow=True),
        description=description,
        externalUrl=text(dagster_job.get("jobUrl")),
    )
    job_info = DataJobInfoClass(
        name=urns.job_display_name,
        type=urns.flow.orchestrator,
        flowUrn=str(urns.flow),
        customProperties={
            **run_custom_properties(run_facets, for_flow=False),
            **job_type_properties(job_facets),
        },
        created=TimeStampClass(time=millis),
        description=description,
        externalUrl=job_url,
    )
    status = StatusClass(removed=False)
    instance = None
    if config.platform_instance:
        platform = DataPlatformUrn(urns.flow.orchestrator)
        instance = DataPlatformInstanceClass(
            platform=str(platform),
            instance=str(DataPlatformInstanceUrn(platform, config.platform_instance)),
        )
    out = aspects.upserts(urns.flow, [flow_info, status, instance])
    out += aspects.upserts(urns.job, [instance, job_info, status])
    out += _flow_tags(urns, run_facets)
    out += _job_patches(urns, job_facets)
    if config.emit_job_subtypes:
        job_type = text(mapping(job_facets.get("jobType")).get("jobType"))
        if job_type:
            subtypes = SubTypesClass(typeNames=[_SUBTYPE_NAMES.get(job_type, job_type)])
            out += aspects.upserts(urns.job, [subtypes])
    plan = plan_datasets(data, config)
    out += dataset_proposals(plan, config, millis)
    sql = text(mapping(job_facets.get("sql")).get("query"))
    out += job_lineage_patch(urns.job, plan, millis, sql, config)
    if with_run:
        out += _instance(data, urns, plan, run_facets, millis)
    return out


def _flow_tags(urns: JobUrns, run_facets: Mapping[str, Any]) -> list[Proposal]:
    tags = aspects.airflow_dag_tags(run_facets)
    if tags is None:
        return []
    if not tags.tags:
        return aspects.upserts(urns.flow, [tags])  # what DataHub's converter writes
    builder = _DataFlowTagsPatch(str(urns.flow))
    for tag in tags.tags:
        builder.add_tag(tag)
    return list(builder.build())


def _job_patches(urns: JobUrns, job_facets: Mapping[str, Any]) -> list[Proposal]:
    out: list[Proposal] = []
    owners = aspects.owners(mapping(job_facets.get("ownership")))
    if owners:
        builder = DataJobPatchBuilder(str(urns.job))
        for owner in owners:
            builder.add_owner(owner)
        out += builder.build()
    tags = aspects.facet_tags(mapping(job_facets.get("tags")))
    if tags:
        builder = DataJobPatchBuilder(str(urns.job))
        for tag in tags:
            builder.add_tag(tag)
        out += builder.build()
    return out


def _instance(
    data: Mapping[str, Any],
    urns: JobUrns,
    plan: DatasetPlan,
    run_facets: Mapping[str, Any],
    millis: int,
) -> list[Proposal]:
    run_id = check_run_id(mapping(data.get("run")).get("runId"))
    parent_run_id = text(mapping(mapping(run_facets.get("parent")).get("run")).get("runId"))
    properties = DataProcessInstancePropertiesClass(
        name=run_id,
        created=AuditStampClass(time=millis, actor=DATAHUB_ACTOR),
        customProperties=instance_custom_properties(run_facets),
        externalUrl=text(mapping(run_facets.get("dagster_run")).get("runUrl")),
    )
    relationships = DataProcessInstanceRelationshipsClass(
        parentTemplate=str(urns.job),
        upstreamInstances=[],
        parentInstance=str(DataProcessInstanceUrn(parent_run_id)) if parent_run_id else None,
    )
    event_type = text(data.get("eventType")) or "OTHER"
    return aspects.upserts(
        DataProcessInstanceUrn(run_id),
        [
            DataProcessInstanceInputClass(inputs=[str(u) for u in plan.input_urns]),
            DataProcessInstanceOutputClass(outputs=[str(u) for u in plan.output_urns]),
            properties,
            aspects.run_event(event_type, millis),
            relationships,
        ],
    )


def _convert_dataset_event(data: Mapping[str, Any], config: ConverterConfig) -> list[Proposal]:
    parse_time(data.get("eventTime"), "eventTime")
    plan = plan_datasets({"outputs": [mapping(data.get("dataset"))]}, config)
    if not plan.outputs:
        raise ConversionError("dataset.namespace and dataset.name must be non-empty strings")
    return dataset_proposals(plan, config, millis=None)
