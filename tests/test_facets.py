"""ol_bridge.facets: wire format, constraints, and agreement with schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attr
import pytest
from jsonschema import Draft202012Validator
from openlineage.client.event_v2 import Job, OutputDataset, Run, RunEvent
from openlineage.client.facet_v2 import BaseFacet
from openlineage.client.serde import Serde

from ol_bridge import PRODUCER
from ol_bridge.errors import FacetValueError
from ol_bridge.facets import (
    DAGSTER_ASSET_FACET,
    DAGSTER_JOB_FACET,
    DAGSTER_RUN_FACET,
    DagsterAssetFacet,
    DagsterJobFacet,
    DagsterRunFacet,
)
from ol_bridge.validation import EventValidator

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "schemas"
URL = "https://raw.githubusercontent.com/ol-bridge/ol-bridge/main/schemas/"
RUN_ID = "0b7b4c1e-7c1f-4b8e-9a4e-5f7c2d6a9e10"

FULL_RUN = DagsterRunFacet(
    dagsterRunId=RUN_ID,
    jobName="iris_job",
    codeLocation="analytics",
    repositoryName="__repository__",
    partitionKey="2024-01-01",
    partitionRangeStart="2024-01-01",
    partitionRangeEnd="2024-01-31",
    backfillId="bkfl1234",
    scheduleName="daily",
    sensorName="files",
    stepKey="iris_summary",
    attempt=2,
    runUrl=f"http://localhost:3000/runs/{RUN_ID}",
    parentRunId="1c8c5d2f-8d2a-4c9f-8b5f-6a8d3e7b0f21",
    rootRunId="2d9d6e3a-9e3b-4dab-9c6a-7b9e4f8c1a32",
)
FULL_JOB = DagsterJobFacet(
    jobName="iris_job",
    codeLocation="analytics",
    repositoryName="__repository__",
    opName="iris_summary",
    assetKeys=["prod/duckdb/main/iris"],
    jobUrl="http://localhost:3000/locations/analytics/jobs/iris_job",
    deleted=False,
)
FULL_ASSET = DagsterAssetFacet(
    assetKey=["prod", "duckdb", "main", "iris"],
    codeLocation="analytics",
    groupName="default",
    assetUrl="https://dagster.example.com/assets/prod/duckdb/main/iris",
)
# (class, facet key, minimal instance, its exact wire form without _producer/_schemaURL)
MINIMAL: list[tuple[type[BaseFacet], str, BaseFacet, dict[str, Any]]] = [
    (
        DagsterRunFacet,
        DAGSTER_RUN_FACET,
        DagsterRunFacet(dagsterRunId=RUN_ID, jobName="iris_job"),
        {"dagsterRunId": RUN_ID, "jobName": "iris_job"},
    ),
    (
        DagsterJobFacet,
        DAGSTER_JOB_FACET,
        DagsterJobFacet(jobName="iris_job"),
        {"jobName": "iris_job"},
    ),
    (
        DagsterAssetFacet,
        DAGSTER_ASSET_FACET,
        DagsterAssetFacet(assetKey=["iris"]),
        {"assetKey": ["iris"]},
    ),
]
FULL = [
    (DAGSTER_RUN_FACET, FULL_RUN),
    (DAGSTER_JOB_FACET, FULL_JOB),
    (DAGSTER_ASSET_FACET, FULL_ASSET),
]


def _event(key: str, facet: BaseFacet) -> dict[str, Any]:
    run_facets = {key: facet} if key == DAGSTER_RUN_FACET else {}
    job_facets = {key: facet} if key == DAGSTER_JOB_FACET else {}
    ds_facets = {key: facet} if key == DAGSTER_ASSET_FACET else {}
    event = RunEvent(
        eventType="COMPLETE",  # type: ignore[arg-type]  # Serde turns it into the string
        eventTime="2024-05-01T12:00:00.000Z",
        run=Run(runId=RUN_ID, facets=run_facets),
        job=Job(namespace="dagster", name="iris_job", facets=job_facets),
        outputs=[
            OutputDataset(namespace="duckdb:///tmp/x.duckdb", name="main.iris", facets=ds_facets)
        ],
        producer=PRODUCER,
    )
    return Serde.to_dict(event)


def test_facet_keys() -> None:
    assert (DAGSTER_RUN_FACET, DAGSTER_JOB_FACET, DAGSTER_ASSET_FACET) == (
        "dagster_run",
        "dagster_job",
        "dagster_asset",
    )


@pytest.mark.parametrize(
    ("cls", "key", "facet", "wire"), MINIMAL, ids=lambda v: getattr(v, "__name__", None)
)
def test_minimal_facet_wire_form_drops_none_fields(
    cls: type[BaseFacet], key: str, facet: BaseFacet, wire: dict[str, Any]
) -> None:
    name = cls.__name__
    assert Serde.to_dict(facet) == {
        "_producer": PRODUCER,
        "_schemaURL": f"{URL}{name}.json#/$defs/{name}",
        **wire,
    }


def test_full_run_facet_wire_form() -> None:
    assert Serde.to_dict(FULL_RUN) == {
        "_producer": "https://github.com/ol-bridge/ol-bridge/tree/v0.1.0",
        "_schemaURL": f"{URL}DagsterRunFacet.json#/$defs/DagsterRunFacet",
        "dagsterRunId": RUN_ID,
        "jobName": "iris_job",
        "codeLocation": "analytics",
        "repositoryName": "__repository__",
        "partitionKey": "2024-01-01",
        "partitionRangeStart": "2024-01-01",
        "partitionRangeEnd": "2024-01-31",
        "backfillId": "bkfl1234",
        "scheduleName": "daily",
        "sensorName": "files",
        "stepKey": "iris_summary",
        "attempt": 2,
        "runUrl": f"http://localhost:3000/runs/{RUN_ID}",
        "parentRunId": "1c8c5d2f-8d2a-4c9f-8b5f-6a8d3e7b0f21",
        "rootRunId": "2d9d6e3a-9e3b-4dab-9c6a-7b9e4f8c1a32",
    }


def test_explicit_producer_is_kept() -> None:
    facet = DagsterJobFacet(jobName="j", producer="https://example.com/other")
    assert Serde.to_dict(facet)["_producer"] == "https://example.com/other"


@pytest.mark.parametrize(("key", "facet"), [(k, f) for _, k, f, _ in MINIMAL] + FULL)
def test_serialized_facet_validates_against_its_schema(
    key: str, facet: BaseFacet, ol_validator: EventValidator
) -> None:
    name = type(facet).__name__
    document = json.loads((SCHEMAS / f"{name}.json").read_text())
    # Directly against the schema document, as the OL spec's own facet tests do ...
    direct = Draft202012Validator(document, registry=ol_validator.registry)
    assert list(direct.iter_errors({key: Serde.to_dict(facet)})) == []
    # ... and inside an event, where the validator picks the schema from _schemaURL.
    assert ol_validator.facet_schema(facet._schemaURL, key) == f"{URL}{name}.json#/$defs/{name}"
    assert ol_validator.errors(_event(key, facet)) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: DagsterRunFacet(dagsterRunId="", jobName="j"),
            "DagsterRunFacet.dagsterRunId must be a non-empty string, got ''; "
            "leave an optional field as None instead of passing ''.",
        ),
        (
            lambda: DagsterRunFacet(dagsterRunId="r", jobName="j", stepKey=""),
            "DagsterRunFacet.stepKey must be a non-empty string, got ''; "
            "leave an optional field as None instead of passing ''.",
        ),
        (
            lambda: DagsterRunFacet(dagsterRunId="r", jobName="j", attempt=0),
            "DagsterRunFacet.attempt must be an integer >= 1 (Dagster counts attempts from 1), "
            "got 0.",
        ),
        (
            lambda: DagsterRunFacet(dagsterRunId="r", jobName="j", attempt=True),
            "DagsterRunFacet.attempt must be an integer >= 1 (Dagster counts attempts from 1), "
            "got True.",
        ),
        (
            lambda: DagsterRunFacet(dagsterRunId="r", jobName="j", runUrl="localhost:3000/runs/r"),
            "DagsterRunFacet.runUrl must be an absolute http(s) URL of the Dagster UI without "
            "spaces, got 'localhost:3000/runs/r'; check the configured Dagster UI base URL.",
        ),
        (
            lambda: DagsterJobFacet(jobName="j", jobUrl="http://host/jobs/my job"),
            "DagsterJobFacet.jobUrl must be an absolute http(s) URL of the Dagster UI without "
            "spaces, got 'http://host/jobs/my job'; check the configured Dagster UI base URL.",
        ),
        (
            lambda: DagsterJobFacet(jobName="j", assetKeys=["a/b", ""]),
            "DagsterJobFacet.assetKeys must hold only non-empty strings, got '' in ['a/b', ''].",
        ),
        (
            lambda: DagsterAssetFacet(assetKey=[]),
            "DagsterAssetFacet.assetKey must not be empty: an asset key has >= 1 part.",
        ),
        (
            lambda: DagsterAssetFacet(assetKey="a/b"),  # type: ignore[arg-type]
            "DagsterAssetFacet.assetKey must be a list of strings, got 'a/b'.",
        ),
    ],
)
def test_invalid_values_are_rejected(make: Any, message: str) -> None:
    with pytest.raises(FacetValueError) as caught:
        make()
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def _own_part(document: dict[str, Any]) -> dict[str, Any]:
    (definition,) = document["$defs"].values()
    own: dict[str, Any] = definition["allOf"][1]
    return own


@pytest.mark.parametrize("cls", [DagsterRunFacet, DagsterJobFacet, DagsterAssetFacet])
def test_schema_and_class_agree(cls: type[BaseFacet]) -> None:
    name = cls.__name__
    document = json.loads((SCHEMAS / f"{name}.json").read_text())
    Draft202012Validator.check_schema(document)
    assert document["$id"] == f"{URL}{name}.json"
    own = _own_part(document)
    base_fields = {a.name for a in attr.fields(cls.__mro__[1])}
    fields = {a.name: a for a in attr.fields(cls) if a.name not in base_fields}
    properties = {k: v for k, v in own["properties"].items() if not k.startswith("_")}
    assert set(properties) == set(fields)
    assert sorted(own["required"]) == sorted(
        n for n, a in fields.items() if a.default is attr.NOTHING
    )
    # The base facet's own fields are admitted, exactly those of the OL base class.
    assert {k for k in own["properties"] if k.startswith("_")} == base_fields
    assert own["additionalProperties"] is False
    for prop_name, prop in properties.items():
        assert prop["description"], prop_name
        if "items" in prop:
            assert prop["items"]["description"], prop_name


@pytest.mark.parametrize(
    ("key", "change", "path", "message"),
    [
        (
            DAGSTER_RUN_FACET,
            {"attempt": "2"},
            "run.facets.dagster_run.attempt",
            "must be of type integer, got string",
        ),
        (
            DAGSTER_RUN_FACET,
            {"attempt": 0},
            "run.facets.dagster_run.attempt",
            "must be >= 1, got 0",
        ),
        (
            DAGSTER_RUN_FACET,
            {"jobName": None},
            "run.facets.dagster_run.jobName",
            "is required but missing",
        ),
        (
            DAGSTER_JOB_FACET,
            {"assetKeys": ["a", 1]},
            "job.facets.dagster_job.assetKeys[1]",
            "must be of type string, got number",
        ),
        (
            DAGSTER_JOB_FACET,
            {"jobUrl": "ftp://dagster/x"},  # a URI (format uri), but not the UI's http(s)
            "job.facets.dagster_job.jobUrl",
            "must match the pattern ^https?://\\S+$, got 'ftp://dagster/x'",
        ),
        (
            DAGSTER_ASSET_FACET,
            {"assetKey": []},
            "outputs[0].facets.dagster_asset.assetKey",
            "must not be empty",
        ),
        (
            DAGSTER_ASSET_FACET,
            {"groupname": "typo"},
            "outputs[0].facets.dagster_asset.groupname",
            "is not allowed here; allowed are: _deleted, _producer, _schemaURL, assetKey, "
            "assetUrl, codeLocation, groupName",
        ),
    ],
)
def test_schema_rejects_bad_wire_values(
    key: str, change: dict[str, Any], path: str, message: str, ol_validator: EventValidator
) -> None:
    facet = next(f for k, f in FULL if k == key)
    event = _event(key, facet)
    container = {
        DAGSTER_RUN_FACET: event["run"]["facets"],
        DAGSTER_JOB_FACET: event["job"]["facets"],
        DAGSTER_ASSET_FACET: event["outputs"][0]["facets"],
    }[key]
    for name, value in change.items():
        if value is None:
            del container[key][name]
        else:
            container[key][name] = value
    name = type(facet).__name__
    schema = f"facet schema {URL}{name}.json#/$defs/{name}"
    assert [(e.path, str(e)) for e in ol_validator.errors(event)] == [
        (path, f"{path} {message} ({schema})")
    ]


def test_package_ships_the_schema_files() -> None:
    """ol_bridge/schemas (a symlink to ../schemas, which the wheel materializes) holds the
    schemas, and pyproject's package-data globs cover every file of schemas/ and spec/."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    package = REPO / "ol_bridge"
    assert sorted(p.name for p in (package / "schemas").glob("*.json")) == sorted(
        p.name for p in SCHEMAS.glob("*.json")
    )
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["ol_bridge"]
    shipped = {p for pattern in globs for p in package.glob(pattern)}
    wanted = {
        *package.glob("schemas/*.json"),
        *(p for p in (package / "spec").rglob("*") if p.is_file()),
    }
    assert wanted - shipped == set()
