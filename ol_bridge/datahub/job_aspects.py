"""DataFlow, DataJob and run-instance fields DataHub's newest converter takes from job and run
facets (``OpenLineageJobMapper`` / ``OpenLineageRunMapper``). Pure functions of the facets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datahub.metadata.schema_classes import (
    DataJobInputOutputClass,
    DataTransformClass,
    DataTransformLogicClass,
    QueryLanguageClass,
    QueryStatementClass,
    SubTypesClass,
    VersionInfoClass,
)

from ol_bridge.datahub.olevent import mapping, parse_time


def _non_blank(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def job_type(job_facets: Mapping[str, Any], orchestrator: str) -> str:
    """``dataJobInfo.type``: the ``jobType`` facet's ``processingType`` (e.g. ``BATCH``),
    else the orchestrator."""
    return _non_blank(mapping(job_facets.get("jobType")).get("processingType")) or orchestrator


def subtypes(job_facets: Mapping[str, Any]) -> SubTypesClass | None:
    """DataJob ``subTypes``: the ``jobType`` facet's ``jobType`` as sent (``ASSET``, ``TASK``)."""
    name = _non_blank(mapping(job_facets.get("jobType")).get("jobType"))
    return SubTypesClass(typeNames=[name]) if name else None


def source_code_url(job_facets: Mapping[str, Any]) -> str | None:
    """``sourceCodeLocation``'s ``url``, else its ``repoUrl``."""
    location = mapping(job_facets.get("sourceCodeLocation"))
    for member in ("url", "repoUrl"):
        if isinstance(location.get(member), str):
            return str(location[member])
    return None


def source_code_properties(job_facets: Mapping[str, Any]) -> dict[str, str]:
    """``openlineage.sourceCodeLanguage`` from the ``sourceCode`` facet."""
    language = mapping(job_facets.get("sourceCode")).get("language")
    return {"openlineage.sourceCodeLanguage": language} if isinstance(language, str) else {}


def transform_logic(job_facets: Mapping[str, Any]) -> DataTransformLogicClass | None:
    """``dataTransformLogic``: the ``sql`` facet's query (SQL), then the ``sourceCode``
    facet's code (UNKNOWN language)."""
    transforms = []
    for facet, member, language in (
        ("sql", "query", QueryLanguageClass.SQL),
        ("sourceCode", "sourceCode", QueryLanguageClass.UNKNOWN),
    ):
        value = mapping(job_facets.get(facet)).get(member)
        if isinstance(value, str):
            statement = QueryStatementClass(value=value, language=language)
            transforms.append(DataTransformClass(queryStatement=statement))
    return DataTransformLogicClass(transforms=transforms) if transforms else None


def version_info(run_facets: Mapping[str, Any]) -> VersionInfoClass | None:
    """DataFlow ``versionInfo``: the ``processing_engine`` facet's version."""
    version = mapping(run_facets.get("processing_engine")).get("version")
    if not isinstance(version, str) or not version.strip():
        return None
    return VersionInfoClass(version=version, versionType="processing_engine")


def empty_input_output() -> DataJobInputOutputClass:
    """The inputs/outputs aspect DataHub writes for a JobEvent without datasets."""
    return DataJobInputOutputClass(
        inputDatasets=[],
        outputDatasets=[],
        inputDatasetEdges=[],
        outputDatasetEdges=[],
        inputDatajobs=[],
        inputDatajobEdges=[],
        fineGrainedLineages=[],
    )


def instance_created(run_facets: Mapping[str, Any], event_millis: int) -> int:
    """When the run instance was created: ``nominalTime.nominalStartTime``, else the event
    time."""
    start = mapping(run_facets.get("nominalTime")).get("nominalStartTime")
    if isinstance(start, str):
        return parse_time(start, "run.facets.nominalTime.nominalStartTime").epoch_millis
    return event_millis
