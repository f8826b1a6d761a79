"""Custom properties of DataFlow, DataJob and DataProcessInstance, taken from OL facets.

The keys and values are those DataHub's converter writes, so both paths show the same
properties; ``dagster_run`` is ours and only adds keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ol_bridge.datahub.olevent import java_string, mapping, parse_time

_ENGINE_KEYS = (
    ("name", "processingEngine"),
    ("version", "processingEngineVersion"),
    ("openlineageAdapterVersion", "openlineageAdapterVersion"),
)
_SPARK_JOB_KEYS = ("jobId", "jobDescription", "jobGroup", "jobCallSite")
_FACET_META = ("_producer", "_schemaURL", "_deleted")
_DAGSTER_RUN_KEYS = (
    "dagsterRunId", "jobName", "codeLocation", "repositoryName", "partitionKey",
    "partitionRangeStart", "partitionRangeEnd", "backfillId", "scheduleName", "sensorName",
    "stepKey", "attempt",
    # issue 11: a re-execution's original run and the first run of its chain
    "parentRunId", "rootRunId",
)  # fmt: skip


def _flatten(source: Mapping[str, Any], into: dict[str, str]) -> None:
    # DataHub flattens nested objects into one level; a later key overwrites an earlier one.
    for key, value in source.items():
        if isinstance(value, Mapping):
            _flatten(value, into)
        elif value is not None:
            into[key] = java_string(value)


def _without_null_members(value: Any) -> Any:
    # org.json's JSONObject, which DataHub serializes this facet with, drops null members.
    if isinstance(value, Mapping):
        return {k: _without_null_members(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_null_members(v) for v in value]
    return value


def _facet_body(facet: Mapping[str, Any]) -> Any:
    return _without_null_members({k: v for k, v in facet.items() if k not in _FACET_META})


#: The run facets :func:`run_custom_properties` reads, besides ``processing_engine``.
_PROPERTY_RUN_FACETS = frozenset(
    (
        "spark_jobDetails",
        "spark_version",
        "spark_properties",
        "airflow",
        "spark.logicalPlan",
        "unknownSourceAttribute",
    )
)


def run_custom_properties(run_facets: Mapping[str, Any], *, for_flow: bool) -> dict[str, str]:
    """DataFlow (``for_flow``) or DataJob custom properties from the run facets."""
    props: dict[str, str] = {}
    engine = mapping(run_facets.get("processing_engine"))
    for facet_key, prop in _ENGINE_KEYS:
        if isinstance(engine.get(facet_key), str):
            props[prop] = engine[facet_key]
    for key, raw in run_facets.items():
        if key not in _PROPERTY_RUN_FACETS:
            continue  # most facets (dagster_run, parent, tags, ...) add nothing here
        facet = mapping(raw)
        if key == "spark_jobDetails":
            props.update(
                {k: java_string(facet[k]) for k in _SPARK_JOB_KEYS if facet.get(k) is not None}
            )
        elif key == "spark_version":
            for k in ("spark-version", "openlineage-spark-version"):
                if isinstance(facet.get(k), str):
                    props[k] = facet[k]
        elif key == "spark_properties":
            _flatten(mapping(facet.get("properties")), props)
        elif key == "airflow":
            _flatten(mapping(facet.get("dag" if for_flow else "task")), props)
        elif key == "spark.logicalPlan" and for_flow:
            props[key] = json.dumps(_facet_body(facet), separators=(",", ":"), ensure_ascii=False)
        elif key == "unknownSourceAttribute" and not for_flow:
            items = facet.get("unknownItems")
            for item in items if isinstance(items, list) else ():
                _flatten(mapping(item), props)
    return props


def instance_custom_properties(run_facets: Mapping[str, Any]) -> dict[str, str]:
    """DataProcessInstance custom properties: nominal time, error, environment, extraction
    errors, Dagster run. (DataHub's newest converter writes ``externalQuery`` on the
    outputs' operations instead.)"""
    props: dict[str, str] = {}
    nominal = mapping(run_facets.get("nominalTime"))
    for key in ("nominalStartTime", "nominalEndTime"):
        if isinstance(nominal.get(key), str):
            props[key] = parse_time(nominal[key], f"run.facets.nominalTime.{key}").java_string()
    error = mapping(run_facets.get("errorMessage"))
    for key in ("message", "programmingLanguage", "stackTrace"):
        if isinstance(error.get(key), str):
            props["errorMessage" if key == "message" else key] = error[key]
    _environment_properties(mapping(run_facets.get("environmentVariables")), props)
    _extraction_error_properties(mapping(run_facets.get("extractionError")), props)
    dagster_run = mapping(run_facets.get("dagster_run"))
    for key in _DAGSTER_RUN_KEYS:
        value = dagster_run.get(key)
        if value is not None:
            props[key] = java_string(value)
    return props


#: Parts of an environment variable's name that make DataHub's converter redact its value.
_SENSITIVE_NAME_PARTS = (
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "PWD",
    "KEY",
    "CREDENTIAL",
    "AUTH",
)


def _environment_properties(facet: Mapping[str, Any], props: dict[str, str]) -> None:
    """``env.<NAME>`` for each variable of ``environmentVariables``; values of names that
    look secret are ``[REDACTED]``, as DataHub writes them."""
    variables = facet.get("environmentVariables")
    for raw in variables if isinstance(variables, list) else ():
        variable = mapping(raw)
        name, value = variable.get("name"), variable.get("value")
        if not isinstance(name, str) or value is None:
            continue
        secret = any(part in name.upper() for part in _SENSITIVE_NAME_PARTS)
        props[f"env.{name}"] = "[REDACTED]" if secret else java_string(value)


def _extraction_error_properties(facet: Mapping[str, Any], props: dict[str, str]) -> None:
    """``extractionError.totalTasks`` / ``failedTasks`` / ``errors`` (a JSON array)."""
    for key in ("totalTasks", "failedTasks"):
        if facet.get(key) is not None:
            props[f"extractionError.{key}"] = java_string(facet[key])
    errors = facet.get("errors")
    if isinstance(errors, list) and errors:
        keys = ("errorMessage", "stackTrace", "task", "taskNumber")
        rows = [{k: mapping(e)[k] for k in keys if mapping(e).get(k) is not None} for e in errors]
        props["extractionError.errors"] = json.dumps(
            rows, separators=(",", ":"), ensure_ascii=False
        )
