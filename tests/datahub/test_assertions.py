"""Data quality assertions (Dagster checks, dbt tests) and job dependencies as DataHub entities."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ol_bridge.datahub import ConverterConfig, convert_event
from ol_bridge.datahub.assertions import assertion_id, java_name_uuid
from tests.datahub.test_converter import STEP_RUN_ID, T0_MS, aspect, step_event

DATASET = "urn:li:dataset:(urn:li:dataPlatform:duckdb,main.public.iris,PROD)"


def test_name_uuid_is_javas() -> None:
    # UUID.nameUUIDFromBytes("hello".getBytes()) in Java
    assert java_name_uuid("hello") == "5d41402a-bc4b-3a76-b971-9d911017c592"
    assert assertion_id(DATASET, None, "not_null") == java_name_uuid(f"{DATASET}::not_null")
    assert assertion_id(DATASET, "a", "x") != assertion_id(DATASET, None, "x")


def checked_event(*assertions: dict[str, Any], event_type: str = "COMPLETE") -> dict[str, Any]:
    event = step_event(event_type)
    event["inputs"][0]["inputFacets"] = {"dataQualityAssertions": {"assertions": list(assertions)}}
    return event


DAGSTER_CHECK = {
    "assertion": "iris_has_rows",
    "success": False,
    "severity": "warn",
    "name": "iris_has_rows",
    "description": "the iris table is not empty",
    "expected": "> 0",
    "actual": "0",
}


def test_a_dagster_check_is_one_assertion_with_its_name_severity_and_description() -> None:
    out = convert_event(checked_event(DAGSTER_CHECK))
    urn = f"urn:li:assertion:{assertion_id(DATASET, None, 'iris_has_rows')}"
    info = aspect(out, urn, "assertionInfo")
    assert info["type"] == "CUSTOM" and info["source"] == {"type": "EXTERNAL"}
    assert info["description"] == "the iris table is not empty"
    assert info["customProperties"] == {"name": "iris_has_rows", "severity": "warn"}
    assert info["customAssertion"] == {
        "type": "OpenLineage Data Quality Assertion",
        "entity": DATASET,
        "logic": "iris_has_rows",
    }
    assert aspect(out, urn, "dataPlatformInstance") == {"platform": "urn:li:dataPlatform:dagster"}
    run = aspect(out, urn, "assertionRunEvent")
    assert (run["runId"], run["asserteeUrn"], run["timestampMillis"]) == (
        STEP_RUN_ID,
        DATASET,
        T0_MS,
    )
    assert run["status"] == "COMPLETE"
    assert run["result"] == {
        "type": "FAILURE",
        "nativeResults": {"expected": "> 0", "actual": "0", "severity": "warn"},
    }


def test_the_same_check_on_a_later_run_is_the_same_assertion_with_a_new_result() -> None:
    first = convert_event(checked_event(DAGSTER_CHECK))
    later_event = checked_event({**DAGSTER_CHECK, "success": True})
    later_event["run"]["runId"] = "3f1b8a2e-1111-5222-8333-444455556667"
    later = convert_event(later_event)
    urns = {str(p.entityUrn) for p in first if "assertion:" in str(p.entityUrn)}
    assert urns == {str(p.entityUrn) for p in later if "assertion:" in str(p.entityUrn)}
    (urn,) = urns
    assert aspect(later, urn, "assertionRunEvent")["result"]["type"] == "SUCCESS"


def test_a_column_check_points_at_the_schema_field() -> None:
    out = convert_event(checked_event({"assertion": "not_null", "column": "a", "success": True}))
    urn = f"urn:li:assertion:{assertion_id(DATASET, 'a', 'not_null')}"
    field = aspect(out, urn, "assertionInfo")["customAssertion"]["field"]
    assert field == f"urn:li:schemaField:({DATASET},a)"


def test_a_job_event_defines_assertions_without_results() -> None:
    event = checked_event(DAGSTER_CHECK)
    del event["run"], event["eventType"]
    out = convert_event(event)
    names = {p.aspectName for p in out if "assertion:" in str(p.entityUrn)}
    assert names == {"assertionKey", "assertionInfo", "dataPlatformInstance"}


def test_job_dependencies_follow_the_platform_instance() -> None:
    event = step_event()
    event["run"]["facets"]["jobDependencies"] = {
        "upstream": [{"job": {"namespace": "dagster", "name": "other_job.step"}}]
    }
    out = convert_event(copy.deepcopy(event), ConverterConfig(platform_instance="prod"))
    job = "urn:li:dataJob:(urn:li:dataFlow:(dagster,iris_job,prod),iris_job.iris_summary)"
    patch = aspect(out, job, "dataJobInputOutput")
    edges = [op for op in patch if op["path"].startswith("/inputDatajobEdges/")]
    upstream = "urn:li:dataJob:(urn:li:dataFlow:(dagster,other_job,prod),other_job.step)"
    assert [op["value"]["destinationUrn"] for op in edges] == [upstream]


def test_extraction_error_leaves_a_completed_run_successful() -> None:
    """A step that succeeded but whose lineage could not be read did not fail (deliberate
    difference from DataHub, which writes FAILURE / EXTRACTION_ERROR); the errors stay."""
    event = step_event(
        extractionError={"totalTasks": 2, "failedTasks": 1, "errors": [{"errorMessage": "bad"}]}
    )
    out = convert_event(event)
    dpi = f"urn:li:dataProcessInstance:{STEP_RUN_ID}"
    run_event = aspect(out, dpi, "dataProcessInstanceRunEvent")
    assert run_event["status"] == "COMPLETE"
    assert run_event["result"] == {"type": "SUCCESS", "nativeResultType": "COMPLETE"}
    props = aspect(out, dpi, "dataProcessInstanceProperties")["customProperties"]
    assert props["extractionError.errors"] == '[{"errorMessage":"bad"}]'
    assert props["extractionError.failedTasks"] == "1"


@pytest.mark.parametrize(
    ("event_type", "facets", "native"),
    [
        ("FAIL", {"extractionError": {"failedTasks": 1}}, "EXTRACTION_ERROR"),
        (
            "COMPLETE",
            {"extractionError": {"failedTasks": 1}, "errorMessage": {"message": "x"}},
            "ERROR_MESSAGE",
        ),
    ],
)
def test_failure_facets_still_fail_the_run(
    event_type: str, facets: dict[str, dict[str, object]], native: str
) -> None:
    """A failed step keeps DataHub's EXTRACTION_ERROR; an error message still fails a run."""
    event = step_event(event_type, **facets)
    out = convert_event(event)
    dpi = f"urn:li:dataProcessInstance:{STEP_RUN_ID}"
    result = aspect(out, dpi, "dataProcessInstanceRunEvent")["result"]
    assert result == {"type": "FAILURE", "nativeResultType": native}
