"""Small builders of single DataHub aspects and patches from OL facets (pure, no I/O)."""

from __future__ import annotations

import functools
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
    OwnershipSourceClass,
    OwnershipSourceTypeClass,
    OwnershipTypeClass,
    PartitionSpecClass,
    PartitionTypeClass,
    RunResultTypeClass,
    TagAssociationClass,
)
from datahub.metadata.urns import CorpUserUrn, TagUrn, Urn

from ol_bridge._compat.datahub import upserts_of
from ol_bridge.datahub.olevent import java_string, mapping, text

#: One DataHub change as the converter makes it and the sinks write it: a typed
#: ``MetadataChangeProposalWrapper`` for an UPSERT, or a raw ``MetadataChangeProposalClass``
#: whose aspect is a JSON patch from DataHub's patch builders (a PATCH has no typed aspect).
Proposal = MetadataChangeProposalWrapper | MetadataChangeProposalClass

DATAHUB_ACTOR = "urn:li:corpuser:datahub"
#: Actor of the lineage edges DataHub's converter writes through its patch builder.
EDGE_ACTOR = "urn:li:corpuser:UNKNOWN"


def full_table() -> PartitionSpecClass:
    """The schema default ``partitionSpec`` of timeseries aspects, built directly: leaving it
    out makes acryl-datahub build it from the avro schema's JSON default on every call."""
    return PartitionSpecClass(partition="FULL_TABLE_SNAPSHOT", type=PartitionTypeClass.FULL_TABLE)


def edge(urn: Urn, millis: int) -> EdgeClass:
    """A lineage edge stamped with the event time (DataHub stamps the wall clock)."""
    stamp = AuditStampClass(time=millis, actor=EDGE_ACTOR)
    return EdgeClass(destinationUrn=str(urn), created=stamp, lastModified=stamp)


#: Event types whose run did not fail: an ``extractionError`` on them is ol-bridge's (or
#: another producer's) trouble reading the lineage, not the run's, so it leaves the result alone.
UNFAILED_EVENT_TYPES = frozenset({"START", "RUNNING", "COMPLETE"})


def facet_failure(run_facets: Mapping[str, Any], event_type: str) -> str | None:
    """The native result type of a run its facets report as failed, as DataHub's newest
    converter reads them: ``EXTRACTION_ERROR`` when ``extractionError`` counts failed tasks
    or lists errors, else ``ERROR_MESSAGE`` when ``errorMessage`` has a message or stack.

    Deliberate difference (docs/datahub-mapping.md): ``extractionError`` decides nothing on a
    START, RUNNING or COMPLETE event. A step that succeeded but whose SQL did not parse
    succeeded; the errors stay visible as the run's ``extractionError.*`` properties.
    """
    extraction = mapping(run_facets.get("extractionError"))
    failed, errors = extraction.get("failedTasks"), extraction.get("errors")
    extraction_failed = (isinstance(failed, int) and failed > 0) or (
        isinstance(errors, list) and bool(errors)
    )
    if extraction_failed and event_type not in UNFAILED_EVENT_TYPES:
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


_OWNERSHIP_TYPES = frozenset(
    v for k, v in vars(OwnershipTypeClass).items() if k.isupper() and isinstance(v, str)
)


def ownership_type(facet_type: object) -> str:
    """DataHub's ``mapOwnershipType``: the owner's ``type`` when it names a DataHub ownership
    type (case-insensitive), else TECHNICAL_OWNER."""
    name = facet_type.strip().upper() if isinstance(facet_type, str) else ""
    return name if name in _OWNERSHIP_TYPES else OwnershipTypeClass.TECHNICAL_OWNER


def owners(facet: Mapping[str, Any]) -> list[OwnerClass]:
    """Owners of an OL ``ownership`` facet, typed and sourced as DataHub's newest converter
    does (``type`` mapped, source SERVICE)."""
    raw = facet.get("owners")
    out = []
    for item in raw if isinstance(raw, list) else ():
        owner = mapping(item)
        name = text(owner.get("name"))
        if name:
            out.append(
                OwnerClass(
                    owner=owner_urn(name),
                    type=ownership_type(owner.get("type")),
                    source=OwnershipSourceClass(type=OwnershipSourceTypeClass.SERVICE),
                )
            )
    return out


def facet_tags(*facets: Mapping[str, Any]) -> list[TagAssociationClass]:
    """Tags of OL ``tags`` facets as DataHub's newest converter names them: the ``key`` (the
    ``value`` when there is no key); each facet's tags sorted case-insensitively, repeats
    dropped (``generateFacetTags`` and ``mergeGlobalTags``)."""
    return [TagAssociationClass(tag=urn) for urn in facet_tag_urns(*facets)]


def facet_tag_urns(*facets: Mapping[str, Any]) -> list[str]:
    """The tag URNs of :func:`facet_tags`, for the patches that need only those."""
    seen: dict[str, None] = {}
    for facet in facets:
        raw = facet.get("tags")
        names = []
        for item in raw if isinstance(raw, list) else ():
            tag = mapping(item)
            key = tag.get("key")
            name = key if isinstance(key, str) else tag.get("value")
            if isinstance(name, str) and name:
                names.append(name)
        for name in sorted(names, key=str.lower):
            seen.setdefault(_tag_urn(name))
    return list(seen)


@functools.lru_cache(maxsize=4096)
def _tag_urn(name: str) -> str:
    # TagUrn checks and encodes its name; a run's tags repeat on every event of the run.
    return str(TagUrn(name))


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


_EXTERNAL_QUERY_PROPERTIES = (
    ("externalQueryId", "externalQueryId"),
    ("source", "externalQuerySource"),
)


def _operation(millis: int, kind: str, rows: object, props: dict[str, str]) -> OperationClass:
    return OperationClass(
        timestampMillis=millis,
        partitionSpec=full_table(),
        lastUpdatedTimestamp=millis,
        actor=DATAHUB_ACTOR,
        operationType=OperationTypeClass.CUSTOM,
        customOperationType=kind,
        customProperties=props or None,
        numAffectedRows=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
    )


def _statistics_properties(stats: Mapping[str, Any], props: dict[str, str]) -> None:
    if stats.get("size") is not None:
        props["numAffectedBytes"] = java_string(stats["size"])
    if stats.get("fileCount") is not None:
        props["fileCount"] = java_string(stats["fileCount"])


def input_operation(dataset: Mapping[str, Any], millis: int) -> OperationClass | None:
    """A CUSTOM ``READ`` operation from an input's ``inputStatistics`` (DataHub's newest
    converter: rows read, ``numAffectedBytes``, ``fileCount``)."""
    stats = mapping(dataset.get("inputFacets")).get("inputStatistics")
    if not isinstance(stats, Mapping):
        return None
    props: dict[str, str] = {}
    _statistics_properties(stats, props)
    return _operation(millis, "READ", stats.get("rowCount"), props)


def output_operation(
    dataset: Mapping[str, Any], sql: str | None, run_facets: Mapping[str, Any], millis: int
) -> OperationClass | None:
    """A CUSTOM ``WRITE`` operation of an output, as DataHub's newest converter writes one
    when the output has ``outputStatistics`` or the job SQL / an external query: the
    query as ``queryStatement``, ``externalQueryId`` / ``externalQuerySource``, rows written,
    ``numAffectedBytes``, ``fileCount``."""
    stats = mapping(dataset.get("outputFacets")).get("outputStatistics")
    props: dict[str, str] = {}
    if sql is not None:
        props["queryStatement"] = sql
    query = mapping(run_facets.get("externalQuery"))
    for facet_key, prop in _EXTERNAL_QUERY_PROPERTIES:
        if isinstance(query.get(facet_key), str):
            props[prop] = query[facet_key]
    if not isinstance(stats, Mapping) and not props:
        return None
    stats = stats if isinstance(stats, Mapping) else {}
    _statistics_properties(stats, props)
    return _operation(millis, "WRITE", stats.get("rowCount"), props)


def upserts(urn: Urn | str, aspects: Iterable[Any]) -> list[Proposal]:
    """UPSERT wrappers for the non-None aspects, in order."""
    present = [a for a in aspects if a is not None]
    if not present:
        return []  # e.g. no subtypes, no platform instance: nothing to look up
    proposals: list[Proposal] = []
    proposals += upserts_of(str(urn), present)
    return proposals
