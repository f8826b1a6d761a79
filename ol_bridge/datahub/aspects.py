"""Small builders of single DataHub aspects and patches from OL facets (pure, no I/O)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    AuditStampClass,
    DataProcessInstanceRunEventClass,
    DataProcessInstanceRunResultClass,
    DataProcessRunStatusClass,
    EdgeClass,
    GlobalTagsClass,
    MetadataChangeProposalClass,
    OperationClass,
    OperationTypeClass,
    OwnerClass,
    OwnershipTypeClass,
    PartitionSpecClass,
    PartitionTypeClass,
    RunResultTypeClass,
    TagAssociationClass,
)
from datahub.metadata.urns import CorpUserUrn, TagUrn, Urn

from ol_bridge.datahub.olevent import java_string, mapping, text

#: One DataHub change as the converter makes it and the sinks write it: a typed
#: ``MetadataChangeProposalWrapper`` for an UPSERT, or a raw ``MetadataChangeProposalClass``
#: whose aspect is a JSON patch from DataHub's patch builders (a PATCH has no typed aspect).
Proposal = MetadataChangeProposalWrapper | MetadataChangeProposalClass

DATAHUB_ACTOR = "urn:li:corpuser:datahub"
#: Actor of the lineage edges DataHub's converter writes through its patch builder.
EDGE_ACTOR = "urn:li:corpuser:UNKNOWN"

_OPERATION_TYPES = {
    "CREATE": OperationTypeClass.CREATE,
    "DROP": OperationTypeClass.DROP,
    "ALTER": OperationTypeClass.ALTER,
    "OVERWRITE": OperationTypeClass.UPDATE,
    "TRUNCATE": OperationTypeClass.DELETE,
}


def full_table() -> PartitionSpecClass:
    """The schema default ``partitionSpec`` of timeseries aspects, built directly: leaving it
    out makes acryl-datahub build it from the avro schema's JSON default on every call."""
    return PartitionSpecClass(partition="FULL_TABLE_SNAPSHOT", type=PartitionTypeClass.FULL_TABLE)


def edge(urn: Urn, millis: int) -> EdgeClass:
    """A lineage edge stamped with the event time (DataHub stamps the wall clock)."""
    stamp = AuditStampClass(time=millis, actor=EDGE_ACTOR)
    return EdgeClass(destinationUrn=str(urn), created=stamp, lastModified=stamp)


def facet_failure(run_facets: Mapping[str, Any]) -> str | None:
    """The native result type of a run its facets report as failed, as DataHub's newest
    converter reads them: ``EXTRACTION_ERROR`` when ``extractionError`` counts failed tasks
    or lists errors, else ``ERROR_MESSAGE`` when ``errorMessage`` has a message or stack."""
    extraction = mapping(run_facets.get("extractionError"))
    failed, errors = extraction.get("failedTasks"), extraction.get("errors")
    if (isinstance(failed, int) and failed > 0) or (isinstance(errors, list) and errors):
        return "EXTRACTION_ERROR"
    error = mapping(run_facets.get("errorMessage"))
    if any(isinstance(error.get(k), str) and error[k].strip() for k in ("message", "stackTrace")):
        return "ERROR_MESSAGE"
    return None


def run_event(
    event_type: str, millis: int, failure: str | None = None
) -> DataProcessInstanceRunEventClass | None:
    """Run event of an OL event type; None for OTHER, which has no DataHub run status.

    ``failure`` (:func:`facet_failure`) makes any event but an ABORT a FAILURE with that
    native type, as in DataHub's converter; a cancelled run stays SKIPPED.
    """
    if failure is not None and event_type != "ABORT":
        return DataProcessInstanceRunEventClass(
            timestampMillis=millis,
            partitionSpec=full_table(),
            status=DataProcessRunStatusClass.COMPLETE,
            result=DataProcessInstanceRunResultClass(
                type=RunResultTypeClass.FAILURE, nativeResultType=failure
            ),
        )
    if event_type in ("START", "RUNNING"):
        return DataProcessInstanceRunEventClass(
            timestampMillis=millis,
            status=DataProcessRunStatusClass.STARTED,
            partitionSpec=full_table(),
        )
    result = {
        "COMPLETE": RunResultTypeClass.SUCCESS,
        "FAIL": RunResultTypeClass.FAILURE,
        # A cancelled run did not fail; DataHub's converter reports FAILURE here.
        "ABORT": RunResultTypeClass.SKIPPED,
    }.get(event_type)
    if result is None:
        return None
    return DataProcessInstanceRunEventClass(
        timestampMillis=millis,
        partitionSpec=full_table(),
        status=DataProcessRunStatusClass.COMPLETE,
        result=DataProcessInstanceRunResultClass(type=result, nativeResultType=event_type),
    )


def owner_urn(name: str) -> str:
    """An OL owner name as a DataHub owner URN (URNs are kept, other names become corpusers)."""
    return name if name.startswith("urn:li:") else str(CorpUserUrn(name))


def owners(facet: Mapping[str, Any]) -> list[OwnerClass]:
    """Owners of an OL ``ownership`` facet, as TECHNICAL_OWNER like DataHub's converter."""
    raw = facet.get("owners")
    names = (text(mapping(o).get("name")) for o in (raw if isinstance(raw, list) else ()))
    return [
        OwnerClass(owner=owner_urn(n), type=OwnershipTypeClass.TECHNICAL_OWNER) for n in names if n
    ]


def facet_tags(facet: Mapping[str, Any]) -> list[TagAssociationClass]:
    """Tags of an OL ``tags`` facet: ``key`` or ``key:value`` tag URNs."""
    raw = facet.get("tags")
    tags = []
    for item in raw if isinstance(raw, list) else ():
        key, value = text(mapping(item).get("key")), mapping(item).get("value")
        if key is None:
            continue
        name = key if value in (None, "", True, "true") else f"{key}:{java_string(value)}"
        tags.append(TagAssociationClass(tag=str(TagUrn(name))))
    return tags


def airflow_dag_tags(run_facets: Mapping[str, Any]) -> GlobalTagsClass | None:
    """DataFlow tags from the Airflow run facet's ``dag.tags`` (a Python list literal)."""
    raw = mapping(mapping(run_facets.get("airflow")).get("dag")).get("tags")
    if not isinstance(raw, str):
        return None
    try:
        names = json.loads(raw.replace("'", '"'))
    except json.JSONDecodeError:
        return None  # DataHub's converter also skips tags it cannot parse
    if not isinstance(names, list):
        return None
    ordered = sorted((str(n) for n in names), key=str.lower)
    return GlobalTagsClass(tags=[TagAssociationClass(tag=str(TagUrn(n))) for n in ordered])


def operation(dataset: Mapping[str, Any], millis: int) -> OperationClass | None:
    """``operation`` of an output from its ``lifecycleStateChange`` / ``outputStatistics``."""
    lifecycle = text(
        mapping(mapping(dataset.get("facets")).get("lifecycleStateChange")).get(
            "lifecycleStateChange"
        )
    )
    stats = mapping(mapping(dataset.get("outputFacets")).get("outputStatistics"))
    if lifecycle is None and not stats:
        return None
    props: dict[str, str] = {}
    if lifecycle is not None:
        props["lifecycleStateChange"] = lifecycle
    if stats.get("size") is not None:
        props["sizeInBytes"] = java_string(stats["size"])
    row_count = stats.get("rowCount")
    op_type = _OPERATION_TYPES.get(lifecycle or "", OperationTypeClass.UPDATE)
    custom = None
    if lifecycle is not None and lifecycle not in _OPERATION_TYPES:
        op_type, custom = OperationTypeClass.CUSTOM, lifecycle
    return OperationClass(
        timestampMillis=millis,
        partitionSpec=full_table(),
        lastUpdatedTimestamp=millis,
        actor=DATAHUB_ACTOR,
        operationType=op_type,
        customOperationType=custom,
        customProperties=props,
        numAffectedRows=row_count if isinstance(row_count, int) else None,
    )


def upserts(urn: Urn | str, aspects: Iterable[Any]) -> list[Proposal]:
    """UPSERT wrappers for the non-None aspects, in order."""
    return [
        MetadataChangeProposalWrapper(entityUrn=str(urn), aspect=a)
        for a in aspects
        if a is not None
    ]
