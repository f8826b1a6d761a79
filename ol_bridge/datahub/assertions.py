"""Input ``dataQualityAssertions`` -> DataHub assertion entities and their run results.

DataHub's newest OpenLineage converter (``OpenLineageRunMapper.processDataQualityAssertions``)
makes one assertion per (dataset, column, assertion) of an input's facet:

* URN ``urn:li:assertion:<id>``, ``id`` the name-based UUID (Java's
  ``UUID.nameUUIDFromBytes``: MD5, version 3) of ``<dataset urn>:<column or "">:<assertion>``;
* ``assertionKey``, ``assertionInfo`` (type CUSTOM, source EXTERNAL, the dataset and the
  column's schema field, the assertion as logic and description), ``dataPlatformInstance``
  (the DataFlow's orchestrator as platform);
* for a run (not a JobEvent) and a known ``success``, one ``assertionRunEvent``
  (COMPLETE, SUCCESS or FAILURE, the OL run id, the event time).

We write the same, and add what the facet carries beyond ``assertion``/``column``/
``success`` (Dagster checks and dbt tests fill it): the check's ``description`` replaces
the assertion name as description, ``name``/``severity``/``contentType`` become custom
properties, ``content`` the logic, ``expected``/``actual`` the run event's native results.
URNs never depend on those additions, so DataHub's endpoint and we name the same assertion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datahub.metadata.schema_classes import (
    AssertionInfoClass,
    AssertionKeyClass,
    AssertionResultClass,
    AssertionResultTypeClass,
    AssertionRunEventClass,
    AssertionRunStatusClass,
    AssertionSourceClass,
    AssertionSourceTypeClass,
    AssertionTypeClass,
    CustomAssertionInfoClass,
    DataPlatformInstanceClass,
)
from datahub.metadata.urns import AssertionUrn, DataPlatformUrn, SchemaFieldUrn

from ol_bridge.datahub import aspects
from ol_bridge.datahub.aspects import Proposal
from ol_bridge.datahub.datasets import PlannedDataset
from ol_bridge.datahub.olevent import java_name_uuid, java_string, mapping, text

#: ``customAssertion.type`` of every assertion DataHub's converter makes.
ASSERTION_TYPE = "OpenLineage Data Quality Assertion"
#: Facet members we copy into the assertion's custom properties (our addition).
_INFO_PROPERTIES = ("name", "severity", "contentType")
#: Facet members we copy into the run event's native results (our addition).
_RESULT_PROPERTIES = ("expected", "actual", "severity")


def assertion_id(dataset_urn: str, column: str | None, assertion: str) -> str:
    """The assertion id DataHub's converter derives for ``assertion`` on a dataset column."""
    return java_name_uuid(f"{dataset_urn}:{column or ''}:{assertion}")


def assertion_proposals(
    dataset: PlannedDataset,
    *,
    orchestrator: str,
    run_id: str | None,
    millis: int,
) -> list[Proposal]:
    """Assertion entities (and, when ``run_id`` is given, run results) of one input.

    ``run_id`` is None for a JobEvent, which has no run to report results for.
    """
    facet = mapping(mapping(dataset.raw.get("inputFacets")).get("dataQualityAssertions"))
    raw = facet.get("assertions")
    out: list[Proposal] = []
    for item in raw if isinstance(raw, list) else ():
        assertion = mapping(item)
        logic = text(assertion.get("assertion"))
        if logic is None or not logic.strip():
            continue  # DataHub's converter skips nameless assertions too
        column = assertion.get("column") if isinstance(assertion.get("column"), str) else None
        urn = AssertionUrn(assertion_id(dataset.urn_str, column, logic))
        out += aspects.upserts(
            urn,
            [
                AssertionKeyClass(assertionId=urn.assertion_id),
                _info(dataset, assertion, logic, column),
                DataPlatformInstanceClass(platform=str(DataPlatformUrn(orchestrator))),
            ],
        )
        success = assertion.get("success")
        if run_id is not None and isinstance(success, bool):
            out += aspects.upserts(urn, [_run_event(dataset, assertion, urn, run_id, millis)])
    return out


def _info(
    dataset: PlannedDataset, assertion: Mapping[str, Any], logic: str, column: str | None
) -> AssertionInfoClass:
    field = str(SchemaFieldUrn(dataset.urn, column)) if column and column.strip() else None
    properties = {
        key: java_string(assertion[key])
        for key in _INFO_PROPERTIES
        if text(assertion.get(key)) is not None
    }
    return AssertionInfoClass(
        type=AssertionTypeClass.CUSTOM,
        description=text(assertion.get("description")) or logic,
        source=AssertionSourceClass(type=AssertionSourceTypeClass.EXTERNAL),
        customAssertion=CustomAssertionInfoClass(
            type=ASSERTION_TYPE,
            entity=dataset.urn_str,
            field=field,
            logic=text(assertion.get("content")) or logic,
        ),
        customProperties=properties,
    )


def _run_event(
    dataset: PlannedDataset,
    assertion: Mapping[str, Any],
    urn: AssertionUrn,
    run_id: str,
    millis: int,
) -> AssertionRunEventClass:
    native = {
        key: java_string(assertion[key])
        for key in _RESULT_PROPERTIES
        if assertion.get(key) is not None
    }
    result = AssertionResultClass(
        type=AssertionResultTypeClass.SUCCESS
        if assertion["success"]
        else AssertionResultTypeClass.FAILURE,
        nativeResults=native or None,
    )
    return AssertionRunEventClass(
        timestampMillis=millis,
        runId=run_id,
        asserteeUrn=dataset.urn_str,
        status=AssertionRunStatusClass.COMPLETE,
        result=result,
        assertionUrn=str(urn),
        partitionSpec=aspects.full_table(),
    )
